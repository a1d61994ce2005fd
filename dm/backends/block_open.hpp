// How BlockFile opens its image: ACRN's retry of a refused read-write open
// as read-only. The open call is a parameter so that tests can make it
// refuse (as root, EACCES never happens on a real file).
#pragma once

#include <functional>
#include <string>

#include "common/unique_fd.hpp"

namespace acrn::dm {

struct OpenedImage {
    UniqueFd fd;
    bool read_only = false;
};

// ::open's shape: a descriptor, or -1 with errno set.
using ImageOpenCall = std::function<int(const char* path, int flags)>;

// Opens `path` with `flags` (everything but the access mode) read-only if
// `read_only`, else read-write, falling back to read-only (with a warning)
// when the kernel answers EACCES, EROFS or EPERM. Throws BlockOpenError.
[[nodiscard]] OpenedImage open_image_fd(const std::string& path, int flags, bool read_only,
                                        const ImageOpenCall& open_call);

}  // namespace acrn::dm
