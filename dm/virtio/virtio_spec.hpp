// Numbers from the virtio 1.2 specification (OASIS, virtio-v1.2-csd01):
// device status bits, transport feature bits, split-ring layout and the
// virtio-pci capability types. Only what the device model uses.
#pragma once

#include <cstdint>

namespace acrn::dm::virtio {

// 2.1 Device Status Field
namespace status {
inline constexpr std::uint8_t acknowledge = 1;
inline constexpr std::uint8_t driver = 2;
inline constexpr std::uint8_t driver_ok = 4;
inline constexpr std::uint8_t features_ok = 8;
inline constexpr std::uint8_t device_needs_reset = 0x40;
inline constexpr std::uint8_t failed = 0x80;
}  // namespace status

// 6 Reserved Feature Bits
namespace feature {
inline constexpr std::uint64_t indirect_desc = 1ull << 28;
inline constexpr std::uint64_t event_idx = 1ull << 29;
inline constexpr std::uint64_t version_1 = 1ull << 32;
}  // namespace feature

// 5 Device Types
enum class DeviceId : std::uint16_t { net = 1, block = 2, console = 3, entropy = 4 };

// 2.7 Split Virtqueues
namespace ring {
inline constexpr std::uint16_t desc_f_next = 1;
inline constexpr std::uint16_t desc_f_write = 2;
inline constexpr std::uint16_t desc_f_indirect = 4;
inline constexpr std::uint16_t avail_f_no_interrupt = 1;
inline constexpr std::uint16_t used_f_no_notify = 1;
inline constexpr std::uint64_t descriptor_size = 16;
inline constexpr std::uint64_t used_element_size = 8;
inline constexpr std::uint16_t max_queue_size = 32768;
}  // namespace ring

// 4.1.4 Virtio Structure PCI Capabilities
namespace pci_cap {
inline constexpr std::uint8_t common_cfg = 1;
inline constexpr std::uint8_t notify_cfg = 2;
inline constexpr std::uint8_t isr_cfg = 3;
inline constexpr std::uint8_t device_cfg = 4;
}  // namespace pci_cap

// 4.1.4.3 Common configuration structure layout
namespace common_cfg {
inline constexpr std::uint32_t device_feature_select = 0x00;
inline constexpr std::uint32_t device_feature = 0x04;
inline constexpr std::uint32_t driver_feature_select = 0x08;
inline constexpr std::uint32_t driver_feature = 0x0C;
inline constexpr std::uint32_t msix_config = 0x10;
inline constexpr std::uint32_t num_queues = 0x12;
inline constexpr std::uint32_t device_status = 0x14;
inline constexpr std::uint32_t config_generation = 0x15;
inline constexpr std::uint32_t queue_select = 0x16;
inline constexpr std::uint32_t queue_size = 0x18;
inline constexpr std::uint32_t queue_msix_vector = 0x1A;
inline constexpr std::uint32_t queue_enable = 0x1C;
inline constexpr std::uint32_t queue_notify_off = 0x1E;
inline constexpr std::uint32_t queue_desc = 0x20;
inline constexpr std::uint32_t queue_driver = 0x28;
inline constexpr std::uint32_t queue_device = 0x30;
inline constexpr std::uint32_t size = 0x38;
}  // namespace common_cfg

inline constexpr std::uint16_t kNoVector = 0xFFFF;  // VIRTIO_MSI_NO_VECTOR
inline constexpr std::uint8_t kIsrQueue = 1;
inline constexpr std::uint8_t kIsrConfig = 2;
inline constexpr std::uint16_t kPciVendor = 0x1AF4;
inline constexpr std::uint16_t kPciModernDeviceBase = 0x1040;  // + device id

}  // namespace acrn::dm::virtio
