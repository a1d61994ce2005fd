#include "dm/pci/msix_capability.hpp"

#include <cstring>
#include <stdexcept>

namespace acrn::dm {
namespace {

constexpr std::uint32_t kMsixControl = 0x02;
constexpr std::uint32_t kMsixTable = 0x04;
constexpr std::uint32_t kMsixPba = 0x08;
constexpr std::uint16_t kMsixFunctionMask = 1u << 14;
constexpr std::uint16_t kMsixEnable = 1u << 15;

}  // namespace

MsixCapability::MsixCapability(std::span<std::uint8_t> config, std::span<std::uint8_t> writable, std::uint8_t offset,
                               const Layout& layout)
    : config_(config), offset_(offset), layout_(layout), entries_(layout.vectors) {
    if (layout.vectors == 0 || layout.vectors > kMaxVectors) {
        throw std::invalid_argument("MSI-X: the vector count must be from 1 to 2048");
    }
    if (layout.table_bar < 0 || layout.table_bar > 5 || layout.pba_bar < 0 || layout.pba_bar > 5 ||
        layout.table_offset % 8 != 0 || layout.pba_offset % 8 != 0) {
        throw std::invalid_argument("MSI-X: table and PBA need a BAR (0-5) and an 8-byte aligned offset");
    }
    const auto table_size_field = static_cast<std::uint16_t>(layout.vectors - 1);
    std::memcpy(config_.data() + offset_ + kMsixControl, &table_size_field, 2);
    const auto table = static_cast<std::uint32_t>(layout.table_offset) | static_cast<std::uint32_t>(layout.table_bar);
    const auto pba = static_cast<std::uint32_t>(layout.pba_offset) | static_cast<std::uint32_t>(layout.pba_bar);
    std::memcpy(config_.data() + offset_ + kMsixTable, &table, 4);
    std::memcpy(config_.data() + offset_ + kMsixPba, &pba, 4);
    const std::uint16_t control_writable = kMsixFunctionMask | kMsixEnable;
    std::memcpy(writable.data() + offset_ + kMsixControl, &control_writable, 2);
}

std::uint16_t MsixCapability::control() const {
    std::uint16_t value = 0;
    std::memcpy(&value, config_.data() + offset_ + kMsixControl, 2);
    return value;
}

bool MsixCapability::enabled() const { return (control() & kMsixEnable) != 0; }
bool MsixCapability::function_masked() const { return (control() & kMsixFunctionMask) != 0; }

bool MsixCapability::covers(std::uint32_t reg, std::uint32_t size) const noexcept {
    return reg < offset_ + std::uint32_t{kLength} && reg + size > offset_;
}

bool MsixCapability::in_table(int bar, std::uint64_t offset, std::uint32_t size) const noexcept {
    return bar == layout_.table_bar && offset >= layout_.table_offset &&
           offset + size <= layout_.table_offset + table_size(layout_.vectors);
}

bool MsixCapability::in_pba(int bar, std::uint64_t offset, std::uint32_t size) const noexcept {
    return bar == layout_.pba_bar && offset >= layout_.pba_offset &&
           offset + size <= layout_.pba_offset + pba_size(layout_.vectors);
}

bool MsixCapability::claims(int bar, std::uint64_t offset, std::uint32_t size) const noexcept {
    const auto overlaps = [&](int structure_bar, std::uint64_t start, std::uint64_t length) {
        return bar == structure_bar && offset < start + length && offset + size > start;
    };
    return overlaps(layout_.table_bar, layout_.table_offset, table_size(layout_.vectors)) ||
           overlaps(layout_.pba_bar, layout_.pba_offset, pba_size(layout_.vectors));
}

std::uint32_t MsixCapability::read_dword(int bar, std::uint64_t offset) const {
    if (in_table(bar, offset, 4)) {
        const std::uint64_t index = (offset - layout_.table_offset) / kEntrySize;
        return entries_[index].dwords[(offset - layout_.table_offset) % kEntrySize / 4];
    }
    if (in_pba(bar, offset, 4)) {
        const std::uint64_t first = (offset - layout_.pba_offset) * 8;
        std::uint32_t bits = 0;
        for (std::uint64_t bit = 0; bit < 32 && first + bit < entries_.size(); ++bit) {
            bits |= static_cast<std::uint32_t>(entries_[first + bit].pending) << bit;
        }
        return bits;
    }
    return 0xFFFF'FFFF;
}

std::uint64_t MsixCapability::read(int bar, std::uint64_t offset, std::uint32_t size) const {
    // The table and the PBA take aligned DWORD and QWORD accesses (6.8.2).
    if ((size != 4 && size != 8) || offset % size != 0) {
        return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    }
    std::uint64_t value = read_dword(bar, offset);
    if (size == 8) {
        value |= std::uint64_t{read_dword(bar, offset + 4)} << 32;
    }
    return value;
}

std::vector<MsiDelivery> MsixCapability::write(int bar, std::uint64_t offset, std::uint32_t size,
                                               std::uint64_t value) {
    std::vector<MsiDelivery> deliveries;
    if ((size != 4 && size != 8) || offset % size != 0 || !in_table(bar, offset, size)) {
        return deliveries;  // the PBA is read-only; other sizes are undefined
    }
    for (std::uint32_t done = 0; done < size; done += 4) {
        const std::uint64_t at = offset + done - layout_.table_offset;
        Entry& entry = entries_[at / kEntrySize];
        const std::uint64_t dword = at % kEntrySize / 4;
        auto bits = static_cast<std::uint32_t>(value >> (8 * done));
        if (dword == 3) {
            bits &= 1;  // only the mask bit of Vector Control is defined
        }
        entry.dwords[dword] = bits;
    }
    auto unmasked = take_unmasked_pending();
    deliveries.insert(deliveries.end(), unmasked.begin(), unmasked.end());
    return deliveries;
}

std::optional<MsiMessage> MsixCapability::raise(unsigned vector) {
    if (!enabled() || vector >= entries_.size()) {
        return std::nullopt;
    }
    Entry& entry = entries_[vector];
    if (entry.masked() || function_masked()) {
        entry.pending = true;
        return std::nullopt;
    }
    return entry.message();
}

std::optional<MsiMessage> MsixCapability::deliverable(unsigned vector) const {
    if (!enabled() || vector >= entries_.size() || entries_[vector].masked() || function_masked()) {
        return std::nullopt;
    }
    return entries_[vector].message();
}

std::vector<MsiDelivery> MsixCapability::take_unmasked_pending() {
    std::vector<MsiDelivery> deliveries;
    if (!enabled() || function_masked()) {
        return deliveries;
    }
    for (unsigned vector = 0; vector < entries_.size(); ++vector) {
        Entry& entry = entries_[vector];
        if (entry.pending && !entry.masked()) {
            entry.pending = false;
            deliveries.push_back({vector, entry.message()});
        }
    }
    return deliveries;
}

bool MsixCapability::pending(unsigned vector) const { return vector < entries_.size() && entries_[vector].pending; }

}  // namespace acrn::dm
