#include "dm/exec/device_worker.hpp"

#include <pthread.h>

#include "common/log.hpp"
#include "dm/power_control.hpp"

namespace acrn::dm {

DeviceWorker::DeviceWorker(std::string name, PowerControl& power)
    : name_(std::move(name)), power_(power), thread_([this] { run(); }) {}

DeviceWorker::~DeviceWorker() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        tasks_.clear();
    }
    wake_.notify_all();
    thread_.join();
}

void DeviceWorker::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) {
            return;
        }
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

bool DeviceWorker::stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
}

void DeviceWorker::run() {
    // Thread names are at most 15 characters.
    ::pthread_setname_np(::pthread_self(), name_.substr(0, 15).c_str());
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (stopping_) {
                return;
            }
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& error) {
            log_error("{}: device worker failed: {}", name_, error.what());
            power_.request_power_off(1, name_ + ": device worker failed");
        } catch (...) {
            log_error("{}: device worker failed with an unknown exception", name_);
            power_.request_power_off(1, name_ + ": device worker failed");
        }
    }
}

}  // namespace acrn::dm
