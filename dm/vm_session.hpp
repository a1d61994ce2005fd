// One UOS from creation to power-off, in ACRN's order: create the VM, give
// it memory, build the devices, load the image, start the ioreq thread and
// the VM, run the event loop until a power-off request, then pause, stop
// the ioreq thread and destroy the VM.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "abi/acrn/abi.h"
#include "dm/cli/options.hpp"
#include "dm/io/io_buses.hpp"
#include "dm/power_control.hpp"

namespace acrn {
class Hsm;
}

namespace acrn::dm {

class AcpiPm;
class GuestMemory;
class InterruptSink;
class IoDevice;
class IoreqLoop;
class PciDevice;
class SerialConsoles;
class Uart16550;

// A failure before the guest runs: the message names what failed; main()
// prints it and exits with `status` (ACRN's statuses for -k/-r/-E).
class StartupError : public std::runtime_error {
public:
    StartupError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

class VmSession final : public PowerControl {
public:
    // `loop` and `consoles` belong to the acrn-dm process and outlive every
    // session (a guest reset builds a new session on them).
    VmSession(DmOptions options, Hsm& hsm, boost::asio::io_context& loop, const SerialConsoles& consoles);
    VmSession(const VmSession&) = delete;
    VmSession& operator=(const VmSession&) = delete;
    ~VmSession() override;

    // How a run ended: powered off with acrn-dm's exit status, or reset by
    // the guest, in which case the caller builds a new session and boots
    // again in the same process (ACRN's FULL_RESET).
    struct Outcome {
        bool reset = false;
        int exit_status = 0;
    };

    // Boots the VM and returns once it is off or reset.
    // Throws StartupError if the VM cannot be set up.
    [[nodiscard]] Outcome run();

    void request_power_off(int exit_status, const std::string& reason) override;
    void request_reset(const std::string& reason) override;

private:
    struct IoRegistration;

    void create_vm();
    [[nodiscard]] std::uint64_t host_cpu_affinity() const;
    void map_memory();
    void create_devices();
    void create_pci_devices();
    void create_serial_ports();
    void add_port_device(std::uint16_t base, std::uint16_t width, std::shared_ptr<IoDevice> device,
                         const std::string& name);
    void add_device(AddressBus& bus, std::uint64_t base, std::uint64_t width, std::shared_ptr<IoDevice> device,
                    const std::string& name);
    void place_bars(PciDevice& device);
    struct BootImages {
        std::vector<std::uint8_t> kernel;  // -k bzImage, or else the -E ELF
        std::vector<std::uint8_t> initrd;
    };
    void write_acpi_tables();
    void load_images(const BootImages& images);
    void stop_vm();
    void end_with(Outcome outcome, const std::string& reason);
    void on_signal(int signal);

    const DmOptions options_;
    Hsm& hsm_;
    boost::asio::io_context& loop_;
    const SerialConsoles& consoles_;
    IoBuses buses_;
    std::unique_ptr<GuestMemory> memory_;
    struct PageDeleter {
        void operator()(acrn_io_request_buffer* page) const noexcept;
    };
    std::unique_ptr<acrn_io_request_buffer, PageDeleter> ioreq_page_;
    std::unique_ptr<InterruptSink> interrupts_;
    std::shared_ptr<AcpiPm> acpi_pm_;  // SIGTERM presses its power button
    std::vector<std::shared_ptr<IoDevice>> port_devices_;  // PIO and MMIO devices; the buses hold weak references
    std::vector<std::shared_ptr<PciDevice>> pci_devices_;
    std::vector<std::shared_ptr<Uart16550>> uarts_;
    std::unique_ptr<IoreqLoop> ioreq_loop_;
    std::uint32_t vcpu_count_ = 1;
    bool vm_created_ = false;
    std::uint64_t next_io_bar_ = 0x2000;
    std::uint64_t next_memory_bar_ = 0xC000'0000;

    std::mutex power_mutex_;
    std::optional<Outcome> outcome_;  // the first power-off or reset request decides
    std::unique_ptr<boost::asio::steady_timer> shutdown_deadline_;  // set once SIGTERM pressed the button
};

}  // namespace acrn::dm
