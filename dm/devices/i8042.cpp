#include "dm/devices/i8042.hpp"

#include <utility>

#include "common/log.hpp"

namespace acrn::dm {
namespace {

// Controller commands (written to the command port).
constexpr std::uint8_t kReadRamFirst = 0x20;  // 0x20: the command byte
constexpr std::uint8_t kReadRamLast = 0x3F;
constexpr std::uint8_t kWriteRamFirst = 0x60;  // 0x60: the command byte
constexpr std::uint8_t kWriteRamLast = 0x7F;
constexpr std::uint8_t kDisableAux = 0xA7;
constexpr std::uint8_t kEnableAux = 0xA8;
constexpr std::uint8_t kTestAux = 0xA9;
constexpr std::uint8_t kSelfTest = 0xAA;
constexpr std::uint8_t kTestKeyboard = 0xAB;
constexpr std::uint8_t kDisableKeyboard = 0xAD;
constexpr std::uint8_t kEnableKeyboard = 0xAE;
constexpr std::uint8_t kReadOutputPort = 0xD0;
constexpr std::uint8_t kWriteOutputPort = 0xD1;
constexpr std::uint8_t kPulseFirst = 0xF0;  // 0xF0-0xFF: pulse output-port bits 0-3 whose command bit is 0

constexpr std::uint8_t kSelfTestPassed = 0x55;
constexpr std::uint8_t kInterfaceTestPassed = 0x00;
constexpr std::uint8_t kOutputPortReset = 1u << 0;  // active low
constexpr std::uint8_t kCommandByteSystemFlag = 1u << 2;

void warn(const char* what, unsigned value) {
    static RateLimiter limiter;
    if (limiter.allow()) {
        log_warning("i8042: {} {:#x} ignored", what, value);
    }
}

}  // namespace

std::uint64_t I8042::read(const IoAccess& access) {
    if (access.offset != 0 || access.size != 1) {
        warn("read of size", access.size);
        return all_ones(access.size);
    }
    std::lock_guard lock(mutex_);
    return access.address == kCommandPort ? status() : read_data();
}

void I8042::write(const IoAccess& access, std::uint64_t value) {
    if (access.offset != 0 || access.size != 1) {
        warn("write of size", access.size);
        return;
    }
    const auto byte = static_cast<std::uint8_t>(value);
    bool reset = false;
    {
        std::lock_guard lock(mutex_);
        reset = access.address == kCommandPort ? write_command(byte) : write_data(byte);
    }
    if (reset) {
        power_.request_reset(access.address == kCommandPort ? "i8042 command: pulse reset line"
                                                            : "i8042 output port: reset line low");
    }
}

std::uint8_t I8042::status() const {
    // The controller consumes every byte at once, so input-buffer-full
    // stays clear and a guest's wait loop never spins.
    std::uint8_t value = kNotInhibited;
    if (output_) {
        value |= kOutputFull;
    }
    if (system_flag_) {
        value |= kSystemFlag;
    }
    if (last_was_command_) {
        value |= kLastWasCommand;
    }
    if (timeout_) {
        value |= kTimeout;
    }
    return value;
}

std::uint8_t I8042::read_data() {
    // An empty output buffer reads as the last byte it held.
    if (output_) {
        last_output_ = *output_;
        output_.reset();
    }
    return last_output_;
}

void I8042::put_output(std::uint8_t value) { output_ = value; }

bool I8042::write_command(std::uint8_t command) {
    last_was_command_ = true;
    timeout_ = false;
    pending_ = Pending::none;
    std::uint8_t& command_byte = ram_[0];
    if (command >= kReadRamFirst && command <= kReadRamLast) {
        put_output(ram_[command - kReadRamFirst]);
    } else if (command >= kWriteRamFirst && command <= kWriteRamLast) {
        pending_ = Pending::ram_byte;
        pending_ram_index_ = static_cast<std::uint8_t>(command - kWriteRamFirst);
    } else if (command >= kPulseFirst) {
        return (command & kOutputPortReset) == 0;
    } else {
        switch (command) {
            case kDisableAux: command_byte |= kAuxDisabled; break;
            case kEnableAux: command_byte &= static_cast<std::uint8_t>(~kAuxDisabled); break;
            case kTestAux: put_output(kInterfaceTestPassed); break;
            case kSelfTest:
                system_flag_ = true;
                put_output(kSelfTestPassed);
                break;
            case kTestKeyboard: put_output(kInterfaceTestPassed); break;
            case kDisableKeyboard: command_byte |= kKeyboardDisabled; break;
            case kEnableKeyboard: command_byte &= static_cast<std::uint8_t>(~kKeyboardDisabled); break;
            case kReadOutputPort: put_output(output_port_); break;
            case kWriteOutputPort: pending_ = Pending::output_port; break;
            default: warn("unknown command", command); break;
        }
    }
    return false;
}

bool I8042::write_data(std::uint8_t value) {
    last_was_command_ = false;
    const Pending pending = std::exchange(pending_, Pending::none);
    switch (pending) {
        case Pending::ram_byte:
            ram_[pending_ram_index_] = value;
            if (pending_ram_index_ == 0) {
                system_flag_ = (value & kCommandByteSystemFlag) != 0;
            }
            return false;
        case Pending::output_port:
            output_port_ = value;
            return (value & kOutputPortReset) == 0;
        case Pending::none:
            // For the keyboard, which is not there: the controller gives up
            // waiting for its answer.
            timeout_ = true;
            return false;
    }
    return false;
}

}  // namespace acrn::dm
