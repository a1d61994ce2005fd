// A KVM CPUID table (struct kvm_cpuid2 and its entries) in a buffer of our
// own. The uapi header declares kvm_cpuid2's entries with
// __DECLARE_FLEX_ARRAY, which in C++ gives the struct size 12 instead of 8
// and so a wrong ioctl number; we lay the table out and number the ioctls
// ourselves, checked against the C layout.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace acrn::hv {

class CpuidTable {
public:
    static constexpr std::size_t kHeaderSize = 8;  // nent, padding
    static constexpr unsigned long kGetSupported = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, kHeaderSize);
    static constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, kHeaderSize);

    explicit CpuidTable(std::uint32_t capacity = 0) { resize(capacity); }

    void resize(std::uint32_t count) {
        storage_.assign((kHeaderSize + count * sizeof(kvm_cpuid_entry2) + 7) / 8, 0);
        set_count(count);
    }
    [[nodiscard]] std::uint32_t count() const noexcept {
        std::uint32_t count = 0;
        std::memcpy(&count, storage_.data(), sizeof(count));
        return count;
    }
    void set_count(std::uint32_t count) noexcept { std::memcpy(storage_.data(), &count, sizeof(count)); }
    [[nodiscard]] std::span<kvm_cpuid_entry2> entries() noexcept {
        return {reinterpret_cast<kvm_cpuid_entry2*>(reinterpret_cast<std::uint8_t*>(storage_.data()) + kHeaderSize),
                count()};
    }
    [[nodiscard]] void* ioctl_argument() noexcept { return storage_.data(); }

private:
    std::vector<std::uint64_t> storage_;  // 8-byte aligned, as the kernel's struct is
};

static_assert(sizeof(kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2 layout");

}  // namespace acrn::hv
