// The per-VM statistics as the command monitor's `stats` reply carries them:
// every count, the histograms' buckets included, so a client can draw them.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "dm/stats/vm_statistics.hpp"

namespace acrn::dm {

[[nodiscard]] nlohmann::json to_json(const VmStatistics& statistics);

}  // namespace acrn::dm
