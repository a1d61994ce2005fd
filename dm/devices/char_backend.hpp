// Where a character device's bytes go and come from: the terminal, a file,
// a TCP client, a tty. Output is written at once from the device's access;
// input arrives on the event loop and is handed to the device.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <span>
#include <vector>

namespace acrn::dm {

class CharBackend {
public:
    using InputHandler = std::function<void(std::span<const std::uint8_t>)>;

    virtual ~CharBackend() = default;
    // Never blocks for long: a backend that cannot take the bytes now drops them.
    virtual void write(std::span<const std::uint8_t> bytes) = 0;
    // Starts delivering input to `on_input`, once the device is ready for it.
    // A backend outlives guest resets: each new device calls this again and
    // takes the input over; an empty handler drops what arrives meanwhile.
    virtual void start(InputHandler on_input) = 0;
    // The host device a person connects to, where the backend made one (a pty).
    [[nodiscard]] virtual std::optional<std::string> device_path() const { return std::nullopt; }
};

// Output kept in memory and input injected by hand: for tests.
class RecordingBackend final : public CharBackend {
public:
    void write(std::span<const std::uint8_t> bytes) override { output.insert(output.end(), bytes.begin(), bytes.end()); }
    void start(InputHandler on_input) override { input = std::move(on_input); }

    std::vector<std::uint8_t> output;
    InputHandler input;
};

}  // namespace acrn::dm
