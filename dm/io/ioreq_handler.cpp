#include "dm/io/ioreq_handler.hpp"

#include "common/log.hpp"
#include "dm/io/io_buses.hpp"

namespace acrn::dm {
namespace {

RateLimiter& unclaimed_limit() {
    static RateLimiter limiter(20);
    return limiter;
}
RateLimiter& malformed_limit() {
    static RateLimiter limiter;
    return limiter;
}

bool valid_size(std::uint64_t size, std::uint64_t largest) {
    return size == 1 || size == 2 || size == 4 || (size == 8 && largest == 8);
}

template <typename Request>
IoreqResult serve_address(Request& io, AddressBus& bus, std::uint32_t vcpu, std::uint64_t largest_size) {
    const bool write = io.direction == ACRN_IOREQ_DIR_WRITE;
    if (!valid_size(io.size, largest_size) || (io.direction != ACRN_IOREQ_DIR_READ && !write)) {
        if (malformed_limit().allow()) {
            log_warning("{}: malformed request (address {:#x}, size {}, direction {})", bus.name(), io.address,
                        io.size, io.direction);
        }
        if (!write) {
            io.value = static_cast<decltype(io.value)>(~0ull);
        }
        return IoreqResult::malformed;
    }
    const auto size = static_cast<std::uint32_t>(io.size);
    auto resolved = bus.resolve(io.address, size);
    if (!resolved) {
        bus.count_unclaimed();
        if (log_enabled(LogLevel::debug) && unclaimed_limit().allow()) {
            log_debug("{}: unclaimed {} at {:#x}, size {}", bus.name(), write ? "write" : "read", io.address, size);
        }
        if (!write) {
            io.value = static_cast<decltype(io.value)>(all_ones(size));
        }
        return IoreqResult::unclaimed;
    }
    if (resolved->requests != nullptr) {
        resolved->requests->fetch_add(1, std::memory_order_relaxed);
    }
    const IoAccess access{io.address, io.address - resolved->base, size, vcpu};
    if (write) {
        resolved->device->write(access, io.value & all_ones(size));
    } else {
        io.value = static_cast<decltype(io.value)>(resolved->device->read(access) & all_ones(size));
    }
    return IoreqResult::handled;
}

IoreqResult serve_pci(acrn_pci_request& pci, const PciBus& bus) {
    const bool write = pci.direction == ACRN_IOREQ_DIR_WRITE;
    if (!valid_size(pci.size, 4) || pci.bus > 0xFF || pci.dev > 0x1F || pci.func > 7 || pci.reg > 0xFFF) {
        if (malformed_limit().allow()) {
            log_warning("PCI: malformed config request ({:02x}:{:02x}.{} reg {:#x} size {})", pci.bus, pci.dev,
                        pci.func, pci.reg, pci.size);
        }
        if (!write) {
            pci.value = ~0u;
        }
        return IoreqResult::malformed;
    }
    const PciAddress address{static_cast<std::uint8_t>(pci.bus), static_cast<std::uint8_t>(pci.dev),
                             static_cast<std::uint8_t>(pci.func)};
    const auto size = static_cast<std::uint32_t>(pci.size);
    if (write) {
        bus.config_write(address, pci.reg, size, pci.value);
    } else {
        pci.value = bus.config_read(address, pci.reg, size);
    }
    return bus.find(address) ? IoreqResult::handled : IoreqResult::unclaimed;
}

}  // namespace

IoreqResult handle_ioreq(acrn_io_request& request, IoBuses& buses, std::uint32_t vcpu) {
    switch (request.type) {
        case ACRN_IOREQ_TYPE_PORTIO: return serve_address(request.reqs.pio_request, buses.pio, vcpu, 4);
        case ACRN_IOREQ_TYPE_MMIO: return serve_address(request.reqs.mmio_request, buses.mmio, vcpu, 8);
        case ACRN_IOREQ_TYPE_PCICFG: return serve_pci(request.reqs.pci_request, buses.pci);
        default:
            // ACRN's device model exits here; a request we cannot serve must
            // not take the VM down.
            if (malformed_limit().allow()) {
                log_warning("ioreq: request type {} is not handled by the device model", request.type);
            }
            return IoreqResult::malformed;
    }
}

}  // namespace acrn::dm
