// A -k bzImage as acrn-dm unpacks it on the host: the setup header's payload
// fields, the payload's decompression (every format the libraries give, at
// most 16 MiB out), the kernel ELF inside it and its placement checks; and
// the bytes themselves as that ELF. A bad image is an ImageError, never a
// crash, a read outside the bytes or a hang.
#include <span>

#include "dm/loader/bzimage.hpp"
#include "dm/loader/kernel_payload.hpp"
#include "dm/loader/vmlinux_elf.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace acrn::fuzz {

int kernel_image(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        (void)dm::parse_vmlinux(bytes);
    } catch (const dm::ImageError&) {
    }
    try {
        const std::vector<std::uint8_t> unpacked = dm::decompress_payload(dm::find_payload(bytes), 16u << 20);
        const dm::VmlinuxImage kernel = dm::parse_vmlinux(unpacked);
        dm::check_bzimage(bytes, std::nullopt, "console=ttyS0", 256u << 20, &kernel);
    } catch (const dm::ImageError&) {
    }
    return 0;
}

}  // namespace acrn::fuzz
