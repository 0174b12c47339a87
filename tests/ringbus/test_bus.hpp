// Helpers shared by the ringbus tests: a host and a guest view of one region, and
// self-checking payloads (sequence number + xxh3 of the body).
#pragma once

#include <gtest/gtest.h>
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "vitrine/ringbus/bus.hpp"

namespace vitrine::ringbus::testing {

// Host creates, guest attaches a second mapping of the same memfd: two independent sides,
// exactly as in two processes.
struct BusPair {
  Bus host;
  Bus guest;
};

inline BusPair make_pair(const BusConfig& config) {
  auto host = Bus::create(config);
  EXPECT_TRUE(host.has_value()) << (host ? "" : to_string(host.error()));
  auto guest = Bus::attach_fd(UniqueFd(::dup(host->fd())), Side::kGuest);
  EXPECT_TRUE(guest.has_value()) << (guest ? "" : to_string(guest.error()));
  return BusPair{std::move(*host), std::move(*guest)};
}

// Payload format: [u64 sequence][u64 xxh3 of body][body...]; records shorter than 16 bytes
// carry a prefix of the sequence number only (checked as far as it goes).
struct PayloadPool {
  std::vector<std::byte> bytes;
  explicit PayloadPool(std::size_t size = 1u << 20, std::uint64_t seed = 42) : bytes(size + 65536) {
    std::mt19937_64 rng(seed);
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
      const std::uint64_t v = rng();
      std::memcpy(bytes.data() + i, &v, std::min<std::size_t>(8, bytes.size() - i));
    }
  }
};

inline void fill_payload(std::byte* dst, std::uint32_t size, std::uint64_t seq, const PayloadPool& pool) {
  std::byte header[16];
  const std::size_t body = size > 16 ? size - 16 : 0;
  const std::byte* src = pool.bytes.data() + (seq * 4099) % (pool.bytes.size() - 65536);
  if (body) std::memcpy(dst + 16, src, body);
  const std::uint64_t hash = XXH3_64bits(src, body);
  std::memcpy(header, &seq, 8);
  std::memcpy(header + 8, &hash, 8);
  std::memcpy(dst, header, std::min<std::size_t>(size, 16));
}

// True if `payload` is record `seq` as fill_payload wrote it.
inline bool check_payload(std::span<const std::byte> payload, std::uint64_t seq) {
  std::byte expect[16];
  std::memcpy(expect, &seq, 8);
  if (payload.size() >= 16) {
    const std::uint64_t hash = XXH3_64bits(payload.data() + 16, payload.size() - 16);
    std::memcpy(expect + 8, &hash, 8);
  }
  const std::size_t n = payload.size() >= 16 ? 16 : std::min<std::size_t>(payload.size(), 8);
  return std::memcmp(payload.data(), expect, n) == 0;
}

// Sizes from 1 byte to 64 KiB, spread evenly over the orders of magnitude (log-uniform), so
// small control-sized and large bulk records both occur often.
inline std::uint32_t random_size(std::mt19937_64& rng, std::uint32_t max = 65536) {
  const unsigned bits = static_cast<unsigned>(rng() % 17);
  const std::uint64_t base = std::uint64_t{1} << bits;
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(max, base + rng() % base));
}

}  // namespace vitrine::ringbus::testing
