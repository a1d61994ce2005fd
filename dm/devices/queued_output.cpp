#include "dm/devices/queued_output.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace acrn::dm {

namespace asio = boost::asio;

QueuedOutput::QueuedOutput(asio::io_context& loop, std::string name, std::size_t limit)
    : loop_(loop), name_(std::move(name)), limit_(limit), watch_(loop) {}

QueuedOutput::~QueuedOutput() {
    std::lock_guard lock(mutex_);
    fd_ = -1;
    boost::system::error_code ignored;
    watch_.close(ignored);
}

void QueuedOutput::attach(UniqueFd fd) {
    struct stat info {};
    const bool is_socket = ::fstat(fd.get(), &info) == 0 && S_ISSOCK(info.st_mode);
    if (!is_socket) {
        ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
    }
    std::lock_guard lock(mutex_);
    boost::system::error_code ignored;
    watch_.close(ignored);
    queue_.clear();
    drain_scheduled_ = false;
    const int raw = fd.release();
    watch_.assign(raw, ignored);
    if (ignored) {
        ::close(raw);
        fd_ = -1;
        return;
    }
    fd_ = raw;
    is_socket_ = is_socket;
}

void QueuedOutput::detach() {
    std::lock_guard lock(mutex_);
    fd_ = -1;
    queue_.clear();
    drain_scheduled_ = false;
    boost::system::error_code ignored;
    watch_.close(ignored);  // a wait in progress ends with operation_aborted
}

std::uint64_t QueuedOutput::dropped_bytes() const {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::size_t QueuedOutput::queued_bytes() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::size_t QueuedOutput::write_now(std::span<const std::uint8_t> bytes, WriteResult& result) {
    std::size_t done = 0;
    result = WriteResult::all;
    while (done < bytes.size()) {
        const ssize_t written = is_socket_ ? ::send(fd_, bytes.data() + done, bytes.size() - done,
                                                    MSG_DONTWAIT | MSG_NOSIGNAL)
                                           : ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (written > 0) {
            done += static_cast<std::size_t>(written);
        } else if (written < 0 && errno == EINTR) {
            continue;
        } else {
            result = written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? WriteResult::partial
                                                                              : WriteResult::failed;
            break;
        }
    }
    return done;
}

void QueuedOutput::drop(std::size_t count) {
    if (count == 0) {
        return;
    }
    dropped_ += count;
    if (drop_log_limit_.allow()) {
        log_warning("{}: the host side is not reading; {} byte(s) of output dropped so far", name_, dropped_);
    }
}

void QueuedOutput::write(std::span<const std::uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    if (fd_ < 0 || bytes.empty()) {
        return;
    }
    if (queue_.empty()) {  // else the queue goes first, to keep the order
        WriteResult result;
        const std::size_t done = write_now(bytes, result);
        bytes = bytes.subspan(done);
        if (result == WriteResult::failed) {
            drop(bytes.size());
            return;
        }
    }
    const std::size_t room = limit_ > queue_.size() ? limit_ - queue_.size() : 0;
    const std::size_t kept = std::min(room, bytes.size());
    queue_.insert(queue_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(kept));
    drop(bytes.size() - kept);
    if (!queue_.empty() && !drain_scheduled_) {
        drain_scheduled_ = true;
        // The descriptor's watch belongs to the loop's thread.
        asio::post(loop_, [this, alive = std::weak_ptr<int>(alive_)] {
            if (alive.lock()) {
                wait_until_writable();
            }
        });
    }
}

void QueuedOutput::wait_until_writable() {
    {
        std::lock_guard lock(mutex_);
        if (fd_ < 0 || !drain_scheduled_) {
            return;  // detached meanwhile
        }
    }
    watch_.async_wait(asio::posix::stream_descriptor::wait_write, [this](const boost::system::error_code& error) {
        if (error != asio::error::operation_aborted) {
            drain();  // also on another error: the write itself says what is wrong
        }
    });
}

void QueuedOutput::drain() {
    std::unique_lock lock(mutex_);
    if (fd_ < 0 || queue_.empty()) {
        drain_scheduled_ = false;
        return;
    }
    WriteResult result;
    const std::size_t done = write_now(queue_, result);
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(done));
    if (result == WriteResult::failed) {
        drop(queue_.size());
        queue_.clear();
    }
    if (queue_.empty()) {
        drain_scheduled_ = false;
        return;
    }
    lock.unlock();
    wait_until_writable();
}

}  // namespace acrn::dm
