// A small ACPI Machine Language writer: the encodings of ACPI 6.4 chapter 20
// (20.2, "AML Grammar Definition") that a DSDT needs, each as a function that
// returns the bytes of one term. Terms nest by value: a Device's body is the
// list of the terms it contains, already encoded.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace acrn::dm::acpi::aml {

using Bytes = std::vector<std::uint8_t>;

// Appends the low `size` bytes of `value`, least significant first.
void append_le(Bytes& out, std::uint64_t value, int size);

// 20.2.4: the PkgLength that precedes a body of `body_length` bytes. The
// length it encodes counts its own bytes too, so the form (1..4 bytes)
// depends on the total. Throws std::length_error past 2^28 - 1.
[[nodiscard]] Bytes pkg_length(std::size_t body_length);

// 20.2.3: an integer in its shortest form: ZeroOp, OneOp, OnesOp (all 64
// bits set), or a Byte/Word/DWord/QWordConst.
[[nodiscard]] Bytes integer(std::uint64_t value);
// A DWordConst even where a shorter form would do (EISA ids, by convention).
[[nodiscard]] Bytes dword_const(std::uint32_t value);
// 20.2.3: a String (ASCII 0x01..0x7F, NUL-terminated). Throws
// std::invalid_argument on other characters.
[[nodiscard]] Bytes string(std::string_view text);

// 20.2.2: a NameString: optional root prefix `\` or parent prefixes `^`,
// then dot-separated segments of up to 4 characters, padded with `_`
// ("\_SB.PCI0", "_HID", "^ISA"). Throws std::invalid_argument on a bad name.
[[nodiscard]] Bytes name_string(std::string_view path);

// 6.1.5: the compressed EISA id of "PNP0A03" and the like: three letters
// packed 5 bits each, then four hex digits, stored big-endian as a dword.
[[nodiscard]] std::uint32_t eisa_id(std::string_view id);
// The EISAID() ASL macro: that dword as a DWordConst.
[[nodiscard]] Bytes eisaid(std::string_view id);

// 20.2.5.1: Name (name, value) and Scope (path) { body }.
[[nodiscard]] Bytes name(std::string_view path, const Bytes& value);
[[nodiscard]] Bytes scope(std::string_view path, const std::vector<Bytes>& body);
// 20.2.5.2: Device (path) { body } and Method (path, args, serialized) { body }.
[[nodiscard]] Bytes device(std::string_view path, const std::vector<Bytes>& body);
[[nodiscard]] Bytes method(std::string_view path, std::uint8_t arg_count, bool serialized,
                           const std::vector<Bytes>& body);
// 20.2.5.3: Return (value).
[[nodiscard]] Bytes return_value(const Bytes& value);
// 20.2.5.4: Package () { elements } (at most 255) and Buffer () { bytes }.
[[nodiscard]] Bytes package(const std::vector<Bytes>& elements);
[[nodiscard]] Bytes buffer(std::span<const std::uint8_t> data);

}  // namespace acrn::dm::acpi::aml
