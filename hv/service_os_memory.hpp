// How hv reaches what a hypercall names by Service-OS address: argument
// structures, the ioreq page, the pages of guest RAM. In hosted mode the
// Service OS is the host process itself, so an address is a pointer; in
// Service-VM mode it is a guest-physical address of the Service VM.
#pragma once

#include <cstddef>
#include <cstdint>

namespace acrn::hv {

class ServiceOsMemory {
public:
    virtual ~ServiceOsMemory() = default;
    // A host pointer to [address, address + size), or nullptr if that range
    // is not Service-OS memory.
    [[nodiscard]] virtual void* translate(std::uint64_t address, std::size_t size) const noexcept = 0;

    template <typename T>
    [[nodiscard]] T* object_at(std::uint64_t address) const noexcept {
        return static_cast<T*>(translate(address, sizeof(T)));
    }
};

class HostedServiceOsMemory final : public ServiceOsMemory {
public:
    [[nodiscard]] void* translate(std::uint64_t address, std::size_t size) const noexcept override {
        if (address == 0 || address + size < address) {
            return nullptr;
        }
        return reinterpret_cast<void*>(static_cast<std::uintptr_t>(address));
    }
};

}  // namespace acrn::hv
