// Prints the TSC frequency (kHz) that KVM gives its guests, so guest cycle
// counts can be turned into nanoseconds. Needs /dev/kvm.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include "common/unique_fd.hpp"

int main() {
    acrn::UniqueFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
    if (!kvm) {
        std::perror("tsc_khz: /dev/kvm");
        return 1;
    }
    acrn::UniqueFd vm(::ioctl(kvm.get(), KVM_CREATE_VM, 0));
    acrn::UniqueFd vcpu(vm ? ::ioctl(vm.get(), KVM_CREATE_VCPU, 0) : -1);
    const int khz = vcpu ? ::ioctl(vcpu.get(), KVM_GET_TSC_KHZ, 0) : -1;
    if (khz <= 0) {
        std::perror("tsc_khz: KVM_GET_TSC_KHZ");
        return 1;
    }
    std::printf("%d\n", khz);
    return 0;
}
