#include "dm/virtio/virtio_blk.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "dm/machine/device_context.hpp"
#include "dm/machine/device_table.hpp"

namespace acrn::dm {
namespace {

// 5.2.3 Feature bits
namespace blk_feature {
constexpr std::uint64_t seg_max = 1ull << 2;
constexpr std::uint64_t read_only = 1ull << 5;
constexpr std::uint64_t blk_size = 1ull << 6;
constexpr std::uint64_t flush = 1ull << 9;
constexpr std::uint64_t topology = 1ull << 10;
constexpr std::uint64_t multi_queue = 1ull << 12;
constexpr std::uint64_t discard = 1ull << 13;
constexpr std::uint64_t write_zeroes = 1ull << 14;
}  // namespace blk_feature

// 5.2.6 Device Operation
enum RequestType : std::uint32_t {
    kIn = 0,
    kOut = 1,
    kFlush = 4,
    kGetId = 8,
    kDiscard = 11,
    kWriteZeroes = 13,
};
enum Status : std::uint8_t { kOk = 0, kIoError = 1, kUnsupported = 2 };
constexpr std::uint32_t kIdBytes = 20;
constexpr std::uint32_t kHeaderBytes = 16;
constexpr std::uint32_t kSegmentBytes = 16;  // discard / write-zeroes: sector, num_sectors, flags
constexpr std::uint32_t kWriteZeroesUnmap = 1;
constexpr unsigned kEngineWorkers = 8;

// 5.2.4 Device configuration layout (offsets)
namespace blk_config {
constexpr std::uint32_t capacity = 0;
constexpr std::uint32_t seg_max = 12;
constexpr std::uint32_t blk_size = 20;
constexpr std::uint32_t physical_block_exp = 24;
constexpr std::uint32_t writeback = 32;
constexpr std::uint32_t num_queues = 34;
constexpr std::uint32_t max_discard_sectors = 36;
constexpr std::uint32_t max_discard_seg = 40;
constexpr std::uint32_t discard_sector_alignment = 44;
constexpr std::uint32_t max_write_zeroes_sectors = 48;
constexpr std::uint32_t max_write_zeroes_seg = 52;
constexpr std::uint32_t write_zeroes_may_unmap = 56;
constexpr std::uint32_t size = 60;
}  // namespace blk_config

std::uint64_t features_for(const BlockOptions& options) {
    std::uint64_t features = blk_feature::seg_max | blk_feature::blk_size | blk_feature::flush |
                             blk_feature::topology | blk_feature::write_zeroes;
    if (options.read_only) features |= blk_feature::read_only;
    if (options.queues > 1) features |= blk_feature::multi_queue;
    if (options.discard) features |= blk_feature::discard;
    return features;
}

// The host views of bytes [offset, offset + length) of a guest buffer stream.
std::vector<iovec> iovecs_of(const GuestBuffers& buffers, std::uint64_t offset, std::uint64_t length) {
    std::vector<iovec> iov;
    for (const std::span<std::uint8_t>& piece : buffers.pieces()) {
        if (length == 0) {
            break;
        }
        if (offset >= piece.size()) {
            offset -= piece.size();
            continue;
        }
        const std::uint64_t take = std::min<std::uint64_t>(piece.size() - offset, length);
        iov.push_back(iovec{piece.data() + offset, static_cast<std::size_t>(take)});
        length -= take;
        offset = 0;
    }
    return iov;
}

template <typename T>
void put(std::vector<std::uint8_t>& config, std::uint32_t offset, T value) {
    std::memcpy(config.data() + offset, &value, sizeof value);
}

}  // namespace

struct VirtioBlk::Request {
    unsigned queue;
    DescriptorChain chain;
    GuestBuffers writable;  // data (for reads and get-id), then the status byte
};

VirtioBlk::VirtioBlk(const DeviceContext& context, const BlockOptions& options)
    : VirtioPciDevice("virtio-blk",
                      VirtioIdentity{.device = virtio::DeviceId::block,
                                     .class_code = 0x01,  // mass storage
                                     .subclass = 0x00,
                                     .features = features_for(options),
                                     .queues = options.queues,
                                     .queue_size = kQueueSize,
                                     .config_size = blk_config::size},
                      context),
      options_(options) {
    if (options.queues == 0 || options.queues > context.vcpus) {
        throw std::invalid_argument("mq=" + std::to_string(options.queues) + " is more than the VM's " +
                                    std::to_string(context.vcpus) + " vCPUs");
    }
    if (options.path) {
        file_ = BlockFile::open(options);
        engine_ = make_block_engine(*file_, kEngineWorkers);
        log_info("virtio-blk {}: {} ({} bytes{}), engine {}", context.address.text(), file_->path(), file_->size(),
                 file_->read_only() ? ", read-only" : "", engine_->name());
    }
    write_config();
}

VirtioBlk::~VirtioBlk() = default;

std::string VirtioBlk::check_config(std::string_view config) { return check_by_parsing<parse_block_options>(config); }

std::shared_ptr<PciDevice> VirtioBlk::create(const DeviceContext& context) {
    return std::make_shared<VirtioBlk>(context, parse_block_options(context.config));
}

std::uint64_t VirtioBlk::capacity_sectors() const {
    std::lock_guard lock(disk_mutex_);
    return file_ ? file_->size() / kSectorSize : 0;
}

void VirtioBlk::write_config() {
    std::vector<std::uint8_t> config(blk_config::size, 0);
    put<std::uint64_t>(config, blk_config::capacity, capacity_sectors());
    put<std::uint32_t>(config, blk_config::seg_max, kSegMax);
    put<std::uint32_t>(config, blk_config::blk_size, options_.logical_sector);
    put<std::uint8_t>(config, blk_config::physical_block_exp,
                      static_cast<std::uint8_t>(std::countr_zero(options_.physical_sector / options_.logical_sector)));
    put<std::uint8_t>(config, blk_config::writeback, options_.cache == BlockOptions::Cache::write_back ? 1 : 0);
    put<std::uint16_t>(config, blk_config::num_queues, static_cast<std::uint16_t>(options_.queues));
    if (options_.discard) {
        put<std::uint32_t>(config, blk_config::max_discard_sectors, options_.discard->max_sectors);
        put<std::uint32_t>(config, blk_config::max_discard_seg, 1);
        put<std::uint32_t>(config, blk_config::discard_sector_alignment, options_.discard->alignment);
    }
    put<std::uint32_t>(config, blk_config::max_write_zeroes_sectors, 1u << 22);  // 2 GiB a request
    put<std::uint32_t>(config, blk_config::max_write_zeroes_seg, 1);
    put<std::uint8_t>(config, blk_config::write_zeroes_may_unmap, 1);
    store_config(0, config);
}

void VirtioBlk::insert_image(const std::string& path) {
    BlockOptions options = options_;
    options.path = path;
    auto file = BlockFile::open(options);
    auto engine = make_block_engine(*file, kEngineWorkers);
    {
        std::lock_guard lock(disk_mutex_);
        if (file_) {
            throw BlockOpenError("virtio-blk already has an image (" + file_->path() + ")");
        }
        options_ = options;
        file_ = std::move(file);
        engine_ = std::move(engine);
    }
    write_config();
    signal_config_change();
}

void VirtioBlk::device_reset() {
    BlockEngine* engine = nullptr;
    {
        std::lock_guard lock(disk_mutex_);
        engine = engine_.get();  // replaced only while there was none
    }
    if (engine != nullptr) {
        engine->drain();
    }
}

void VirtioBlk::queue_kicked(unsigned queue) {
    DescriptorChain chain;
    while (next_chain(queue, chain)) {
        serve(queue, std::move(chain));
    }
}

void VirtioBlk::serve(unsigned queue, DescriptorChain&& chain) {
    auto request = std::make_shared<Request>(Request{queue, std::move(chain), {}});
    const DescriptorChain& ring_chain = request->chain;
    auto readable = GuestBuffers::map(memory(), ring_chain.readable);
    auto writable = GuestBuffers::map(memory(), ring_chain.writable);
    if (!readable || !writable || writable->empty()) {
        report_broken(queue, "a request without a status byte");
        return;
    }
    request->writable = std::move(*writable);
    const auto fail = [&](Status status, const std::string& why) {
        if (!why.empty() && request_log_.allow()) {
            log_warning("{}: {}", name(), why);
        }
        complete(*request, status, 0);
    };
    struct {
        std::uint32_t type;
        std::uint32_t reserved;
        std::uint64_t sector;
    } header{};
    static_assert(sizeof header == kHeaderBytes);
    if (readable->copy_from_guest(0, std::span(reinterpret_cast<std::uint8_t*>(&header), kHeaderBytes)) !=
        kHeaderBytes) {
        fail(kIoError, "a request shorter than its header");
        return;
    }
    const std::uint64_t data_in = request->writable.size() - 1;  // room before the status byte
    std::unique_lock lock(disk_mutex_);
    if (!file_) {
        lock.unlock();
        fail(kIoError, "");  // `nodisk`: no medium yet
        return;
    }
    const std::uint64_t capacity = file_->size();
    const auto in_range = [&](std::uint64_t sector, std::uint64_t bytes) {
        return sector <= capacity / kSectorSize && bytes <= capacity - sector * kSectorSize;
    };
    BlockRequest io;
    std::uint64_t reply_bytes = 0;  // data a successful request writes to the guest
    switch (header.type) {
        case kIn:
        case kOut: {
            const bool is_read = header.type == kIn;
            const std::uint64_t bytes = is_read ? data_in : readable->size() - kHeaderBytes;
            if (bytes % kSectorSize != 0 || !in_range(header.sector, bytes)) {
                lock.unlock();
                fail(kIoError, "a request for " + std::to_string(bytes) + " bytes at sector " +
                                   std::to_string(header.sector) + " is not whole sectors inside the disk");
                return;
            }
            if (!is_read && file_->read_only()) {
                lock.unlock();
                fail(kIoError, "a write to a read-only disk refused");
                return;
            }
            io.op = is_read ? BlockRequest::Op::read : BlockRequest::Op::write;
            io.offset = header.sector * kSectorSize;
            io.iov = is_read ? iovecs_of(request->writable, 0, bytes) : iovecs_of(*readable, kHeaderBytes, bytes);
            reply_bytes = is_read ? bytes : 0;
            break;
        }
        case kFlush: io.op = BlockRequest::Op::flush; break;
        case kGetId: {
            const std::string serial = file_->serial().substr(0, kIdBytes);
            std::vector<std::uint8_t> id(kIdBytes, 0);
            std::memcpy(id.data(), serial.data(), serial.size());
            lock.unlock();
            const auto copied = request->writable.copy_to_guest(0, std::span(id.data(), std::min<std::uint64_t>(
                                                                                           id.size(), data_in)));
            complete(*request, kOk, static_cast<std::uint32_t>(copied));
            return;
        }
        case kDiscard:
        case kWriteZeroes: {
            const bool discard = header.type == kDiscard;
            struct {
                std::uint64_t sector;
                std::uint32_t sectors;
                std::uint32_t flags;
            } segment{};
            static_assert(sizeof segment == kSegmentBytes);
            if ((discard && !options_.discard) || readable->size() != kHeaderBytes + kSegmentBytes) {
                lock.unlock();
                fail(discard && !options_.discard ? kUnsupported : kIoError,
                     discard && !options_.discard ? "" : "a discard/write-zeroes request without exactly one segment");
                return;
            }
            (void)readable->copy_from_guest(kHeaderBytes,
                                            std::span(reinterpret_cast<std::uint8_t*>(&segment), kSegmentBytes));
            const std::uint64_t bytes = std::uint64_t{segment.sectors} * kSectorSize;
            if (!in_range(segment.sector, bytes) || file_->read_only()) {
                lock.unlock();
                fail(kIoError, file_->read_only() ? "a discard/write-zeroes on a read-only disk refused"
                                                  : "a discard/write-zeroes range outside the disk");
                return;
            }
            io.op = discard ? BlockRequest::Op::discard : BlockRequest::Op::write_zeroes;
            io.offset = segment.sector * kSectorSize;
            io.length = bytes;
            io.may_unmap = (segment.flags & kWriteZeroesUnmap) != 0;
            break;
        }
        default:
            lock.unlock();
            fail(kUnsupported, "");
            return;
    }
    engine_->submit(std::move(io), [this, request, reply_bytes](long result) {
        const bool ok = result >= 0;
        if (!ok && request_log_.allow()) {
            log_warning("{}: I/O error: {}", name(), std::strerror(static_cast<int>(-result)));
        }
        complete(*request, ok ? kOk : kIoError, ok ? static_cast<std::uint32_t>(reply_bytes) : 0);
    });
}

void VirtioBlk::complete(Request& request, std::uint8_t status, std::uint32_t data_written) {
    (void)request.writable.copy_to_guest(request.writable.size() - 1, std::span(&status, 1));
    if (queue(request.queue).push(request.chain, data_written + 1)) {
        notify_queue(request.queue);
    }
}

}  // namespace acrn::dm
