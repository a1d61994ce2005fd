#include "dm/machine/boot_images.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>

#include "dm/guest_memory.hpp"
#include "dm/loader/bzimage.hpp"
#include "dm/loader/multiboot.hpp"
#include "dm/machine/startup_error.hpp"

namespace acrn::dm {
namespace {

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

}  // namespace

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
            boot.vcpu_regs = load_bzimage(images.kernel, initrd, command_line, memory);
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
