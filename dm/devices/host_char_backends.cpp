#include "dm/devices/host_char_backends.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "common/log.hpp"
#include "common/unique_fd.hpp"
#include "dm/devices/queued_output.hpp"

namespace acrn::dm {
namespace {

namespace asio = boost::asio;

// A regular file takes every byte at once (it never blocks for long).
void write_to_file(int fd, std::span<const std::uint8_t> bytes) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written > 0) {
            bytes = bytes.subspan(static_cast<std::size_t>(written));
            continue;
        }
        if (written < 0 && errno == EINTR) {
            continue;
        }
        return;
    }
}

// Reads a descriptor on the event loop and hands the bytes over.
class DescriptorReader {
public:
    DescriptorReader(asio::io_context& loop, int fd) : stream_(loop, ::dup(fd)) {}

    // The read in flight stays; a later call only changes where input goes.
    void start(CharBackend::InputHandler handler) {
        handler_ = std::move(handler);
        if (!reading_) {
            reading_ = true;
            read_more();
        }
    }

private:
    void read_more() {
        stream_.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& error, std::size_t n) {
            if (error) {
                return;  // closed or the loop is stopping: no more input
            }
            if (handler_) {
                handler_(std::span<const std::uint8_t>(buffer_.data(), n));
            }
            read_more();
        });
    }

    asio::posix::stream_descriptor stream_;
    std::array<std::uint8_t, 256> buffer_{};
    CharBackend::InputHandler handler_;
    bool reading_ = false;
};

class NullBackend final : public CharBackend {
public:
    void write(std::span<const std::uint8_t>) override {}
    void start(InputHandler) override {}
};

class FileBackend final : public CharBackend {
public:
    explicit FileBackend(const std::string& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) {
        if (!fd_) {
            throw std::runtime_error("cannot open serial output file '" + path + "': " + std::strerror(errno));
        }
    }
    void write(std::span<const std::uint8_t> bytes) override { write_to_file(fd_.get(), bytes); }
    void start(InputHandler) override {}

private:
    UniqueFd fd_;
};

UniqueFd duplicate(int fd) {
    UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    if (!copy) {
        throw std::runtime_error(std::string("cannot duplicate a descriptor: ") + std::strerror(errno));
    }
    return copy;
}

// Our own open of stdout's pipe or terminal, to make non-blocking: the
// shared one is usually stderr's too, and spdlog's writes would then fail
// with EAGAIN and lose log lines. A regular file or a socket is duplicated
// (the one never blocks, the other is written with MSG_DONTWAIT).
UniqueFd private_stdout() {
    struct stat info {};
    if (::fstat(STDOUT_FILENO, &info) == 0 && (S_ISFIFO(info.st_mode) || S_ISCHR(info.st_mode))) {
        // O_NONBLOCK: opening a pipe whose reader has gone would block.
        UniqueFd reopened(::open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
        if (reopened) {
            return reopened;
        }
    }
    return duplicate(STDOUT_FILENO);
}

class TtyBackend final : public CharBackend {
public:
    TtyBackend(asio::io_context& loop, const std::string& path)
        : fd_(::open(path.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)),
          reader_(loop, checked(fd_, path)),
          output_(loop, path) {
        output_.attach(duplicate(fd_.get()));
    }
    void write(std::span<const std::uint8_t> bytes) override { output_.write(bytes); }
    void start(InputHandler on_input) override { reader_.start(std::move(on_input)); }

private:
    static int checked(const UniqueFd& fd, const std::string& path) {
        if (!fd) {
            throw std::runtime_error("cannot open serial tty '" + path + "': " + std::strerror(errno));
        }
        return fd.get();
    }
    UniqueFd fd_;
    DescriptorReader reader_;
    QueuedOutput output_;
};

// The terminal's settings as we found them, put back when the backend goes
// and on a fatal signal (a crash must not leave the user's shell raw).
class TerminalRestorer {
public:
    explicit TerminalRestorer(int fd) : fd_(fd), flags_(::fcntl(fd, F_GETFL)) {
        if (::isatty(fd) != 0 && ::tcgetattr(fd, &saved_) == 0) {
            saved_valid_ = true;
            install_fatal_signal_handlers(this);
        }
    }
    TerminalRestorer(const TerminalRestorer&) = delete;
    TerminalRestorer& operator=(const TerminalRestorer&) = delete;
    ~TerminalRestorer() {
        restore();
        install_fatal_signal_handlers(nullptr);
    }
    [[nodiscard]] bool is_terminal() const noexcept { return saved_valid_; }
    [[nodiscard]] const termios& saved() const noexcept { return saved_; }

private:
    // Async-signal-safe: tcsetattr and fcntl only.
    void restore() const noexcept {
        if (saved_valid_) {
            ::tcsetattr(fd_, TCSANOW, &saved_);
        }
        if (flags_ >= 0) {
            ::fcntl(fd_, F_SETFL, flags_);  // the event loop made it non-blocking
        }
    }
    static void install_fatal_signal_handlers(TerminalRestorer* owner) {
        active_.store(owner);
        for (const int signal : {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE}) {
            struct sigaction action {};
            action.sa_handler = owner != nullptr ? &on_fatal_signal : SIG_DFL;
            action.sa_flags = SA_RESETHAND;
            sigemptyset(&action.sa_mask);
            ::sigaction(signal, &action, nullptr);
        }
    }
    static void on_fatal_signal(int signal) {
        if (const TerminalRestorer* owner = active_.load()) {
            owner->restore();
        }
        ::raise(signal);  // SA_RESETHAND: now with the default action
    }

    static inline std::atomic<TerminalRestorer*> active_{nullptr};
    int fd_;
    int flags_;
    termios saved_{};
    bool saved_valid_ = false;
};

// The terminal in raw mode while the VM runs: every key, Ctrl-C included,
// goes to the guest; Ctrl-A x quits, as in ACRN and QEMU.
class StdioBackend final : public CharBackend {
public:
    StdioBackend(asio::io_context& loop, std::function<void()> on_quit_key)
        : terminal_(STDIN_FILENO),
          reader_(loop, STDIN_FILENO),
          output_(loop, "stdio"),
          on_quit_key_(std::move(on_quit_key)) {
        output_.attach(private_stdout());
        if (terminal_.is_terminal()) {
            termios raw = terminal_.saved();
            ::cfmakeraw(&raw);
            raw.c_oflag |= OPOST | ONLCR;  // keep our own log lines readable
            ::tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
    }
    void write(std::span<const std::uint8_t> bytes) override { output_.write(bytes); }
    void start(InputHandler on_input) override {
        if (!on_input) {
            reader_.start({});
            return;
        }
        reader_.start([this, on_input = std::move(on_input)](std::span<const std::uint8_t> bytes) {
            for (const std::uint8_t byte : bytes) {
                // Ctrl-A Ctrl-A sends one Ctrl-A.
                if (escape_pending_) {
                    escape_pending_ = false;
                    if (byte == 'x' && on_quit_key_) {
                        on_quit_key_();
                        continue;
                    }
                    if (byte != kEscape) {
                        on_input(std::span<const std::uint8_t>(&kEscape, 1));
                    }
                } else if (byte == kEscape) {
                    escape_pending_ = true;
                    continue;
                }
                on_input(std::span<const std::uint8_t>(&byte, 1));
            }
        });
    }

private:
    static constexpr std::uint8_t kEscape = 0x01;
    TerminalRestorer terminal_;  // first: restored after the reader is gone
    DescriptorReader reader_;
    QueuedOutput output_;
    std::function<void()> on_quit_key_;
    bool escape_pending_ = false;
};

// A new pseudo-terminal (`-l com1,pty`): a terminal program (screen,
// minicom) opens the printed /dev/pts path. We hold the slave side open as
// well, so the master never reads EIO while no program is attached.
class PtyBackend final : public CharBackend {
public:
    PtyBackend(asio::io_context& loop, const std::string& port_name)
        : master_(open_master()), slave_(open_slave(master_)), reader_(loop, master_.get()), output_(loop, port_name) {
        output_.attach(duplicate(master_.get()));
        log_notice("{}: connected to pty {}", port_name, slave_path_);
    }
    void write(std::span<const std::uint8_t> bytes) override { output_.write(bytes); }
    void start(InputHandler on_input) override { reader_.start(std::move(on_input)); }
    [[nodiscard]] std::optional<std::string> device_path() const override { return slave_path_; }

private:
    static UniqueFd open_master() {
        UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
            throw std::runtime_error(std::string("cannot create a pty: ") + std::strerror(errno));
        }
        ::fcntl(master.get(), F_SETFL, ::fcntl(master.get(), F_GETFL) | O_NONBLOCK);
        return master;
    }
    UniqueFd open_slave(const UniqueFd& master) {
        char name[128] = {};
        if (::ptsname_r(master.get(), name, sizeof(name)) != 0) {
            throw std::runtime_error(std::string("cannot name the pty: ") + std::strerror(errno));
        }
        slave_path_ = name;
        UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!slave) {
            throw std::runtime_error("cannot open " + slave_path_ + ": " + std::strerror(errno));
        }
        // A serial line passes bytes as they are: no echo, no line editing.
        termios raw{};
        if (::tcgetattr(slave.get(), &raw) == 0) {
            ::cfmakeraw(&raw);
            ::tcsetattr(slave.get(), TCSANOW, &raw);
        }
        return slave;
    }

    std::string slave_path_;
    UniqueFd master_;
    UniqueFd slave_;
    DescriptorReader reader_;
    QueuedOutput output_;
};

// One client at a time on a listening socket (TCP on 127.0.0.1:<port>, or
// AF_UNIX at a path); output with no client is dropped. The client socket
// belongs to the event loop; writes (from the ioreq thread or a device's)
// go through `output_`, which holds a descriptor of its own that is only
// closed under its lock, so a write can never reach a descriptor number the
// kernel has handed out again.
template <typename Protocol>
class SocketServerBackend final : public CharBackend {
public:
    SocketServerBackend(asio::io_context& loop, const typename Protocol::endpoint& endpoint, const std::string& where)
        : acceptor_(loop), client_(loop), output_(loop, where) {
        boost::system::error_code error;
        acceptor_.open(endpoint.protocol(), error);
        if (!error && std::is_same_v<Protocol, asio::ip::tcp>) {
            acceptor_.set_option(asio::socket_base::reuse_address(true), error);
        }
        if (!error) {
            acceptor_.bind(endpoint, error);
        }
        if (!error) {
            acceptor_.listen(1, error);
        }
        if (error) {
            throw std::runtime_error("cannot listen on " + where + ": " + error.message());
        }
    }
    void write(std::span<const std::uint8_t> bytes) override { output_.write(bytes); }
    void start(InputHandler on_input) override {
        on_input_ = std::move(on_input);
        if (!accepting_) {
            accepting_ = true;
            accept_next();
        }
    }

private:
    void accept_next() {
        acceptor_.async_accept([this](const boost::system::error_code& error, typename Protocol::socket socket) {
            if (error) {
                return;
            }
            if (client_.is_open()) {
                socket.close();  // one client at a time
            } else {
                client_ = std::move(socket);
                try {
                    output_.attach(duplicate(client_.native_handle()));
                } catch (const std::runtime_error& error) {
                    log_warning("{}; the socket's client gets no output", error.what());
                }
                read_more();
            }
            accept_next();
        });
    }
    void read_more() {
        client_.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& error, std::size_t n) {
            if (error) {
                output_.detach();
                boost::system::error_code ignored;
                client_.close(ignored);
                return;
            }
            if (on_input_) {
                on_input_(std::span<const std::uint8_t>(buffer_.data(), n));
            }
            read_more();
        });
    }

    typename Protocol::acceptor acceptor_;
    typename Protocol::socket client_;
    QueuedOutput output_;
    std::array<std::uint8_t, 256> buffer_{};
    InputHandler on_input_;
    bool accepting_ = false;
};

// An AF_UNIX socket we connect to once, at start-up; when the other end
// goes away, output is dropped from then on.
class UnixClientBackend final : public CharBackend {
public:
    UnixClientBackend(asio::io_context& loop, const std::string& path)
        : socket_(loop), output_(loop, "socket " + path) {
        boost::system::error_code error;
        socket_.connect(asio::local::stream_protocol::endpoint(path), error);
        if (error) {
            throw std::runtime_error("cannot connect to socket " + path + ": " + error.message());
        }
        output_.attach(duplicate(socket_.native_handle()));
    }
    void write(std::span<const std::uint8_t> bytes) override { output_.write(bytes); }
    void start(InputHandler on_input) override {
        const bool first = !on_input_;
        on_input_ = std::move(on_input);
        if (first) {
            read_more();
        }
    }

private:
    void read_more() {
        socket_.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& error, std::size_t n) {
            if (error) {
                output_.detach();
                return;
            }
            if (on_input_) {
                on_input_(std::span<const std::uint8_t>(buffer_.data(), n));
            }
            read_more();
        });
    }

    asio::local::stream_protocol::socket socket_;
    QueuedOutput output_;
    std::array<std::uint8_t, 256> buffer_{};
    InputHandler on_input_;
};

std::unique_ptr<CharBackend> make_unix_socket_backend(asio::io_context& loop, const SerialBackendSpec& spec) {
    if (!spec.server) {
        return std::make_unique<UnixClientBackend>(loop, spec.path);
    }
    struct stat info {};
    if (::lstat(spec.path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) {
        ::unlink(spec.path.c_str());  // a socket left by an earlier run would refuse the bind
    }
    return std::make_unique<SocketServerBackend<asio::local::stream_protocol>>(
        loop, asio::local::stream_protocol::endpoint(spec.path), "socket " + spec.path);
}

}  // namespace

std::unique_ptr<CharBackend> make_host_char_backend(const SerialBackendSpec& spec, const std::string& port_name,
                                                    asio::io_context& loop, std::function<void()> on_quit_key) {
    switch (spec.kind) {
        case SerialBackendSpec::Kind::none: return std::make_unique<NullBackend>();
        case SerialBackendSpec::Kind::stdio: return std::make_unique<StdioBackend>(loop, std::move(on_quit_key));
        case SerialBackendSpec::Kind::pty: return std::make_unique<PtyBackend>(loop, port_name);
        case SerialBackendSpec::Kind::file: return std::make_unique<FileBackend>(spec.path);
        case SerialBackendSpec::Kind::tty: return std::make_unique<TtyBackend>(loop, spec.path);
        case SerialBackendSpec::Kind::tcp:
            return std::make_unique<SocketServerBackend<asio::ip::tcp>>(
                loop, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), spec.port),
                "127.0.0.1:" + std::to_string(spec.port));
        case SerialBackendSpec::Kind::unix_socket: return make_unix_socket_backend(loop, spec);
    }
    throw std::logic_error("unknown serial backend kind");
}

}  // namespace acrn::dm
