/* PCI configuration mechanism #1 (0xCF8 address / 0xCFC..0xCFF data). */
#include "guest.h"

static uint32_t pci_addr(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg)
{
    return 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)(dev & 0x1F) << 11) |
           ((uint32_t)(func & 0x7) << 8) | (reg & 0xFCu);
}

uint32_t pci_cfg_read32(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg)
{
    outl(PCI_CONFIG_ADDRESS, pci_addr(bus, dev, func, reg));
    return inl(PCI_CONFIG_DATA);
}

uint16_t pci_cfg_read16(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg)
{
    outl(PCI_CONFIG_ADDRESS, pci_addr(bus, dev, func, reg));
    return inw(PCI_CONFIG_DATA + (reg & 3));
}

uint8_t pci_cfg_read8(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg)
{
    outl(PCI_CONFIG_ADDRESS, pci_addr(bus, dev, func, reg));
    return inb(PCI_CONFIG_DATA + (reg & 3));
}

void pci_cfg_write32(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg, uint32_t v)
{
    outl(PCI_CONFIG_ADDRESS, pci_addr(bus, dev, func, reg));
    outl(PCI_CONFIG_DATA, v);
}

void pci_cfg_write16(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg, uint16_t v)
{
    outl(PCI_CONFIG_ADDRESS, pci_addr(bus, dev, func, reg));
    outw(PCI_CONFIG_DATA + (reg & 3), v);
}

void pci_cfg_write8(uint8_t bus, uint8_t dev, uint8_t func, uint8_t reg, uint8_t v)
{
    outl(PCI_CONFIG_ADDRESS, pci_addr(bus, dev, func, reg));
    outb(PCI_CONFIG_DATA + (reg & 3), v);
}

bool pci_find(uint16_t vendor, uint16_t device, uint8_t *bus, uint8_t *dev, uint8_t *func)
{
    for (uint8_t d = 0; d < 32; d++) {
        uint16_t v0 = pci_cfg_read16(0, d, 0, PCI_VENDOR_ID);
        if (v0 == 0xFFFF)
            continue;
        /* Functions 1..7 only exist on multi-function devices. */
        uint8_t nfunc = (pci_cfg_read8(0, d, 0, PCI_HEADER_TYPE) & 0x80) ? 8 : 1;
        for (uint8_t f = 0; f < nfunc; f++) {
            uint32_t id = pci_cfg_read32(0, d, f, PCI_VENDOR_ID);
            if ((id & 0xFFFF) == vendor && (id >> 16) == device) {
                *bus = 0;
                *dev = d;
                *func = f;
                return true;
            }
        }
    }
    return false;
}
