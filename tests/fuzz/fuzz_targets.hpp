// The guest-facing parsers' fuzz targets. Each takes arbitrary bytes, drives
// the code the guest reaches with them, and returns 0; a crash, a sanitizer
// report or a hang is the failure. libFuzzer runs them (tests/fuzz, clang
// builds); the unit tier runs each on seeded random inputs as well.
#pragma once

#include <cstddef>
#include <cstdint>

namespace acrn::fuzz {

// PCI configuration space, BARs, MSI and MSI-X of two test devices sharing
// an INTx line, as the guest reaches them through config cycles and BARs.
int pci_function(const std::uint8_t* data, std::size_t size);

// A split virtqueue popping whatever descriptor tables and rings the bytes
// make: every chain it accepts lies in guest RAM and is bounded.
int virtio_chains(const std::uint8_t* data, std::size_t size);

// virtio-blk behind its transport, driven by a sequence of guest operations
// (ring and buffer writes, kicks, register accesses, resets).
int virtio_blk(const std::uint8_t* data, std::size_t size);

// virtio-console (three ports, host input waiting on each) driven the same
// way, the multiport control messages included.
int virtio_console(const std::uint8_t* data, std::size_t size);

// virtio-net behind its transport, the same guest operations, on a back end
// that takes every frame (sometimes only later) and offers 64 inbound ones.
int virtio_net(const std::uint8_t* data, std::size_t size);

// The command monitor's framing and request handling on a client's bytes
// (host-facing, but a local user's input all the same).
int monitor_protocol(const std::uint8_t* data, std::size_t size);

// A -k bzImage unpacked on the host: the payload found, decompressed and
// parsed as the kernel's ELF, and placed (host-facing: the user's file).
int kernel_image(const std::uint8_t* data, std::size_t size);

}  // namespace acrn::fuzz
