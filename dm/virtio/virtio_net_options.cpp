#include "dm/virtio/virtio_net_options.hpp"

#include <nettle/md5.h>

#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <vector>

#include "common/option_fields.hpp"

namespace acrn::dm {
namespace {

constexpr std::string_view kTap = "tap=";
constexpr std::string_view kMac = "mac=";
constexpr std::string_view kMacSeed = "mac_seed=";
constexpr std::size_t kIfNameMax = 15;      // IFNAMSIZ less the terminating zero
constexpr std::size_t kSeedInputMax = 79;   // ACRN formats the MD5 input into char[80]

}  // namespace

MacAddress parse_mac(std::string_view text) {
    const auto fields = split_fields(text, ':');
    const std::string quoted = "mac='" + std::string(text) + "'";
    if (fields.size() != 6) {
        throw std::invalid_argument(quoted + ": want six ':'-separated hex bytes");
    }
    MacAddress mac{};
    for (std::size_t i = 0; i < 6; ++i) {
        const std::string_view field = fields[i];
        unsigned value = 0;
        const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value, 16);
        if (field.empty() || field.size() > 2 || error != std::errc{} || end != field.data() + field.size()) {
            throw std::invalid_argument(quoted + ": '" + std::string(field) + "' is not a hex byte");
        }
        mac[i] = static_cast<std::uint8_t>(value);
    }
    if ((mac[0] & 1) != 0) {
        throw std::invalid_argument(quoted + ": a multicast address (the first byte is odd)");
    }
    if (mac == MacAddress{}) {
        throw std::invalid_argument(quoted + ": the all-zero address");
    }
    return mac;
}

NetOptions parse_net_options(std::string_view config) {
    NetOptions options;
    const auto fields = split_fields(config, ',');
    if (!fields[0].starts_with(kTap)) {
        throw std::invalid_argument("virtio-net needs tap=<name> first (got '" + std::string(fields[0]) + "')");
    }
    options.tap = std::string(fields[0].substr(kTap.size()));
    if (options.tap.empty() || options.tap.size() > kIfNameMax) {
        throw std::invalid_argument("tap='" + options.tap + "': a name of 1 to " + std::to_string(kIfNameMax) +
                                    " characters");
    }
    std::size_t seed_fields_end = 1;  // fields [1, seed_fields_end) are part of the seed
    if (fields.size() > 1 && fields[1].starts_with(kMacSeed)) {
        const std::size_t seed_at = fields[0].size() + 1 + kMacSeed.size();
        options.mac_seed = std::string(config.substr(seed_at));
        seed_fields_end = fields.size();
    }
    for (std::size_t i = 1; i < fields.size(); ++i) {
        const std::string_view field = fields[i];
        if (field == "vhost") {
            options.vhost = true;
        } else if (field.starts_with(kMac)) {
            options.mac = parse_mac(field.substr(kMac.size()));
        } else if (i < seed_fields_end) {
            continue;  // the seed's own text
        } else if (field.starts_with(kMacSeed)) {
            options.misplaced_seed = true;
        } else {
            throw std::invalid_argument("unknown virtio-net option '" + std::string(field) +
                                        "' (tap=<name>[,mac_seed=<seed>][,vhost][,mac=<address>])");
        }
    }
    return options;
}

MacAddress default_mac(unsigned slot, unsigned function, const std::optional<std::string>& seed) {
    std::string input = std::to_string(slot) + "-" + std::to_string(function);
    if (seed) {
        input += "-" + *seed;
    }
    input.resize(std::min(input.size(), kSeedInputMax));
    md5_ctx context;
    md5_init(&context);
    md5_update(&context, input.size(), reinterpret_cast<const std::uint8_t*>(input.data()));
    std::uint8_t digest[MD5_DIGEST_SIZE];
    md5_digest(&context, sizeof digest, digest);
    return MacAddress{0x00, 0x16, 0x3E, digest[0], digest[1], digest[2]};
}

std::string format_mac(const MacAddress& mac) {
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    return text;
}

}  // namespace acrn::dm
