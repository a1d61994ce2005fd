// `--debugexit`: a write of v to port 0xF4 ends acrn-dm with exit status
// (v << 1) | 1, as QEMU's isa-debug-exit does, so guest test suites can
// report a result. Reads return all ones.
#pragma once

#include "dm/io/io_device.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm {

class DebugExit final : public IoDevice {
public:
    static constexpr std::uint16_t kPort = 0xF4;
    static constexpr std::uint16_t kWidth = 4;

    explicit DebugExit(PowerControl& power) : power_(power) {}

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override { return all_ones(access.size); }
    void write(const IoAccess& access, std::uint64_t value) override;

    [[nodiscard]] static int exit_status_for(std::uint64_t value) noexcept {
        return static_cast<int>(((value << 1) | 1) & 0xFF);
    }

private:
    PowerControl& power_;
};

}  // namespace acrn::dm
