// An MSI as a PCI function writes it: a DWORD of data to an address in the
// LAPICs' window. MSI and MSI-X produce them; InterruptSources sends them.
#pragma once

#include <cstdint>

namespace acrn::dm {

struct MsiMessage {
    std::uint64_t address = 0;
    std::uint32_t data = 0;

    friend bool operator==(const MsiMessage&, const MsiMessage&) = default;
};

// A message that a capability releases: for vector `vector` of the function.
struct MsiDelivery {
    unsigned vector;
    MsiMessage message;
};

}  // namespace acrn::dm
