#include "dm/devices/testdev.hpp"

#include <cstring>

namespace acrn::dm {

TestDevice::TestDevice(PowerControl& power)
    : PciDevice("testdev", PciIds{.vendor = 0x1B36, .device = 0x0005, .class_code = 0x00, .subclass = 0xFF}),
      worker_("testdev storm", power) {
    declare_bar(0, BarKind::memory32, kMemorySize);
    declare_bar(1, BarKind::io, kIoSize);
    declare_bar(kMsixBar, BarKind::memory32, kMsixBarSize);
    declare_bar(kInterruptBar, BarKind::io, kInterruptRegistersSize);
    declare_bar(kMemory64Bar, BarKind::memory64, kMemorySize);
    set_interrupt_pin(1);
    declare_msi(kMsiVectors, true);
    declare_msix(MsixCapability::Layout{kMsixVectors, kMsixBar, 0, kMsixBar, kMsixPbaOffset});
}

TestDevice::~TestDevice() { storm_left_.store(0, std::memory_order_relaxed); }

std::uint8_t* TestDevice::storage(int index, const IoAccess& access) {
    std::span<std::uint8_t> bytes;
    if (index == 0) {
        bytes = memory_;
    } else if (index == 1) {
        bytes = io_;
    } else if (index == kMemory64Bar) {
        bytes = memory64_;
    }
    if (access.offset >= bytes.size() || access.size > bytes.size() - access.offset) {
        return nullptr;
    }
    return bytes.data() + access.offset;
}

std::uint64_t TestDevice::bar_read(int index, const IoAccess& access) {
    if (index == kInterruptBar) {
        return interrupt_register_read(access);
    }
    std::lock_guard lock(mutex_);
    const std::uint8_t* at = storage(index, access);
    if (at == nullptr) {
        return all_ones(access.size);
    }
    std::uint64_t value = 0;
    std::memcpy(&value, at, access.size);
    return value;
}

void TestDevice::bar_write(int index, const IoAccess& access, std::uint64_t value) {
    if (index == kInterruptBar) {
        interrupt_register_write(access, value);
        return;
    }
    std::lock_guard lock(mutex_);
    if (std::uint8_t* at = storage(index, access)) {
        std::memcpy(at, &value, access.size);
    }
}

std::uint64_t TestDevice::interrupt_register_read(const IoAccess& access) {
    if (access.size != 4) {
        return all_ones(access.size);
    }
    switch (access.offset) {
        case kIntx: {
            std::lock_guard lock(mutex_);
            return intx_ ? 1 : 0;
        }
        case kStormVector: return storm_vector_.load(std::memory_order_relaxed);
        case kStormCount: return static_cast<std::uint32_t>(storm_left_.load(std::memory_order_acquire));
        case kRaised: return static_cast<std::uint32_t>(raised());
        default: return all_ones(access.size);
    }
}

void TestDevice::interrupt_register_write(const IoAccess& access, std::uint64_t value) {
    if (access.size != 4) {
        return;
    }
    switch (access.offset) {
        case kRaise: raise(static_cast<unsigned>(value)); break;
        case kIntx: {
            std::lock_guard lock(mutex_);
            intx_ = value != 0;
            set_intx(intx_);
            break;
        }
        case kStormVector: storm_vector_.store(static_cast<std::uint32_t>(value), std::memory_order_relaxed); break;
        case kStormCount:
            // A new count replaces what is left of a running storm.
            if (storm_left_.exchange(value, std::memory_order_acq_rel) == 0 && value != 0) {
                worker_.post([this] { run_storm(); });
            }
            break;
        default: break;
    }
}

void TestDevice::raise(unsigned vector) {
    raised_.fetch_add(1, std::memory_order_relaxed);
    if (!raise_vector(vector)) {
        std::lock_guard lock(mutex_);
        intx_ = true;
        set_intx(true);
    }
}

void TestDevice::run_storm() {
    // Off the ioreq thread: the guest keeps running while its device storms.
    for (;;) {
        std::uint64_t left = storm_left_.load(std::memory_order_acquire);
        if (left == 0 || worker_.stopping()) {
            return;
        }
        if (storm_left_.compare_exchange_weak(left, left - 1, std::memory_order_acq_rel)) {
            raise(storm_vector_.load(std::memory_order_relaxed));
        }
    }
}

}  // namespace acrn::dm
