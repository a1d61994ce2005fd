// `-s N,virtio-blk,<options>`: the block device (virtio 1.2, 5.2) on a host
// image through the block back end (dm/backends/block_backend.hpp).
//
// Requests (read, write, flush, get-id, discard, write-zeroes) are parsed
// from each chain on the event loop, checked (header size, status byte,
// sector range, data a whole number of sectors, writes to a read-only
// disk), and handed to the I/O engine with iovecs that point straight into
// guest RAM; the engine's thread writes the status byte, returns the chain
// and interrupts the driver. A request the device can answer gets a status
// (IOERR, UNSUPP); only a chain that has no room for a status is a broken
// device (DEVICE_NEEDS_RESET). A reset waits for the requests in flight.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "dm/backends/block_backend.hpp"
#include "dm/virtio/virtio_pci.hpp"

namespace acrn::dm {

class VirtioBlk final : public VirtioPciDevice {
public:
    static constexpr std::uint16_t kQueueSize = 256;
    static constexpr std::uint32_t kSectorSize = 512;  // virtio-blk's unit, whatever blk_size says
    static constexpr std::uint32_t kSegMax = kQueueSize - 2;  // data buffers a request may have: all but header and status

    // Throws std::invalid_argument (bad configuration) or BlockOpenError.
    VirtioBlk(const DeviceContext& context, const BlockOptions& options);
    ~VirtioBlk() override;

    [[nodiscard]] static std::string check_config(std::string_view config);
    [[nodiscard]] static std::shared_ptr<PciDevice> create(const DeviceContext& context);

    // The command monitor's blkrescan: gives a `nodisk` device its image and
    // tells the driver the capacity changed. Throws BlockOpenError.
    void insert_image(const std::string& path);
    [[nodiscard]] std::uint64_t capacity_sectors() const;

private:
    struct Request;

    void queue_kicked(unsigned queue) override;
    void device_reset() override;
    void write_config();
    void serve(unsigned queue, DescriptorChain&& chain);
    void complete(Request& request, std::uint8_t status, std::uint32_t data_written);

    BlockOptions options_;
    mutable std::mutex disk_mutex_;  // file_ and engine_ change only at blkrescan
    std::unique_ptr<BlockFile> file_;
    std::unique_ptr<BlockEngine> engine_;  // after file_: destroyed (drained) first
    RateLimiter request_log_{5};
};

}  // namespace acrn::dm
