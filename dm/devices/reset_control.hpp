// The reset control register at port 0xCF9 (Intel PCH datasheets, "Reset
// Control Register (RST_CNT)"), also the FADT's RESET_REG: SYS_RST (bit 1)
// selects the kind of reset, RST_CPU (bit 2) starts it, FULL_RST (bit 3)
// asks for a full power cycle. Reads return the last value written.
#pragma once

#include <cstdint>
#include <mutex>

#include "dm/io/io_device.hpp"
#include "dm/platform_layout.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm {

class ResetControl final : public IoDevice {
public:
    static constexpr std::uint16_t kPort = platform::kResetControlPort;
    static constexpr std::uint16_t kWidth = 1;
    static constexpr std::uint8_t kSystemReset = 1u << 1;
    static constexpr std::uint8_t kResetCpu = 1u << 2;
    static constexpr std::uint8_t kFullReset = 1u << 3;

    explicit ResetControl(PowerControl& power) : power_(power) {}

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

private:
    PowerControl& power_;
    std::mutex mutex_;
    std::uint8_t value_ = 0;
};

}  // namespace acrn::dm
