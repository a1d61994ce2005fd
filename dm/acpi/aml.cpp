#include "dm/acpi/aml.hpp"

#include <stdexcept>
#include <string>

namespace acrn::dm::acpi::aml {

void append_le(Bytes& out, std::uint64_t value, int size) {
    for (int i = 0; i < size; ++i) {
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
    }
}

namespace {

// Opcodes (20.3, "AML Byte Stream Byte Values").
namespace op {
constexpr std::uint8_t zero = 0x00;
constexpr std::uint8_t one = 0x01;
constexpr std::uint8_t name = 0x08;
constexpr std::uint8_t byte_prefix = 0x0A;
constexpr std::uint8_t word_prefix = 0x0B;
constexpr std::uint8_t dword_prefix = 0x0C;
constexpr std::uint8_t string_prefix = 0x0D;
constexpr std::uint8_t qword_prefix = 0x0E;
constexpr std::uint8_t scope = 0x10;
constexpr std::uint8_t buffer = 0x11;
constexpr std::uint8_t package = 0x12;
constexpr std::uint8_t method = 0x14;
constexpr std::uint8_t dual_name_prefix = 0x2E;
constexpr std::uint8_t multi_name_prefix = 0x2F;
constexpr std::uint8_t ext_prefix = 0x5B;
constexpr std::uint8_t device = 0x82;  // after ext_prefix
constexpr std::uint8_t root_char = '\\';
constexpr std::uint8_t parent_prefix = '^';
constexpr std::uint8_t return_op = 0xA4;
constexpr std::uint8_t ones = 0xFF;
}  // namespace op

constexpr std::size_t kNameSegLength = 4;

void append(Bytes& out, const Bytes& bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

Bytes prefixed(std::uint8_t prefix, std::uint64_t value, int size) {
    Bytes out{prefix};
    append_le(out, value, size);
    return out;
}

// 20.2.2: NameSeg := LeadNameChar NameChar NameChar NameChar, where a lead
// char is 'A'-'Z' or '_' and the others may also be '0'-'9'.
void append_name_seg(Bytes& out, std::string_view segment, std::string_view path) {
    const auto invalid = [&] { return std::invalid_argument("bad AML name segment in \"" + std::string(path) + "\""); };
    if (segment.empty() || segment.size() > kNameSegLength) {
        throw invalid();
    }
    for (std::size_t i = 0; i < segment.size(); ++i) {
        const char c = segment[i];
        const bool lead = (c >= 'A' && c <= 'Z') || c == '_';
        if (!lead && !(i > 0 && c >= '0' && c <= '9')) {
            throw invalid();
        }
        out.push_back(static_cast<std::uint8_t>(c));
    }
    out.insert(out.end(), kNameSegLength - segment.size(), '_');
}

// Opcode, PkgLength, then the body: the shape of every term with a body.
Bytes with_pkg_length(const Bytes& opcode, const Bytes& body) {
    Bytes out = opcode;
    append(out, pkg_length(body.size()));
    append(out, body);
    return out;
}

Bytes join(const std::vector<Bytes>& terms) {
    Bytes out;
    for (const Bytes& term : terms) {
        append(out, term);
    }
    return out;
}

}  // namespace

Bytes pkg_length(std::size_t body_length) {
    // 20.2.4: one byte holds up to 63 in bits 5:0; longer forms put the
    // count of following bytes in bits 7:6, the low nibble in bits 3:0, and
    // 8 more bits per following byte.
    if (body_length + 1 <= 0x3F) {
        return {static_cast<std::uint8_t>(body_length + 1)};
    }
    for (std::size_t extra = 1; extra <= 3; ++extra) {
        const std::size_t total = body_length + 1 + extra;
        if (total < (std::size_t{1} << (4 + 8 * extra))) {
            Bytes out{static_cast<std::uint8_t>((extra << 6) | (total & 0x0F))};
            append_le(out, total >> 4, static_cast<int>(extra));
            return out;
        }
    }
    throw std::length_error("AML package longer than a PkgLength can encode");
}

Bytes integer(std::uint64_t value) {
    if (value == 0) {
        return {op::zero};
    }
    if (value == 1) {
        return {op::one};
    }
    if (value == ~std::uint64_t{0}) {
        return {op::ones};
    }
    if (value <= 0xFF) {
        return prefixed(op::byte_prefix, value, 1);
    }
    if (value <= 0xFFFF) {
        return prefixed(op::word_prefix, value, 2);
    }
    if (value <= 0xFFFF'FFFF) {
        return prefixed(op::dword_prefix, value, 4);
    }
    return prefixed(op::qword_prefix, value, 8);
}

Bytes dword_const(std::uint32_t value) { return prefixed(op::dword_prefix, value, 4); }

Bytes string(std::string_view text) {
    Bytes out{op::string_prefix};
    for (const char c : text) {
        if (c <= 0 || static_cast<unsigned char>(c) > 0x7F) {
            throw std::invalid_argument("AML strings are ASCII without NUL");
        }
        out.push_back(static_cast<std::uint8_t>(c));
    }
    out.push_back(0);
    return out;
}

Bytes name_string(std::string_view path) {
    const std::string_view whole = path;
    Bytes out;
    if (!path.empty() && path.front() == '\\') {
        out.push_back(op::root_char);
        path.remove_prefix(1);
    } else {
        while (!path.empty() && path.front() == '^') {
            out.push_back(op::parent_prefix);
            path.remove_prefix(1);
        }
    }
    std::vector<std::string_view> segments;
    while (!path.empty()) {
        const std::size_t dot = path.find('.');
        segments.push_back(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
        if (dot != std::string_view::npos && path.empty()) {
            segments.push_back({});  // a trailing dot: an empty segment, refused below
        }
    }
    if (segments.empty()) {
        if (out.empty() || out.front() != op::root_char) {
            throw std::invalid_argument("empty AML name");
        }
        out.push_back(0);  // NullName: the root itself
        return out;
    }
    if (segments.size() == 2) {
        out.push_back(op::dual_name_prefix);
    } else if (segments.size() > 2) {
        if (segments.size() > 255) {
            throw std::invalid_argument("AML name with too many segments");
        }
        out.push_back(op::multi_name_prefix);
        out.push_back(static_cast<std::uint8_t>(segments.size()));
    }
    for (const std::string_view segment : segments) {
        append_name_seg(out, segment, whole);
    }
    return out;
}

std::uint32_t eisa_id(std::string_view id) {
    const auto is_upper = [](char c) { return c >= 'A' && c <= 'Z'; };
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (id.size() != 7 || !is_upper(id[0]) || !is_upper(id[1]) || !is_upper(id[2])) {
        throw std::invalid_argument("EISA id must be three letters and four hex digits");
    }
    std::uint32_t product = 0;
    for (std::size_t i = 3; i < 7; ++i) {
        const int digit = hex(id[i]);
        if (digit < 0) {
            throw std::invalid_argument("EISA id must be three letters and four hex digits");
        }
        product = (product << 4) | static_cast<std::uint32_t>(digit);
    }
    // 'A' is 1; the vendor's 15 bits and the product's 16 are stored
    // most-significant byte first, so the little-endian dword reads reversed.
    const std::uint32_t vendor = (std::uint32_t(id[0] - '@') << 10) | (std::uint32_t(id[1] - '@') << 5) |
                                 std::uint32_t(id[2] - '@');
    const std::uint32_t big_endian = (vendor << 16) | product;
    return ((big_endian & 0xFF) << 24) | ((big_endian & 0xFF00) << 8) | ((big_endian >> 8) & 0xFF00) |
           (big_endian >> 24);
}

Bytes eisaid(std::string_view id) { return dword_const(eisa_id(id)); }

Bytes name(std::string_view path, const Bytes& value) {
    Bytes out{op::name};
    append(out, name_string(path));
    append(out, value);
    return out;
}

Bytes scope(std::string_view path, const std::vector<Bytes>& body) {
    Bytes inner = name_string(path);
    append(inner, join(body));
    return with_pkg_length({op::scope}, inner);
}

Bytes device(std::string_view path, const std::vector<Bytes>& body) {
    Bytes inner = name_string(path);
    append(inner, join(body));
    return with_pkg_length({op::ext_prefix, op::device}, inner);
}

Bytes method(std::string_view path, std::uint8_t arg_count, bool serialized, const std::vector<Bytes>& body) {
    // 20.2.5.2: MethodFlags bits 2:0 ArgCount, bit 3 SerializeFlag, bits 7:4
    // SyncLevel (left 0).
    if (arg_count > 7) {
        throw std::invalid_argument("AML methods take at most 7 arguments");
    }
    Bytes inner = name_string(path);
    inner.push_back(static_cast<std::uint8_t>(arg_count | (serialized ? 0x08 : 0x00)));
    append(inner, join(body));
    return with_pkg_length({op::method}, inner);
}

Bytes return_value(const Bytes& value) {
    Bytes out{op::return_op};
    append(out, value);
    return out;
}

Bytes package(const std::vector<Bytes>& elements) {
    // NumElements is one byte; longer lists would need VarPackageOp.
    if (elements.size() > 0xFF) {
        throw std::invalid_argument("AML Package with more than 255 elements");
    }
    Bytes inner{static_cast<std::uint8_t>(elements.size())};
    append(inner, join(elements));
    return with_pkg_length({op::package}, inner);
}

Bytes buffer(std::span<const std::uint8_t> data) {
    Bytes inner = integer(data.size());
    inner.insert(inner.end(), data.begin(), data.end());
    return with_pkg_length({op::buffer}, inner);
}

}  // namespace acrn::dm::acpi::aml
