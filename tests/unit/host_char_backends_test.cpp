// The host serial backends on real descriptors: a file, a pty, and a TCP
// client on the loopback interface; and their hand-over across a guest reset.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <fcntl.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "common/unique_fd.hpp"
#include "dm/devices/host_char_backends.hpp"

namespace acrn::dm {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// A tcp backend on the first free loopback port from `first_port`; sets `port`.
std::unique_ptr<CharBackend> make_tcp_backend(boost::asio::io_context& loop, std::uint16_t first_port,
                                              std::uint16_t& port) {
    SerialBackendSpec spec;
    spec.kind = SerialBackendSpec::Kind::tcp;
    for (spec.port = first_port;; ++spec.port) {
        try {
            auto backend = make_host_char_backend(spec, "com1", loop, {});
            port = spec.port;
            return backend;
        } catch (const std::runtime_error&) {
        }
    }
}

// A client connected to 127.0.0.1:port (an invalid fd if it could not).
UniqueFd connect_loopback(std::uint16_t port) {
    UniqueFd client(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(client.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        return UniqueFd();
    }
    return client;
}

TEST(HostCharBackendsTest, FileBackendAppends) {
    char path[] = "/var/tmp/acrn-serial-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    boost::asio::io_context loop;
    SerialBackendSpec spec;
    spec.kind = SerialBackendSpec::Kind::file;
    spec.path = path;
    {
        auto backend = make_host_char_backend(spec, "com1", loop, {});
        backend->write(bytes_of("hello "));
        backend->write(bytes_of("world"));
    }
    {
        auto again = make_host_char_backend(spec, "com1", loop, {});
        again->write(bytes_of("!"));
    }
    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    EXPECT_EQ(content.str(), "hello world!");
    ::unlink(path);
}

TEST(HostCharBackendsTest, MissingFileDirectoryIsAClearError) {
    boost::asio::io_context loop;
    SerialBackendSpec spec;
    spec.kind = SerialBackendSpec::Kind::file;
    spec.path = "/nonexistent-dir/serial.log";
    try {
        (void)make_host_char_backend(spec, "com1", loop, {});
        FAIL() << "expected an error";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("/nonexistent-dir/serial.log"), std::string::npos);
    }
}

TEST(HostCharBackendsTest, TcpBackendServesOneClientBothWays) {
    boost::asio::io_context loop;
    std::uint16_t port = 0;
    auto backend = make_tcp_backend(loop, 47000 + static_cast<std::uint16_t>(::getpid() % 1000), port);
    std::string received;
    backend->start([&](std::span<const std::uint8_t> bytes) { received.append(bytes.begin(), bytes.end()); });

    backend->write(bytes_of("dropped: no client yet"));
    const UniqueFd client = connect_loopback(port);
    ASSERT_TRUE(client);
    for (int i = 0; i < 100; ++i) {
        loop.run_for(std::chrono::milliseconds(10));  // accept
    }
    backend->write(bytes_of("to client"));
    char buffer[64] = {};
    const ssize_t got = ::recv(client.get(), buffer, sizeof(buffer) - 1, 0);
    EXPECT_EQ(std::string(buffer, got > 0 ? static_cast<std::size_t>(got) : 0), "to client");

    ASSERT_EQ(::send(client.get(), "typed", 5, 0), 5);
    for (int i = 0; i < 100 && received.size() < 5; ++i) {
        loop.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(received, "typed");
}

TEST(HostCharBackendsTest, PtyCarriesBytesBothWaysUnchanged) {
    boost::asio::io_context loop;
    SerialBackendSpec spec;
    spec.kind = SerialBackendSpec::Kind::pty;
    auto backend = make_host_char_backend(spec, "com2", loop, {});
    const auto path = backend->device_path();
    ASSERT_TRUE(path.has_value());
    ASSERT_EQ(path->rfind("/dev/pts/", 0), 0u) << *path;
    std::string input;
    backend->start([&](std::span<const std::uint8_t> bytes) { input.append(bytes.begin(), bytes.end()); });

    UniqueFd client(::open(path->c_str(), O_RDWR | O_NOCTTY));
    ASSERT_TRUE(client);
    backend->write(bytes_of("from guest\n"));  // raw: no CR added
    char buffer[64] = {};
    ASSERT_EQ(::read(client.get(), buffer, sizeof(buffer)), 11);
    EXPECT_EQ(std::string(buffer, 11), "from guest\n");

    ASSERT_EQ(::write(client.get(), "typed\x03", 6), 6);  // Ctrl-C is a byte like any other
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (input.size() < 6 && std::chrono::steady_clock::now() < deadline) {
        loop.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(input, "typed\x03");
}

// What a guest reset does: the old UART lets go (an empty handler), input
// typed meanwhile is dropped, and the new UART takes the same pty over.
TEST(HostCharBackendsTest, PtyInputIsHandedOverAcrossAReset) {
    boost::asio::io_context loop;
    SerialBackendSpec spec;
    spec.kind = SerialBackendSpec::Kind::pty;
    auto backend = make_host_char_backend(spec, "com1", loop, {});
    UniqueFd client(::open(backend->device_path()->c_str(), O_RDWR | O_NOCTTY));
    ASSERT_TRUE(client);
    const auto run_until = [&loop](const std::function<bool()>& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            loop.run_for(std::chrono::milliseconds(10));
        }
    };
    std::string first;
    std::string second;
    backend->start([&](std::span<const std::uint8_t> bytes) { first.append(bytes.begin(), bytes.end()); });
    ASSERT_EQ(::write(client.get(), "one", 3), 3);
    run_until([&] { return first.size() >= 3; });
    EXPECT_EQ(first, "one");

    backend->start({});
    ASSERT_EQ(::write(client.get(), "lost", 4), 4);
    loop.run_for(std::chrono::milliseconds(200));

    backend->start([&](std::span<const std::uint8_t> bytes) { second.append(bytes.begin(), bytes.end()); });
    ASSERT_EQ(::write(client.get(), "two", 3), 3);
    run_until([&] { return second.size() >= 3; });
    EXPECT_EQ(first, "one");
    EXPECT_EQ(second, "two");
}

// A TCP client stays connected across a reset; its input goes to the new UART.
TEST(HostCharBackendsTest, TcpClientStaysConnectedAcrossAReset) {
    boost::asio::io_context loop;
    std::uint16_t port = 0;
    auto backend = make_tcp_backend(loop, 48000 + static_cast<std::uint16_t>(::getpid() % 1000), port);
    std::string first;
    std::string second;
    backend->start([&](std::span<const std::uint8_t> bytes) { first.append(bytes.begin(), bytes.end()); });
    const UniqueFd client = connect_loopback(port);
    ASSERT_TRUE(client);
    for (int i = 0; i < 50; ++i) {
        loop.run_for(std::chrono::milliseconds(10));  // accept
    }
    backend->start({});
    backend->start([&](std::span<const std::uint8_t> bytes) { second.append(bytes.begin(), bytes.end()); });
    ASSERT_EQ(::send(client.get(), "after", 5, 0), 5);
    for (int i = 0; i < 100 && second.size() < 5; ++i) {
        loop.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(second, "after");
    EXPECT_TRUE(first.empty());
    backend->write(bytes_of("still here"));
    char buffer[64] = {};
    const ssize_t got = ::recv(client.get(), buffer, sizeof(buffer) - 1, 0);
    EXPECT_EQ(std::string(buffer, got > 0 ? static_cast<std::size_t>(got) : 0), "still here");
}

}  // namespace
}  // namespace acrn::dm
