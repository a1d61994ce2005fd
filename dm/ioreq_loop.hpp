// acrn-dm's ioreq thread (ACRN's "vcpu 0" thread): attach to the HSM as the
// default client, serve every slot that is PROCESSING for us, and hand each
// back with notify-finish, which marks it COMPLETE and wakes the vCPU unless
// the VM polls. One thread serves every vCPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "abi/acrn/abi.h"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

struct IoBuses;

class IoreqLoop {
public:
    // Told, on the ioreq thread and at most once, that the VM cannot go on:
    // a device threw while serving a request, ATTACH failed, or the
    // hypervisor side reported its own failure (Hsm::fatal_error). The owner
    // powers the VM off with exit status 1; the loop keeps answering
    // requests until stop().
    using FatalHandler = std::function<void(const std::string& reason)>;

    IoreqLoop(Hsm& hsm, IoBuses& buses, acrn_io_request_buffer& page, std::uint32_t vcpu_count,
              FatalHandler on_fatal = {});
    IoreqLoop(const IoreqLoop&) = delete;
    IoreqLoop& operator=(const IoreqLoop&) = delete;
    ~IoreqLoop();

    // Creates the default client and starts the thread.
    void start();
    // Destroys the client (ending ATTACH) and joins the thread.
    void stop();

    [[nodiscard]] std::uint64_t requests_served() const noexcept {
        return served_.load(std::memory_order_relaxed);
    }

private:
    // The thread's exception barrier: nothing leaves it.
    void run() noexcept;
    void serve_until_destroyed();
    void serve_ready_slots();
    void serve(acrn_io_request& request, std::uint32_t vcpu);
    void fail(const std::string& reason) noexcept;

    Hsm& hsm_;
    IoBuses& buses_;
    acrn_io_request_buffer& page_;
    const std::uint32_t vcpu_count_;
    const FatalHandler on_fatal_;
    bool failed_ = false;  // ioreq thread only
    std::atomic<std::uint64_t> served_{0};
    std::thread thread_;
};

}  // namespace acrn::dm
