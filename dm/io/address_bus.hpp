// A non-owning map from address ranges to devices, one for port I/O and one
// for MMIO. Registration refuses zero-length, wrapping and overlapping
// ranges. The bus holds weak references: whoever created a device owns it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "dm/io/io_device.hpp"

namespace acrn::dm {

enum class BusError { zero_length, wraps_around, overlaps, not_registered };

[[nodiscard]] const char* to_string(BusError error) noexcept;

class AddressBus {
public:
    explicit AddressBus(std::string name) : name_(std::move(name)) {}

    // nullopt on success.
    [[nodiscard]] std::optional<BusError> add(std::uint64_t base, std::uint64_t length, std::weak_ptr<IoDevice> device,
                                              std::string owner);
    [[nodiscard]] std::optional<BusError> remove(std::uint64_t base);

    struct Resolved {
        std::shared_ptr<IoDevice> device;
        std::uint64_t base;
    };
    // The device whose range holds all of [address, address + size).
    [[nodiscard]] std::optional<Resolved> resolve(std::uint64_t address, std::uint32_t size) const;

    [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
    struct Range {
        std::uint64_t length;
        std::weak_ptr<IoDevice> device;
        std::string owner;
    };

    const std::string name_;
    mutable std::shared_mutex mutex_;
    std::map<std::uint64_t, Range> ranges_;  // by base
};

}  // namespace acrn::dm
