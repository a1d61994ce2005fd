// Owns one mmap()ed range; unmaps it exactly once.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <utility>

namespace acrn {

class Mapping {
public:
    Mapping() = default;
    Mapping(void* addr, std::size_t length) noexcept : addr_(addr), length_(length) {}
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    Mapping(Mapping&& other) noexcept
        : addr_(std::exchange(other.addr_, nullptr)), length_(std::exchange(other.length_, 0)) {}
    Mapping& operator=(Mapping&& other) noexcept {
        if (this != &other) {
            reset();
            addr_ = std::exchange(other.addr_, nullptr);
            length_ = std::exchange(other.length_, 0);
        }
        return *this;
    }
    ~Mapping() { reset(); }

    [[nodiscard]] std::uint8_t* data() const noexcept { return static_cast<std::uint8_t*>(addr_); }
    [[nodiscard]] std::size_t size() const noexcept { return length_; }
    [[nodiscard]] bool valid() const noexcept { return addr_ != nullptr; }

    // Gives up ownership without unmapping (the range was remapped or
    // handed to a Mapping of its own).
    void release() noexcept {
        addr_ = nullptr;
        length_ = 0;
    }

    void reset() noexcept {
        if (addr_ != nullptr) {
            ::munmap(addr_, length_);
        }
        addr_ = nullptr;
        length_ = 0;
    }

private:
    void* addr_ = nullptr;
    std::size_t length_ = 0;
};

}  // namespace acrn
