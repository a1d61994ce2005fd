// The thread-pool engine (aio=threads, ACRN's default): `workers` threads
// take requests from one queue and run each to the end with blocking
// system calls (execute_block_request), then call its completion on that
// same thread with no lock of ours held.
#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log.hpp"
#include "dm/backends/block_engines.hpp"
#include "dm/backends/block_in_flight.hpp"
#include "dm/backends/block_io.hpp"

namespace acrn::dm {
namespace {

// More threads than this only queue on the disk.
constexpr unsigned max_pool_workers = 64;

class ThreadPoolEngine final : public BlockEngine {
public:
    ThreadPoolEngine(BlockFile& file, unsigned workers) : target_(BlockTarget::of(file)) {
        workers = std::clamp(workers, 1U, max_pool_workers);
        try {
            for (unsigned index = 0; index < workers; ++index) {
                threads_.emplace_back([this, index] { run_worker(index); });
            }
        } catch (...) {
            stop_and_join();
            throw;
        }
    }

    ThreadPoolEngine(const ThreadPoolEngine&) = delete;
    ThreadPoolEngine& operator=(const ThreadPoolEngine&) = delete;

    ~ThreadPoolEngine() override {
        drain();
        stop_and_join();
    }

    void submit(BlockRequest request, Completion done) override {
        const auto ticket = in_flight_.begin();
        try {
            std::lock_guard lock(mutex_);
            queue_.push_back({std::move(request), std::move(done), ticket});
        } catch (...) {
            in_flight_.end(ticket);  // never queued: a drain must not wait for it
            throw;
        }
        wake_.notify_one();
    }

    void drain() override { in_flight_.wait_for_earlier(); }

    const char* name() const noexcept override { return "threads"; }

private:
    struct Queued {
        BlockRequest request;
        Completion done;
        std::uint64_t ticket;
    };

    void stop_and_join() noexcept {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& thread : threads_) {
            thread.join();
        }
    }

    // The thread's exception barrier: requests and completions catch their
    // own failures (execute_block_request, call_block_completion), so
    // what gets here is the queue failing, which would leave requests
    // uncompleted: logged loudly.
    void run_worker(unsigned index) noexcept {
        try {
            const auto thread_name = "blk-pool-" + std::to_string(index);
            ::pthread_setname_np(::pthread_self(), thread_name.c_str());
            serve_queue();
        } catch (const std::exception& error) {
            log_error("virtio-blk: a block worker thread failed: {}", error.what());
        } catch (...) {
            log_error("virtio-blk: a block worker thread failed with an unknown exception");
        }
    }

    void serve_queue() {
        for (;;) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            // The destructor drained first: stopping with requests queued
            // only happens when a constructor failed before any were.
            if (queue_.empty()) {
                return;
            }
            Queued work = std::move(queue_.front());
            queue_.pop_front();
            lock.unlock();
            call_block_completion(work.done, execute_block_request(target_, work.request));
            in_flight_.end(work.ticket);
        }
    }

    const BlockTarget target_;
    InFlightRequests in_flight_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Queued> queue_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;  // last: started once the members above exist
};

}  // namespace

std::unique_ptr<BlockEngine> make_thread_pool_block_engine(BlockFile& file, unsigned workers) {
    return std::make_unique<ThreadPoolEngine>(file, workers);
}

}  // namespace acrn::dm
