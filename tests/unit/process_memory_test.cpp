#include "dm/process_memory.hpp"

#include <gtest/gtest.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <vector>

#ifndef __has_feature
#define __has_feature(feature) 0
#endif

namespace acrn::dm {
namespace {

// Runs CHECKS in a child process, since the settings hold for the whole
// process; CHECKS returns the child's exit status, 0 for success. The
// checks use malloc and threads after fork(), which glibc allows: its fork
// takes malloc's locks and leaves them usable in the child.
template <typename Checks>
int status_of_child(Checks checks) {
    const pid_t child = ::fork();
    if (child == 0) {
        ::_exit(checks());
    }
    int status = 0;
    if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status)) {
        return -1;
    }
    return WEXITSTATUS(status);
}

std::size_t stack_size_of_a_new_thread() {
    std::size_t size = 0;
    std::thread([&size] {
        pthread_attr_t attributes;
        if (::pthread_getattr_np(::pthread_self(), &attributes) == 0) {
            (void)::pthread_attr_getstacksize(&attributes, &size);
            ::pthread_attr_destroy(&attributes);
        }
    }).join();
    return size;
}

TEST(ProcessMemoryTest, ThreadsStartedAfterwardsGetTheSmallStack) {
    const int status = status_of_child([] {
        if (stack_size_of_a_new_thread() < 2 * 1024 * 1024) {
            return 2;  // the default is 8 MiB: the check below could not fail
        }
        keep_own_memory_small();
        return stack_size_of_a_new_thread() == kThreadStackBytes ? 0 : 1;
    });
    EXPECT_EQ(status, 0) << "1: a new thread's stack is not kThreadStackBytes; 2: the default was already small";
}

// The sanitizers' allocators stand in for glibc's malloc and ignore
// mallopt(); the plain unit tier runs this.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !__has_feature(address_sanitizer) && \
    !__has_feature(thread_sanitizer)
// glibc's default: once an 8 MiB buffer is freed, a 4 MiB one comes from the
// heap (and stays there when freed). Fixed, it is mapped, and unmapped.
TEST(ProcessMemoryTest, BuffersOfAFewMiBAreMappedEvenAfterALargerOneWasFreed) {
    const auto mapped_bytes_of_4_mib_after_8 = [] {
        char* volatile large = static_cast<char*>(std::malloc(8 << 20));  // volatile: not elided
        std::free(large);
        std::vector<char> buffer(4 << 20, 1);
        return ::mallinfo2().hblkhd;
    };
    EXPECT_EQ(status_of_child([&] { return mapped_bytes_of_4_mib_after_8() < (4u << 20) ? 0 : 1; }), 0)
        << "glibc's dynamic threshold did not put the buffer on the heap: the next check proves nothing";
    EXPECT_EQ(status_of_child([&] {
                  keep_own_memory_small();
                  return mapped_bytes_of_4_mib_after_8() >= (4u << 20) ? 0 : 1;
              }),
              0);
}
#endif

}  // namespace
}  // namespace acrn::dm
