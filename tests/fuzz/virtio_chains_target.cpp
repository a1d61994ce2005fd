#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dm/guest_memory.hpp"
#include "dm/virtio/virtio_spec.hpp"
#include "dm/virtio/virtqueue.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace acrn::fuzz {

int virtio_chains(const std::uint8_t* data, std::size_t size) {
    if (size < 1) {
        return 0;
    }
    // The first byte picks the features; the rest is the guest memory the
    // rings and indirect tables live in, from the start of the queue area.
    static dm::GuestMemory memory(2ull << 20);
    constexpr std::uint64_t kArea = 0x10'0000;
    constexpr std::size_t kAreaSize = 0x4000;
    const auto span = memory.span(kArea, kAreaSize);
    std::memset(span.data(), 0, span.size());
    std::memcpy(span.data(), data + 1, std::min(size - 1, kAreaSize));
    constexpr dm::VirtqueueLayout kLayout{16, kArea, kArea + 0x100, kArea + 0x200};
    dm::Virtqueue queue(memory);
    std::string error;
    if (!queue.start(kLayout, (data[0] & 1) != 0, (data[0] & 2) != 0, error)) {
        throw std::logic_error("a valid layout was refused: " + error);
    }
    dm::DescriptorChain chain;
    for (int popped = 0; popped < 64; ++popped) {
        const auto status = queue.pop(chain, error);
        if (status != dm::Virtqueue::PopStatus::chain) {
            break;
        }
        for (const auto* ranges : {&chain.readable, &chain.writable}) {
            for (const dm::GuestRange& range : *ranges) {
                if (memory.span(range.gpa, range.length).size() != range.length || range.length == 0) {
                    throw std::logic_error("a chain with a buffer outside guest RAM was accepted");
                }
            }
        }
        if (chain.readable.size() + chain.writable.size() > dm::virtio::ring::max_queue_size) {
            throw std::logic_error("a chain longer than any table was accepted");
        }
        (void)queue.push(chain, static_cast<std::uint32_t>(chain.writable_bytes));
        (void)queue.should_interrupt();
    }
    return 0;
}

}  // namespace acrn::fuzz
