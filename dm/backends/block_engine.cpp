#include <algorithm>
#include <cstring>

#include "common/log.hpp"
#include "dm/backends/block_backend.hpp"
#include "dm/backends/block_engines.hpp"

namespace acrn::dm {
namespace {

// Older kernels refuse deeper rings; a virtqueue rarely has more requests.
constexpr unsigned max_engine_depth = 4096;

}  // namespace

std::unique_ptr<BlockEngine> make_block_engine(BlockFile& file, unsigned workers) {
    if (file.options().engine == BlockOptions::Engine::io_uring) {
        int error = 0;
        if (auto engine = make_io_uring_block_engine(file, std::min(workers, max_engine_depth), error)) {
            return engine;
        }
        log_warning("virtio-blk: '{}': no io_uring ({}); using the thread pool", file.path(), std::strerror(-error));
    }
    return make_thread_pool_block_engine(file, workers);
}

}  // namespace acrn::dm
