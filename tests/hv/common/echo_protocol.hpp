// The records hv's test guest program (hv_bus_echo) and the hv tests/benchmark exchange on
// channel 0. Fixed-width little-endian structs; every payload that carries data starts with
// the xxh3-64 of the bytes after it, so corruption anywhere on the path is detected.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace vitrine::hv::echo {

inline constexpr std::uint16_t kHello = 1;      // g->h: Hello
inline constexpr std::uint16_t kData = 2;       // h->g: [xxh3][bytes]; the guest echoes it
inline constexpr std::uint16_t kEcho = 3;       // g->h: the same payload back
inline constexpr std::uint16_t kGenerate = 4;   // h->g: Generate
inline constexpr std::uint16_t kGenerated = 5;  // g->h: [xxh3][bytes]
inline constexpr std::uint16_t kGenDone = 6;    // g->h: Done
inline constexpr std::uint16_t kNetSend = 7;    // h->g: NetSend
inline constexpr std::uint16_t kNetDone = 8;    // g->h: Done
inline constexpr std::uint16_t kBadData = 9;    // g->h: a kData record failed its checksum
inline constexpr std::uint16_t kProbe = 10;     // g->h: text, result of --probe-tcp
inline constexpr std::uint16_t kQuit = 11;      // h->g: exit(0)

struct Hello {
  std::uint64_t magic;  // kHelloMagic
  std::uint32_t pid;    // in the guest's pid namespace
  std::uint32_t attach; // 1 sandbox fds, 2 ivshmem, 3 path
};
inline constexpr std::uint64_t kHelloMagic = 0x4f4c4c4548564856ull;  // "VHVHELLO"

struct Generate {
  std::uint64_t count;
  std::uint32_t size;  // payload bytes per record, >= 8
  std::uint32_t seed;
};

struct NetSend {
  std::uint32_t ipv4;  // host byte order
  std::uint16_t port;
  std::uint16_t pad;
  std::uint64_t bytes;
};

struct Done {
  std::int32_t error;  // 0 or an errno
  std::uint32_t pad;
  std::uint64_t elapsed_ns;
  std::uint64_t bytes;
};

// Fills `out` (>= 8 bytes) with a deterministic pattern and its checksum in front.
inline void fill_checksummed(std::span<std::byte> out, std::uint64_t seed) {
  std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (std::size_t i = 8; i < out.size(); ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<std::byte>(x);
  }
  const std::uint64_t h = XXH3_64bits(out.data() + 8, out.size() - 8);
  std::memcpy(out.data(), &h, 8);
}

// The payload may change under us (the peer owns its bytes): hash what we read once.
inline bool verify_checksummed(std::span<const std::byte> in) {
  if (in.size() < 8) return false;
  std::uint64_t h;
  std::memcpy(&h, in.data(), 8);
  return XXH3_64bits(in.data() + 8, in.size() - 8) == h;
}

template <typename T>
bool read_struct(std::span<const std::byte> in, T& out) {
  if (in.size() != sizeof(T)) return false;
  std::memcpy(&out, in.data(), sizeof(T));
  return true;
}

}  // namespace vitrine::hv::echo
