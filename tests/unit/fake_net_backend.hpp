// A virtio-net back end for unit tests: frames in and out through memory,
// with an eventfd that is readable while frames wait, and switches that
// make it full or failing.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "dm/backends/net_backend.hpp"

namespace acrn::dm::test_support {

// Frames in and out through an eventfd that is readable while frames wait.
class FakeNetBackend final : public NetBackend {
public:
    FakeNetBackend() : event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

    const std::string& name() const override { return name_; }
    ssize_t send(std::span<const iovec> frame) override {
        ++send_calls;
        if (fail_errno != 0) return -fail_errno;
        if (full_sends > 0) {
            --full_sends;
            return -EAGAIN;
        }
        std::vector<std::uint8_t> bytes;
        for (const iovec& piece : frame) {
            const auto* data = static_cast<const std::uint8_t*>(piece.iov_base);
            bytes.insert(bytes.end(), data, data + piece.iov_len);
        }
        sent.push_back(bytes);
        return static_cast<ssize_t>(bytes.size());
    }
    ssize_t receive(std::span<const iovec> buffers) override {
        ++receive_calls;
        if (fail_errno != 0) return -fail_errno;
        if (inbound.empty()) {
            std::uint64_t count;
            (void)!::read(event_.get(), &count, sizeof count);
            return -EAGAIN;
        }
        const std::vector<std::uint8_t> frame = std::move(inbound.front());
        inbound.pop_front();
        std::size_t done = 0;
        for (const iovec& piece : buffers) {
            const std::size_t take = std::min(piece.iov_len, frame.size() - done);
            std::memcpy(piece.iov_base, frame.data() + done, take);
            done += take;
        }
        return static_cast<ssize_t>(done);
    }
    int fd() const override { return event_.get(); }
    NetOffloads supported_offloads() const override { return {true, true, true, true}; }
    bool set_offloads(const NetOffloads& wanted) override {
        offloads = wanted;
        return true;
    }

    // A frame from the host: a header (flags, gso fields zero) and `payload` bytes of a pattern.
    void offer(std::size_t payload, std::uint8_t seed = 1, std::uint8_t flags = 0) {
        std::vector<std::uint8_t> frame(NetBackend::kHeaderBytes + payload);
        frame[0] = flags;
        for (std::size_t i = 0; i < payload; ++i) frame[NetBackend::kHeaderBytes + i] = static_cast<std::uint8_t>(seed + i * 7);
        inbound.push_back(std::move(frame));
        const std::uint64_t one = 1;
        (void)!::write(event_.get(), &one, sizeof one);
    }
    void signal() {
        const std::uint64_t one = 1;
        (void)!::write(event_.get(), &one, sizeof one);
    }

    std::deque<std::vector<std::uint8_t>> inbound;
    std::vector<std::vector<std::uint8_t>> sent;
    NetOffloads offloads{.csum = true};  // anything but what the device sets
    int full_sends = 0;                  // the next sends answer EAGAIN
    int fail_errno = 0;                  // every call answers -fail_errno
    int send_calls = 0;
    int receive_calls = 0;

private:
    std::string name_ = "fake0";
    UniqueFd event_;
};

}  // namespace acrn::dm::test_support
