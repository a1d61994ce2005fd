#include "dm/process_memory.hpp"

#include <malloc.h>
#include <pthread.h>

#include <cstring>

#include "common/log.hpp"

namespace acrn::dm {

namespace {

constexpr int kMmapThresholdBytes = 128 * 1024;  // glibc's initial value, kept

}  // namespace

void keep_own_memory_small() {
    // A fixed threshold also fixes the trim threshold (at 128 KiB): free
    // memory at the heap's top goes back as it did before any large free.
    if (::mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes) != 1) {
        log_debug("process memory: mallopt(M_MMAP_THRESHOLD) refused");
    }
    pthread_attr_t attributes;
    if (::pthread_attr_init(&attributes) != 0) {
        return;
    }
    int error = ::pthread_attr_setstacksize(&attributes, kThreadStackBytes);
    if (error == 0) {
        error = ::pthread_setattr_default_np(&attributes);
    }
    if (error != 0) {
        log_debug("process memory: threads keep the default stack size: {}", std::strerror(error));
    }
    ::pthread_attr_destroy(&attributes);
}

void return_free_heap_memory() { (void)::malloc_trim(0); }

}  // namespace acrn::dm
