// Reads fuzz input as little-endian fields; past the end every read gives zeros, so a target
// never has to check lengths before building its structures.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vitrine::fuzz {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;

  std::uint32_t u32() {
    std::uint32_t v = 0;
    const std::size_t k = n < 4 ? n : 4;
    if (k != 0) std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u32() & 0xFFFF); }
  std::uint8_t u8() { return static_cast<std::uint8_t>(u32() & 0xFF); }
  std::uint32_t below(std::uint32_t limit) { return u8() % limit; }
  // `len` bytes of input (zeros once the input runs out), in a buffer of exactly `len` bytes.
  template <typename Byte = std::uint8_t>
  std::vector<Byte> bytes(std::size_t len) {
    std::vector<Byte> out(len);
    const std::size_t k = n < len ? n : len;
    if (k != 0) std::memcpy(out.data(), p, k);
    p += k;
    n -= k;
    return out;
  }
};

}  // namespace vitrine::fuzz
