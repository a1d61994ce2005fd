// What a VM's vCPU threads should be doing: running the guest, parked
// (created, paused or reset), or leaving (VM destroyed). The owner changes
// the command; vCPU threads check it after every exit.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

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

    // On a vCPU thread that can never run again (its own code failed):
    // counts as parked and blocks until the VM is reset or destroyed.
    void wait_until_leaving() {
        std::unique_lock lock(mutex_);
        ++parked_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return command_ == Command::leave; });
        --parked_;
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

// Appends `count` objects made by `make(i)` to `built`; each may start a
// thread that parks in `control`. If one cannot be made, those already made
// are told to leave and destroyed before the exception goes on: their
// threads would otherwise wait for a command that never comes, and the
// destructors' joins would hang.
template <typename T, typename Make>
void build_all_or_leave(VmRunControl& control, std::vector<std::unique_ptr<T>>& built, std::uint32_t count,
                        Make&& make) {
    try {
        for (std::uint32_t i = 0; i < count; ++i) {
            built.push_back(make(i));
        }
    } catch (...) {
        control.set(VmRunControl::Command::leave);
        built.clear();
        throw;
    }
}

}  // namespace acrn::hv
