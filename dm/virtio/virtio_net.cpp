#include "dm/virtio/virtio_net.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "dm/backends/tap.hpp"
#include "dm/machine/device_context.hpp"
#include "dm/machine/device_table.hpp"

namespace acrn::dm {
namespace {

// 5.1.3 Feature bits
namespace net_feature {
constexpr std::uint64_t csum = 1ull << 0;
constexpr std::uint64_t guest_csum = 1ull << 1;
constexpr std::uint64_t mac = 1ull << 5;
constexpr std::uint64_t guest_tso4 = 1ull << 7;
constexpr std::uint64_t guest_tso6 = 1ull << 8;
constexpr std::uint64_t guest_ecn = 1ull << 9;
constexpr std::uint64_t host_tso4 = 1ull << 11;
constexpr std::uint64_t host_tso6 = 1ull << 12;
constexpr std::uint64_t host_ecn = 1ull << 13;
constexpr std::uint64_t mrg_rxbuf = 1ull << 15;
constexpr std::uint64_t status = 1ull << 16;
}  // namespace net_feature

// 5.1.4 Device configuration layout
namespace net_config {
constexpr std::uint32_t mac = 0;
constexpr std::uint32_t status = 6;
constexpr std::uint32_t max_virtqueue_pairs = 8;
constexpr std::uint32_t size = 10;
constexpr std::uint16_t link_up = 1;
}  // namespace net_config

// 5.1.6 struct virtio_net_hdr_v1 (offsets)
constexpr std::size_t kHeaderFlags = 0;
constexpr std::size_t kHeaderNumBuffers = 10;

std::uint64_t features_for(const NetBackend& backend) {
    using namespace net_feature;
    // Frames from the guest: a tap with IFF_VNET_HDR takes partial
    // checksums and GSO packets whatever its offloads say (those are only
    // about what it hands us).
    std::uint64_t features = mac | status | mrg_rxbuf | csum | host_tso4 | host_tso6 | host_ecn;
    const NetOffloads offloads = backend.supported_offloads();
    if (offloads.csum) features |= guest_csum;
    if (offloads.tso4) features |= guest_tso4;
    if (offloads.tso6) features |= guest_tso6;
    if (offloads.tso_ecn) features |= guest_ecn;
    return features;
}

// A write the tap refused for this frame alone (a bad header, too long, no
// memory right now); anything else means the tap itself is gone or broken.
bool frame_refused(int error) {
    return error == EINVAL || error == EMSGSIZE || error == EFAULT || error == ENOBUFS || error == ENOMEM ||
           error == EIO;  // the tap is down: the host may bring it up again
}

std::vector<iovec> iovecs_of(const GuestBuffers& buffers) {
    std::vector<iovec> iov;
    iov.reserve(buffers.pieces().size());
    for (const std::span<std::uint8_t>& piece : buffers.pieces()) {
        iov.push_back(iovec{piece.data(), piece.size()});
    }
    return iov;
}

// The kernel data path if it serves the rings as the transport offers them;
// null (with a log line) if not.
std::unique_ptr<VhostNetBackend> usable(std::unique_ptr<VhostNetBackend> vhost, const std::string& where) {
    if (vhost && (vhost->features() & VirtioNet::ring_features()) != VirtioNet::ring_features()) {
        log_info("virtio-net {}: vhost-net lacks ring features {:#x}: the user-space data path serves the tap",
                 where, VirtioNet::ring_features() & ~vhost->features());
        return nullptr;
    }
    return vhost;
}

}  // namespace

std::uint64_t VirtioNet::ring_features() {
    return virtio::feature::version_1 | virtio::feature::event_idx | virtio::feature::indirect_desc |
           net_feature::mrg_rxbuf;
}

struct VirtioNet::Watch {
    Watch(boost::asio::io_context& loop, int fd) : stream(loop, ::dup(fd)) {}
    boost::asio::posix::stream_descriptor stream;  // a duplicate: closing it leaves the back end's fd
};

VirtioNet::VirtioNet(const DeviceContext& context, const NetOptions& options, std::unique_ptr<NetBackend> backend,
                     std::unique_ptr<VhostNetBackend> vhost)
    : VirtioPciDevice("virtio-net",
                      VirtioIdentity{.device = virtio::DeviceId::net,
                                     .class_code = 0x02,  // network controller
                                     .subclass = 0x00,    // Ethernet
                                     .features = features_for(*backend),
                                     .queues = 2,
                                     .queue_size = kQueueSize,
                                     .config_size = net_config::size},
                      context),
      backend_(std::move(backend)),
      vhost_(usable(std::move(vhost), context.address.text())),
      mac_(options.mac ? *options.mac : default_mac(context.address.slot, context.address.func, options.mac_seed)),
      watch_(std::make_unique<Watch>(context.loop, backend_->fd())),
      frame_(NetBackend::kHeaderBytes + kMaxFrameBytes) {
    if (!watch_->stream.is_open() || watch_->stream.native_handle() < 0) {
        throw std::runtime_error("virtio-net: cannot duplicate the back end's descriptor: " +
                                 std::string(std::strerror(errno)));
    }
    std::lock_guard lock(mutex_);
    write_config();
    log_info("virtio-net {}: tap {}, MAC {}", context.address.text(), backend_->name(), format_mac(mac_));
    if (vhost_) {
        kernel_rings_.resize(queue_count());
        for (unsigned index = 0; index < queue_count(); ++index) {
            offload_kicks(index, kernel_rings_[index].kick);
            offload_interrupts(index, kernel_rings_[index].call);
        }
        log_info("virtio-net {}: vhost-net moves the frames of {}", context.address.text(), backend_->name());
    }
    if (options.misplaced_seed) {
        log_warning("virtio-net {}: mac_seed= is read only directly after tap=<name> (as ACRN does): ignored",
                    context.address.text());
    }
}

VirtioNet::~VirtioNet() {
    if (vhost_) {
        release_offloaded_interrupts();  // the call eventfds die with us
        vhost_->stop();
        log_info("{}: tap {}: vhost-net moved the frames", name(), backend_->name());
        return;
    }
    const Counters counted = counters();
    log_info("{}: tap {}: {} frames received ({} dropped), {} sent ({} dropped)", name(), backend_->name(),
             counted.received, counted.receive_dropped, counted.transmitted, counted.transmit_dropped);
}

std::string VirtioNet::check_config(std::string_view config) { return check_by_parsing<parse_net_options>(config); }

std::shared_ptr<PciDevice> VirtioNet::create(const DeviceContext& context) {
    const NetOptions options = parse_net_options(context.config);
    std::unique_ptr<VhostNetBackend> vhost;
    if (options.vhost) {
        try {
            vhost = VhostNet::open();
        } catch (const std::system_error& error) {
            // ACRN's behaviour: the device still works, in user space.
            log_info("virtio-net {}: no vhost-net ({}): the user-space data path serves the tap",
                     context.address.text(), error.what());
        }
    }
    return std::make_shared<VirtioNet>(context, options, TapDevice::open(options.tap), std::move(vhost));
}

bool VirtioNet::link_up() const {
    std::lock_guard lock(mutex_);
    return !failed_;
}

VirtioNet::Counters VirtioNet::counters() const {
    std::lock_guard lock(mutex_);
    return counters_;
}

void VirtioNet::write_config() {
    std::uint8_t config[net_config::size] = {};
    std::memcpy(config + net_config::mac, mac_.data(), mac_.size());
    const std::uint16_t status = failed_ ? 0 : net_config::link_up;
    const std::uint16_t pairs = 1;
    std::memcpy(config + net_config::status, &status, sizeof status);
    std::memcpy(config + net_config::max_virtqueue_pairs, &pairs, sizeof pairs);
    store_config(0, config);
}

void VirtioNet::device_config_written(std::uint32_t, std::uint32_t) {
    // Every field is the device's (a MAC change would need the control queue).
    std::lock_guard lock(mutex_);
    write_config();
}

void VirtioNet::driver_ready() {
    {
        std::lock_guard lock(mutex_);
        running_ = true;
        mergeable_ = negotiated(net_feature::mrg_rxbuf);
        guest_csum_ = negotiated(net_feature::guest_csum);
        const NetOffloads offloads{.csum = guest_csum_,
                                   .tso4 = negotiated(net_feature::guest_tso4),
                                   .tso6 = negotiated(net_feature::guest_tso6),
                                   .tso_ecn = negotiated(net_feature::guest_ecn)};
        if (!failed_ && !backend_->set_offloads(offloads)) {
            log_warning("{}: tap {} refused the offloads the driver negotiated", name(), backend_->name());
        }
    }
    if (vhost_) {
        std::lock_guard lock(mutex_);
        start_kernel_data_path();
        return;
    }
    // The first reads and writes happen on the event loop, as all later ones.
    boost::asio::post(loop(), [weak = weak_from_this()] {
        if (auto device = std::static_pointer_cast<VirtioNet>(weak.lock())) {
            std::lock_guard lock(device->mutex_);
            device->receive();
            device->transmit();
        }
    });
}

void VirtioNet::start_kernel_data_path() {
    std::vector<VhostNetBackend::Ring> rings;
    for (unsigned index = 0; index < kernel_rings_.size(); ++index) {
        const VirtqueueAreas areas = queue_areas(index);
        if (areas.desc.empty()) {
            report_broken(index, "a ring the driver did not start");
            return;
        }
        rings.push_back(VhostNetBackend::Ring{.index = index,
                                              .size = queue(index).size(),
                                              .desc = areas.desc.data(),
                                              .avail = areas.avail.data(),
                                              .used = areas.used.data(),
                                              .kick = kernel_rings_[index].kick.fd(),
                                              .call = kernel_rings_[index].call.fd()});
    }
    try {
        vhost_->start(negotiated_features() & ring_features(), memory(), rings, backend_->fd());
    } catch (const std::system_error& error) {
        log_error("{}: vhost-net refused the rings: {}", name(), error.what());
        report_broken(0, "the kernel data path could not start");
        return;
    }
}

void VirtioNet::device_reset() {
    std::lock_guard lock(mutex_);
    running_ = false;
    ++epoch_;
    boost::system::error_code ignored;
    watch_->stream.cancel(ignored);
    if (vhost_) {
        vhost_->stop();
    }
    read_armed_ = false;
    write_armed_ = false;
    transmit_waiting_.reset();
    receive_chains_.clear();
    frame_bytes_ = 0;
    if (!failed_) {
        (void)backend_->set_offloads({});
    }
}

void VirtioNet::queue_kicked(unsigned queue) {
    std::lock_guard lock(mutex_);
    if (queue == kReceiveQueue) {
        receive();
    } else if (queue == kTransmitQueue) {
        transmit();
    }
}

void VirtioNet::arm(bool readable) {
    bool& armed = readable ? read_armed_ : write_armed_;
    if (armed) {
        return;
    }
    armed = true;
    const auto wait = readable ? boost::asio::posix::stream_descriptor::wait_read
                               : boost::asio::posix::stream_descriptor::wait_write;
    watch_->stream.async_wait(wait, [weak = weak_from_this(), epoch = epoch_,
                                     readable](const boost::system::error_code& error) {
        auto device = std::static_pointer_cast<VirtioNet>(weak.lock());
        if (!device || error == boost::asio::error::operation_aborted) {
            return;
        }
        std::lock_guard lock(device->mutex_);
        if (epoch != device->epoch_) {
            return;  // armed before a reset
        }
        if (readable) {
            device->read_armed_ = false;
            device->receive();
        } else {
            device->write_armed_ = false;
            device->transmit();
        }
    });
}

void VirtioNet::fail_backend(const char* operation, int error) {
    if (failed_) {
        return;
    }
    failed_ = true;
    log_error("{}: tap {} failed ({}: {}): the link is down; the VM runs on without it", name(),
              backend_->name(), operation, std::strerror(error));
    boost::system::error_code ignored;
    watch_->stream.cancel(ignored);
    read_armed_ = false;
    write_armed_ = false;
    frame_bytes_ = 0;
    write_config();
    signal_config_change();
}

void VirtioNet::transmit() {
    if (!running_) {
        return;
    }
    Virtqueue& ring = queue(kTransmitQueue);
    bool pushed = false;
    for (;;) {
        if (!transmit_waiting_) {
            DescriptorChain chain;
            if (!next_chain(kTransmitQueue, chain)) {
                break;
            }
            transmit_waiting_ = std::move(chain);
        }
        const DescriptorChain& chain = *transmit_waiting_;
        bool sent = false;
        if (!failed_ && chain.readable_bytes >= NetBackend::kHeaderBytes) {
            const auto buffers = GuestBuffers::map(memory(), chain.readable);
            if (!buffers) {
                report_broken(kTransmitQueue, "a frame outside guest RAM");
                return;
            }
            const std::vector<iovec> iov = iovecs_of(*buffers);
            const ssize_t result = backend_->send(iov);
            if (result == -EAGAIN || result == -EINTR) {
                if (write_armed_) {
                    break;  // the tap is full: go on once it is writable
                }
                arm(false);  // before trying again, so that no writable edge is missed
                continue;
            }
            if (result < 0 && !frame_refused(static_cast<int>(-result))) {
                fail_backend("write", static_cast<int>(-result));
            } else if (result < 0 && drop_log_.allow()) {
                log_warning("{}: tap {} refused a frame of {} bytes: {}", name(), backend_->name(),
                            chain.readable_bytes, std::strerror(static_cast<int>(-result)));
            }
            sent = result >= 0;
        }
        ++(sent ? counters_.transmitted : counters_.transmit_dropped);
        (void)ring.push(chain, 0);
        transmit_waiting_.reset();
        pushed = true;
    }
    if (pushed) {
        notify_queue(kTransmitQueue);
    }
}

bool VirtioNet::take_receive_chain() {
    DescriptorChain chain;
    if (!next_chain(kReceiveQueue, chain)) {
        return false;
    }
    if (chain.writable_bytes == 0) {
        report_broken(kReceiveQueue, "a receive buffer the device may not write");
        return false;
    }
    receive_chains_.push_back(std::move(chain));
    return true;
}

void VirtioNet::receive() {
    bool pushed = false;
    while (running_ && !failed_) {
        if (frame_bytes_ == 0) {
            // Read only with a buffer in hand: without one, frames wait in the tap.
            if (receive_chains_.empty() && !take_receive_chain()) {
                break;
            }
            arm(true);  // before reading, so that a frame arriving after the last read wakes us
            const iovec bounce{frame_.data(), frame_.size()};
            const ssize_t result = backend_->receive(std::span(&bounce, 1));
            if (result == -EAGAIN || result == -EINTR) {
                break;
            }
            if (result < 0) {
                fail_backend("read", static_cast<int>(-result));
                break;
            }
            const auto bytes = static_cast<std::size_t>(result);
            if (bytes <= NetBackend::kHeaderBytes || bytes == frame_.size()) {
                ++counters_.receive_dropped;  // a runt, or a frame the bounce buffer may have cut
                continue;
            }
            frame_bytes_ = bytes;
        }
        if (!deliver_frame()) {
            break;  // waits for the driver's buffers
        }
        pushed = true;
    }
    if (pushed) {
        notify_queue(kReceiveQueue);
    }
}

// The frame in frame_ into the chains it needs; false (the frame kept) until
// the driver has given enough buffers.
bool VirtioNet::deliver_frame() {
    Virtqueue& ring = queue(kReceiveQueue);
    if (!mergeable_) {
        if (receive_chains_.empty() && !take_receive_chain()) {
            return false;
        }
        if (receive_chains_.front().writable_bytes < frame_bytes_) {
            ++counters_.receive_dropped;  // the chain stays for the next frame
            if (drop_log_.allow()) {
                log_warning("{}: a frame of {} bytes dropped: the driver's buffer has {} (no MRG_RXBUF)", name(),
                            frame_bytes_ - NetBackend::kHeaderBytes, receive_chains_.front().writable_bytes);
            }
            frame_bytes_ = 0;
            return true;
        }
    }
    std::uint64_t room = 0;
    std::size_t needed = 0;
    while (room < frame_bytes_) {
        if (needed == receive_chains_.size() && !take_receive_chain()) {
            if (receive_chains_.size() >= ring.size()) {
                ++counters_.receive_dropped;  // the whole ring cannot hold it
                frame_bytes_ = 0;
                return true;
            }
            return false;
        }
        room += receive_chains_[needed++].writable_bytes;
    }
    const auto buffers = static_cast<std::uint16_t>(needed);
    std::memcpy(frame_.data() + kHeaderNumBuffers, &buffers, sizeof buffers);
    if (!guest_csum_) {
        frame_[kHeaderFlags] = 0;  // 5.1.6.4.1: no flags without GUEST_CSUM
    }
    std::size_t offset = 0;
    receive_written_.clear();
    for (std::size_t i = 0; i < needed; ++i) {
        const DescriptorChain& chain = receive_chains_[i];
        const auto mapped = GuestBuffers::map(memory(), chain.writable);
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(chain.writable_bytes, frame_bytes_ - offset));
        if (mapped) {
            (void)mapped->copy_to_guest(0, std::span(frame_.data() + offset, take));
        }
        receive_written_.push_back(static_cast<std::uint32_t>(take));
        offset += take;
    }
    // All at once: a driver that polls the used ring must never see the
    // header's num_buffers before every buffer it counts is there.
    (void)ring.push(std::span(receive_chains_.data(), needed), receive_written_);
    receive_chains_.erase(receive_chains_.begin(), receive_chains_.begin() + static_cast<std::ptrdiff_t>(needed));
    ++counters_.received;
    frame_bytes_ = 0;
    return true;
}

}  // namespace acrn::dm
