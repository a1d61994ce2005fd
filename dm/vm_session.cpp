#include "dm/vm_session.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "common/log.hpp"
#include "dm/acpi/acpi_tables.hpp"
#include "dm/devices/acpi_pm.hpp"
#include "dm/devices/debug_exit.hpp"
#include "dm/devices/hostbridge.hpp"
#include "dm/devices/i8042.hpp"
#include "dm/devices/lpc_bridge.hpp"
#include "dm/devices/reset_control.hpp"
#include "dm/devices/rtc_cmos.hpp"
#include "dm/devices/testdev.hpp"
#include "dm/devices/uart16550.hpp"
#include "dm/guest_memory.hpp"
#include "dm/host_cpus.hpp"
#include "dm/hsm_interrupt_sink.hpp"
#include "dm/ioreq_loop.hpp"
#include "dm/loader/bzimage.hpp"
#include "dm/loader/multiboot.hpp"
#include "dm/pci/pci_ecam.hpp"
#include "dm/serial_consoles.hpp"
#include "dm/platform_layout.hpp"
#include "relay/hsm.hpp"

namespace acrn::dm {
namespace {

constexpr int kExitFailure = 1;

constexpr int kExitKernel = 10;  // ACRN's statuses for a bad -k / -r
constexpr int kExitInitrd = 11;

// systemd's default stop timeout is 90 s: a guest gets most of it, and
// acrn-dm still exits on its own before systemd resorts to SIGKILL.
constexpr std::chrono::seconds kShutdownGracePeriod{60};

std::vector<std::uint8_t> read_image_file(const std::string& path, const char* option, int status = kExitFailure) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw StartupError(status, std::string(option) + ": cannot open '" + path + "': " + std::strerror(errno));
    }
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (file.bad()) {
        throw StartupError(status, std::string(option) + ": cannot read '" + path + "'");
    }
    if (bytes.empty()) {
        throw StartupError(status, std::string(option) + ": '" + path + "' is empty");
    }
    return bytes;
}

void check(int rc, const std::string& what) {
    if (rc < 0) {
        throw StartupError(kExitFailure, what + ": " + std::strerror(-rc));
    }
}

std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }

}  // namespace

void VmSession::PageDeleter::operator()(acrn_io_request_buffer* page) const noexcept { std::free(page); }

VmSession::VmSession(DmOptions options, Hsm& hsm, boost::asio::io_context& loop, const SerialConsoles& consoles)
    : options_(std::move(options)), hsm_(hsm), loop_(loop), consoles_(consoles) {}

VmSession::~VmSession() {
    // The ioreq thread and the vCPUs must stop before devices go away.
    try {
        stop_vm();
    } catch (...) {
        // Destructors report nothing; stop_vm logs what failed.
    }
}

void VmSession::request_power_off(int exit_status, const std::string& reason) {
    end_with(Outcome{false, exit_status}, "powering off: " + reason);
}

void VmSession::request_reset(const std::string& reason) { end_with(Outcome{true, 0}, "resetting: " + reason); }

void VmSession::end_with(Outcome outcome, const std::string& reason) {
    {
        std::lock_guard lock(power_mutex_);
        if (outcome_) {
            return;  // the first request decides
        }
        outcome_ = outcome;
    }
    log_notice("{}", reason);
    loop_.stop();
}

// ACRN's life-cycle signals: SIGINT and SIGHUP power off at once; SIGTERM
// presses the ACPI power button so that the guest shuts down cleanly, and a
// second SIGTERM, or a guest that is not off within the grace period, stops
// the VM hard. A guest that never enabled ACPI cannot see the button.
void VmSession::on_signal(int signal) {
    if (signal != SIGTERM) {
        request_power_off(0, std::string("signal ") + ::strsignal(signal));
        return;
    }
    if (shutdown_deadline_) {  // the button was pressed already
        request_power_off(0, "second SIGTERM: stopping the VM hard");
        return;
    }
    if (!acpi_pm_ || !acpi_pm_->press_power_button()) {
        request_power_off(0, "SIGTERM, and the guest has not enabled ACPI to see a power button: stopping the VM");
        return;
    }
    log_notice("SIGTERM: pressed the ACPI power button; the VM stops hard after {} s or on a second SIGTERM",
               kShutdownGracePeriod.count());
    shutdown_deadline_ = std::make_unique<boost::asio::steady_timer>(loop_, kShutdownGracePeriod);
    shutdown_deadline_->async_wait([this](const boost::system::error_code& error) {
        if (!error) {
            request_power_off(0, "the guest did not shut down within " + std::to_string(kShutdownGracePeriod.count()) +
                                     " s of the power button: stopping the VM hard");
        }
    });
}

VmSession::Outcome VmSession::run() {
    // Everything the user named is checked before any VM exists. As in
    // ACRN, -k takes precedence over -E, and a missing kernel or initrd
    // exits with 10 or 11.
    BootImages images;
    if (options_.kernel) {
        images.kernel = read_image_file(*options_.kernel, "-k", kExitKernel);
        if (options_.initrd) {
            images.initrd = read_image_file(*options_.initrd, "-r", kExitInitrd);
        }
    } else if (options_.elf_image) {
        if (options_.initrd) {
            throw StartupError(kExitFailure, "-r: an initrd needs a Linux kernel given with -k");
        }
        images.kernel = read_image_file(*options_.elf_image, "-E");
    } else {
        throw StartupError(kExitFailure,
                           "nothing to boot: give a Linux bzImage with -k <file> or a multiboot ELF with -E <file>");
    }

    try {
        memory_ = std::make_unique<GuestMemory>(options_.memory_bytes);
    } catch (const std::exception& error) {
        throw StartupError(kExitFailure, std::string("-m: cannot allocate guest memory: ") + error.what());
    }
    create_vm();
    map_memory();
    create_devices();
    write_acpi_tables();
    load_images(images);

    ioreq_loop_ = std::make_unique<IoreqLoop>(hsm_, buses_, *ioreq_page_, vcpu_count_);
    ioreq_loop_->start();
    for (auto& uart : uarts_) {
        uart->start();
    }

    boost::asio::signal_set signals(loop_, SIGINT, SIGHUP, SIGTERM);
    std::function<void(const boost::system::error_code&, int)> on_signal_set =
        [this, &signals, &on_signal_set](const boost::system::error_code& error, int signal) {
            if (!error) {
                on_signal(signal);
                signals.async_wait(on_signal_set);
            }
        };
    signals.async_wait(on_signal_set);
    auto keep_running = boost::asio::make_work_guard(loop_);
    loop_.restart();  // the loop ran (and was stopped) before a guest reset
    check(hsm_.start_vm(), "cannot start the VM");
    log_info("VM '{}' started: {} MiB, {} vCPU(s), {} I/O completion", options_.vm_name, options_.memory_bytes >> 20,
             vcpu_count_, options_.ioreq_polling ? "polling" : "notification");
    loop_.run();

    stop_vm();
    log_info("VM '{}' stopped after {} I/O requests", options_.vm_name,
             ioreq_loop_ ? ioreq_loop_->requests_served() : 0);
    std::lock_guard lock(power_mutex_);
    return outcome_.value_or(Outcome{});
}

void VmSession::create_vm() {
    void* page = std::aligned_alloc(4096, sizeof(acrn_io_request_buffer));
    if (page == nullptr) {
        throw StartupError(kExitFailure, "cannot allocate the ioreq page");
    }
    std::memset(page, 0, sizeof(acrn_io_request_buffer));
    ioreq_page_.reset(static_cast<acrn_io_request_buffer*>(page));

    acrn_vm_creation creation{};
    std::memcpy(&creation.uuid, options_.vm_name.c_str(), std::min(options_.vm_name.size(), sizeof(creation.uuid) - 1));
    creation.vm_flag = options_.ioreq_polling ? ACRN_GUEST_FLAG_IO_COMPLETION_POLLING : 0;
    creation.ioreq_buf = reinterpret_cast<std::uintptr_t>(page);
    creation.vcpu_num = static_cast<std::uint16_t>(options_.vcpu_count.value_or(1));
    creation.cpu_affinity = host_cpu_affinity();
    check(hsm_.create_vm(creation), "cannot create the VM");
    vm_created_ = true;
    vcpu_count_ = creation.vcpu_num;
}

std::uint64_t VmSession::host_cpu_affinity() const {
    if (options_.cpu_affinity.empty()) {
        return 0;
    }
    std::map<std::uint32_t, int> host_cpus;
    try {
        host_cpus = host_cpus_by_apic_id();
    } catch (const std::exception& error) {
        throw StartupError(kExitFailure, std::string("--cpu_affinity: ") + error.what());
    }
    std::uint64_t mask = 0;
    for (const std::uint32_t apic_id : options_.cpu_affinity) {
        const auto found = host_cpus.find(apic_id);
        if (found == host_cpus.end() || found->second >= 64) {
            throw StartupError(kExitFailure, "--cpu_affinity: no online host CPU has LAPIC id " + std::to_string(apic_id));
        }
        mask |= 1ull << found->second;
    }
    return mask;
}

void VmSession::map_memory() {
    for (const GuestMemory::Region& region : memory_->regions()) {
        acrn_vm_memmap map{};
        map.type = ACRN_MEMMAP_RAM;
        map.attr = ACRN_MEM_ACCESS_RWX | ACRN_MEM_TYPE_WB;
        map.user_vm_pa = region.gpa;
        map.vma_base = reinterpret_cast<std::uintptr_t>(region.host);
        map.len = region.size;
        check(hsm_.set_memseg(map), "cannot map guest memory at " + std::to_string(region.gpa));
    }
}

void VmSession::add_port_device(std::uint16_t base, std::uint16_t width, std::shared_ptr<IoDevice> device,
                                const std::string& name) {
    add_device(buses_.pio, base, width, std::move(device), name);
}

void VmSession::add_device(AddressBus& bus, std::uint64_t base, std::uint64_t width, std::shared_ptr<IoDevice> device,
                           const std::string& name) {
    if (auto error = bus.add(base, width, device, name)) {
        throw StartupError(kExitFailure, name + ": " + bus.name() + " " + std::to_string(base) + ": " + to_string(*error));
    }
    port_devices_.push_back(std::move(device));
}

void VmSession::create_devices() {
    interrupts_ = std::make_unique<HsmInterruptSink>(hsm_);
    acpi_pm_ = std::make_shared<AcpiPm>(*interrupts_, *this);
    for (const AcpiPm::PortRange& range : AcpiPm::kPortRanges) {
        add_port_device(range.base, range.width, acpi_pm_, range.name);
    }
    add_port_device(ResetControl::kPort, ResetControl::kWidth, std::make_shared<ResetControl>(*this), "reset-control");
    const std::uint64_t high_memory = memory_->size() - memory_->low_memory_end();  // from 4 GiB
    add_port_device(RtcCmos::kPort, RtcCmos::kWidth,
                    std::make_shared<RtcCmos>(loop_, *interrupts_, memory_->low_memory_end(), high_memory), "rtc");
    auto i8042 = std::make_shared<I8042>(*this);
    add_port_device(I8042::kDataPort, I8042::kWidth, i8042, "i8042-data");
    add_port_device(I8042::kCommandPort, I8042::kWidth, i8042, "i8042-command");
    if (options_.debugexit) {
        add_port_device(DebugExit::kPort, DebugExit::kWidth, std::make_shared<DebugExit>(*this), "debug-exit");
    }
    create_pci_devices();
    add_device(buses_.mmio, platform::kEcamAddress, platform::kEcamSize, std::make_shared<PciEcam>(buses_.pci),
               "pci-ecam");
    create_serial_ports();
}

void VmSession::create_pci_devices() {
    for (const PciSlotSpec& slot : options_.pci_slots) {
        std::shared_ptr<PciDevice> device;
        if (slot.emulation == "hostbridge") {
            device = std::make_shared<HostBridge>();
        } else if (slot.emulation == "lpc") {
            device = std::make_shared<LpcBridge>();
        } else if (slot.emulation == "testdev") {
            device = std::make_shared<TestDevice>();
        } else {
            throw StartupError(kExitFailure, "-s: emulation '" + slot.emulation + "' is not supported yet");
        }
        if (!buses_.pci.add(PciAddress{slot.bus, slot.slot, slot.func}, device)) {
            throw StartupError(kExitFailure, "-s: PCI address " + std::to_string(slot.bus) + ":" +
                                                 std::to_string(slot.slot) + ":" + std::to_string(slot.func) +
                                                 " is taken");
        }
        place_bars(*device);
        if (const std::uint8_t pin = device->interrupt_pin(); pin != 0) {
            device->route_intx(platform::pci_intx_gsi(slot.slot, pin));
        }
        device->attach(buses_.pio, buses_.mmio);
        pci_devices_.push_back(std::move(device));
    }
}

void VmSession::place_bars(PciDevice& device) {
    // As firmware would: I/O BARs from 0x2000, 32-bit memory BARs from
    // 3 GiB (inside the PCI hole that the RAM layout leaves free).
    for (int index = 0; index < PciDevice::kBarCount; ++index) {
        const BarKind kind = device.bar_kind(index);
        if (kind == BarKind::none) {
            continue;
        }
        const std::uint64_t size = device.bar_size(index);
        std::uint64_t& next = kind == BarKind::io ? next_io_bar_ : next_memory_bar_;
        const std::uint64_t address = align_up(next, size);
        const std::uint64_t limit = kind == BarKind::io ? platform::kPciIoWindowLimit : platform::kPciMmio32Limit;
        if (address + size > limit) {
            throw StartupError(kExitFailure, device.name() + ": no room left for BAR" + std::to_string(index));
        }
        device.place_bar(index, address);
        next = address + size;
    }
}

void VmSession::create_serial_ports() {
    if (options_.serial_ports.empty()) {
        return;
    }
    const bool has_lpc = std::any_of(options_.pci_slots.begin(), options_.pci_slots.end(),
                                     [](const PciSlotSpec& slot) { return slot.emulation == "lpc"; });
    if (!has_lpc) {
        throw StartupError(kExitFailure, "-l: COM ports sit behind the LPC bridge: add -s 1:0,lpc");
    }
    for (const SerialPortSpec& port : options_.serial_ports) {
        const LpcBridge::ComPort resources = LpcBridge::com_port(port.index);
        const std::string name = "com" + std::to_string(port.index);
        auto uart = std::make_shared<Uart16550>(name, *interrupts_, resources.irq, consoles_.backend(port.index));
        add_port_device(resources.base, Uart16550::kRegisterCount, uart, name);
        uarts_.push_back(std::move(uart));
    }
}

void VmSession::write_acpi_tables() {
    acpi::PlatformDescription platform;
    platform.vcpu_count = vcpu_count_;
    for (const SerialPortSpec& port : options_.serial_ports) {
        const LpcBridge::ComPort resources = LpcBridge::com_port(port.index);
        platform.serial_ports.push_back({port.index, resources.base, resources.irq});
    }
    platform.pci_mmio32_base = memory_->low_memory_end();
    try {
        const acpi::AcpiImage image = acpi::build_acpi_tables(platform);
        if (!memory_->write(image.base, image.bytes.data(), image.bytes.size())) {
            throw std::invalid_argument("the firmware area is not in guest RAM");
        }
    } catch (const std::invalid_argument& error) {
        throw StartupError(kExitFailure, std::string("ACPI tables: ") + error.what());
    }
}

void VmSession::load_images(const BootImages& images) {
    acrn_vcpu_regs boot{};
    boot.vcpu_id = 0;
    const std::string command_line = options_.bootargs.value_or("");
    try {
        if (options_.kernel) {
            std::optional<std::span<const std::uint8_t>> initrd;
            if (options_.initrd) {
                initrd = std::span<const std::uint8_t>(images.initrd);
            }
            boot.vcpu_regs = load_bzimage(images.kernel, initrd, command_line, *memory_);
        } else {
            boot.vcpu_regs = load_multiboot_elf(images.kernel, command_line, *memory_);
        }
    } catch (const ImageError& error) {
        const std::string source = options_.kernel ? "-k " + *options_.kernel : "-E " + *options_.elf_image;
        throw StartupError(options_.kernel ? kExitKernel : kExitFailure, source + ": " + error.what());
    }
    check(hsm_.set_vcpu_regs(boot), "cannot set the boot vCPU's registers");
}

void VmSession::stop_vm() {
    if (!vm_created_) {
        return;
    }
    vm_created_ = false;
    if (const int rc = hsm_.pause_vm(); rc < 0) {
        log_warning("pausing the VM failed: {}", std::strerror(-rc));
    }
    if (ioreq_loop_) {
        ioreq_loop_->stop();
    }
    if (const int rc = hsm_.destroy_vm(); rc < 0) {
        log_warning("destroying the VM failed: {}", std::strerror(-rc));
    }
}

}  // namespace acrn::dm
