// Resource descriptors for _CRS (ACPI 6.4, 6.4 "Resource Data Types for
// ACPI"), and the ResourceTemplate that wraps them in a Buffer with an End
// Tag. Each function returns one descriptor's bytes.
#pragma once

#include <cstdint>
#include <vector>

#include "dm/acpi/aml.hpp"

namespace acrn::dm::acpi::aml {

// Who the range belongs to. A bridge forwards (produces) its windows; a
// device consumes what it decodes itself. 6.4.3.5.1-3 call the bit ignored
// for Word/DWord/QWord descriptors, but ASL's ResourceUsage still sets it.
enum class Usage { producer, consumer };

enum class Cacheability : std::uint8_t { non_cacheable = 0, cacheable = 1, write_combining = 2, prefetchable = 3 };

// 6.4.2.5: IO (Decode16, min, max, alignment, length).
[[nodiscard]] Bytes io(std::uint16_t min, std::uint16_t max, std::uint8_t alignment, std::uint8_t length);
// The common case: `length` ports at a fixed `base`.
[[nodiscard]] Bytes io_fixed(std::uint16_t base, std::uint8_t length);

// 6.4.2.1: IRQNoFlags () {irq} (edge, active high, exclusive) and IRQ with
// explicit flags. ISA IRQs only (0..15).
[[nodiscard]] Bytes irq_no_flags(std::uint8_t irq);
[[nodiscard]] Bytes irq(std::uint8_t irq, bool level_triggered, bool active_low, bool shared);

// 6.4.3.4: Memory32Fixed (ReadWrite or ReadOnly, base, length).
[[nodiscard]] Bytes memory32_fixed(std::uint32_t base, std::uint32_t length, bool writable = true);

// 6.4.3.5.3: WordBusNumber (usage, MinFixed, MaxFixed, PosDecode, ...) for
// buses [min, max].
[[nodiscard]] Bytes word_bus_number(Usage usage, std::uint16_t min, std::uint16_t max);
// 6.4.3.5.3: WordIO (usage, MinFixed, MaxFixed, PosDecode, EntireRange, ...)
// for ports [min, max].
[[nodiscard]] Bytes word_io(Usage usage, std::uint16_t min, std::uint16_t max);
// 6.4.3.5.2 and .1: DWordMemory / QWordMemory (usage, PosDecode, MinFixed,
// MaxFixed, cacheability, ReadWrite, ...) for [min, max].
[[nodiscard]] Bytes dword_memory(Usage usage, Cacheability cacheability, std::uint32_t min, std::uint32_t max);
[[nodiscard]] Bytes qword_memory(Usage usage, Cacheability cacheability, std::uint64_t min, std::uint64_t max);

// ResourceTemplate () { descriptors }: a Buffer of the descriptors and an
// End Tag (6.4.2.9) whose checksum makes the whole list sum to zero.
[[nodiscard]] Bytes resource_template(const std::vector<Bytes>& descriptors);

}  // namespace acrn::dm::acpi::aml
