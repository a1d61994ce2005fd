// acrn-dm's ioreq thread (ACRN's "vcpu 0" thread): attach to the HSM as the
// default client, serve every slot that is PROCESSING for us, and hand each
// back with notify-finish, which marks it COMPLETE and wakes the vCPU unless
// the VM polls. One thread serves every vCPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "abi/acrn/abi.h"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

struct IoBuses;

class IoreqLoop {
public:
    IoreqLoop(Hsm& hsm, IoBuses& buses, acrn_io_request_buffer& page, std::uint32_t vcpu_count);
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
    void run();
    void serve_ready_slots();

    Hsm& hsm_;
    IoBuses& buses_;
    acrn_io_request_buffer& page_;
    const std::uint32_t vcpu_count_;
    std::atomic<std::uint64_t> served_{0};
    std::thread thread_;
};

}  // namespace acrn::dm
