// KVM tier: the hypervisor core driven through ACRN's hypercalls, with this
// test playing the Service OS: it answers each request that hv puts in the
// ioreq page and sees exactly what the guest's instructions produced.
// Needs /dev/kvm (run by tests/kvm/kvm-tier.sh).
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "abi/acrn/ioreq_slot.hpp"
#include "hv/hypervisor.hpp"
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
            EXPECT_EQ(hypervisor->hypercall(HC_NOTIFY_REQUEST_FINISH, vmid, vcpu), 0);
        }
        {
            std::lock_guard lock(mutex);
            seen_requests.push_back(seen);
        }
        changed.notify_all();
    }

    bool wait_for(std::size_t count, std::chrono::seconds limit = std::chrono::seconds(30)) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, limit, [&] { return seen_requests.size() >= count; });
    }

    acrn_io_request_buffer* page = nullptr;
    Hypervisor* hypervisor = nullptr;
    std::atomic<bool> answer{true};
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<SeenRequest> seen_requests;
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

TEST_F(HypercallTest, PortProgramInPollingMode) {
    ASSERT_EQ(create(ACRN_GUEST_FLAG_IO_COMPLETION_POLLING), 0);
    map_ram_and_buffer();
    load_program(kPortProgram);
    ASSERT_EQ(hypervisor_.hypercall(HC_START_VM, vmid_, 0), 0);
    ASSERT_TRUE(service_os_.wait_for(3));
    expect_port_program(service_os_.seen_requests, 0);
    EXPECT_EQ(page_->req_slot[0].completion_polling, 1u);
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

}  // namespace
}  // namespace acrn::hv
