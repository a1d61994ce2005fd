#include "dm/pci/pci_ecam.hpp"

namespace acrn::dm {
namespace {

struct EcamTarget {
    PciAddress address;
    std::uint32_t reg;
};

EcamTarget decode(std::uint64_t offset) {
    return EcamTarget{PciAddress{static_cast<std::uint8_t>(offset >> 20), static_cast<std::uint8_t>((offset >> 15) & 0x1F),
                                 static_cast<std::uint8_t>((offset >> 12) & 0x7)},
                      static_cast<std::uint32_t>(offset & 0xFFF)};
}

}  // namespace

std::uint64_t PciEcam::read(const IoAccess& access) {
    if (access.size == 8) {  // a 64-bit access is two dword accesses
        const IoAccess high{access.address + 4, access.offset + 4, 4, access.vcpu};
        return read(IoAccess{access.address, access.offset, 4, access.vcpu}) | read(high) << 32;
    }
    const EcamTarget target = decode(access.offset);
    return bus_.config_read(target.address, target.reg, access.size);
}

void PciEcam::write(const IoAccess& access, std::uint64_t value) {
    if (access.size == 8) {
        write(IoAccess{access.address, access.offset, 4, access.vcpu}, value & 0xFFFF'FFFF);
        write(IoAccess{access.address + 4, access.offset + 4, 4, access.vcpu}, value >> 32);
        return;
    }
    const EcamTarget target = decode(access.offset);
    bus_.config_write(target.address, target.reg, access.size, static_cast<std::uint32_t>(value));
}

}  // namespace acrn::dm
