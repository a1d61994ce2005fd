// KVM tier: the hypervisor core driven through ACRN's hypercalls, with this
// test playing the Service OS: it answers each request that hv puts in the
// ioreq page and sees exactly what the guest's instructions produced.
// Needs /dev/kvm (run by tests/kvm/kvm-tier.sh).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "abi/acrn/ioreq_slot.hpp"
#include "common/event_fd.hpp"
#include "hv/hypervisor.hpp"
#include "hv/irqfd.hpp"
#include "hv/service_os_memory.hpp"
#include "hv/upcall.hpp"

namespace acrn::hv {
namespace {

template <typename T>
std::uint64_t address_of(T* object) {
    return reinterpret_cast<std::uintptr_t>(object);
}

struct SeenRequest {
    std::uint32_t type;
    std::uint32_t direction;
    std::uint64_t address;
    std::uint64_t size;
    std::uint64_t value;
};

// Plays the Service OS: answers reads of port 0xE1 with 0x99 and records everything.
class ServiceOs final : public UpcallSink {
public:
    void on_ioreq_pending(std::uint16_t vmid, std::uint32_t vcpu) override {
        acrn_io_request& request = page->req_slot[vcpu];
        IoreqSlot slot(request);
        ASSERT_TRUE(slot.begin_processing());
        const auto& pio = request.reqs.pio_request;
        if (request.type == ACRN_IOREQ_TYPE_PORTIO && pio.address == 0xE5) {
            throw std::runtime_error("the relay broke on port 0xE5");  // on the vCPU's thread
        }
        const auto& mmio = request.reqs.mmio_request;
        SeenRequest seen{request.type, pio.direction, pio.address, pio.size,
                         request.type == ACRN_IOREQ_TYPE_MMIO ? mmio.value : pio.value};
        if (request.type == ACRN_IOREQ_TYPE_PORTIO && pio.direction == ACRN_IOREQ_DIR_READ && pio.address == 0xE1) {
            request.reqs.pio_request.value = 0x99;
        }
        // Answer first, then record: a test that sees the record may pause
        // and reset the VM at once, which would cancel a pending answer.
        if (answer.load()) {
            EXPECT_TRUE(slot.complete());
            if (finisher) {
                EXPECT_EQ(finisher(vcpu), 0);
            } else {
                EXPECT_EQ(hypervisor->hypercall(HC_NOTIFY_REQUEST_FINISH, vmid, vcpu), 0);
            }
        }
        {
            std::lock_guard lock(mutex);
            seen_requests.push_back(seen);
        }
        changed.notify_all();
    }

    void on_vm_fatal(std::uint16_t, std::uint32_t vcpu, const std::string& reason) override {
        std::lock_guard lock(mutex);
        fatal_reports.push_back("vCPU " + std::to_string(vcpu) + ": " + reason);
    }

    bool wait_for(std::size_t count, std::chrono::seconds limit = std::chrono::seconds(30)) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] { return seen_requests.size() >= count; });
    }

    acrn_io_request_buffer* page = nullptr;
    Hypervisor* hypervisor = nullptr;
    Hypervisor::RequestFinisher finisher;  // used instead of the hypercall when set
    std::atomic<bool> answer{true};
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<SeenRequest> seen_requests;
    std::vector<std::string> fatal_reports;
};

class HypercallTest : public ::testing::Test {
protected:
    static constexpr std::size_t kRamSize = 2 << 20;

    HypercallTest() : hypervisor_(service_os_memory_, service_os_) {
        page_ = static_cast<acrn_io_request_buffer*>(std::aligned_alloc(4096, 4096));
        std::memset(page_, 0, 4096);
        ram_ = static_cast<std::uint8_t*>(
            ::mmap(nullptr, kRamSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        service_os_.page = page_;
        service_os_.hypervisor = &hypervisor_;
    }
    ~HypercallTest() override {
        if (vmid_ != 0) {
            (void)hypervisor_.hypercall(HC_PAUSE_VM, vmid_, 0);
            (void)hypervisor_.hypercall(HC_DESTROY_VM, vmid_, 0);
        }
        ::munmap(ram_, kRamSize);
        std::free(page_);
    }

    long create(std::uint64_t flags = 0, std::uint16_t vcpus = 1) {
        acrn_vm_creation creation{};
        std::memcpy(&creation.uuid, "hvtest", 6);
        creation.vm_flag = flags;
        creation.vcpu_num = vcpus;
        const long rc = hypervisor_.hypercall(HC_CREATE_VM, address_of(&creation), 0);
        if (rc == 0) {
            vmid_ = creation.vmid;
        }
        return rc;
    }

    void map_ram_and_buffer() {
        acrn_vm_memory_region_op op{ACRN_MEM_REGION_ADD, ACRN_MEM_ACCESS_RWX, 0, address_of(ram_), kRamSize};
        acrn_vm_memory_region_batch batch{};
        batch.vmid = vmid_;
        batch.regions_num = 1;
        batch.regions_gpa = address_of(&op);
        ASSERT_EQ(hypervisor_.hypercall(HC_VM_SET_MEMORY_REGIONS, address_of(&batch), 0), 0);
        acrn_ioreq_buffer_info info{address_of(page_)};
        ASSERT_EQ(hypervisor_.hypercall(HC_SET_IOREQ_BUFFER, vmid_, address_of(&info)), 0);
    }

    // 32-bit flat protected-mode code at 0x1000 and the registers to start
    // it, as the multiboot loader sets them.
    void load_program(std::initializer_list<std::uint8_t> code) {
        std::memcpy(ram_ + 0x1000, code.begin(), code.size());
        acrn_vcpu_regs regs{};
        regs.vcpu_regs.rip = 0x1000;
        regs.vcpu_regs.cr0 = 0x11;
        regs.vcpu_regs.cs_sel = 0x10;
        regs.vcpu_regs.cs_limit = 0xFFFF'FFFF;
        regs.vcpu_regs.cs_ar = 0xC09B;
        regs.vcpu_regs.ds_sel = regs.vcpu_regs.es_sel = regs.vcpu_regs.ss_sel = 0x18;
        regs.vcpu_regs.rflags = 0x2;
        regs.vcpu_regs.gprs.rsp = 0x8000;
        ASSERT_EQ(hypervisor_.hypercall(HC_SET_VCPU_REGS, vmid_, address_of(&regs)), 0);
    }

    HostedServiceOsMemory service_os_memory_;
    ServiceOs service_os_;
    Hypervisor hypervisor_;
    acrn_io_request_buffer* page_ = nullptr;
    std::uint8_t* ram_ = nullptr;
    std::uint64_t vmid_ = 0;
};

// mov al,0x42; out 0xE0,al; in al,0xE1; out 0xE2,al; cli; hlt; jmp $-1
const std::initializer_list<std::uint8_t> kPortProgram = {0xB0, 0x42, 0xE6, 0xE0, 0xE4, 0xE1, 0xE6,
                                                          0xE2, 0xFA, 0xF4, 0xEB, 0xFD};

void expect_port_program(const std::deque<SeenRequest>& seen, std::size_t from) {
    ASSERT_GE(seen.size(), from + 3);
    EXPECT_EQ(seen[from].type, static_cast<std::uint32_t>(ACRN_IOREQ_TYPE_PORTIO));
    EXPECT_EQ(seen[from].direction, static_cast<std::uint32_t>(ACRN_IOREQ_DIR_WRITE));
    EXPECT_EQ(seen[from].address, 0xE0u);
    EXPECT_EQ(seen[from].size, 1u);
    EXPECT_EQ(seen[from].value, 0x42u);
    EXPECT_EQ(seen[from + 1].address, 0xE1u);
    EXPECT_EQ(seen[from + 1].direction, static_cast<std::uint32_t>(ACRN_IOREQ_DIR_READ));
    EXPECT_EQ(seen[from + 2].address, 0xE2u);
    EXPECT_EQ(seen[from + 2].value, 0x99u);  // what we answered came back through RAX
}

TEST_F(HypercallTest, PortProgramInNotificationMode) {
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(3));
    expect_port_program(service_os_.seen_requests, 0);
    EXPECT_EQ(hypervisor_.hypercall(HC_DESTROY_VM, vmid_, 0), -EBUSY);  // still running
}

// Hosted mode completes requests through a finisher bound to the VM
// instead of the hypercall; it outlives the VM harmlessly.
TEST_F(HypercallTest, TheRequestFinisherCompletesLikeTheHypercall) {
    EXPECT_FALSE(hypervisor_.request_finisher(42));  // no such VM
    ASSERT_EQ(create(), 0);
    service_os_.finisher = hypervisor_.request_finisher(static_cast<std::uint16_t>(vmid_));
    ASSERT_TRUE(service_os_.finisher);
    map_ram_and_buffer();
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(3));
    expect_port_program(service_os_.seen_requests, 0);
    EXPECT_EQ(service_os_.finisher(7), -EINVAL);  // no such vCPU
    ASSERT_EQ(hypervisor_.hypercall(HC_PAUSE_VM, vmid_, 0), 0);
    ASSERT_EQ(hypervisor_.hypercall(HC_DESTROY_VM, vmid_, 0), 0);
    vmid_ = 0;
    EXPECT_EQ(service_os_.finisher(0), -EINVAL);  // the VM is gone
}

TEST_F(HypercallTest, PortProgramInPollingMode) {
    ASSERT_EQ(create(ACRN_GUEST_FLAG_IO_COMPLETION_POLLING), 0);
    map_ram_and_buffer();
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(3));
    expect_port_program(service_os_.seen_requests, 0);
    // hv sets completion_polling on each request (IoreqChannelTest.PollingFlagIsSetForPollingVms);
    // a vCPU that stopped spinning clears it again, so its value afterwards says nothing.
}

TEST_F(HypercallTest, ResetNeedsPauseAndRunsTheProgramAgain) {
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(3));
    EXPECT_EQ(hypervisor_.hypercall(HC_RESET_VM, vmid_, 0), -EINVAL);
    ASSERT_EQ(hypervisor_.hypercall(HC_PAUSE_VM, vmid_, 0), 0);
    ASSERT_EQ(hypervisor_.hypercall(HC_RESET_VM, vmid_, 0), 0);
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(6));
    expect_port_program(service_os_.seen_requests, 3);
}

TEST_F(HypercallTest, PciConfigAccessesBecomePcicfgRequests) {
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    // mov eax,0x80001810; mov dx,0xCF8; out dx,eax; mov dx,0xCFE; in ax,dx; cli; hlt
    load_program({0xB8, 0x10, 0x18, 0x00, 0x80, 0x66, 0xBA, 0xF8, 0x0C, 0xEF, 0x66, 0xBA, 0xFE, 0x0C, 0x66, 0xED,
                  0xFA, 0xF4});
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(1));
    const SeenRequest& seen = service_os_.seen_requests.front();
    EXPECT_EQ(seen.type, static_cast<std::uint32_t>(ACRN_IOREQ_TYPE_PCICFG));
    const acrn_pci_request& pci = page_->req_slot[0].reqs.pci_request;
    EXPECT_EQ(pci.dev, 3u);
    EXPECT_EQ(pci.func, 0u);
    EXPECT_EQ(pci.reg, 0x12u);
    EXPECT_EQ(pci.size, 2u);
}

TEST_F(HypercallTest, TripleFaultBecomesAnS5Write) {
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    // lidt [0x1100] (a zero-limit IDT); int3
    std::memset(ram_ + 0x1100, 0, 6);
    load_program({0x0F, 0x01, 0x1D, 0x00, 0x11, 0x00, 0x00, 0xCC});
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(1));
    const SeenRequest& seen = service_os_.seen_requests.front();
    EXPECT_EQ(seen.address, 0x404u);
    EXPECT_EQ(seen.size, 2u);
    EXPECT_EQ(seen.value, (5u << 10) | (1u << 13));
}

TEST_F(HypercallTest, DestroyEndsAWaitNobodyWillAnswer) {
    service_os_.answer = false;
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(1));
    ASSERT_EQ(hypervisor_.hypercall(HC_PAUSE_VM, vmid_, 0), 0);
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(hypervisor_.hypercall(HC_DESTROY_VM, vmid_, 0), 0);
    vmid_ = 0;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HypercallTest, RefusesWhatAcrnRefuses) {
    EXPECT_EQ(create(ACRN_GUEST_FLAG_LAPIC_PASSTHROUGH), -EINVAL);  // LAPIC pass-through needs RT
    EXPECT_EQ(create(0, 17), -EINVAL);
    EXPECT_EQ(hypervisor_.hypercall(HC_START_VM, 42, 0), -EINVAL);  // no such VM
    EXPECT_EQ(hypervisor_.hypercall(HC_CREATE_VM, 0, 0), -EFAULT);
    EXPECT_EQ(hypervisor_.hypercall(0x80ABCDEF, 0, 0), -EINVAL);
    ASSERT_EQ(create(), 0);
    EXPECT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), -EINVAL);  // no ioreq buffer yet
    EXPECT_EQ(hypervisor_.hypercall(HC_NOTIFY_REQUEST_FINISH, vmid_, 5), -EINVAL);
    acrn_irqline_ops bad_gsi{99, ACRN_IRQLINE_SET_HIGH};
    EXPECT_EQ(hypervisor_.hypercall(HC_SET_IRQLINE, vmid_, address_of(&bad_gsi)), -EINVAL);
    acrn_irqline_ops pulse{4, ACRN_IRQLINE_RAISING_PULSE};
    EXPECT_EQ(hypervisor_.hypercall(HC_SET_IRQLINE, vmid_, address_of(&pulse)), 0);
    acrn_msi_entry msi{0xFEE0'0000, 0x30};
    EXPECT_EQ(hypervisor_.hypercall(HC_INJECT_MSI, vmid_, address_of(&msi)), 0);
    acrn_vm_memory_region_op overlapping{ACRN_MEM_REGION_ADD, ACRN_MEM_ACCESS_RWX, 0x1000, address_of(ram_), 4096};
    map_ram_and_buffer();
    acrn_vm_memory_region_batch batch{};
    batch.vmid = static_cast<std::uint16_t>(vmid_);
    batch.regions_num = 1;
    batch.regions_gpa = address_of(&overlapping);
    EXPECT_EQ(hypervisor_.hypercall(HC_VM_SET_MEMORY_REGIONS, address_of(&batch), 0), -EEXIST);
}

// vCPU 3 cannot be created (no descriptor left for its KVM fd): creation
// fails with the errno, and the three vCPU threads already started end
// instead of waiting for a start that never comes.
TEST_F(HypercallTest, AVcpuThatCannotBeCreatedFailsCreationWithoutHanging) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    // Five free descriptor numbers below the limit: /dev/kvm, the VM, vCPUs 0-2.
    rlim_t limit = 0;
    for (int fd = 0, free_numbers = 0; free_numbers < 5; ++fd) {
        if (::fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            ++free_numbers;
            limit = static_cast<rlim_t>(fd) + 1;
        }
    }
    rlimit tight = saved;
    tight.rlim_cur = limit;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &tight), 0);
    const auto start = std::chrono::steady_clock::now();
    const long rc = create(0, 8);
    ::setrlimit(RLIMIT_NOFILE, &saved);
    EXPECT_EQ(rc, -EMFILE);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    ASSERT_EQ(create(0, 2), 0);  // nothing was left behind
}

// The hosted relay runs on the vCPU's thread; when it throws, hv reports the
// failure, then powers the VM off with its synthetic S5 write.
TEST_F(HypercallTest, AnExceptionOnAVcpuThreadIsReportedAndPowersTheVmOff) {
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    load_program({0xB0, 0x01, 0xE6, 0xE5, 0xFA, 0xF4, 0xEB, 0xFD});  // mov al,1; out 0xE5,al; cli; hlt
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(1));
    const SeenRequest& seen = service_os_.seen_requests.front();
    EXPECT_EQ(seen.address, 0x404u);
    EXPECT_EQ(seen.value, (5u << 10) | (1u << 13));
    std::lock_guard lock(service_os_.mutex);
    ASSERT_EQ(service_os_.fatal_reports.size(), 1u);
    EXPECT_EQ(service_os_.fatal_reports[0], "vCPU 0: the relay broke on port 0xE5");
}

bool readable_within(int fd, int milliseconds) {
    pollfd poll_fd{fd, POLLIN, 0};
    return ::poll(&poll_fd, 1, milliseconds) == 1;
}

// A guest that takes MSI vector 0x30 (out 0xE3) and level-triggered INTx on
// IOAPIC pin 5 as vector 0x31 (out 0xE4), EOIs both, and says it is ready
// with out 0xE0. The MSI irqfd comes first, so its KVM_SET_GSI_ROUTING must
// keep pin 5's default route for the INTx irqfd to work.
TEST_F(HypercallTest, IrqfdsRaiseAnMsiAndALevelIntxWithResample) {
    ASSERT_EQ(create(), 0);
    map_ram_and_buffer();
    const auto put = [&](std::uint32_t at, std::initializer_list<std::uint8_t> bytes) {
        std::memcpy(ram_ + at, bytes.begin(), bytes.size());
    };
    put(0x1180, {0x1F, 0x00, 0x00, 0x12, 0x00, 0x00});  // GDTR: 4 entries at 0x1200
    put(0x1190, {0x8F, 0x01, 0x00, 0x13, 0x00, 0x00});  // IDTR: 0x32 gates at 0x1300
    std::memset(ram_ + 0x1200, 0, 0x1000);
    put(0x1210, {0xFF, 0xFF, 0x00, 0x00, 0x00, 0x9A, 0xCF, 0x00});  // 0x10: flat code
    put(0x1218, {0xFF, 0xFF, 0x00, 0x00, 0x00, 0x92, 0xCF, 0x00});  // 0x18: flat data
    put(0x1300 + 0x30 * 8, {0x00, 0x18, 0x10, 0x00, 0x00, 0x8E, 0x00, 0x00});  // -> 0x1800
    put(0x1300 + 0x31 * 8, {0x40, 0x18, 0x10, 0x00, 0x00, 0x8E, 0x00, 0x00});  // -> 0x1840
    // mov al,vector; out port,al; mov dword [0xFEE000B0],0 (EOI); iret
    put(0x1800, {0xB0, 0x30, 0xE6, 0xE3, 0xC7, 0x05, 0xB0, 0x00, 0xE0, 0xFE, 0, 0, 0, 0, 0xCF});
    put(0x1840, {0xB0, 0x31, 0xE6, 0xE4, 0xC7, 0x05, 0xB0, 0x00, 0xE0, 0xFE, 0, 0, 0, 0, 0xCF});
    load_program({
        0x0F, 0x01, 0x15, 0x80, 0x11, 0x00, 0x00,                    // lgdt [0x1180]
        0x0F, 0x01, 0x1D, 0x90, 0x11, 0x00, 0x00,                    // lidt [0x1190]
        0xB0, 0xFF, 0xE6, 0x21, 0xE6, 0xA1,                          // mask both PICs
        0xC7, 0x05, 0xF0, 0x00, 0xE0, 0xFE, 0xFF, 0x01, 0x00, 0x00,  // LAPIC SVR: enabled
        0xC7, 0x05, 0x00, 0x00, 0xC0, 0xFE, 0x1A, 0x00, 0x00, 0x00,  // IOREGSEL: pin 5, low
        0xC7, 0x05, 0x10, 0x00, 0xC0, 0xFE, 0x31, 0x80, 0x00, 0x00,  // level, vector 0x31
        0xFB,                                                        // sti
        0xB0, 0x42, 0xE6, 0xE0,                                      // out 0xE0: ready
        0xF4, 0xEB, 0xFD,                                            // hlt; jmp $-1
    });
    const EventFd msi_event;
    const EventFd intx_event;
    const EventFd resample;
    IrqfdRequest msi;
    msi.kind = IrqfdRequest::Kind::msi;
    msi.fd = msi_event.fd();
    msi.msi = acrn_msi_entry{0xFEE0'0000, 0x30};
    const long msi_id = hypervisor_.add_irqfd(static_cast<std::uint16_t>(vmid_), msi);
    ASSERT_GT(msi_id, 0);
    IrqfdRequest intx;
    intx.kind = IrqfdRequest::Kind::intx_level;
    intx.fd = intx_event.fd();
    intx.gsi = 5;
    intx.resample_fd = resample.fd();
    const long intx_id = hypervisor_.add_irqfd(static_cast<std::uint16_t>(vmid_), intx);
    ASSERT_GT(intx_id, 0);
    intx.gsi = 99;
    EXPECT_EQ(hypervisor_.add_irqfd(static_cast<std::uint16_t>(vmid_), intx), -EINVAL);

    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(1));
    EXPECT_EQ(service_os_.seen_requests[0].address, 0xE0u);

    ASSERT_TRUE(msi_event.signal());
    ASSERT_TRUE(service_os_.wait_for(2, std::chrono::seconds(10)));
    EXPECT_EQ(service_os_.seen_requests[1].address, 0xE3u);

    EXPECT_FALSE(readable_within(resample.fd(), 0));
    ASSERT_TRUE(intx_event.signal());
    ASSERT_TRUE(service_os_.wait_for(3, std::chrono::seconds(10)));
    EXPECT_EQ(service_os_.seen_requests[2].address, 0xE4u);
    EXPECT_TRUE(readable_within(resample.fd(), 5000)) << "the guest's EOI did not signal the resample eventfd";
    EXPECT_EQ(resample.consume(), 1u);

    // The line was deasserted at the EOI: asserting it again interrupts again.
    ASSERT_TRUE(intx_event.signal());
    ASSERT_TRUE(service_os_.wait_for(4, std::chrono::seconds(10)));
    EXPECT_EQ(service_os_.seen_requests[3].address, 0xE4u);

    EXPECT_EQ(hypervisor_.remove_irqfd(static_cast<std::uint16_t>(vmid_), static_cast<int>(msi_id)), 0);
    EXPECT_EQ(hypervisor_.remove_irqfd(static_cast<std::uint16_t>(vmid_), static_cast<int>(msi_id)), -ENOENT);
    ASSERT_TRUE(msi_event.signal());
    EXPECT_FALSE(service_os_.wait_for(5, std::chrono::seconds(1))) << "a removed irqfd still interrupts";
    EXPECT_EQ(hypervisor_.remove_irqfd(static_cast<std::uint16_t>(vmid_), static_cast<int>(intx_id)), 0);
}

}  // namespace
}  // namespace acrn::hv
