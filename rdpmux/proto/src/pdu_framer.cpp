#include "vitrine/rdpmux/pdu_framer.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace vitrine::rdpmux {
namespace {

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

}  // namespace

std::string_view pdu_kind_name(PduKind kind) {
  switch (kind) {
    case PduKind::kNone: return "none";
    case PduKind::kTpkt: return "TPKT";
    case PduKind::kFastPath: return "fast-path";
    case PduKind::kTlsRecord: return "TLS record";
  }
  return "unknown";
}

std::size_t PduFramer::wanted() const {
  if (length_ != 0) return length_ - seen_;
  return header_need_ - header_have_;
}

Result<FeedResult> PduFramer::framing_error(std::string message) {
  failed_ = true;
  // seen_ counts the bytes of the current PDU consumed so far, the offending one included.
  const std::uint64_t start = offset_ - seen_;
  return fail(Errc::kFraming, "PDU at stream offset " + std::to_string(start) + ": " + message);
}

Result<void> PduFramer::parse_header() {
  const std::uint8_t* h = header_;
  switch (kind_) {
    case PduKind::kTpkt: {
      // RFC 1006 / T.123: version 3, reserved 0, big-endian length including the header.
      if (h[1] != 0) return fail(Errc::kFraming, "TPKT reserved byte " + hex(h[1]) + " (must be 0)");
      length_ = static_cast<std::uint32_t>(h[2]) << 8 | h[3];
      if (length_ < kTpktMinLength)
        return fail(Errc::kFraming, "TPKT length " + std::to_string(length_) + " below " +
                                        std::to_string(kTpktMinLength));
      return {};
    }
    case PduKind::kFastPath: {
      // MS-RDPBCGR 2.2.9.1.2: length1 with the top bit clear is the whole length (1..127);
      // with it set, (length1 & 0x7F) << 8 | length2. Either way the length includes the
      // header, so it must exceed the header's own size.
      length_ = (h[1] & 0x80) ? (static_cast<std::uint32_t>(h[1] & 0x7F) << 8 | h[2]) : h[1];
      if (length_ <= header_need_)
        return fail(Errc::kFraming, "fast-path length " + std::to_string(length_) +
                                        " does not exceed its " + std::to_string(header_need_) +
                                        "-byte header");
      return {};
    }
    case PduKind::kTlsRecord: {
      // RFC 8446 5.1 / RFC 5246 6.2: ContentType, ProtocolVersion {3, minor}, uint16 length.
      if (h[0] < 20 || h[0] > 23)
        return fail(Errc::kFraming, "TLS content type " + hex(h[0]) + " (expected 0x14..0x17)");
      if (h[1] != 3 || h[2] > 4)
        return fail(Errc::kFraming, "TLS version " + hex(h[1]) + "." + hex(h[2]));
      const std::uint32_t fragment = static_cast<std::uint32_t>(h[3]) << 8 | h[4];
      if (fragment == 0 || fragment > kTlsMaxFragment)
        return fail(Errc::kFraming, "TLS record length " + std::to_string(fragment) + " (1.." +
                                        std::to_string(kTlsMaxFragment) + ")");
      length_ = fragment + 5;
      tls_ = true;
      return {};
    }
    case PduKind::kNone: break;
  }
  return fail(Errc::kFraming, "no PDU kind");
}

Result<FeedResult> PduFramer::feed(std::span<const std::byte> bytes) {
  if (failed_) return fail(Errc::kFraming, "the stream already broke framing");
  FeedResult result;
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (length_ == 0) {
      // Header phase: one byte at a time (at most 5 per PDU).
      const auto b = static_cast<std::uint8_t>(bytes[i]);
      header_[header_have_++] = b;
      ++i;
      ++seen_;
      ++offset_;
      if (header_have_ == 1) {
        if (tls_) {
          kind_ = PduKind::kTlsRecord;
          header_need_ = 5;
        } else if (b == 0x03) {
          kind_ = PduKind::kTpkt;
          header_need_ = 4;
        } else if (b >= 0x15 && b <= 0x17) {
          // Handshake (0x16) starts TLS; an alert or data record means it already started.
          kind_ = PduKind::kTlsRecord;
          header_need_ = 5;
        } else if ((b & 0x03) == 0) {
          // FASTPATH_OUTPUT_ACTION_FASTPATH / FASTPATH_INPUT_ACTION_FASTPATH = 0.
          kind_ = PduKind::kFastPath;
          header_need_ = 2;
        } else {
          return framing_error("first byte " + hex(b) + (tls_ ? " is no TLS content type"
                                                             : " is neither TPKT (0x03), fast-path "
                                                               "(action bits 0) nor TLS"));
        }
        if (kind_ == PduKind::kTlsRecord && (b < 0x14 || b > 0x17))
          return framing_error("first byte " + hex(b) + " is no TLS content type");
        continue;
      }
      if (kind_ == PduKind::kFastPath && header_have_ == 2 && (b & 0x80)) header_need_ = 3;
      if (header_have_ < header_need_) continue;
      if (auto r = parse_header(); !r) return framing_error(r.error().message.substr(0));
      if (kind_ == PduKind::kTlsRecord) tls_ = true;
    } else {
      const std::size_t take = std::min<std::size_t>(length_ - seen_, bytes.size() - i);
      i += take;
      seen_ += static_cast<std::uint32_t>(take);
      offset_ += take;
    }
    if (length_ != 0 && seen_ == length_) {
      result.pdu_complete = true;
      result.kind = kind_;
      result.length = length_;
      ++pdus_;
      header_have_ = 0;
      header_need_ = 1;
      length_ = 0;
      seen_ = 0;
      kind_ = PduKind::kNone;
      break;
    }
  }
  result.consumed = i;
  return result;
}

}  // namespace vitrine::rdpmux
