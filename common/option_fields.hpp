// Option strings as ACRN writes them ("path,ro,discard=8:1:1",
// "@pty:hvc0", "com5,stdio,0x3e8,4"): cut into fields at a separator, and
// a field into key and value at its first '='. Only the cutting; what a
// field may say is each parser's business.
#pragma once

#include <string_view>
#include <vector>

namespace acrn {

// `text` cut at every `separator`, empty fields kept: n separators give
// n + 1 fields, so "" is one empty field. The views point into `text`.
[[nodiscard]] inline std::vector<std::string_view> split_fields(std::string_view text, char separator) {
    std::vector<std::string_view> fields;
    for (;;) {
        const auto at = text.find(separator);
        fields.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return fields;
        }
        text.remove_prefix(at + 1);
    }
}

struct KeyValue {
    std::string_view key;
    std::string_view value;  // empty where there is no '='
    bool has_value = false;  // there was a '=' (perhaps with nothing after it)
};

// "key=value" at its first '=' (the value may hold more); "key" alone has
// no value, "key=" an empty one.
[[nodiscard]] inline KeyValue split_key_value(std::string_view field) {
    const auto equals = field.find('=');
    if (equals == std::string_view::npos) {
        return KeyValue{field, {}, false};
    }
    return KeyValue{field.substr(0, equals), field.substr(equals + 1), true};
}

}  // namespace acrn
