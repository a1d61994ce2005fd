// The value of an I/O access of `size` bytes with every bit set: what an
// unclaimed read returns, and the mask that keeps a value to its size.
#pragma once

#include <cstdint>

namespace acrn {

[[nodiscard]] constexpr std::uint64_t all_ones(std::uint32_t size) noexcept {
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

}  // namespace acrn
