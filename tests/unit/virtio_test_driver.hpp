// A virtio driver for unit tests: guest memory with split rings in it, and
// the steps a guest's virtio_pci driver takes (status, features, queue
// setup, kicks), made through the same entry points the ioreq loop uses
// (PCI configuration space and the BARs on the MMIO bus). The event loop is
// run by hand (run_loop) where the device's queue work lands.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <cstring>
#include <memory>
#include <vector>

#include "dm/guest_memory.hpp"
#include "dm/irq/interrupt_sources.hpp"
#include "dm/machine/device_context.hpp"
#include "dm/virtio/virtio_pci.hpp"
#include "tests/unit/device_test_support.hpp"

namespace acrn::dm::test_support {

class RecordingFastPaths final : public FastPaths {
public:
    int ioeventfd(const acrn_ioeventfd& request) override {
        ioeventfds.push_back(request);
        return result;
    }
    int irqfd(const acrn_irqfd& request) override {
        irqfds.push_back(request);
        return result;
    }
    int result = -ENOTTY;  // by default the relay offers no fast paths
    std::vector<acrn_ioeventfd> ioeventfds;
    std::vector<acrn_irqfd> irqfds;
};

struct DriverBuffer {
    std::uint64_t gpa;
    std::uint32_t length;
    bool device_writable;
};

class VirtioTestDriver {
public:
    static constexpr std::uint64_t kVirtioBar = 0xC000'0000;
    static constexpr std::uint64_t kMsixBar = 0xC001'0000;
    static constexpr std::uint64_t kRings = 0x10'0000;     // queue N's rings at kRings + N * 64 KiB
    static constexpr std::uint64_t kBuffers = 0x80'0000;   // data buffers from here
    static constexpr std::uint32_t kGsi = 20;
    static constexpr std::uint16_t kQueueSize = 16;

    VirtioTestDriver() = default;

    [[nodiscard]] DeviceContext context(std::string_view config = {}) {
        return DeviceContext{PciAddress{0, 4, 0}, config, memory, sources, loop, fast_paths, power, settings, 2};
    }

    void attach(const std::shared_ptr<VirtioPciDevice>& attached) {
        device = attached;
        device->place_bar(VirtioPciDevice::kVirtioBar, kVirtioBar);
        if (device->bar_kind(VirtioPciDevice::kMsixBar) != BarKind::none) {
            device->place_bar(VirtioPciDevice::kMsixBar, kMsixBar);
        }
        device->connect_interrupts(sources, kGsi);
        device->attach(pio, mmio);
        device->config_write(0x04, 2, kCommandMemorySpace | kCommandBusMaster);
    }

    std::uint64_t bar_read(std::uint64_t offset, std::uint32_t size) {
        const std::uint64_t address = kVirtioBar + offset;
        auto target = mmio.resolve(address, size);
        return target ? target->device->read(IoAccess{address, address - target->base, size, 0}) : ~0ull;
    }
    void bar_write(std::uint64_t offset, std::uint32_t size, std::uint64_t value) {
        const std::uint64_t address = kVirtioBar + offset;
        auto target = mmio.resolve(address, size);
        ASSERT_TRUE(target) << std::hex << address;
        target->device->write(IoAccess{address, address - target->base, size, 0}, value);
    }
    std::uint8_t status() { return static_cast<std::uint8_t>(bar_read(virtio::common_cfg::device_status, 1)); }
    void set_status(std::uint8_t value) { bar_write(virtio::common_cfg::device_status, 1, value); }

    std::uint64_t device_features() {
        bar_write(virtio::common_cfg::device_feature_select, 4, 0);
        std::uint64_t features = bar_read(virtio::common_cfg::device_feature, 4);
        bar_write(virtio::common_cfg::device_feature_select, 4, 1);
        return features | bar_read(virtio::common_cfg::device_feature, 4) << 32;
    }
    void write_driver_features(std::uint64_t features) {
        bar_write(virtio::common_cfg::driver_feature_select, 4, 0);
        bar_write(virtio::common_cfg::driver_feature, 4, features & 0xFFFFFFFF);
        bar_write(virtio::common_cfg::driver_feature_select, 4, 1);
        bar_write(virtio::common_cfg::driver_feature, 4, features >> 32);
    }

    // The steps of 3.1.1 up to DRIVER_OK with `features` and every queue
    // set up; with `vector_per_queue`, queue q interrupts on MSI-X vector q.
    void initialize(std::uint64_t features, bool vector_per_queue = false) {
        set_status(0);
        set_status(virtio::status::acknowledge);
        set_status(virtio::status::acknowledge | virtio::status::driver);
        write_driver_features(features);
        set_status(virtio::status::acknowledge | virtio::status::driver | virtio::status::features_ok);
        ASSERT_NE(status() & virtio::status::features_ok, 0) << "features refused";
        const auto queues = static_cast<unsigned>(bar_read(virtio::common_cfg::num_queues, 2));
        for (unsigned q = 0; q < queues; ++q) {
            setup_queue(q, vector_per_queue ? static_cast<std::uint16_t>(q) : virtio::kNoVector);
        }
        set_status(virtio::status::acknowledge | virtio::status::driver | virtio::status::features_ok |
                   virtio::status::driver_ok);
    }

    void setup_queue(unsigned q, std::uint16_t vector = virtio::kNoVector) {
        // Fresh rings, zeroed as a driver allocates them (a used index left
        // from before a reset would read as completions).
        const std::vector<std::uint8_t> zeros(0x10000, 0);
        ASSERT_TRUE(memory.write(desc(q), zeros.data(), zeros.size()));
        bar_write(virtio::common_cfg::queue_select, 2, q);
        bar_write(virtio::common_cfg::queue_size, 2, kQueueSize);
        bar_write(virtio::common_cfg::queue_msix_vector, 2, vector);
        write_address(virtio::common_cfg::queue_desc, desc(q));
        write_address(virtio::common_cfg::queue_driver, avail(q));
        write_address(virtio::common_cfg::queue_device, used(q));
        bar_write(virtio::common_cfg::queue_enable, 2, 1);
        avail_idx_.resize(std::max<std::size_t>(avail_idx_.size(), q + 1));
        next_desc_.resize(std::max<std::size_t>(next_desc_.size(), q + 1));
        avail_idx_[q] = 0;
        next_desc_[q] = 0;
    }

    static std::uint64_t desc(unsigned q) { return kRings + q * 0x10000ull; }
    static std::uint64_t avail(unsigned q) { return desc(q) + 0x4000; }
    static std::uint64_t used(unsigned q) { return desc(q) + 0x8000; }

    void write_descriptor(std::uint64_t table, unsigned index, std::uint64_t addr, std::uint32_t length,
                          std::uint16_t flags, std::uint16_t next) {
        std::uint8_t bytes[16];
        std::memcpy(bytes, &addr, 8);
        std::memcpy(bytes + 8, &length, 4);
        std::memcpy(bytes + 12, &flags, 2);
        std::memcpy(bytes + 14, &next, 2);
        ASSERT_TRUE(memory.write(table + 16ull * index, bytes, sizeof bytes));
    }

    // Makes a chain of `buffers` available on queue q; returns its head.
    std::uint16_t add_chain(unsigned q, const std::vector<DriverBuffer>& buffers) {
        const auto head = static_cast<std::uint16_t>(next_desc_[q] % kQueueSize);
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            const auto index = static_cast<std::uint16_t>((head + i) % kQueueSize);
            const bool last = i + 1 == buffers.size();
            std::uint16_t flags = buffers[i].device_writable ? virtio::ring::desc_f_write : 0;
            if (!last) flags |= virtio::ring::desc_f_next;
            write_descriptor(desc(q), index, buffers[i].gpa, buffers[i].length, flags,
                             static_cast<std::uint16_t>((index + 1) % kQueueSize));
        }
        next_desc_[q] += static_cast<std::uint16_t>(buffers.size());
        publish_head(q, head);
        return head;
    }
    void publish_head(unsigned q, std::uint16_t head) {
        const std::uint16_t slot = avail_idx_[q] % kQueueSize;
        EXPECT_TRUE(memory.write(avail(q) + 4 + 2ull * slot, &head, 2));
        ++avail_idx_[q];
        EXPECT_TRUE(memory.store_release<std::uint16_t>(avail(q) + 2, avail_idx_[q]));
    }

    // MSI-X on, `vector` programmed with `data` and unmasked.
    void enable_msix_vector(unsigned vector, std::uint32_t data) {
        const std::uint8_t msix = device->find_capability(MsixCapability::kId);
        device->config_write(msix + 2, 2, 0x8000);
        msix_table_write(vector, 0, 0xFEE0'0000);
        msix_table_write(vector, 2, data);
        msix_table_write(vector, 3, 0);
    }
    void mask_msix_vector(unsigned vector, bool masked) { msix_table_write(vector, 3, masked ? 1 : 0); }
    void msix_table_write(unsigned vector, unsigned dword, std::uint32_t value) {
        const std::uint64_t address = kMsixBar + vector * 16 + dword * 4;
        auto target = mmio.resolve(address, 4);
        ASSERT_TRUE(target);
        target->device->write(IoAccess{address, address - target->base, 4, 0}, value);
    }

    void kick(unsigned q) { bar_write(VirtioPciDevice::kNotifyOffset + VirtioPciDevice::kNotifyMultiplier * q, 2, q); }
    void run_loop() {
        loop.restart();
        loop.poll();
    }

    std::uint16_t used_idx(unsigned q) { return memory.load_acquire<std::uint16_t>(used(q) + 2).value_or(0xFFFF); }
    std::pair<std::uint32_t, std::uint32_t> used_element(unsigned q, unsigned i) {
        std::uint32_t element[2] = {~0u, ~0u};
        EXPECT_TRUE(memory.read(used(q) + 4 + 8ull * (i % kQueueSize), element, sizeof element));
        return {element[0], element[1]};
    }

    GuestMemory memory{16ull << 20};
    RecordingInterrupts interrupts;
    RecordingFastPaths fast_paths;  // before sources: their irqfds are released through it
    InterruptSources sources{interrupts};
    boost::asio::io_context loop;
    RecordingPower power;
    VirtioSettings settings;
    AddressBus pio{"pio"};
    AddressBus mmio{"mmio"};
    std::shared_ptr<VirtioPciDevice> device;

private:
    void write_address(std::uint32_t offset, std::uint64_t value) {
        bar_write(offset, 4, value & 0xFFFFFFFF);
        bar_write(offset + 4, 4, value >> 32);
    }

    std::vector<std::uint16_t> avail_idx_;
    std::vector<std::uint16_t> next_desc_;
};

}  // namespace acrn::dm::test_support
