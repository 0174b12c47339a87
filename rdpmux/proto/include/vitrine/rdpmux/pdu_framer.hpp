// PduFramer: finds PDU boundaries in an RDP byte stream, incrementally, without buffering
// payload. The caller keeps the bytes (the relay keeps them in the claimed ring span); the
// framer only reads each PDU's header (at most 5 bytes, kept across feeds when a header is
// split between two receives).
//
// Recognised PDUs, by first byte (MS-RDPBCGR 2.2.9.1.2 fast-path output header,
// 2.2.8.1.2 fast-path input header, T.123 / RFC 1006 TPKT, RFC 8446 5.1 TLS record):
//
//   0x03                      TPKT:      03 00 LL LL        length = BE16, includes the 4 bytes
//   action bits (b & 3) == 0  fast-path: b0 L1 [L2]         L1 < 0x80: length = L1;
//                                                           else length = (L1 & 0x7F) << 8 | L2
//   0x14..0x17 after TLS      TLS record: TT 03 VV LL LL    length = BE16 + 5
//   0x15..0x17 before TLS     the first TLS record: from then on every PDU is a TLS record
//                             (RDP switches to TLS after X.224 and never back; CredSSP and
//                             everything after it are TLS application data records).
//
// Anything else is a framing error with the stream offset of the offending byte; the relay
// closes that connection only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "vitrine/rdpmux/error.hpp"

namespace vitrine::rdpmux {

enum class PduKind : std::uint8_t { kNone, kTpkt, kFastPath, kTlsRecord };
std::string_view pdu_kind_name(PduKind kind);

// Limits, from the length fields' widths and the specs.
inline constexpr std::uint32_t kTpktMinLength = 7;         // TPKT 4 + X.224 data TPDU header 3
inline constexpr std::uint32_t kTpktMaxLength = 65535;
inline constexpr std::uint32_t kFastPathMaxLength = 0x7FFF;
inline constexpr std::uint32_t kTlsMaxFragment = 16384 + 2048;  // TLSCiphertext, RFC 5246 6.2.3
inline constexpr std::uint32_t kMaxPduLength = kTpktMaxLength;  // the largest of the three
inline constexpr std::uint32_t kMaxPduHeader = 5;

struct FeedResult {
  std::size_t consumed = 0;      // bytes of the input taken (never past the current PDU's end)
  bool pdu_complete = false;     // a PDU ended exactly at input + consumed
  PduKind kind = PduKind::kNone; // of the completed PDU
  std::uint32_t length = 0;      // of the completed PDU, header included
};

class PduFramer {
 public:
  // Takes bytes up to the end of the current PDU. Call again with the rest of the input.
  // kFraming (message with the stream offset) on bad framing; the framer then stays failed.
  Result<FeedResult> feed(std::span<const std::byte> bytes);

  // No partial PDU pending.
  bool at_boundary() const { return header_have_ == 0 && length_ == 0; }
  // Bytes that can be received without crossing the current PDU's end: the rest of the PDU if
  // its length is known, else the header bytes still missing (1 at a boundary).
  std::size_t wanted() const;
  bool tls() const { return tls_; }
  bool failed() const { return failed_; }
  std::uint64_t offset() const { return offset_; }        // stream bytes consumed
  std::uint64_t pdus() const { return pdus_; }            // PDUs completed
  // Starts over (new connection).
  void reset() { *this = PduFramer{}; }

 private:
  Result<void> parse_header();
  Result<FeedResult> framing_error(std::string message);

  std::uint8_t header_[kMaxPduHeader] = {};
  std::uint32_t header_have_ = 0;   // header bytes seen of the current PDU
  std::uint32_t header_need_ = 1;   // header bytes needed to know the length
  std::uint32_t length_ = 0;        // current PDU length once known, else 0
  std::uint32_t seen_ = 0;          // bytes of the current PDU consumed
  PduKind kind_ = PduKind::kNone;
  bool tls_ = false;
  bool failed_ = false;
  std::uint64_t offset_ = 0;
  std::uint64_t pdus_ = 0;
};

}  // namespace vitrine::rdpmux
