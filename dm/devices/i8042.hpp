// An Intel 8042 keyboard controller with nothing attached to it: what a
// guest's reset path (command 0xFE, or 0xD1 with output-port bit 0 clear)
// and its driver's probe need. Commands per the IBM PC/AT Technical
// Reference ("Keyboard Controller Commands"); the status register per the
// same section. No keyboard or mouse sits behind it, so bytes for the
// keyboard time out and nothing ever raises IRQ 1 or 12.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "dm/io/io_device.hpp"
#include "dm/platform_layout.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm {

class I8042 final : public IoDevice {
public:
    // Two one-byte ranges; the device tells them apart by the base
    // (IoAccess::address - offset).
    static constexpr std::uint16_t kDataPort = platform::kI8042DataPort;
    static constexpr std::uint16_t kCommandPort = platform::kI8042CommandPort;
    static constexpr std::uint16_t kWidth = 1;

    // Status register bits.
    static constexpr std::uint8_t kOutputFull = 1u << 0;
    static constexpr std::uint8_t kInputFull = 1u << 1;
    static constexpr std::uint8_t kSystemFlag = 1u << 2;
    static constexpr std::uint8_t kLastWasCommand = 1u << 3;
    static constexpr std::uint8_t kNotInhibited = 1u << 4;
    static constexpr std::uint8_t kTimeout = 1u << 6;

    // Command byte bits.
    static constexpr std::uint8_t kKeyboardDisabled = 1u << 4;
    static constexpr std::uint8_t kAuxDisabled = 1u << 5;

    explicit I8042(PowerControl& power) : power_(power) {}

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

private:
    enum class Pending { none, ram_byte, output_port };

    [[nodiscard]] std::uint8_t status() const;
    [[nodiscard]] std::uint8_t read_data();
    // Each returns whether the guest asked for a reset.
    [[nodiscard]] bool write_command(std::uint8_t command);
    [[nodiscard]] bool write_data(std::uint8_t value);
    void put_output(std::uint8_t value);

    PowerControl& power_;

    std::mutex mutex_;
    // Controller RAM: byte 0 is the command byte. Both interfaces start
    // disabled, as nothing is attached.
    std::array<std::uint8_t, 32> ram_{kKeyboardDisabled | kAuxDisabled};
    std::optional<std::uint8_t> output_;
    std::uint8_t last_output_ = 0;
    // Output port: bit 0 is the CPU reset line (active low), bit 1 gates A20.
    std::uint8_t output_port_ = 0x03;
    Pending pending_ = Pending::none;
    std::uint8_t pending_ram_index_ = 0;
    bool system_flag_ = false;
    bool last_was_command_ = false;
    bool timeout_ = false;
};

}  // namespace acrn::dm
