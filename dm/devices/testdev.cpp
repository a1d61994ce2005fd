#include "dm/devices/testdev.hpp"

#include <cstring>

namespace acrn::dm {

TestDevice::TestDevice()
    : PciDevice("testdev", PciIds{.vendor = 0x1B36, .device = 0x0005, .class_code = 0x00, .subclass = 0xFF}) {
    declare_bar(0, BarKind::memory32, kMemorySize);
    declare_bar(1, BarKind::io, kIoSize);
}

std::uint8_t* TestDevice::storage(int index, const IoAccess& access) {
    const auto bytes = index == 0 ? std::span<std::uint8_t>(memory_) : std::span<std::uint8_t>(io_);
    if (index > 1 || access.offset >= bytes.size() || access.size > bytes.size() - access.offset) {
        return nullptr;
    }
    return bytes.data() + access.offset;
}

std::uint64_t TestDevice::bar_read(int index, const IoAccess& access) {
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
    std::lock_guard lock(mutex_);
    if (std::uint8_t* at = storage(index, access)) {
        std::memcpy(at, &value, access.size);
    }
}

}  // namespace acrn::dm
