// The tap back end of virtio-net: /dev/net/tun attached to the tap named
// on the command line (created if there is none and the process may:
// CAP_NET_ADMIN), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR with a 12-byte header,
// non-blocking. The offloads are probed once at open (TUNSETOFFLOAD) and
// set later as the guest negotiates them.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "common/unique_fd.hpp"
#include "dm/backends/net_backend.hpp"

namespace acrn::dm {

// A tap that cannot be opened or set up; the message names it and says why.
class TapOpenError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class TapDevice final : public NetBackend {
public:
    // Throws TapOpenError.
    [[nodiscard]] static std::unique_ptr<TapDevice> open(const std::string& name);

    [[nodiscard]] const std::string& name() const override { return name_; }
    [[nodiscard]] ssize_t send(std::span<const iovec> frame) override;
    [[nodiscard]] ssize_t receive(std::span<const iovec> buffers) override;
    [[nodiscard]] int fd() const override { return fd_.get(); }
    [[nodiscard]] NetOffloads supported_offloads() const override { return supported_; }
    bool set_offloads(const NetOffloads& offloads) override;

private:
    TapDevice(std::string name, UniqueFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}
    void probe_offloads();

    std::string name_;
    UniqueFd fd_;
    NetOffloads supported_;
};

}  // namespace acrn::dm
