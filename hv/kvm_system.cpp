#include "hv/kvm_system.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <stdexcept>
#include <string>

#include "common/system_error.hpp"

namespace acrn::hv {

KvmSystem::KvmSystem() : kvm_(::open("/dev/kvm", O_RDWR | O_CLOEXEC)) {
    if (!kvm_) {
        throw_errno("cannot open /dev/kvm");
    }
    if (const int version = ::ioctl(kvm_.get(), KVM_GET_API_VERSION, 0); version != KVM_API_VERSION) {
        throw std::runtime_error("/dev/kvm: unsupported KVM API version " + std::to_string(version));
    }
    for (const int cap : {KVM_CAP_IRQCHIP, KVM_CAP_USER_MEMORY, KVM_CAP_PIT2, KVM_CAP_IMMEDIATE_EXIT}) {
        if (::ioctl(kvm_.get(), KVM_CHECK_EXTENSION, cap) <= 0) {
            throw std::runtime_error("/dev/kvm lacks required capability " + std::to_string(cap));
        }
    }
    const int mmap_size = ::ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size <= 0) {
        throw_errno("/dev/kvm: KVM_GET_VCPU_MMAP_SIZE");
    }
    vcpu_mmap_size_ = static_cast<std::size_t>(mmap_size);

    // Ask with a growing table until KVM stops answering E2BIG.
    for (std::uint32_t entries = 64;; entries *= 2) {
        supported_cpuid_.resize(entries);
        if (::ioctl(kvm_.get(), CpuidTable::kGetSupported, supported_cpuid_.ioctl_argument()) == 0) {
            break;
        }
        if (errno != E2BIG || entries > 4096) {
            throw_errno("/dev/kvm: KVM_GET_SUPPORTED_CPUID");
        }
    }
}

UniqueFd KvmSystem::create_vm() const {
    UniqueFd vm(::ioctl(kvm_.get(), KVM_CREATE_VM, 0));
    if (!vm) {
        throw_errno("/dev/kvm: KVM_CREATE_VM");
    }
    return vm;
}

}  // namespace acrn::hv
