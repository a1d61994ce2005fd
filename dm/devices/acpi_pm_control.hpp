// ACPI PM1a control register (ACPI 6.4, 4.8.3.2.1) at port 0x404, where ACRN
// puts it: writing SLP_TYP 5 (S5) with SLP_EN powers the VM off. ACRN's
// hypervisor also powers a VM off this way after a triple fault.
#pragma once

#include <cstdint>
#include <mutex>

#include "dm/io/io_device.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm {

class AcpiPmControl final : public IoDevice {
public:
    static constexpr std::uint16_t kPort = 0x404;
    static constexpr std::uint16_t kWidth = 2;
    static constexpr std::uint16_t kSleepEnable = 1u << 13;
    static constexpr std::uint16_t kSleepTypeShift = 10;
    static constexpr std::uint16_t kSleepTypeS5 = 5;

    explicit AcpiPmControl(PowerControl& power) : power_(power) {}

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

private:
    PowerControl& power_;
    std::mutex mutex_;
    std::uint16_t value_ = 0;
};

}  // namespace acrn::dm
