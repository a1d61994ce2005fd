#include "dm/ioreq_loop.hpp"

#include <pthread.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "abi/acrn/ioreq_slot.hpp"
#include "common/log.hpp"
#include "dm/io/ioreq_handler.hpp"
#include "relay/hsm.hpp"

namespace acrn::dm {

IoreqLoop::IoreqLoop(Hsm& hsm, IoBuses& buses, acrn_io_request_buffer& page, std::uint32_t vcpu_count)
    : hsm_(hsm), buses_(buses), page_(page), vcpu_count_(vcpu_count) {}

IoreqLoop::~IoreqLoop() { stop(); }

void IoreqLoop::start() {
    if (const int rc = hsm_.create_ioreq_client(); rc < 0) {
        throw std::runtime_error(std::string("cannot create the ioreq client: ") + std::strerror(-rc));
    }
    thread_ = std::thread([this] { run(); });
}

void IoreqLoop::stop() {
    if (!thread_.joinable()) {
        return;
    }
    (void)hsm_.destroy_ioreq_client();
    thread_.join();
}

void IoreqLoop::run() {
    ::pthread_setname_np(::pthread_self(), "ioreq");
    for (;;) {
        const int rc = hsm_.attach_ioreq_client();
        if (rc == -ENODEV) {
            return;  // the client is being destroyed: the VM is stopping
        }
        if (rc < 0 && rc != -EINTR) {
            log_error("ioreq: attach failed: {}; stopping the ioreq thread", std::strerror(-rc));
            return;
        }
        serve_ready_slots();
    }
}

void IoreqLoop::serve_ready_slots() {
    for (std::uint32_t vcpu = 0; vcpu < vcpu_count_; ++vcpu) {
        acrn_io_request& request = page_.req_slot[vcpu];
        IoreqSlot slot(request);
        if (slot.state() != IoreqState::processing || request.kernel_handled != 0) {
            continue;
        }
        (void)handle_ioreq(request, buses_, vcpu);
        served_.fetch_add(1, std::memory_order_relaxed);
        const acrn_ioreq_notify notify{0, 0, vcpu};
        if (const int rc = hsm_.notify_request_finish(notify); rc < 0) {
            log_warning("ioreq: notify-finish for vCPU {} failed: {}", vcpu, std::strerror(-rc));
        }
    }
}

}  // namespace acrn::dm
