// A file for guest RAM that the kernel backs with transparent huge pages
// even where the host's shmem_enabled is 'never' (Debian's default), which
// leaves a memfd on 4 KiB pages: an unlinked file on a tmpfs mounted with
// huge=within_size. The mount is made in a mount namespace of a short-lived
// child process, so the host sees no mount and nothing is left behind; the
// child hands the open file back over a socket and exits, and the tmpfs
// lives as long as the file is open. Needs CAP_SYS_ADMIN (unshare of the
// mount namespace).
#pragma once

#include <cstdint>

#include "common/unique_fd.hpp"

namespace acrn::dm {

// A SIZE-byte file on a huge-page tmpfs of exactly that size. Throws
// std::system_error naming the step that failed (unshare, mount, ...).
[[nodiscard]] UniqueFd open_huge_tmpfs_file(std::uint64_t size);

}  // namespace acrn::dm
