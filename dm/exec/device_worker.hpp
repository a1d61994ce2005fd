// A device's own thread, for work that blocks or runs long (block I/O, the
// test device's interrupt storms), so the ioreq thread only decodes,
// dispatches and completes. Tasks run in order. The thread has an exception
// barrier: a task that throws is logged and the VM is powered off with
// status 1, never std::terminate. Destruction stops the thread after the
// task in progress; tasks not yet started are dropped.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace acrn::dm {

class PowerControl;

class DeviceWorker {
public:
    DeviceWorker(std::string name, PowerControl& power);
    DeviceWorker(const DeviceWorker&) = delete;
    DeviceWorker& operator=(const DeviceWorker&) = delete;
    ~DeviceWorker();

    void post(std::function<void()> task);
    // True once the worker is being destroyed: long tasks check it to end early.
    [[nodiscard]] bool stopping() const;

private:
    void run();

    const std::string name_;
    PowerControl& power_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::thread thread_;  // last: started once the members above exist
};

}  // namespace acrn::dm
