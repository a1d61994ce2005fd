#include "dm/acpi/acpi_tables.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "dm/acpi/dsdt.hpp"
#include "dm/acpi/system_tables.hpp"
#include "dm/acpi/table_builder.hpp"

namespace acrn::dm::acpi {
namespace {

using Table = std::vector<std::uint8_t>;

// 5.2.5.3: the ACPI 2.0+ RSDP, 36 bytes, on a 16-byte boundary.
constexpr std::size_t kRsdpSize = 36;
constexpr std::size_t kRsdpV1ChecksumLength = 20;
constexpr std::size_t kRsdpV1ChecksumOffset = 8;
constexpr std::size_t kRsdpExtendedChecksumOffset = 32;
constexpr std::uint8_t kRsdpRevision = 2;
constexpr std::uint8_t kXsdtRevision = 1;
// The other tables only need natural alignment; 16 keeps every one on a
// paragraph, as the RSDP must be.
constexpr std::uint64_t kTableAlignment = 16;

// Places tables one after another from `base`, each aligned.
class Layout {
public:
    explicit Layout(std::uint64_t base) : base_(base), end_(base) {}

    std::uint64_t place(std::size_t size, std::uint64_t alignment) {
        const std::uint64_t address = (end_ + alignment - 1) / alignment * alignment;
        end_ = address + size;
        return address;
    }
    [[nodiscard]] std::uint64_t size() const noexcept { return end_ - base_; }

private:
    std::uint64_t base_;
    std::uint64_t end_;
};

void put_le(Table& bytes, std::size_t offset, std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) {
        bytes[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    }
}

Table build_rsdp(std::uint64_t xsdt_address) {
    Table rsdp(kRsdpSize, 0);
    std::copy_n("RSD PTR ", 8, rsdp.begin());
    std::copy(kOemId.begin(), kOemId.end(), rsdp.begin() + 9);
    rsdp[15] = kRsdpRevision;
    put_le(rsdp, 16, 0, 4);  // RsdtAddress: no RSDT, revision 2 OSes use the XSDT
    put_le(rsdp, 20, kRsdpSize, 4);
    put_le(rsdp, 24, xsdt_address, 8);
    // The first checksum covers the ACPI 1.0 part, the extended one all of it.
    rsdp[kRsdpV1ChecksumOffset] =
        checksum_of(std::span<const std::uint8_t>(rsdp).first(kRsdpV1ChecksumLength));
    rsdp[kRsdpExtendedChecksumOffset] = checksum_of(rsdp);
    return rsdp;
}

std::size_t xsdt_size(std::size_t entries) { return kHeaderSize + 8 * entries; }

Table build_xsdt(const std::vector<std::uint64_t>& tables) {
    TableBuilder xsdt("XSDT", kXsdtRevision);
    for (const std::uint64_t address : tables) {
        xsdt.u64(address);
    }
    return std::move(xsdt).finish();
}

void check(const PlatformDescription& description, std::uint64_t base) {
    if (description.vcpu_count == 0 || description.vcpu_count > platform::kMaxVcpus) {
        throw std::invalid_argument("ACPI tables: vCPU count must be 1.." + std::to_string(platform::kMaxVcpus));
    }
    if (base % kTableAlignment != 0 || base >= platform::kAcpiTablesLimit) {
        throw std::invalid_argument("ACPI tables: base must be 16-byte aligned and below the firmware area's end");
    }
}

}  // namespace

AcpiImage build_acpi_tables(const PlatformDescription& description, std::uint64_t base) {
    check(description, base);
    const Table dsdt = build_dsdt(description);
    const Table facs = build_facs();
    const Table madt = build_madt(description.vcpu_count);
    const Table mcfg = build_mcfg();
    constexpr std::size_t kXsdtEntries = 3;  // FADT, MADT, MCFG

    Layout layout(base);
    const std::uint64_t rsdp_at = layout.place(kRsdpSize, kTableAlignment);
    const std::uint64_t xsdt_at = layout.place(xsdt_size(kXsdtEntries), kTableAlignment);
    const std::uint64_t fadt_at = layout.place(kFadtSize, kTableAlignment);
    const std::uint64_t facs_at = layout.place(facs.size(), kFacsAlignment);
    const std::uint64_t dsdt_at = layout.place(dsdt.size(), kTableAlignment);
    const std::uint64_t madt_at = layout.place(madt.size(), kTableAlignment);
    const std::uint64_t mcfg_at = layout.place(mcfg.size(), kTableAlignment);
    if (layout.size() > platform::kAcpiTablesLimit - base) {
        throw std::invalid_argument("ACPI tables: " + std::to_string(layout.size()) +
                                    " bytes do not fit below the firmware area's end");
    }

    AcpiImage image{.base = base, .rsdp_address = rsdp_at, .facs_address = facs_at, .bytes = Table(layout.size(), 0)};
    const auto put = [&image](std::uint64_t address, const Table& table) {
        std::copy(table.begin(), table.end(), image.bytes.begin() + static_cast<std::ptrdiff_t>(address - image.base));
    };
    put(rsdp_at, build_rsdp(xsdt_at));
    put(xsdt_at, build_xsdt({fadt_at, madt_at, mcfg_at}));
    put(fadt_at, build_fadt(facs_at, dsdt_at));
    put(facs_at, facs);
    put(dsdt_at, dsdt);
    put(madt_at, madt);
    put(mcfg_at, mcfg);
    return image;
}

}  // namespace acrn::dm::acpi
