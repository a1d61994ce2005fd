// The configuration of `-s N,virtio-net,...`, as ACRN writes it:
//     tap=<name>[,mac_seed=<seed>][,vhost][,mac=xx:xx:xx:xx:xx:xx]
// tap=<name> comes first. ACRN's quirk, kept: mac_seed= is read only
// directly after the tap name, and its seed is the whole rest of the string,
// commas included ("tap=t0,mac_seed=a,vhost" seeds with "a,vhost" and also
// turns vhost on, since every field is looked at for vhost and mac= too).
// A mac_seed= further on is ignored, as ACRN ignores it, with a warning.
// Without mac=, the MAC is ACRN's: 00:16:3E and the first three bytes of
// MD5("<slot>-<func>") or MD5("<slot>-<func>-<seed>").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace acrn::dm {

using MacAddress = std::array<std::uint8_t, 6>;

struct NetOptions {
    std::string tap;
    bool vhost = false;
    std::optional<MacAddress> mac;
    std::optional<std::string> mac_seed;
    bool misplaced_seed = false;  // a mac_seed= that ACRN would not read (ignored)
};

// Throws std::invalid_argument naming the field that is wrong.
[[nodiscard]] NetOptions parse_net_options(std::string_view config);
// "xx:xx:xx:xx:xx:xx", one or two hex digits each. Throws std::invalid_argument
// for anything else, a multicast or an all-zero address.
[[nodiscard]] MacAddress parse_mac(std::string_view text);
[[nodiscard]] MacAddress default_mac(unsigned slot, unsigned function, const std::optional<std::string>& seed);
[[nodiscard]] std::string format_mac(const MacAddress& mac);

}  // namespace acrn::dm
