// Output to a host descriptor that never blocks the writer (the ioreq
// thread, for a UART): what the descriptor cannot take at once waits in a
// bounded queue that the event loop writes out when the descriptor is
// writable. Bytes past the bound are dropped, counted and logged
// (rate-limited). The descriptor can come and go (a TCP client).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/unique_fd.hpp"

namespace acrn::dm {

class QueuedOutput {
public:
    static constexpr std::size_t kDefaultLimit = 64 * 1024;

    // `name` (e.g. "com1") names the port in log lines.
    QueuedOutput(boost::asio::io_context& loop, std::string name, std::size_t limit = kDefaultLimit);
    QueuedOutput(const QueuedOutput&) = delete;
    QueuedOutput& operator=(const QueuedOutput&) = delete;
    ~QueuedOutput();

    // Writes go to `fd` from now on; it is made non-blocking unless it is a
    // socket (sockets are written with MSG_DONTWAIT, leaving the flags of
    // a descriptor shared with others alone). On the event loop's thread,
    // or before the loop runs.
    void attach(UniqueFd fd);
    // Stops writing and discards what is queued. On the event loop's thread.
    void detach();

    // Any thread. Without a descriptor the bytes go nowhere, uncounted, as
    // on a serial line with nothing plugged in. A pipe whose reader has gone
    // raises SIGPIPE, which acrn-dm ignores (main), and then drops.
    void write(std::span<const std::uint8_t> bytes);

    [[nodiscard]] std::uint64_t dropped_bytes() const;
    [[nodiscard]] std::size_t queued_bytes() const;

private:
    enum class WriteResult { all, partial, failed };
    // With `mutex_` held: writes from `bytes`, returns how many went out.
    std::size_t write_now(std::span<const std::uint8_t> bytes, WriteResult& result);
    void drop(std::size_t count);
    void wait_until_writable();  // event loop
    void drain();                // event loop

    boost::asio::io_context& loop_;
    const std::string name_;
    const std::size_t limit_;
    const std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // posted work checks it
    boost::asio::posix::stream_descriptor watch_;  // event loop only; owns the descriptor

    mutable std::mutex mutex_;  // guards everything below, and the descriptor's use and close
    int fd_ = -1;
    bool is_socket_ = false;
    std::vector<std::uint8_t> queue_;
    bool drain_scheduled_ = false;
    std::uint64_t dropped_ = 0;
    RateLimiter drop_log_limit_{1, std::chrono::seconds(10)};
};

}  // namespace acrn::dm
