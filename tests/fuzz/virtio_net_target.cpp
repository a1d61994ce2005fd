#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.hpp"
#include "dm/virtio/virtio_net.hpp"
#include "tests/fuzz/fuzz_targets.hpp"
#include "tests/fuzz/virtio_rig.hpp"

namespace acrn::fuzz {
namespace {

// Takes every frame; offers a fixed number of inbound frames of lengths
// drawn from the input (runts, MTU-sized, 64 KiB GSO-sized, longer than the
// bounce buffer), through an eventfd that is readable while any are left.
class FuzzNetBackend final : public dm::NetBackend {
public:
    FuzzNetBackend(const std::uint8_t* data, std::size_t size)
        : event_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), state_(0x9E3779B97F4A7C15ull ^ size) {
        for (std::size_t i = 0; i < std::min<std::size_t>(size, 16); ++i) {
            state_ = state_ * 31 + data[i];
        }
        const std::uint64_t one = 1;
        (void)!::write(event_.get(), &one, sizeof one);
    }

    const std::string& name() const override { return name_; }
    ssize_t send(std::span<const iovec> frame) override {
        std::size_t bytes = 0;
        for (const iovec& piece : frame) {
            bytes += piece.iov_len;
        }
        return next() % 16 == 0 ? -EAGAIN : static_cast<ssize_t>(bytes);
    }
    ssize_t receive(std::span<const iovec> buffers) override {
        if (frames_left_ == 0) {
            std::uint64_t count;
            (void)!::read(event_.get(), &count, sizeof count);
            return -EAGAIN;
        }
        --frames_left_;
        static constexpr std::size_t kLengths[] = {0, 5, 12, 13, 60, 1514, 4096, 65550, 70000};
        std::size_t left = kLengths[next() % std::size(kLengths)];
        const auto fill = static_cast<std::uint8_t>(next());
        std::size_t copied = 0;
        for (const iovec& piece : buffers) {
            const std::size_t take = std::min(piece.iov_len, left);
            std::memset(piece.iov_base, fill, take);
            left -= take;
            copied += take;
        }
        return static_cast<ssize_t>(copied);  // what fit: a tap cuts a longer frame
    }
    int fd() const override { return event_.get(); }
    dm::NetOffloads supported_offloads() const override { return {true, true, true, true}; }
    bool set_offloads(const dm::NetOffloads&) override { return true; }

private:
    std::uint64_t next() {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        return state_;
    }

    std::string name_ = "fuzz0";
    UniqueFd event_;
    std::uint64_t state_;
    unsigned frames_left_ = 64;
};

}  // namespace

int virtio_net(const std::uint8_t* data, std::size_t size) {
    VirtioFuzzRig rig;
    const std::string config = "tap=fuzz0";
    rig.attach(std::make_shared<dm::VirtioNet>(rig.context(config), dm::parse_net_options(config),
                                               std::make_unique<FuzzNetBackend>(data, size)));
    rig.run(data, size);
    return 0;
}

}  // namespace acrn::fuzz
