// Serves one I/O request from the shared page: resolves it through the
// buses, calls the device, and writes a read's value back into the request.
// Pure: no threads, no HSM, so tests feed it synthetic requests.
#pragma once

#include <cstdint>

#include "abi/acrn/abi.h"

namespace acrn::dm {

struct IoBuses;

enum class IoreqResult { handled, unclaimed, malformed };

IoreqResult handle_ioreq(acrn_io_request& request, IoBuses& buses, std::uint32_t vcpu);

}  // namespace acrn::dm
