#include "replay_check.hpp"

#include <cstdint>
#include <optional>

namespace vitrine::cli {
namespace {

std::uint16_t be16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) | std::to_integer<unsigned>(b[at + 1]));
}
std::uint16_t le16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) | (std::to_integer<unsigned>(b[at + 1]) << 8));
}
std::uint32_t le32(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint32_t>(le16(b, at)) | (static_cast<std::uint32_t>(le16(b, at + 2)) << 16);
}

// One TPKT (RFC 1006: version 3, reserved, u16 big-endian length including the 4-byte header)
// at `at`; nullopt if the bytes there are not a complete TPKT.
std::optional<std::span<const std::byte>> tpkt_at(std::span<const std::byte> b, std::size_t at) {
  if (b.size() < at + 4 || std::to_integer<unsigned>(b[at]) != 3) return std::nullopt;
  const std::size_t len = be16(b, at + 2);
  if (len < 7 || b.size() < at + len) return std::nullopt;
  return b.subspan(at, len);
}

std::string protocol_name(std::uint32_t p) {
  switch (p) {
    case 1: return "TLS (PROTOCOL_SSL)";
    case 2: return "CredSSP/NLA (PROTOCOL_HYBRID)";
    case 4: return "RDSTLS";
    case 8: return "CredSSP with early user authorization (PROTOCOL_HYBRID_EX)";
    default: return "protocol " + std::to_string(p);
  }
}

}  // namespace

std::expected<void, std::string> check_replayable(std::span<const std::byte> b) {
  const auto cc = tpkt_at(b, 0);
  // X.224 Connection Confirm: length indicator, then CC code 0xD0 (upper nibble 0xD).
  if (!cc || (std::to_integer<unsigned>((*cc)[5]) & 0xF0) != 0xD0)
    return std::unexpected(
        "the recording's server stream does not start with an RDP X.224 Connection Confirm: not a recorded RDP "
        "connection, or recorded after its start");
  const std::size_t li = std::to_integer<unsigned>((*cc)[4]);
  // RDP_NEG_RSP / RDP_NEG_FAILURE follow the 7-byte X.224 CC header (4 TPKT + 7 = offset 11).
  if (li >= 6 + 8 && cc->size() >= 11 + 8) {
    const unsigned type = std::to_integer<unsigned>((*cc)[11]);
    if (type == 0x03) return std::unexpected("the recorded connection failed its security negotiation (RDP_NEG_FAILURE)");
    if (type == 0x02) {
      const std::uint32_t selected = le32(*cc, 15);
      if (selected != 0)
        return std::unexpected("the recorded session used " + protocol_name(selected) +
                               ": its traffic is encrypted with keys of that one handshake, so it cannot be "
                               "replayed. Record sessions that use standard RDP security (Vitrine's setting on "
                               "the private bus, --security rdp)");
    }
  }
  const auto mcs = tpkt_at(b, cc->size());
  if (!mcs)
    return std::unexpected("the recording ends before the server's MCS Connect Response: nothing to replay");
  // GCC server data blocks: TS_UD_HEADER {u16 type, u16 length} little-endian. SC_CORE (0x0C01)
  // comes first; walk the blocks from there to SC_SECURITY (0x0C02).
  const auto m = *mcs;
  for (std::size_t at = 7; at + 4 <= m.size(); ++at) {
    if (le16(m, at) != 0x0C01) continue;
    std::size_t p = at;
    while (p + 4 <= m.size()) {
      const std::uint16_t type = le16(m, p), len = le16(m, p + 2);
      if (len < 4 || p + len > m.size()) break;
      if (type == 0x0C02) {
        if (len < 12) break;
        const std::uint32_t method = le32(m, p + 4), level = le32(m, p + 8);
        if (method != 0 || level != 0)
          return std::unexpected("the recorded session used encrypted standard RDP security (encryptionMethod " +
                                 std::to_string(method) + ", encryptionLevel " + std::to_string(level) +
                                 "): its keys come from a random the client draws anew, so it cannot be replayed");
        return {};
      }
      p += len;
    }
  }
  return std::unexpected("the server's MCS Connect Response has no readable Server Security Data (TS_UD_SC_SEC1)");
}

}  // namespace vitrine::cli
