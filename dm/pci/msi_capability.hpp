// The MSI capability (PCI Local Bus 3.0, 6.8.1), 64-bit capable, with or
// without per-vector masking. It lives inside its function's configuration
// space: this object knows where, keeps the registers' writable bits, and
// decides what a raised vector becomes (a message, or a pending bit while
// the vector is masked).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dm/pci/msi_message.hpp"

namespace acrn::dm {

class MsiCapability {
public:
    static constexpr std::uint8_t kId = 0x05;
    [[nodiscard]] static constexpr std::uint8_t length(bool per_vector_mask) noexcept {
        return per_vector_mask ? 24 : 16;
    }

    // `vectors`: 1, 2, 4, 8, 16 or 32 (the Multiple Message Capable field).
    // Writes the read-only fields and the writable masks into `config` and
    // `writable` at `offset` (the capability's id and next pointer belong to
    // the caller).
    MsiCapability(std::span<std::uint8_t> config, std::span<std::uint8_t> writable, std::uint8_t offset,
                  unsigned vectors, bool per_vector_mask);

    [[nodiscard]] unsigned capable_vectors() const noexcept { return vectors_; }
    [[nodiscard]] bool enabled() const;
    [[nodiscard]] unsigned enabled_vectors() const;  // 2^MME, at most what is capable
    [[nodiscard]] bool covers(std::uint32_t reg, std::uint32_t size) const noexcept;

    // The message for `vector`, or nullopt when MSI is off, the vector is
    // beyond those enabled, or masked (then it becomes pending).
    [[nodiscard]] std::optional<MsiMessage> raise(unsigned vector);
    // After the guest wrote the capability: pending vectors it unmasked.
    [[nodiscard]] std::vector<MsiDelivery> take_unmasked_pending();

private:
    [[nodiscard]] std::uint16_t control() const;
    [[nodiscard]] std::uint32_t reg32(std::uint32_t at) const;
    void set_reg32(std::uint32_t at, std::uint32_t value);
    [[nodiscard]] MsiMessage message(unsigned vector) const;

    std::span<std::uint8_t> config_;
    const std::uint8_t offset_;
    const unsigned vectors_;
    const bool per_vector_mask_;
};

}  // namespace acrn::dm
