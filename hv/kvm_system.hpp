// /dev/kvm itself: the API version check and the system-wide queries every
// VM needs (vCPU mapping size, supported CPUID).
#pragma once

#include <linux/kvm.h>

#include <memory>
#include <vector>

#include "common/unique_fd.hpp"
#include "hv/cpuid_table.hpp"

namespace acrn::hv {

class KvmSystem {
public:
    // Throws std::system_error naming /dev/kvm when KVM cannot be used.
    KvmSystem();

    [[nodiscard]] int fd() const noexcept { return kvm_.get(); }
    [[nodiscard]] std::size_t vcpu_mmap_size() const noexcept { return vcpu_mmap_size_; }
    [[nodiscard]] const CpuidTable& supported_cpuid() const noexcept { return supported_cpuid_; }
    [[nodiscard]] UniqueFd create_vm() const;

private:
    UniqueFd kvm_;
    std::size_t vcpu_mmap_size_ = 0;
    CpuidTable supported_cpuid_;
};

}  // namespace acrn::hv
