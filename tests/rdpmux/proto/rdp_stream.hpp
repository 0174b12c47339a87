// Test and benchmark streams for PduFramer: PDUs from the annotated connection sequence of
// MS-RDPBCGR section 4 (bytes as printed there), and synthetic sessions that continue with a
// realistic mix of fast-path updates (or TLS records) whose headers follow 2.2.9.1.2 / RFC 8446.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "vitrine/rdpmux/pdu_framer.hpp"

namespace vitrine::rdpmux::testing {

inline std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

// MS-RDPBCGR 4.1.1 Client X.224 Connection Request PDU (44 bytes, cookie "mstshash=eltons").
inline std::vector<std::byte> x224_connection_request() {
  return bytes({0x03, 0x00, 0x00, 0x2c, 0x27, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b,
                0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x65, 0x6c,
                0x74, 0x6f, 0x6e, 0x73, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00});
}

// MS-RDPBCGR 4.1.2 Server X.224 Connection Confirm PDU (19 bytes, PROTOCOL_RDP selected).
inline std::vector<std::byte> x224_connection_confirm() {
  return bytes({0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x00, 0x08, 0x00,
                0x00, 0x00, 0x00, 0x00});
}

struct ExpectedPdu {
  PduKind kind;
  std::uint32_t length;
  std::uint64_t end;  // stream offset just past the PDU
};

struct Stream {
  std::vector<std::byte> data;
  std::vector<ExpectedPdu> pdus;

  void add(PduKind kind, const std::vector<std::byte>& pdu) {
    data.insert(data.end(), pdu.begin(), pdu.end());
    pdus.push_back({kind, static_cast<std::uint32_t>(pdu.size()), data.size()});
  }
};

// A TPKT + X.224 data TPDU (02 f0 80) of `length` bytes, body from rng.
inline std::vector<std::byte> tpkt_pdu(std::uint32_t length, std::mt19937& rng) {
  std::vector<std::byte> p(length);
  p[0] = std::byte{0x03};
  p[1] = std::byte{0x00};
  p[2] = static_cast<std::byte>(length >> 8);
  p[3] = static_cast<std::byte>(length);
  p[4] = std::byte{0x02};
  p[5] = std::byte{0xf0};
  p[6] = std::byte{0x80};
  for (std::size_t i = 7; i < length; ++i) p[i] = static_cast<std::byte>(rng());
  return p;
}

// A fast-path update PDU (2.2.9.1.2): header byte with action 0 and random flag bits, then a
// 1-byte length when it fits in 7 bits, else the 2-byte form (as servers usually write it).
inline std::vector<std::byte> fastpath_pdu(std::uint32_t length, std::mt19937& rng, bool two_byte) {
  std::vector<std::byte> p(length);
  p[0] = static_cast<std::byte>((rng() & 0xC0u));  // action 0, reserved 0, flags random
  if (two_byte) {
    p[1] = static_cast<std::byte>(0x80 | (length >> 8));
    p[2] = static_cast<std::byte>(length);
  } else {
    p[1] = static_cast<std::byte>(length);
  }
  for (std::size_t i = two_byte ? 3 : 2; i < length; ++i) p[i] = static_cast<std::byte>(rng());
  return p;
}

inline std::vector<std::byte> tls_record(std::uint8_t type, std::uint32_t fragment, std::mt19937& rng) {
  std::vector<std::byte> p(fragment + 5);
  p[0] = static_cast<std::byte>(type);
  p[1] = std::byte{0x03};
  p[2] = std::byte{0x03};
  p[3] = static_cast<std::byte>(fragment >> 8);
  p[4] = static_cast<std::byte>(fragment);
  for (std::size_t i = 5; i < p.size(); ++i) p[i] = static_cast<std::byte>(rng());
  return p;
}

// Size mix of a desktop session: mostly small orders / pointer updates, some tiles, few large
// bitmap updates.
inline std::uint32_t update_size(std::mt19937& rng, std::uint32_t max) {
  const std::uint32_t r = rng() % 100;
  std::uint32_t n = r < 60 ? 8 + rng() % 120 : r < 92 ? 128 + rng() % 4096 : 4096 + rng() % 28000;
  return std::min(n, max);
}

// Server -> client stream of a standard-security session: X.224 confirm, MCS (TPKT), then
// `updates` fast-path updates interleaved with occasional slow-path TPKT PDUs.
inline Stream session_stream(std::uint32_t seed, std::size_t updates) {
  std::mt19937 rng(seed);
  Stream s;
  s.add(PduKind::kTpkt, x224_connection_confirm());
  s.add(PduKind::kTpkt, tpkt_pdu(0x1ca, rng));
  for (std::size_t i = 0; i < updates; ++i) {
    if (rng() % 16 == 0) {
      s.add(PduKind::kTpkt, tpkt_pdu(7 + rng() % 2000, rng));
      continue;
    }
    const std::uint32_t n = update_size(rng, kFastPathMaxLength);
    const bool two = n > 127 || (n > 3 && rng() % 2 == 0);
    s.add(PduKind::kFastPath, fastpath_pdu(std::max<std::uint32_t>(n, two ? 4 : 3), rng, two));
  }
  return s;
}

// Client X.224 request then TLS: handshake records and application data records.
inline Stream tls_stream(std::uint32_t seed, std::size_t records) {
  std::mt19937 rng(seed);
  Stream s;
  s.add(PduKind::kTpkt, x224_connection_request());
  s.add(PduKind::kTlsRecord, tls_record(22, 512, rng));
  s.add(PduKind::kTlsRecord, tls_record(20, 1, rng));
  for (std::size_t i = 0; i < records; ++i)
    s.add(PduKind::kTlsRecord, tls_record(23, 1 + update_size(rng, 16384 + 256), rng));
  return s;
}

}  // namespace vitrine::rdpmux::testing
