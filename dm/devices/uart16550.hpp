// A 16550A UART (National Semiconductor PC16550D datasheet): eight
// registers at a port base, 16-byte FIFOs, line/modem status, loopback, and
// its interrupt line raised while an enabled interrupt is pending.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "dm/devices/char_backend.hpp"
#include "dm/irq/interrupt_sources.hpp"
#include "dm/io/io_device.hpp"

namespace acrn::dm {

class Uart16550 final : public IoDevice {
public:
    static constexpr std::uint32_t kRegisterCount = 8;
    static constexpr std::size_t kFifoSize = 16;
    // Input that arrived while the receive FIFO was full waits here; past
    // this much it is dropped (counted), so a flood cannot grow us.
    static constexpr std::size_t kInputBacklogLimit = 64 * 1024;

    // The backend outlives the UART (it stays across guest resets).
    Uart16550(std::string name, LineSource& irq, CharBackend& backend);
    Uart16550(const Uart16550&) = delete;
    Uart16550& operator=(const Uart16550&) = delete;
    ~Uart16550() override;

    // Connects the backend's input to this UART; call before the event loop runs.
    void start();

    [[nodiscard]] std::uint64_t read(const IoAccess& access) override;
    void write(const IoAccess& access, std::uint64_t value) override;

    // What the guest transmits is handed to `tap` too (under the UART's lock).
    using OutputTap = std::function<void(std::span<const std::uint8_t>)>;
    void tap_output(OutputTap tap);

    // Bytes from the backend.
    void receive(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::uint64_t dropped_input() const;

private:
    [[nodiscard]] std::uint8_t read_register(std::uint32_t reg);
    void write_register(std::uint32_t reg, std::uint8_t value);
    void transmit(std::uint8_t byte);
    void refill_rx_fifo();
    [[nodiscard]] std::uint8_t pending_interrupt_id() const;
    void update_interrupt();

    const std::string name_;
    LineSource& irq_;
    CharBackend& backend_;
    OutputTap output_tap_;

    mutable std::mutex mutex_;
    std::deque<std::uint8_t> rx_fifo_;
    std::deque<std::uint8_t> input_backlog_;
    std::uint64_t dropped_input_ = 0;
    std::uint8_t ier_ = 0;
    std::uint8_t lcr_ = 0x03;  // 8N1
    std::uint8_t mcr_ = 0;
    std::uint8_t lsr_ = 0x60;  // THR and transmitter empty
    std::uint8_t msr_ = 0;
    std::uint8_t scr_ = 0;
    std::uint8_t dll_ = 0x0C;  // 9600 baud
    std::uint8_t dlm_ = 0;
    bool fifo_enabled_ = false;
    bool thre_interrupt_ = false;  // THR-empty interrupt armed and not yet acknowledged
    bool line_high_ = false;
};

}  // namespace acrn::dm
