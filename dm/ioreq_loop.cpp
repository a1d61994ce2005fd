#include "dm/ioreq_loop.hpp"

#include <pthread.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#include "abi/acrn/ioreq_slot.hpp"
#include "common/access_size.hpp"
#include "common/log.hpp"
#include "dm/io/ioreq_handler.hpp"
#include "relay/hsm.hpp"

namespace acrn::dm {
namespace {

// What an absent device answers: all ones for a read, nothing for a write.
void answer_as_unclaimed(acrn_io_request& request) {
    if (request.type == ACRN_IOREQ_TYPE_MMIO) {
        auto& mmio = request.reqs.mmio_request;
        if (mmio.direction == ACRN_IOREQ_DIR_READ) {
            mmio.value = mmio.size >= 1 && mmio.size <= 8 ? all_ones(static_cast<std::uint32_t>(mmio.size)) : ~0ull;
        }
        return;
    }
    auto& pio = request.reqs.pio_request;  // PCICFG keeps direction and value at the same offsets
    if (pio.direction == ACRN_IOREQ_DIR_READ) {
        pio.value = ~0u;
    }
}

}  // namespace

IoreqLoop::IoreqLoop(Hsm& hsm, IoBuses& buses, acrn_io_request_buffer& page, std::uint32_t vcpu_count,
                     FatalHandler on_fatal)
    : hsm_(hsm), buses_(buses), page_(page), vcpu_count_(vcpu_count), on_fatal_(std::move(on_fatal)) {}

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

void IoreqLoop::run() noexcept {
    ::pthread_setname_np(::pthread_self(), "ioreq");
    try {
        serve_until_destroyed();
    } catch (const std::exception& error) {
        fail(std::string("ioreq thread: ") + error.what());
    } catch (...) {
        fail("ioreq thread: an exception of unknown type");
    }
}

void IoreqLoop::serve_until_destroyed() {
    for (;;) {
        const int rc = hsm_.attach_ioreq_client();
        if (rc == -ENODEV) {
            return;  // the client is being destroyed: the VM is stopping
        }
        if (rc < 0 && rc != -EINTR) {
            fail(std::string("ioreq: attach failed: ") + std::strerror(-rc));
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
        // Before the request: hv reports its failure before the power-off
        // request it then submits, and the first power request decides.
        if (!failed_) {
            if (const std::optional<std::string> fatal = hsm_.fatal_error()) {
                fail("hypervisor: " + *fatal);
            }
        }
        serve(request, vcpu);
        served_.fetch_add(1, std::memory_order_relaxed);
        const acrn_ioreq_notify notify{0, 0, vcpu};
        if (const int rc = hsm_.notify_request_finish(notify); rc < 0) {
            log_warning("ioreq: notify-finish for vCPU {} failed: {}", vcpu, std::strerror(-rc));
        }
    }
}

// A device that throws has broken its own state; the request is still
// answered, so the vCPU does not wait forever, and the VM is powered off.
void IoreqLoop::serve(acrn_io_request& request, std::uint32_t vcpu) {
    try {
        (void)handle_ioreq(request, buses_, vcpu);
        return;
    } catch (const std::exception& error) {
        fail("ioreq: a device failed serving vCPU " + std::to_string(vcpu) + "'s request: " + error.what());
    } catch (...) {
        fail("ioreq: a device failed serving vCPU " + std::to_string(vcpu) + "'s request");
    }
    answer_as_unclaimed(request);
}

void IoreqLoop::fail(const std::string& reason) noexcept {
    if (failed_) {
        return;
    }
    failed_ = true;
    try {
        log_error("{}", reason);
        if (on_fatal_) {
            on_fatal_(reason);
        }
    } catch (...) {
        // Logging or the owner's handler failed too; nothing is left to tell.
    }
}

}  // namespace acrn::dm
