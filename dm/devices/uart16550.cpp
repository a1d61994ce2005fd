#include "dm/devices/uart16550.hpp"

namespace acrn::dm {
namespace {

// Register offsets (PC16550D, table 2).
constexpr std::uint32_t kData = 0;  // RBR / THR, or DLL with DLAB
constexpr std::uint32_t kIer = 1;   // or DLM with DLAB
constexpr std::uint32_t kIirFcr = 2;
constexpr std::uint32_t kLcr = 3;
constexpr std::uint32_t kMcr = 4;
constexpr std::uint32_t kLsr = 5;
constexpr std::uint32_t kMsr = 6;
constexpr std::uint32_t kScr = 7;

constexpr std::uint8_t kIerReceiveData = 0x01;
constexpr std::uint8_t kIerTransmitEmpty = 0x02;
constexpr std::uint8_t kIerLineStatus = 0x04;
constexpr std::uint8_t kIerModemStatus = 0x08;

constexpr std::uint8_t kIirNoInterrupt = 0x01;
constexpr std::uint8_t kIirLineStatus = 0x06;
constexpr std::uint8_t kIirReceiveData = 0x04;
constexpr std::uint8_t kIirTransmitEmpty = 0x02;
constexpr std::uint8_t kIirFifosEnabled = 0xC0;

constexpr std::uint8_t kFcrEnable = 0x01;
constexpr std::uint8_t kFcrClearRx = 0x02;

constexpr std::uint8_t kLcrDlab = 0x80;

constexpr std::uint8_t kMcrDtr = 0x01;
constexpr std::uint8_t kMcrRts = 0x02;
constexpr std::uint8_t kMcrOut1 = 0x04;
constexpr std::uint8_t kMcrOut2 = 0x08;
constexpr std::uint8_t kMcrLoopback = 0x10;

constexpr std::uint8_t kLsrDataReady = 0x01;
constexpr std::uint8_t kLsrOverrun = 0x02;
constexpr std::uint8_t kLsrThrEmpty = 0x20;
constexpr std::uint8_t kLsrTransmitterEmpty = 0x40;

// With no modem attached, report one that is present and ready: CTS, DSR, DCD.
constexpr std::uint8_t kMsrConnected = 0xB0;

}  // namespace

Uart16550::Uart16550(std::string name, LineSource& irq, CharBackend& backend)
    : name_(std::move(name)), irq_(irq), backend_(backend), msr_(kMsrConnected) {}

Uart16550::~Uart16550() { backend_.start({}); }

void Uart16550::start() {
    backend_.start([this](std::span<const std::uint8_t> bytes) { receive(bytes); });
}

std::uint64_t Uart16550::read(const IoAccess& access) {
    // Byte registers; a wider access reads consecutive registers.
    std::uint64_t value = 0;
    std::lock_guard lock(mutex_);
    for (std::uint32_t i = 0; i < access.size; ++i) {
        const std::uint64_t reg = access.offset + i;
        const std::uint8_t byte = reg < kRegisterCount ? read_register(static_cast<std::uint32_t>(reg)) : 0xFF;
        value |= static_cast<std::uint64_t>(byte) << (8 * i);
    }
    update_interrupt();
    return value;
}

void Uart16550::write(const IoAccess& access, std::uint64_t value) {
    std::lock_guard lock(mutex_);
    for (std::uint32_t i = 0; i < access.size; ++i) {
        const std::uint64_t reg = access.offset + i;
        if (reg < kRegisterCount) {
            write_register(static_cast<std::uint32_t>(reg), static_cast<std::uint8_t>(value >> (8 * i)));
        }
    }
    update_interrupt();
}

std::uint8_t Uart16550::read_register(std::uint32_t reg) {
    const bool dlab = (lcr_ & kLcrDlab) != 0;
    switch (reg) {
        case kData: {
            if (dlab) {
                return dll_;
            }
            if (rx_fifo_.empty()) {
                return 0;
            }
            const std::uint8_t byte = rx_fifo_.front();
            rx_fifo_.pop_front();
            refill_rx_fifo();
            return byte;
        }
        case kIer: return dlab ? dlm_ : ier_;
        case kIirFcr: {
            const std::uint8_t id = pending_interrupt_id();
            // Reading IIR while it reports THR-empty acknowledges that interrupt.
            if (id == kIirTransmitEmpty) {
                thre_interrupt_ = false;
            }
            return static_cast<std::uint8_t>(id | (fifo_enabled_ ? kIirFifosEnabled : 0));
        }
        case kLcr: return lcr_;
        case kMcr: return mcr_;
        case kLsr: {
            std::uint8_t lsr = lsr_;
            if (!rx_fifo_.empty()) {
                lsr |= kLsrDataReady;
            }
            lsr_ &= static_cast<std::uint8_t>(~kLsrOverrun);  // error bits clear on read
            return lsr;
        }
        case kMsr: {
            if ((mcr_ & kMcrLoopback) != 0) {
                // Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.
                return static_cast<std::uint8_t>(((mcr_ & kMcrDtr) << 5) | ((mcr_ & kMcrRts) << 3) |
                                                 ((mcr_ & kMcrOut1) << 4) | ((mcr_ & kMcrOut2) << 4));
            }
            return msr_;
        }
        case kScr: return scr_;
        default: return 0xFF;
    }
}

void Uart16550::write_register(std::uint32_t reg, std::uint8_t value) {
    const bool dlab = (lcr_ & kLcrDlab) != 0;
    switch (reg) {
        case kData:
            if (dlab) {
                dll_ = value;
            } else {
                transmit(value);
            }
            break;
        case kIer:
            if (dlab) {
                dlm_ = value;
            } else {
                // Enabling the THR-empty interrupt while THR is empty raises it at once.
                if ((value & kIerTransmitEmpty) != 0 && (ier_ & kIerTransmitEmpty) == 0) {
                    thre_interrupt_ = true;
                }
                ier_ = value & 0x0F;
            }
            break;
        case kIirFcr:
            fifo_enabled_ = (value & kFcrEnable) != 0;
            if ((value & kFcrClearRx) != 0) {
                rx_fifo_.clear();
                refill_rx_fifo();
            }
            break;
        case kLcr: lcr_ = value; break;
        case kMcr: {
            const bool leaves_loopback = (mcr_ & kMcrLoopback) != 0 && (value & kMcrLoopback) == 0;
            mcr_ = value & 0x1F;
            if (leaves_loopback) {
                refill_rx_fifo();  // input that waited meanwhile; the caller updates the interrupt
            }
            break;
        }
        case kScr: scr_ = value; break;
        default: break;  // LSR and MSR are read-only
    }
}

void Uart16550::transmit(std::uint8_t byte) {
    if ((mcr_ & kMcrLoopback) != 0) {
        if (rx_fifo_.size() < kFifoSize) {
            rx_fifo_.push_back(byte);
        } else {
            lsr_ |= kLsrOverrun;
        }
    } else {
        backend_.write(std::span<const std::uint8_t>(&byte, 1));
        if (output_tap_) {
            output_tap_(std::span<const std::uint8_t>(&byte, 1));
        }
    }
    // The byte leaves at once: THR is empty again.
    lsr_ |= kLsrThrEmpty | kLsrTransmitterEmpty;
    thre_interrupt_ = true;
}

void Uart16550::tap_output(OutputTap tap) {
    std::lock_guard lock(mutex_);
    output_tap_ = std::move(tap);
}

void Uart16550::receive(std::span<const std::uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    for (const std::uint8_t byte : bytes) {
        if (input_backlog_.size() >= kInputBacklogLimit) {
            ++dropped_input_;
            continue;
        }
        input_backlog_.push_back(byte);
    }
    refill_rx_fifo();
    update_interrupt();
}

std::uint64_t Uart16550::dropped_input() const {
    std::lock_guard lock(mutex_);
    return dropped_input_;
}

void Uart16550::refill_rx_fifo() {
    // Loopback disconnects the serial input.
    if ((mcr_ & kMcrLoopback) != 0) {
        return;
    }
    const std::size_t capacity = fifo_enabled_ ? kFifoSize : 1;
    while (rx_fifo_.size() < capacity && !input_backlog_.empty()) {
        rx_fifo_.push_back(input_backlog_.front());
        input_backlog_.pop_front();
    }
}

std::uint8_t Uart16550::pending_interrupt_id() const {
    if ((ier_ & kIerLineStatus) != 0 && (lsr_ & kLsrOverrun) != 0) {
        return kIirLineStatus;
    }
    if ((ier_ & kIerReceiveData) != 0 && !rx_fifo_.empty()) {
        return kIirReceiveData;
    }
    if ((ier_ & kIerTransmitEmpty) != 0 && thre_interrupt_) {
        return kIirTransmitEmpty;
    }
    (void)kIerModemStatus;  // modem status never changes without a modem
    return kIirNoInterrupt;
}

void Uart16550::update_interrupt() {
    // On a PC, OUT2 gates the UART's interrupt onto the ISA line.
    const bool high = pending_interrupt_id() != kIirNoInterrupt && (mcr_ & kMcrOut2) != 0;
    if (high != line_high_) {
        line_high_ = high;
        irq_.set(high);
    }
}

}  // namespace acrn::dm
