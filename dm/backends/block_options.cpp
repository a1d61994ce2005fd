// virtio-blk's configuration string, in ACRN's syntax:
//   [iothread[=N],][mq=N,]<path>|nodisk[,option]...
// with options writeback, writethru, ro, nocache, no_bst_block,
// discard[=max_sectors:max_segments:alignment], sectorsize=L[/P],
// range=lba/size, aio=threads|io_uring.
#include <charconv>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/option_fields.hpp"
#include "dm/backends/block_backend.hpp"

namespace acrn::dm {
namespace {

// Linux guests refuse a logical block larger than a page; a physical
// block is only a hint for alignment, so it may be larger.
constexpr std::uint32_t min_sector_size = 512;
constexpr std::uint32_t max_logical_sector_size = 4096;
constexpr std::uint32_t max_physical_sector_size = 65536;

// `discard` without values: requests of up to 4 GiB minus one sector (so
// a request's byte count still fits in 32 bits), one segment each, any
// sector alignment.
constexpr BlockOptions::Discard default_discard{std::numeric_limits<std::uint32_t>::max() / 512, 1, 1};

[[noreturn]] void reject(const std::string& message) { throw std::invalid_argument("virtio-blk: " + message); }

[[noreturn]] void reject_value(std::string_view field, std::string_view value, std::string_view problem) {
    reject(std::string(field) + ": '" + std::string(value) + "' " + std::string(problem));
}

// A decimal number that must fill `text` entirely (no sign, no spaces).
template <typename Number>
Number parse_option_number(std::string_view field, std::string_view text) {
    Number value{};
    const auto* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error == std::errc::invalid_argument || stop != end) {
        reject_value(field, text, "is not a decimal number");
    }
    if (error == std::errc::result_out_of_range) {
        reject_value(field, text, "is too large");
    }
    return value;
}

template <typename Number>
Number parse_positive(std::string_view field, std::string_view text) {
    const auto value = parse_option_number<Number>(field, text);
    if (value == 0) {
        reject_value(field, text, "must be at least 1");
    }
    return value;
}

std::uint32_t parse_sector_size(std::string_view field, std::string_view text, std::uint32_t max) {
    const auto size = parse_option_number<std::uint32_t>(field, text);
    if (size == 0 || (size & (size - 1)) != 0) {
        reject_value(field, text, "is not a power of two");
    }
    if (size < min_sector_size || size > max) {
        reject_value(field, text, "is outside " + std::to_string(min_sector_size) + ".." + std::to_string(max));
    }
    return size;
}

class BlockOptionsParser {
public:
    BlockOptions parse(std::string_view config) {
        if (config.empty()) {
            reject("needs a path or nodisk");
        }
        bool have_path = false;
        for (const auto token : split_fields(config, ',')) {
            const auto [key, value, has_value] = split_key_value(token);
            if (key == "iothread" || key == "mq") {
                if (have_path) {
                    reject("'" + std::string(key) + "' must come before the path");
                }
                parse_queue_option(key, value, has_value);
            } else if (!have_path) {
                set_path(token);
                have_path = true;
            } else {
                parse_option(key, value, has_value);
            }
        }
        if (!have_path) {
            reject("needs a path or nodisk");
        }
        return options_;
    }

private:
    void parse_queue_option(std::string_view key, std::string_view value, bool has_value) {
        if (key == "iothread") {
            once(seen_iothread_, "iothread");
            options_.iothreads = has_value ? parse_positive<unsigned>("iothread", value) : 1;
        } else {
            once(seen_mq_, "mq");
            if (!has_value) {
                reject("mq: needs a number of queues (mq=N)");
            }
            options_.queues = parse_positive<unsigned>("mq", value);
        }
    }

    void set_path(std::string_view token) {
        if (token.empty()) {
            reject("needs a path or nodisk");
        }
        if (token != "nodisk") {
            options_.path = std::string(token);
        }
    }

    void parse_option(std::string_view key, std::string_view value, bool has_value) {
        const auto flag = [&](std::string_view name) {
            if (has_value) {
                reject(std::string(name) + ": takes no value");
            }
        };
        if (key == "writeback") {
            flag(key);
            set_cache(BlockOptions::Cache::write_back, key);
        } else if (key == "writethru") {
            flag(key);
            set_cache(BlockOptions::Cache::write_through, key);
        } else if (key == "nocache") {
            flag(key);
            set_cache(BlockOptions::Cache::direct, key);
        } else if (key == "ro") {
            flag(key);
            options_.read_only = true;
        } else if (key == "no_bst_block") {
            // ACRN's vSBL quirk (a boot-time block size); nothing to do here.
            flag(key);
        } else if (key == "discard") {
            once(seen_discard_, "discard");
            options_.discard = has_value ? parse_discard(value) : default_discard;
        } else if (key == "sectorsize") {
            once(seen_sectorsize_, "sectorsize");
            parse_sector_sizes(value);
        } else if (key == "range") {
            once(seen_range_, "range");
            options_.range = parse_range(value);
        } else if (key == "aio") {
            once(seen_aio_, "aio");
            if (value == "threads") {
                options_.engine = BlockOptions::Engine::threads;
            } else if (value == "io_uring") {
                options_.engine = BlockOptions::Engine::io_uring;
            } else {
                reject_value("aio", value, "is not threads or io_uring");
            }
        } else {
            reject("unknown option '" + std::string(key) + "'");
        }
    }

    static void once(bool& seen, std::string_view name) {
        if (seen) {
            reject(std::string(name) + ": given twice");
        }
        seen = true;
    }

    // The same mode twice is harmless; writethru and nocache agree (direct
    // I/O is write-through); writeback and either of them do not.
    void set_cache(BlockOptions::Cache mode, std::string_view name) {
        using Cache = BlockOptions::Cache;
        if (cache_given_.empty()) {
            options_.cache = mode;
        } else if (options_.cache == Cache::write_back || mode == Cache::write_back) {
            if (options_.cache != mode) {
                reject("'" + std::string(name) + "' conflicts with '" + cache_given_ + "'");
            }
        } else if (mode == Cache::direct) {
            options_.cache = Cache::direct;
        }
        cache_given_ = std::string(name);
    }

    static BlockOptions::Discard parse_discard(std::string_view value) {
        const auto parts = split_fields(value, ':');
        if (parts.size() != 3) {
            reject_value("discard", value, "is not max_sectors:max_segments:alignment");
        }
        return {parse_positive<std::uint32_t>("discard max_sectors", parts[0]),
                parse_positive<std::uint32_t>("discard max_segments", parts[1]),
                parse_positive<std::uint32_t>("discard alignment", parts[2])};
    }

    void parse_sector_sizes(std::string_view value) {
        const auto slash = value.find('/');
        const auto logical_text = value.substr(0, slash);
        const auto logical = parse_sector_size("sectorsize", logical_text, max_logical_sector_size);
        auto physical = logical;
        if (slash != std::string_view::npos) {
            const auto physical_text = value.substr(slash + 1);
            physical = parse_sector_size("sectorsize", physical_text, max_physical_sector_size);
            // Both are powers of two, so not smaller means a multiple.
            if (physical < logical) {
                reject_value("sectorsize", value, "has a physical sector smaller than the logical one");
            }
        }
        options_.logical_sector = logical;
        options_.physical_sector = physical;
    }

    static BlockOptions::Range parse_range(std::string_view value) {
        const auto slash = value.find('/');
        if (slash == std::string_view::npos) {
            reject_value("range", value, "is not lba/size");
        }
        const BlockOptions::Range range{parse_option_number<std::uint64_t>("range lba", value.substr(0, slash)),
                                        parse_positive<std::uint64_t>("range size", value.substr(slash + 1))};
        if (range.start_lba > std::numeric_limits<std::uint64_t>::max() - range.sectors) {
            reject_value("range", value, "ends past the largest sector number");
        }
        return range;
    }

    BlockOptions options_;
    std::string cache_given_;
    bool seen_iothread_ = false;
    bool seen_mq_ = false;
    bool seen_discard_ = false;
    bool seen_sectorsize_ = false;
    bool seen_range_ = false;
    bool seen_aio_ = false;
};

}  // namespace

BlockOptions parse_block_options(std::string_view config) { return BlockOptionsParser().parse(config); }

}  // namespace acrn::dm
