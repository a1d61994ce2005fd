// The host side of a virtual disk: an image file or block device opened as
// virtio-blk's configuration asks (ACRN's syntax), and an I/O engine that
// runs requests on it off the caller's thread (a thread pool, or io_uring
// through liburing). Durability: with write-through (ACRN's default) a write
// completes only once its data is on stable storage; a flush completes only
// after fdatasync. The guest-facing request parsing lives in the device
// (dm/virtio/virtio_blk.*); nothing here reads guest memory.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acrn::dm {

struct BlockOptions {
    enum class Cache {
        write_through,  // ACRN's default: every write durable before it completes
        write_back,     // writes may sit in the host's page cache until a flush
        direct,         // `nocache`: O_DIRECT, and write-through
    };
    enum class Engine { threads, io_uring };
    struct Discard {
        std::uint32_t max_sectors;   // per request
        std::uint32_t max_segments;  // per request
        std::uint32_t alignment;     // in sectors
    };
    struct Range {
        std::uint64_t start_lba;  // in logical sectors
        std::uint64_t sectors;
    };

    std::optional<std::string> path;  // nullopt: `nodisk`, filled later by the monitor's blkrescan
    bool read_only = false;
    Cache cache = Cache::write_through;
    Engine engine = Engine::threads;
    std::optional<Discard> discard;
    std::uint32_t logical_sector = 512;
    std::uint32_t physical_sector = 512;
    std::optional<Range> range;
    unsigned iothreads = 0;  // `iothread[=N]`: 0 = none asked for
    unsigned queues = 1;     // `mq=N`
};

// Parses virtio-blk's configuration string (what follows "virtio-blk,").
// Throws std::invalid_argument whose message names the bad field.
[[nodiscard]] BlockOptions parse_block_options(std::string_view config);

class BlockOpenError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// An open disk image: a regular file or a block device, possibly a window
// (`range=`) of it. Offsets given to the engine are relative to the window.
class BlockFile {
public:
    // Opens options.path (which must be set). A read-write open that fails
    // with EACCES/EROFS/EPERM is retried read-only, as ACRN does, and logged.
    // Throws BlockOpenError naming the file and the reason.
    [[nodiscard]] static std::unique_ptr<BlockFile> open(const BlockOptions& options);

    virtual ~BlockFile() = default;
    [[nodiscard]] virtual int fd() const noexcept = 0;
    [[nodiscard]] virtual std::uint64_t size() const noexcept = 0;         // bytes the guest sees
    [[nodiscard]] virtual std::uint64_t base_offset() const noexcept = 0;  // of the window in the file
    [[nodiscard]] virtual bool read_only() const noexcept = 0;
    [[nodiscard]] virtual const BlockOptions& options() const noexcept = 0;
    [[nodiscard]] virtual const std::string& path() const noexcept = 0;
    // A serial number for VIRTIO_BLK_T_GET_ID: stable for the same file.
    [[nodiscard]] virtual std::string serial() const = 0;
};

struct BlockRequest {
    enum class Op { read, write, flush, discard, write_zeroes };
    Op op = Op::read;
    std::uint64_t offset = 0;  // bytes, from the start of the window
    std::uint64_t length = 0;  // bytes: for discard and write_zeroes (read/write use iov)
    std::vector<iovec> iov;    // host memory (guest buffers mapped by the device)
    bool may_unmap = false;    // write_zeroes: VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP
};

class BlockEngine {
public:
    // The request's result: bytes transferred (read/write) or 0 on success,
    // or -errno. Called exactly once per request, on an engine thread, never
    // from inside submit().
    using Completion = std::function<void(long result)>;

    virtual ~BlockEngine() = default;
    // Queues the request; never blocks on the I/O itself. Thread-safe.
    // Requests beyond the window or writes to a read-only file complete
    // with -EIO / -EROFS without touching the file.
    virtual void submit(BlockRequest request, Completion done) = 0;
    // Returns once every request submitted before the call has completed
    // (device reset, shutdown). Must not be called from a completion.
    virtual void drain() = 0;
    [[nodiscard]] virtual const char* name() const noexcept = 0;  // "threads" or "io_uring"
};

// The engine options.engine names. io_uring falls back to the thread pool,
// with one log line, where the kernel refuses a ring. `workers`: threads of
// the pool / depth of the ring. The file must outlive the engine; the
// engine's destructor drains.
[[nodiscard]] std::unique_ptr<BlockEngine> make_block_engine(BlockFile& file, unsigned workers);

}  // namespace acrn::dm
