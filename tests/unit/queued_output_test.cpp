// Console output that never blocks the ioreq thread: a pipe nobody reads,
// the drain on the event loop, and a TCP client that comes and goes while
// another thread writes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "dm/devices/host_char_backends.hpp"
#include "dm/devices/queued_output.hpp"

namespace acrn::dm {
namespace {

struct Pipe {
    Pipe() {
        int fds[2];
        EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
        read_end = UniqueFd(fds[0]);
        write_end = UniqueFd(fds[1]);
    }
    UniqueFd read_end;
    UniqueFd write_end;
};

std::vector<std::uint8_t> pattern(std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
    }
    return bytes;
}

std::vector<std::uint8_t> read_available(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    std::vector<std::uint8_t> all;
    std::uint8_t buffer[65536];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof(buffer));
        if (got <= 0) {
            return all;
        }
        all.insert(all.end(), buffer, buffer + got);
    }
}

TEST(QueuedOutputTest, APipeNobodyReadsNeitherBlocksNorGrowsWithoutBound) {
    boost::asio::io_context loop;
    Pipe pipe;
    const auto pipe_size = static_cast<std::size_t>(::fcntl(pipe.write_end.get(), F_GETPIPE_SZ));
    QueuedOutput output(loop, "com1", 4096);
    output.attach(UniqueFd(::dup(pipe.write_end.get())));
    const std::vector<std::uint8_t> bytes = pattern(1 << 20);

    const auto start = std::chrono::steady_clock::now();
    for (std::size_t at = 0; at < bytes.size(); at += 1000) {
        output.write(std::span(bytes).subspan(at, std::min<std::size_t>(1000, bytes.size() - at)));
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
    EXPECT_EQ(output.queued_bytes(), 4096u);
    // Once the reader catches up, the event loop writes the queue out, in order.
    std::vector<std::uint8_t> received = read_available(pipe.read_end.get());
    const std::size_t in_pipe = received.size();
    EXPECT_LE(in_pipe, pipe_size);
    EXPECT_EQ(output.dropped_bytes(), bytes.size() - in_pipe - 4096);
    for (int i = 0; i < 100 && output.queued_bytes() > 0; ++i) {
        loop.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(output.queued_bytes(), 0u);
    const std::vector<std::uint8_t> rest = read_available(pipe.read_end.get());
    received.insert(received.end(), rest.begin(), rest.end());
    ASSERT_EQ(received.size(), in_pipe + 4096);
    EXPECT_TRUE(std::equal(received.begin(), received.end(), bytes.begin()));
}

TEST(QueuedOutputTest, AReaderThatHasGoneDropsTheOutput) {
    boost::asio::io_context loop;
    Pipe pipe;
    QueuedOutput output(loop, "com1");
    output.attach(UniqueFd(::dup(pipe.write_end.get())));
    pipe.read_end.reset();
    const std::vector<std::uint8_t> bytes = pattern(100);
    auto* const previous = ::signal(SIGPIPE, SIG_IGN);  // as acrn-dm's main() does
    output.write(bytes);
    ::signal(SIGPIPE, previous);
    EXPECT_EQ(output.dropped_bytes(), 100u);
}

// `-l com1,stdio` with stdout a pipe that nobody reads: the UART's writes
// come back at once, and stderr (the log) keeps its blocking mode.
TEST(QueuedOutputTest, StdioBackendDoesNotBlockOnAFullStdout) {
    // acrn-dm logs to stderr; the tests' default logger writes to stdout,
    // which is the full pipe here.
    set_console_log_level(static_cast<int>(LogLevel::error));
    std::fflush(stdout);
    Pipe pipe;
    UniqueFd saved_stdout(::dup(STDOUT_FILENO));
    ASSERT_GE(::dup2(pipe.write_end.get(), STDOUT_FILENO), 0);
    const int flags_before = ::fcntl(STDOUT_FILENO, F_GETFL);
    std::chrono::steady_clock::duration took{};
    {
        boost::asio::io_context loop;
        SerialBackendSpec spec;
        spec.kind = SerialBackendSpec::Kind::stdio;
        auto backend = make_host_char_backend(spec, "com1", loop, {});
        const std::vector<std::uint8_t> bytes = pattern(1 << 20);
        const auto start = std::chrono::steady_clock::now();
        for (std::size_t at = 0; at < bytes.size(); at += 4096) {
            backend->write(std::span(bytes).subspan(at, 4096));
        }
        took = std::chrono::steady_clock::now() - start;
    }
    const int flags_after = ::fcntl(STDOUT_FILENO, F_GETFL);
    ::dup2(saved_stdout.get(), STDOUT_FILENO);
    set_console_log_level(static_cast<int>(LogLevel::info));
    EXPECT_LT(took, std::chrono::seconds(2));
    EXPECT_EQ(flags_after & O_NONBLOCK, flags_before & O_NONBLOCK) << "the shared description was changed";
}

// The TCP backend's client closes while another thread (the ioreq thread)
// writes; descriptors the kernel hands out again meanwhile (pipes here)
// must never receive a byte. Under ThreadSanitizer this also checks that
// the close and the writes are ordered.
TEST(QueuedOutputTest, TcpClientsComeAndGoWhileTheIoreqThreadWrites) {
    boost::asio::io_context loop;
    SerialBackendSpec spec;
    spec.kind = SerialBackendSpec::Kind::tcp;
    std::unique_ptr<CharBackend> backend;
    for (spec.port = static_cast<std::uint16_t>(49000 + ::getpid() % 1000); !backend; ++spec.port) {
        try {
            backend = make_host_char_backend(spec, "com1", loop, {});
        } catch (const std::runtime_error&) {
        }
    }
    const std::uint16_t port = static_cast<std::uint16_t>(spec.port - 1);
    backend->start([](std::span<const std::uint8_t>) {});

    std::atomic<bool> stop{false};
    std::thread ioreq([&] {
        const std::vector<std::uint8_t> bytes = pattern(64);
        while (!stop) {
            backend->write(bytes);
        }
    });
    std::vector<Pipe> bystanders;
    for (int round = 0; round < 100; ++round) {
        UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
        loop.run_for(std::chrono::milliseconds(2));  // accept
        client.reset();
        loop.run_for(std::chrono::milliseconds(2));  // the backend sees the close
        bystanders.emplace_back();                   // may take the number just freed
    }
    stop = true;
    ioreq.join();
    for (Pipe& bystander : bystanders) {
        EXPECT_TRUE(read_available(bystander.read_end.get()).empty());
    }
}

}  // namespace
}  // namespace acrn::dm
