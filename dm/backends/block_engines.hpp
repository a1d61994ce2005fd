// The two engines behind make_block_engine, for it and for tests that want
// one of them by name.
#pragma once

#include <memory>

#include "dm/backends/block_backend.hpp"

namespace acrn::dm {

// `workers` threads (at least one).
[[nodiscard]] std::unique_ptr<BlockEngine> make_thread_pool_block_engine(BlockFile& file, unsigned workers);

// A ring of `depth` entries, or nullptr with `error` set to -errno where
// the kernel refuses one (no io_uring, seccomp, a depth it will not take).
[[nodiscard]] std::unique_ptr<BlockEngine> make_io_uring_block_engine(BlockFile& file, unsigned depth, int& error);

}  // namespace acrn::dm
