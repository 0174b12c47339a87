// Conversions of Windows strings to UTF-8 (private to the catalog).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vitrine::catalog::detail {

void append_utf8(std::string& out, std::uint32_t code_point);
// UTF-16LE code units; unpaired surrogates become U+FFFD.
std::string utf16le_to_utf8(std::span<const std::byte> bytes);
// Windows-1252 (the usual ANSI code page of western installs); undefined bytes become U+FFFD.
std::string cp1252_to_utf8(std::span<const std::byte> bytes);

}  // namespace vitrine::catalog::detail
