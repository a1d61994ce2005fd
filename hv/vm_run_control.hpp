// What a VM's vCPU threads should be doing: running the guest, parked
// (created, paused or reset), or leaving (VM destroyed). The owner changes
// the command; vCPU threads check it after every exit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace acrn::hv {

class VmRunControl {
public:
    enum class Command { park, run, leave };

    // On a vCPU thread: parks until told to run (true) or to leave (false).
    [[nodiscard]] bool wait_until_running() {
        std::unique_lock lock(mutex_);
        ++parked_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return command_ != Command::park; });
        --parked_;
        return command_ == Command::run;
    }

    [[nodiscard]] bool running() const {
        std::lock_guard lock(mutex_);
        return command_ == Command::run;
    }

    // On a vCPU thread that cannot go on: blocks until the command changes
    // away from `run` (the VM is paused, reset or destroyed).
    void wait_while_running() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return command_ != Command::run; });
    }

    void set(Command command) {
        std::lock_guard lock(mutex_);
        command_ = command;
        changed_.notify_all();
    }

    // Waits until `count` vCPU threads are parked.
    void wait_parked(std::uint32_t count) {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return parked_ >= count; });
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    Command command_ = Command::park;
    std::uint32_t parked_ = 0;
};

}  // namespace acrn::hv
