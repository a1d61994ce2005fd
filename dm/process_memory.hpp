// acrn-dm's own memory, outside guest RAM: what one more VM costs the host
// beyond its RAM. Two defaults of glibc's make it several MiB where a few
// hundred KiB are in use, on hosts whose transparent huge pages are
// 'always' (Debian's kernel):
// - a thread's 8 MiB stack holds a 2 MiB-aligned range, which the first
//   touch of the stack fills with a whole huge page;
// - after a large buffer is freed, malloc raises its mmap threshold to that
//   buffer's size, so the next buffers of a few MiB (the initrd, a
//   decompressor's window) come from the heap, which is then not given
//   back, and in huge pages.
#pragma once

#include <cstddef>

namespace acrn::dm {

// Stack size of every thread acrn-dm or a library it uses starts after this
// call: too small for a 2 MiB-aligned range, ample for a device's handlers.
inline constexpr std::size_t kThreadStackBytes = 1024 * 1024;

// Call first in main(), before any thread exists: threads get
// kThreadStackBytes of stack, and buffers over 128 KiB are mapped and
// unmapped on their own for the process's whole life. Failures change
// nothing but the memory used, so they are only logged at debug level.
void keep_own_memory_small();

// Gives the heap's free pages back to the host (after the boot images
// are loaded and released).
void return_free_heap_memory();

}  // namespace acrn::dm
