// The UART driven through its port entry points, as the ioreq loop drives it.
#include <gtest/gtest.h>

#include "dm/devices/uart16550.hpp"

namespace acrn::dm {
namespace {

class UartLineRecorder final : public InterruptSink {
public:
    void set_line(std::uint32_t gsi, bool high) override {
        last_gsi = gsi;
        level = high;
        ++changes;
    }
    void send_msi(std::uint64_t, std::uint32_t) override {}
    std::uint32_t last_gsi = 0;
    bool level = false;
    int changes = 0;
};

class UartTest : public ::testing::Test {
protected:
    UartTest() {
        uart_ = std::make_unique<Uart16550>("com1", sources_.add_line(4, "com1"), backend_storage_);
        uart_->start();
    }
    std::uint8_t in(std::uint32_t reg) {
        return static_cast<std::uint8_t>(uart_->read(IoAccess{0x3F8u + reg, reg, 1, 0}));
    }
    void out(std::uint32_t reg, std::uint8_t value) { uart_->write(IoAccess{0x3F8u + reg, reg, 1, 0}, value); }
    void feed(const std::string& text) {
        backend_->input(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
    }

    UartLineRecorder interrupts_;
    InterruptSources sources_{interrupts_};
    RecordingBackend backend_storage_;
    RecordingBackend* backend_ = &backend_storage_;
    std::unique_ptr<Uart16550> uart_;
};

TEST_F(UartTest, TransmitsAndReportsTransmitterEmpty) {
    EXPECT_EQ(in(5) & 0x60, 0x60);
    out(0, 'h');
    out(0, 'i');
    EXPECT_EQ(std::string(backend_->output.begin(), backend_->output.end()), "hi");
    EXPECT_EQ(in(5) & 0x60, 0x60);
}

TEST_F(UartTest, TheOutputTapSeesWhatTheGuestTransmitsButNotLoopback) {
    std::string tapped;
    uart_->tap_output([&](std::span<const std::uint8_t> bytes) { tapped.append(bytes.begin(), bytes.end()); });
    out(0, 'o');
    out(0, 'k');
    out(4, 0x10);  // loopback: nothing leaves the UART
    out(0, 'x');
    EXPECT_EQ(tapped, "ok");
}

TEST_F(UartTest, DivisorLatchSharesThePortsWithDataAndIer) {
    out(3, 0x83);  // DLAB, 8N1
    out(0, 0x01);
    out(1, 0x00);
    EXPECT_EQ(in(0), 0x01);
    EXPECT_TRUE(backend_->output.empty());  // writing DLL transmits nothing
    out(3, 0x03);
    out(1, 0x05);
    EXPECT_EQ(in(1), 0x05);
    out(3, 0x83);
    EXPECT_EQ(in(1), 0x00);  // DLM kept apart from IER
}

TEST_F(UartTest, ReceivesThroughTheFifoAndRaisesItsLine) {
    out(2, 0x01);  // FIFO on
    out(4, 0x08);  // OUT2 gates the interrupt
    out(1, 0x01);  // receive-data interrupt
    EXPECT_EQ(in(2) & 0x0F, 0x01);  // nothing pending
    feed("ok");
    EXPECT_TRUE(interrupts_.level);
    EXPECT_EQ(interrupts_.last_gsi, 4u);
    EXPECT_EQ(in(2) & 0x0F, 0x04);
    EXPECT_EQ(in(2) & 0xC0, 0xC0);  // FIFOs reported enabled
    EXPECT_EQ(in(5) & 0x01, 0x01);
    EXPECT_EQ(in(0), 'o');
    EXPECT_EQ(in(0), 'k');
    EXPECT_EQ(in(5) & 0x01, 0x00);
    EXPECT_FALSE(interrupts_.level);
}

TEST_F(UartTest, MoreInputThanTheFifoWaitsItsTurn) {
    out(2, 0x01);
    const std::string text(40, 'x');
    feed(text);
    std::string got;
    while ((in(5) & 0x01) != 0) {
        got.push_back(static_cast<char>(in(0)));
    }
    EXPECT_EQ(got, text);
}

TEST_F(UartTest, TransmitEmptyInterruptIsAcknowledgedByReadingIir) {
    out(4, 0x08);
    out(1, 0x02);
    EXPECT_TRUE(interrupts_.level);
    EXPECT_EQ(in(2) & 0x0F, 0x02);
    EXPECT_FALSE(interrupts_.level);
    EXPECT_EQ(in(2) & 0x0F, 0x01);
    out(0, 'a');
    EXPECT_TRUE(interrupts_.level);
}

TEST_F(UartTest, NoInterruptWithoutOut2) {
    out(1, 0x02);
    EXPECT_EQ(interrupts_.changes, 0);
}

TEST_F(UartTest, LoopbackReturnsWhatIsSentAndWiresModemLines) {
    out(4, 0x10 | 0x03);  // loopback, DTR, RTS
    out(0, 'z');
    EXPECT_TRUE(backend_->output.empty());
    EXPECT_EQ(in(0), 'z');
    EXPECT_EQ(in(6) & 0xF0, 0x30);  // CTS, DSR
}

// Linux's 8250 driver probes with MCR=0x1A (loopback, OUT2, RTS) and then
// writes 0x0B; input that came in meanwhile must reach the guest then.
TEST_F(UartTest, InputThatArrivedDuringLoopbackIsDeliveredWhenLoopbackEnds) {
    out(2, 0x01);
    out(1, 0x01);
    out(4, 0x1A);
    feed("hi");
    EXPECT_EQ(in(5) & 0x01, 0x00);  // loopback disconnects the input
    EXPECT_FALSE(interrupts_.level);
    out(4, 0x0B);
    EXPECT_EQ(in(5) & 0x01, 0x01);
    EXPECT_TRUE(interrupts_.level);
    EXPECT_EQ(in(2) & 0x0F, 0x04);
    EXPECT_EQ(in(0), 'h');
    EXPECT_EQ(in(0), 'i');
    EXPECT_EQ(in(5) & 0x01, 0x00);
    EXPECT_FALSE(interrupts_.level);
}

TEST_F(UartTest, ScratchAndWideAccesses) {
    out(7, 0x5A);
    EXPECT_EQ(in(7), 0x5A);
    const std::uint64_t wide = uart_->read(IoAccess{0x3FB, 3, 2, 0});  // LCR and MCR together
    EXPECT_EQ(wide & 0xFF, 0x03u);
}

TEST_F(UartTest, InputFloodIsBoundedAndCounted) {
    const std::string flood(Uart16550::kInputBacklogLimit + 100, 'f');
    feed(flood);
    EXPECT_GE(uart_->dropped_input(), 100u);
}

}  // namespace
}  // namespace acrn::dm
