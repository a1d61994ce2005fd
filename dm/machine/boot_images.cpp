#include "dm/machine/boot_images.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>

#include "common/log.hpp"
#include "dm/guest_memory.hpp"
#include "dm/loader/bzimage.hpp"
#include "dm/loader/kernel_cache.hpp"
#include "dm/loader/kernel_payload.hpp"
#include "dm/loader/multiboot.hpp"
#include "dm/machine/startup_error.hpp"

namespace acrn::dm {
namespace {

// -k's payload unpacked here rather than by the guest (cached by the
// bzImage's hash), parsed, and checked to fit with the initrd. Throws
// ImageError if it cannot be; the caller falls back to the guest's way.
void unpack_on_host(BootImages& images, const DmOptions& options, std::optional<std::span<const std::uint8_t>> initrd) {
    using Clock = std::chrono::steady_clock;
    const auto started = Clock::now();
    const KernelCache cache(options.kernel_cache);
    const std::string key = KernelCache::key_of(images.kernel);
    std::string how = "taken from the kernel cache";
    bool fresh = false;
    if (auto cached = cache.find(key)) {
        images.unpacked_kernel = std::move(*cached);
        images.unpacked_from_cache = true;
    } else {
        const KernelPayload payload = find_payload(images.kernel);
        // No kernel is larger than the guest's RAM.
        images.unpacked_kernel = decompress_payload(payload, static_cast<std::size_t>(options.memory_bytes));
        how = std::string("its ") + to_string(payload.format) + " payload unpacked on the host";
        fresh = true;
    }
    VmlinuxImage vmlinux = parse_vmlinux(images.unpacked_kernel);
    check_bzimage(images.kernel, initrd, options.bootargs.value_or(""), options.memory_bytes, &vmlinux);
    if (fresh) {
        (void)cache.store(key, images.unpacked_kernel);  // once it has proved to be a kernel that fits
    }
    images.unpacked_at = Clock::now();
    log_info("-k: {} in {:.0f} ms: {} MiB in {} segment(s) at {:#x}..{:#x}, entered at {:#x} in 64-bit mode", how,
             std::chrono::duration<double, std::milli>(*images.unpacked_at - started).count(),
             images.unpacked_kernel.size() >> 20, vmlinux.segments.size(), vmlinux.lowest, vmlinux.end,
             vmlinux.entry_physical);
    images.vmlinux = std::move(vmlinux);
}

}  // namespace

std::vector<std::uint8_t> read_image_file(const std::string& path, const char* option, int status) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw StartupError(status, std::string(option) + ": cannot open '" + path + "': " + std::strerror(errno));
    }
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (file.bad()) {
        throw StartupError(status, std::string(option) + ": cannot read '" + path + "'");
    }
    if (bytes.empty()) {
        throw StartupError(status, std::string(option) + ": '" + path + "' is empty");
    }
    return bytes;
}

BootImages read_boot_images(const DmOptions& options) {
    BootImages images;
    if (options.kernel) {
        images.kernel = read_image_file(*options.kernel, "-k", kExitKernel);
        std::optional<std::span<const std::uint8_t>> initrd;
        if (options.initrd) {
            images.initrd = read_image_file(*options.initrd, "-r", kExitInitrd);
            initrd = std::span<const std::uint8_t>(images.initrd);
        }
        try {
            check_bzimage(images.kernel, initrd, options.bootargs.value_or(""), options.memory_bytes);
        } catch (const ImageError& error) {
            throw StartupError(kExitKernel, "-k " + *options.kernel + ": " + error.what());
        }
        if (options.kernel_host_decompress) {
            try {
                unpack_on_host(images, options, initrd);
            } catch (const std::exception& error) {
                images.unpacked_kernel.clear();
                images.vmlinux.reset();
                log_notice("-k {}: not unpacked on the host ({}): the kernel's own decompressor runs in the guest",
                           *options.kernel, error.what());
            }
        }
    } else if (options.elf_image) {
        if (options.initrd) {
            throw StartupError(kExitFailure, "-r: an initrd needs a Linux kernel given with -k");
        }
        images.kernel = read_image_file(*options.elf_image, "-E", kExitFailure);
        try {
            check_multiboot_elf(images.kernel, options.bootargs.value_or(""), options.memory_bytes);
        } catch (const ImageError& error) {
            throw StartupError(kExitFailure, "-E " + *options.elf_image + ": " + error.what());
        }
    } else {
        throw StartupError(kExitFailure,
                           "nothing to boot: give a Linux bzImage with -k <file> or a multiboot ELF with -E <file>");
    }
    return images;
}

acrn_vcpu_regs load_boot_images(const BootImages& images, const DmOptions& options, GuestMemory& memory) {
    acrn_vcpu_regs boot{};
    boot.vcpu_id = 0;
    const std::string command_line = options.bootargs.value_or("");
    try {
        if (options.kernel) {
            std::optional<std::span<const std::uint8_t>> initrd;
            if (options.initrd) {
                initrd = std::span<const std::uint8_t>(images.initrd);
            }
            boot.vcpu_regs = load_bzimage(images.kernel, initrd, command_line, memory,
                                          images.vmlinux ? &*images.vmlinux : nullptr);
        } else {
            boot.vcpu_regs = load_multiboot_elf(images.kernel, command_line, memory);
        }
    } catch (const ImageError& error) {
        const std::string source = options.kernel ? "-k " + *options.kernel : "-E " + *options.elf_image;
        throw StartupError(options.kernel ? kExitKernel : kExitFailure, source + ": " + error.what());
    }
    return boot;
}

}  // namespace acrn::dm
