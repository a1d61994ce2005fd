// The io_uring engine (aio=io_uring): requests go into one ring from any
// thread (under ring_mutex_); one thread, "blk-uring", waits for their
// completions, resubmits what a short transfer or -EAGAIN left, and calls
// each request's completion with no lock of ours held. At most `depth`
// requests are in the ring at once (so the completion queue, twice as deep,
// can never overflow); more wait in a backlog until one finishes.
// What the ring does not do on this image (discard and write-zeroes on a
// block device, or where the file system refuses fallocate) goes to a
// one-thread pool, which does it with blocking calls.
#include <liburing.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <linux/falloc.h>
#include <mutex>
#include <thread>

#include "common/log.hpp"
#include "dm/backends/block_engines.hpp"
#include "dm/backends/block_in_flight.hpp"
#include "dm/backends/block_io.hpp"

namespace acrn::dm {
namespace {

using Op = BlockRequest::Op;

constexpr unsigned min_ring_depth = 8;
// io_uring_submit's transient refusals are retried this often before the
// entries are left for the next submission to carry.
constexpr int submit_attempts = 1000;

bool ring_should_retry(int result) noexcept { return result == -EAGAIN || result == -EINTR; }

class UringRing {
public:
    UringRing() = default;
    UringRing(const UringRing&) = delete;
    UringRing& operator=(const UringRing&) = delete;
    ~UringRing() {
        if (ready_) {
            ::io_uring_queue_exit(&ring_);
        }
    }

    [[nodiscard]] int init(unsigned depth) noexcept {
        const int result = ::io_uring_queue_init(depth, &ring_, 0);
        ready_ = result == 0;
        return result;
    }
    [[nodiscard]] io_uring* get() noexcept { return &ring_; }

private:
    io_uring ring_{};
    bool ready_ = false;
};

// One request on its way through the ring; its address is the entries'
// user data.
struct RingRequest {
    enum class Stage {
        answered,  // a NOP carries `result` to the completion thread
        transfer,  // readv/writev until the cursor is done
        allocate,  // fallocate: discard or write-zeroes
        sync,      // fdatasync: a flush, or write-through after allocate
    };

    BlockRequest request;
    BlockEngine::Completion done;
    std::uint64_t ticket = 0;
    Stage stage = Stage::answered;
    long result = 0;
    IovCursor cursor;
    std::uint64_t total = 0;
    std::uint64_t moved = 0;
    AlignedBuffer bounce;
};

class IoUringEngine final : public BlockEngine {
public:
    IoUringEngine(BlockFile& file, unsigned depth, std::unique_ptr<UringRing> ring)
        : target_(BlockTarget::of(file)),
          depth_(depth),
          ring_(std::move(ring)),
          helper_(make_thread_pool_block_engine(file, 1)),
          reaper_([this] { run_reaper(); }) {}

    IoUringEngine(const IoUringEngine&) = delete;
    IoUringEngine& operator=(const IoUringEngine&) = delete;

    ~IoUringEngine() override {
        drain();
        helper_.reset();
        stop_reaper();
    }

    void submit(BlockRequest request, Completion done) override {
        auto entry = std::make_unique<RingRequest>();
        entry->request = std::move(request);
        entry->done = std::move(done);
        entry->ticket = in_flight_.begin();
        const bool in_ring = prepare(*entry);
        if (!in_ring) {
            hand_to_helper(std::move(entry));
            return;
        }
        std::lock_guard lock(ring_mutex_);
        if (active_ < depth_) {
            ++active_;
            queue_entry(entry.release());
            return;
        }
        const auto ticket = entry->ticket;
        try {
            backlog_.push_back(std::move(entry));
        } catch (...) {
            in_flight_.end(ticket);  // never queued: a drain must not wait for it
            throw;
        }
    }

    void drain() override { in_flight_.wait_for_earlier(); }

    const char* name() const noexcept override { return "io_uring"; }

private:
    // Sets the first stage; false if the request is the helper's.
    bool prepare(RingRequest& entry) noexcept {
        try {
            entry.result = check_block_request(target_, entry.request);
            if (entry.result != 0) {
                return true;
            }
            switch (entry.request.op) {
                case Op::read:
                case Op::write: prepare_transfer(entry); return true;
                case Op::flush: entry.stage = RingRequest::Stage::sync; return true;
                case Op::discard:
                case Op::write_zeroes:
                    if (target_.block_device) {
                        return false;
                    }
                    // fallocate refuses an empty range; it is done already.
                    entry.stage = entry.request.length == 0 ? RingRequest::Stage::answered
                                                            : RingRequest::Stage::allocate;
                    return true;
            }
        } catch (const std::exception& error) {
            log_error("virtio-blk: cannot prepare a request: {}", error.what());
        }
        entry.stage = RingRequest::Stage::answered;
        entry.result = -EIO;
        return true;
    }

    void prepare_transfer(RingRequest& entry) {
        entry.total = iov_total_bytes(entry.request.iov);
        if (needs_bounce_buffer(target_, entry.request.iov)) {
            entry.bounce = AlignedBuffer(entry.total, target_.direct_alignment);
            if (entry.request.op == Op::write) {
                entry.bounce.gather(entry.request.iov);
            }
            entry.cursor = IovCursor({entry.bounce.as_iovec()});
        } else {
            entry.cursor = IovCursor(entry.request.iov);
        }
        entry.stage = entry.cursor.done() ? RingRequest::Stage::answered : RingRequest::Stage::transfer;
    }

    // With ring_mutex_ held; the entry's active slot is already counted.
    void queue_entry(RingRequest* entry) {
        io_uring* ring = ring_->get();
        io_uring_sqe* sqe = ::io_uring_get_sqe(ring);
        if (sqe == nullptr) {
            // Entries an earlier submission could not hand over fill the
            // queue; they go first.
            submit_queued();
            sqe = ::io_uring_get_sqe(ring);
        }
        if (sqe == nullptr) {
            log_error("virtio-blk: io_uring submission queue full; the request waits");
            --active_;
            backlog_.emplace_front(entry);
            return;
        }
        const auto position = target_.base + entry->request.offset;
        switch (entry->stage) {
            case RingRequest::Stage::answered: ::io_uring_prep_nop(sqe); break;
            case RingRequest::Stage::transfer:
                if (entry->request.op == Op::read) {
                    ::io_uring_prep_readv(sqe, target_.fd, entry->cursor.data(),
                                          static_cast<unsigned>(entry->cursor.count()), position + entry->moved);
                } else {
                    ::io_uring_prep_writev(sqe, target_.fd, entry->cursor.data(),
                                           static_cast<unsigned>(entry->cursor.count()), position + entry->moved);
                }
                break;
            case RingRequest::Stage::allocate: {
                const int mode = entry->request.op == Op::write_zeroes && !entry->request.may_unmap
                                     ? FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE
                                     : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
                ::io_uring_prep_fallocate(sqe, target_.fd, mode, static_cast<off_t>(position),
                                          static_cast<off_t>(entry->request.length));
                break;
            }
            case RingRequest::Stage::sync: ::io_uring_prep_fsync(sqe, target_.fd, IORING_FSYNC_DATASYNC); break;
        }
        ::io_uring_sqe_set_data(sqe, entry);
        submit_queued();
    }

    void submit_queued() {
        for (int attempt = 0; attempt < submit_attempts; ++attempt) {
            const int result = ::io_uring_submit(ring_->get());
            if (result >= 0) {
                return;
            }
            if (!ring_should_retry(result) && result != -EBUSY) {
                log_error("virtio-blk: io_uring_submit: {}", std::strerror(-result));
                return;
            }
            ::sched_yield();
        }
        log_error("virtio-blk: io_uring_submit keeps refusing; the next submission carries the entries");
    }

    void run_reaper() noexcept {
        ::pthread_setname_np(::pthread_self(), "blk-uring");
        for (;;) {
            io_uring_cqe* cqe = nullptr;
            const int waited = ::io_uring_wait_cqe(ring_->get(), &cqe);
            if (waited < 0) {
                if (!ring_should_retry(waited) && wait_failures_.allow()) {
                    log_error("virtio-blk: io_uring_wait_cqe: {}", std::strerror(-waited));
                }
                continue;
            }
            auto* entry = static_cast<RingRequest*>(::io_uring_cqe_get_data(cqe));
            const int result = cqe->res;
            ::io_uring_cqe_seen(ring_->get(), cqe);
            if (entry == nullptr) {
                return;  // the destructor's NOP: everything before it has completed
            }
            // The submitter filled the entry before it queued it, under
            // ring_mutex_; the kernel passing the entry on is no ordering the
            // language (or TSan) knows of, taking the mutex is.
            { std::lock_guard acquire_entry(ring_mutex_); }
            // The thread's exception barrier: a request that fails in here
            // completes with -EIO and the thread goes on.
            try {
                advance(entry, result);
            } catch (const std::exception& error) {
                log_error("virtio-blk: io_uring completion failed: {}", error.what());
                finish(entry, -EIO);
            } catch (...) {
                log_error("virtio-blk: io_uring completion failed with an unknown exception");
                finish(entry, -EIO);
            }
        }
    }

    // One completion of the entry's current stage: the next stage, the same
    // again, or the end.
    void advance(RingRequest* entry, int result) {
        using Stage = RingRequest::Stage;
        if (entry->stage != Stage::answered && ring_should_retry(result)) {
            resubmit(entry);
            return;
        }
        switch (entry->stage) {
            case Stage::answered: finish(entry, entry->result); return;
            case Stage::sync: finish(entry, result < 0 ? result : 0); return;
            case Stage::transfer: advance_transfer(entry, result); return;
            case Stage::allocate:
                if (result == -EOPNOTSUPP || result == -EINVAL) {
                    // No fallocate here (or no IORING_OP_FALLOCATE in this
                    // kernel): the helper knows the fallbacks.
                    hand_over_from_ring(entry);
                } else if (result < 0 || target_.write_back) {
                    finish(entry, result);
                } else {
                    // O_DSYNC does not cover what fallocate changed.
                    entry->stage = Stage::sync;
                    resubmit(entry);
                }
                return;
        }
    }

    void advance_transfer(RingRequest* entry, int result) {
        if (result < 0) {
            finish(entry, result);
            return;
        }
        if (result == 0) {
            if (entry->request.op == Op::write) {
                finish(entry, -EIO);
                return;
            }
            // The image shrank under us: past its end reads as zeros.
            entry->cursor.zero_fill_rest();
        }
        entry->cursor.advance(static_cast<std::size_t>(result));
        entry->moved += static_cast<std::uint64_t>(result);
        if (!entry->cursor.done()) {
            resubmit(entry);
            return;
        }
        if (entry->request.op == Op::read && entry->bounce.data() != nullptr) {
            entry->bounce.scatter(entry->request.iov);
        }
        finish(entry, static_cast<long>(entry->total));
    }

    void resubmit(RingRequest* entry) {
        std::lock_guard lock(ring_mutex_);
        queue_entry(entry);
    }

    // Frees the entry's ring slot and gives it to the next waiting request.
    // Never throws: the callers own an entry they must still complete.
    void release_slot() noexcept {
        try {
            std::lock_guard lock(ring_mutex_);
            --active_;
            while (active_ < depth_ && !backlog_.empty()) {
                RingRequest* next = backlog_.front().release();
                backlog_.pop_front();
                ++active_;
                queue_entry(next);
            }
        } catch (const std::exception& error) {
            log_error("virtio-blk: cannot start a waiting io_uring request: {}", error.what());
        }
    }

    void finish(RingRequest* entry, long result) {
        std::unique_ptr<RingRequest> owned(entry);
        release_slot();
        call_block_completion(owned->done, result);
        const auto ticket = owned->ticket;
        owned.reset();
        in_flight_.end(ticket);
    }

    void hand_over_from_ring(RingRequest* entry) {
        std::unique_ptr<RingRequest> owned(entry);
        release_slot();
        hand_to_helper(std::move(owned));
    }

    void hand_to_helper(std::unique_ptr<RingRequest> entry) noexcept {
        const auto ticket = entry->ticket;
        try {
            helper_->submit(std::move(entry->request), [this, done = std::move(entry->done), ticket](long result) {
                call_block_completion(done, result);
                in_flight_.end(ticket);
            });
        } catch (const std::exception& error) {
            // Nothing else will complete it; the helper never started it.
            log_error("virtio-blk: cannot hand a request to the helper thread: {}", error.what());
            call_block_completion(entry->done, -EIO);
            in_flight_.end(ticket);
        }
    }

    void stop_reaper() noexcept {
        {
            std::lock_guard lock(ring_mutex_);
            io_uring_sqe* sqe = nullptr;
            while ((sqe = ::io_uring_get_sqe(ring_->get())) == nullptr) {
                submit_queued();
            }
            ::io_uring_prep_nop(sqe);
            ::io_uring_sqe_set_data(sqe, nullptr);
            submit_queued();
        }
        reaper_.join();
    }

    const BlockTarget target_;
    const unsigned depth_;
    std::unique_ptr<UringRing> ring_;
    InFlightRequests in_flight_;
    std::unique_ptr<BlockEngine> helper_;
    RateLimiter wait_failures_;
    std::mutex ring_mutex_;
    unsigned active_ = 0;  // requests with an entry in the ring
    std::deque<std::unique_ptr<RingRequest>> backlog_;
    std::thread reaper_;  // last: started once the members above exist; joined by the destructor
};

}  // namespace

std::unique_ptr<BlockEngine> make_io_uring_block_engine(BlockFile& file, unsigned depth, int& error) {
    depth = std::max(depth, min_ring_depth);
    auto ring = std::make_unique<UringRing>();
    error = ring->init(depth);
    if (error != 0) {
        return nullptr;
    }
    return std::make_unique<IoUringEngine>(file, depth, std::move(ring));
}

}  // namespace acrn::dm
