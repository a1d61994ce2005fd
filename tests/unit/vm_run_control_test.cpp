// hv's run control and the all-or-nothing start of a VM's vCPU threads,
// with plain threads standing in for vCPUs (no KVM needed).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>

#include "hv/vm_run_control.hpp"

namespace acrn::hv {
namespace {

// Parks in the run control the way a vCPU thread does, and joins on destruction.
class ParkingThread {
public:
    explicit ParkingThread(VmRunControl& control)
        : thread_([&control] {
              while (control.wait_until_running()) {
                  control.wait_while_running();
              }
          }) {}
    ParkingThread(const ParkingThread&) = delete;
    ParkingThread& operator=(const ParkingThread&) = delete;
    ~ParkingThread() { thread_.join(); }

private:
    std::thread thread_;
};

// Runs `body` on a thread of its own; a body that hangs fails the whole
// binary (there is no way to unwind a thread stuck in join).
void within_seconds(int seconds, const std::function<void()>& body) {
    std::packaged_task<void()> task(body);
    std::future<void> done = task.get_future();
    std::thread runner(std::move(task));
    if (done.wait_for(std::chrono::seconds(seconds)) != std::future_status::ready) {
        std::fprintf(stderr, "hung for %d s: aborting\n", seconds);
        std::abort();
    }
    runner.join();
    done.get();
}

TEST(VmRunControlTest, AFailedThirdVcpuLeavesNoThreadWaiting) {
    within_seconds(10, [] {
        VmRunControl control;
        std::vector<std::unique_ptr<ParkingThread>> vcpus;
        EXPECT_THROW(build_all_or_leave(control, vcpus, 4,
                                        [&](std::uint32_t id) {
                                            if (id == 2) {
                                                control.wait_parked(2);  // the two made so far are parked
                                                throw std::runtime_error("KVM_CREATE_VCPU 2: too many open files");
                                            }
                                            return std::make_unique<ParkingThread>(control);
                                        }),
                     std::runtime_error);
        EXPECT_TRUE(vcpus.empty());
    });
}

TEST(VmRunControlTest, AllMadeStayParkedUntilTold) {
    within_seconds(10, [] {
        VmRunControl control;
        std::vector<std::unique_ptr<ParkingThread>> vcpus;
        build_all_or_leave(control, vcpus, 3, [&](std::uint32_t) { return std::make_unique<ParkingThread>(control); });
        control.wait_parked(3);
        EXPECT_EQ(vcpus.size(), 3u);
        control.set(VmRunControl::Command::run);
        control.set(VmRunControl::Command::leave);
        vcpus.clear();
    });
}

// A vCPU thread whose own code failed counts as parked (VM creation waits
// for every thread to park) and stays out until the VM goes.
TEST(VmRunControlTest, AFailedVcpuCountsAsParkedUntilLeave) {
    within_seconds(10, [] {
        VmRunControl control;
        std::thread crashed([&] { control.wait_until_leaving(); });
        control.wait_parked(1);
        control.set(VmRunControl::Command::run);
        control.set(VmRunControl::Command::park);
        control.set(VmRunControl::Command::leave);
        crashed.join();
    });
}

}  // namespace
}  // namespace acrn::hv
