#include "vitrine/rdpmux/control_codec.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "vitrine/rdpmux/clock_sync.hpp"

namespace vitrine::rdpmux {
namespace {

template <typename M>
EncodedMessage encode_one(const M& m) {
  EncodedMessage out;
  out.type = message_type<M>();
  out.size = sizeof(M);
  std::memcpy(out.bytes.data(), &m, sizeof(M));
  return out;
}

EncodedMessage encode_one(const CatalogFragmentMsg& m) {
  EncodedMessage out;
  out.type = kMsgCatalogFragment;
  out.size = static_cast<std::uint32_t>(m.record.size());
  out.large = m.record;
  return out;
}

template <typename M, std::size_t N>
void put_text(char (&field)[N], std::uint16_t& length, std::string_view text) {
  const std::size_t n = std::min(text.size(), N);
  std::memset(field, 0, N);
  std::memcpy(field, text.data(), n);
  // A NUL inside the text would be rejected by the receiver's validation: replace it.
  std::replace(field, field + n, '\0', '?');
  length = static_cast<std::uint16_t>(n);
}

template <std::size_t N>
Result<void> check_text(const char (&field)[N], std::uint16_t length, std::string_view what) {
  if (length > N)
    return fail(Errc::kMalformed, std::string(what) + " text_length " + std::to_string(length) +
                                      " exceeds the field (" + std::to_string(N) + ")");
  if (std::memchr(field, '\0', length) != nullptr)
    return fail(Errc::kMalformed, std::string(what) + " text contains a NUL byte");
  return {};
}

template <typename M>
Result<ControlMessage> decode_as(std::span<const std::byte> payload) {
  if (payload.size() != sizeof(M))
    return fail(Errc::kMalformed, std::string(message_name(message_type<M>())) + " of " +
                                      std::to_string(payload.size()) + " bytes (expected " +
                                      std::to_string(sizeof(M)) + ")");
  M m;
  // The one read of the peer's bytes: every check below looks at this private copy.
  std::memcpy(&m, payload.data(), sizeof(M));
  if constexpr (requires { validate(m); }) {
    if (auto r = validate(m); !r) return std::unexpected(r.error());
  }
  return ControlMessage{m};
}

Result<ControlMessage> decode_fragment(std::span<const std::byte> payload) {
  // Size first: nothing of a record outside these bounds is copied or looked at.
  if (payload.size() <= sizeof(CatalogFragmentHeader) || payload.size() > kMaxCatalogFragmentBytes)
    return fail(Errc::kMalformed, "CatalogFragment of " + std::to_string(payload.size()) + " bytes (expected " +
                                      std::to_string(sizeof(CatalogFragmentHeader) + 1) + ".." +
                                      std::to_string(kMaxCatalogFragmentBytes) + ")");
  CatalogFragmentMsg m;
  // The one read of the peer's bytes; the header is parsed from this private copy.
  m.record.assign(payload.begin(), payload.end());
  std::memcpy(&m.header, m.record.data(), sizeof m.header);
  if (auto r = validate(m); !r) return std::unexpected(r.error());
  return ControlMessage{std::move(m)};
}

}  // namespace

std::uint16_t message_type_of(const ControlMessage& message) {
  return std::visit([](const auto& m) { return message_type<std::decay_t<decltype(m)>>(); }, message);
}

std::string_view message_name(std::uint16_t type) {
  switch (type) {
    case kMsgHello: return "Hello";
    case kMsgHelloReply: return "HelloReply";
    case kMsgOpen: return "Open";
    case kMsgOpened: return "Opened";
    case kMsgOpenFailed: return "OpenFailed";
    case kMsgClose: return "Close";
    case kMsgClosed: return "Closed";
    case kMsgPing: return "Ping";
    case kMsgPong: return "Pong";
    case kMsgStatsRequest: return "StatsRequest";
    case kMsgStatsReply: return "StatsReply";
    case kMsgErrorReply: return "ErrorReply";
    case kMsgCatalogFragment: return "CatalogFragment";
    case kMsgCatalogRequest: return "CatalogRequest";
    case kMsgClockProbe: return "ClockProbe";
    case kMsgClockReply: return "ClockReply";
    default: return "unknown";
  }
}

Sender message_sender(std::uint16_t type) {
  switch (type) {
    case kMsgHello:
    case kMsgOpen:
    case kMsgClose:
    case kMsgStatsRequest:
    case kMsgCatalogRequest:
    case kMsgClockProbe: return Sender::kHost;
    case kMsgHelloReply:
    case kMsgOpened:
    case kMsgOpenFailed:
    case kMsgClosed:
    case kMsgStatsReply:
    case kMsgCatalogFragment:
    case kMsgClockReply: return Sender::kGuest;
    default: return Sender::kEither;
  }
}

EncodedMessage encode_control(const ControlMessage& message) {
  return std::visit([](const auto& m) { return encode_one(m); }, message);
}

Result<ControlMessage> decode_control(std::uint16_t type, std::span<const std::byte> payload) {
  switch (type) {
    case kMsgHello: return decode_as<HelloMsg>(payload);
    case kMsgHelloReply: return decode_as<HelloReplyMsg>(payload);
    case kMsgOpen: return decode_as<OpenMsg>(payload);
    case kMsgOpened: return decode_as<OpenedMsg>(payload);
    case kMsgOpenFailed: return decode_as<OpenFailedMsg>(payload);
    case kMsgClose: return decode_as<CloseMsg>(payload);
    case kMsgClosed: return decode_as<ClosedMsg>(payload);
    case kMsgPing: return decode_as<PingMsg>(payload);
    case kMsgPong: return decode_as<PongMsg>(payload);
    case kMsgStatsRequest: return decode_as<StatsRequestMsg>(payload);
    case kMsgStatsReply: return decode_as<StatsReplyMsg>(payload);
    case kMsgErrorReply: return decode_as<ErrorReplyMsg>(payload);
    case kMsgCatalogFragment: return decode_fragment(payload);
    case kMsgCatalogRequest: return decode_as<CatalogRequestMsg>(payload);
    case kMsgClockProbe: return decode_as<ClockProbeMsg>(payload);
    case kMsgClockReply: return decode_as<ClockReplyMsg>(payload);
    default:
      return fail(Errc::kUnknownType, "control message type " + std::to_string(type) + " is not in 1.." +
                                          std::to_string(kMsgLast) + ", " + std::to_string(kMsgCatalogFragment) +
                                          ", " + std::to_string(kMsgCatalogRequest) + ", " +
                                          std::to_string(kMsgClockProbe) + ", " + std::to_string(kMsgClockReply));
  }
}

Result<void> validate(const HelloMsg& m) {
  if (m.magic != kControlMagic) return fail(Errc::kMalformed, "Hello with a wrong magic");
  if (m.version_min == 0 || m.version_min > m.version_max)
    return fail(Errc::kMalformed, "Hello with versions [" + std::to_string(m.version_min) + ", " +
                                      std::to_string(m.version_max) + "]");
  if (m.max_channels < 1 || m.max_channels > 256)
    return fail(Errc::kMalformed, "Hello with max_channels " + std::to_string(m.max_channels));
  return {};
}

Result<void> validate(const HelloReplyMsg& m) {
  if (m.magic != kControlMagic) return fail(Errc::kMalformed, "HelloReply with a wrong magic");
  if (m.version == 0) return fail(Errc::kMalformed, "HelloReply with version 0");
  if ((m.features & ~kKnownFeatures) != 0)
    return fail(Errc::kMalformed, "HelloReply with unknown feature bits " + std::to_string(m.features));
  return {};
}

Result<void> validate(const OpenMsg& m) {
  if (m.channel == kControlChannel)
    return fail(Errc::kMalformed, "Open on the control channel");
  if ((m.flags & ~kKnownOpenFlags) != 0)
    return fail(Errc::kMalformed, "Open with unknown flags " + std::to_string(m.flags));
  switch (m.target_kind) {
    case kTargetTcpLoopback:
      if (m.port == 0) return fail(Errc::kMalformed, "Open of TCP port 0");
      if (m.path_length != 0) return fail(Errc::kMalformed, "Open of a TCP target with a path");
      return {};
    case kTargetUnixPath:
      if (m.path_length == 0 || m.path_length >= kUnixPathMax)
        return fail(Errc::kMalformed, "Open of a Unix path of " + std::to_string(m.path_length) +
                                          " bytes (1.." + std::to_string(kUnixPathMax - 1) + ")");
      if (std::memchr(m.path, '\0', m.path_length) != nullptr)
        return fail(Errc::kMalformed, "Open of a Unix path containing a NUL byte");
      return {};
    default:
      return fail(Errc::kMalformed, "Open with target kind " + std::to_string(m.target_kind));
  }
}

Result<void> validate(const OpenFailedMsg& m) {
  if (m.error <= 0) return fail(Errc::kMalformed, "OpenFailed with errno " + std::to_string(m.error));
  return check_text(m.text, m.text_length, "OpenFailed");
}

Result<void> validate(const ClosedMsg& m) {
  if (m.channel == kControlChannel) return fail(Errc::kMalformed, "Closed for the control channel");
  if (m.error < 0) return fail(Errc::kMalformed, "Closed with errno " + std::to_string(m.error));
  return check_text(m.text, m.text_length, "Closed");
}

Result<void> validate(const ErrorReplyMsg& m) { return check_text(m.text, m.text_length, "ErrorReply"); }

Result<void> validate(const CatalogFragmentMsg& m) {
  const CatalogFragmentHeader& h = m.header;
  const auto where = [&] {
    return "CatalogFragment (generation " + std::to_string(h.generation) + ", offset " + std::to_string(h.offset) +
           ", length " + std::to_string(h.length) + ", total " + std::to_string(h.total_size) + ")";
  };
  if (m.record.size() < sizeof h || m.record.size() > kMaxCatalogFragmentBytes)
    return fail(Errc::kMalformed, "CatalogFragment of " + std::to_string(m.record.size()) + " bytes");
  if (h.magic != kCatalogFragmentMagic) return fail(Errc::kMalformed, "CatalogFragment with a wrong magic");
  if (h.reserved != 0) return fail(Errc::kMalformed, where() + " with reserved bits set");
  if (h.length == 0 || h.length != m.record.size() - sizeof h)
    return fail(Errc::kMalformed, where() + ": length does not match the record's " +
                                      std::to_string(m.record.size() - sizeof h) + " bytes after the header");
  if (h.total_size == 0 || h.total_size > kMaxCatalogBytes)
    return fail(Errc::kMalformed, where() + ": total size outside 1.." + std::to_string(kMaxCatalogBytes));
  // 64-bit sum: offset + length must not wrap.
  if (std::uint64_t{h.offset} + h.length > h.total_size)
    return fail(Errc::kMalformed, where() + " ends beyond the total size");
  return {};
}

HelloMsg make_hello(std::uint32_t features, std::uint32_t max_channels) {
  HelloMsg m{};
  m.magic = kControlMagic;
  m.version_min = kProtocolVersion;
  m.version_max = kProtocolVersion;
  m.features = features;
  m.max_channels = max_channels;
  return m;
}

HelloReplyMsg make_hello_reply(std::uint16_t version, std::uint32_t features,
                               std::uint32_t fixed_buffers, std::uint32_t relay_pid) {
  HelloReplyMsg m{};
  m.magic = kControlMagic;
  m.version = version;
  m.features = features;
  m.fixed_buffers = fixed_buffers;
  m.relay_pid = relay_pid;
  return m;
}

Result<OpenMsg> make_open_tcp(std::uint32_t request_id, std::uint32_t channel, std::uint16_t port,
                              std::uint16_t flags) {
  OpenMsg m{};
  m.request_id = request_id;
  m.channel = channel;
  m.target_kind = kTargetTcpLoopback;
  m.port = port;
  m.flags = flags;
  if (auto r = validate(m); !r) return fail(Errc::kInvalidArgument, r.error().message);
  return m;
}

Result<OpenMsg> make_open_unix(std::uint32_t request_id, std::uint32_t channel,
                               std::string_view path, std::uint16_t flags) {
  OpenMsg m{};
  m.request_id = request_id;
  m.channel = channel;
  m.target_kind = kTargetUnixPath;
  m.flags = flags;
  if (path.size() >= kUnixPathMax)
    return fail(Errc::kInvalidArgument, "Unix path of " + std::to_string(path.size()) +
                                            " bytes: at most " + std::to_string(kUnixPathMax - 1));
  m.path_length = static_cast<std::uint16_t>(path.size());
  std::memcpy(m.path, path.data(), path.size());
  if (auto r = validate(m); !r) return fail(Errc::kInvalidArgument, r.error().message);
  return m;
}

OpenFailedMsg make_open_failed(std::uint32_t request_id, std::uint32_t channel, int error,
                               std::string_view text) {
  OpenFailedMsg m{};
  m.request_id = request_id;
  m.channel = channel;
  m.error = error > 0 ? error : 5;  // EIO when the caller had no errno
  put_text<OpenFailedMsg>(m.text, m.text_length, text);
  return m;
}

ClosedMsg make_closed(std::uint32_t channel, int error, std::uint64_t bytes_to_host,
                      std::uint64_t bytes_from_host, std::string_view text) {
  ClosedMsg m{};
  m.channel = channel;
  m.error = error > 0 ? error : 0;
  m.bytes_to_host = bytes_to_host;
  m.bytes_from_host = bytes_from_host;
  put_text<ClosedMsg>(m.text, m.text_length, text);
  return m;
}

ErrorReplyMsg make_error_reply(std::uint16_t offending_type, std::uint32_t code,
                               std::string_view text) {
  ErrorReplyMsg m{};
  m.offending_type = offending_type;
  m.code = code;
  put_text<ErrorReplyMsg>(m.text, m.text_length, text);
  return m;
}

Result<CatalogFragmentMsg> make_catalog_fragment(std::span<const std::byte> record) {
  if (record.size() < sizeof(CatalogFragmentHeader) || record.size() > kMaxCatalogFragmentBytes)
    return fail(Errc::kInvalidArgument, "catalogue fragment of " + std::to_string(record.size()) + " bytes (" +
                                            std::to_string(sizeof(CatalogFragmentHeader) + 1) + ".." +
                                            std::to_string(kMaxCatalogFragmentBytes) + ")");
  CatalogFragmentMsg m;
  m.record.assign(record.begin(), record.end());
  std::memcpy(&m.header, m.record.data(), sizeof m.header);
  if (auto r = validate(m); !r) return fail(Errc::kInvalidArgument, r.error().message);
  return m;
}

std::string_view text_of(const OpenFailedMsg& m) {
  return {m.text, std::min<std::size_t>(m.text_length, sizeof m.text)};
}
std::string_view text_of(const ClosedMsg& m) {
  return {m.text, std::min<std::size_t>(m.text_length, sizeof m.text)};
}
std::string_view text_of(const ErrorReplyMsg& m) {
  return {m.text, std::min<std::size_t>(m.text_length, sizeof m.text)};
}
std::string_view path_of(const OpenMsg& m) {
  return {m.path, std::min<std::size_t>(m.path_length, sizeof m.path)};
}

std::uint16_t choose_version(std::uint16_t a_min, std::uint16_t a_max, std::uint16_t b_min,
                             std::uint16_t b_max) {
  const std::uint16_t hi = std::min(a_max, b_max);
  const std::uint16_t lo = std::max(a_min, b_min);
  return hi >= lo ? hi : 0;
}

std::array<std::byte, sizeof(EndRecord)> encode_end(int error) {
  EndRecord e{error > 0 ? error : 0, 0};
  std::array<std::byte, sizeof(EndRecord)> out{};
  std::memcpy(out.data(), &e, sizeof e);
  return out;
}

std::array<std::byte, sizeof(StampRecord)> encode_stamp(std::uint64_t receive_ns, std::uint64_t commit_ns) {
  const StampRecord st{receive_ns, commit_ns};
  std::array<std::byte, sizeof(StampRecord)> out{};
  std::memcpy(out.data(), &st, sizeof st);
  return out;
}

Result<StampRecord> decode_stamp(std::span<const std::byte> payload) {
  if (payload.size() != sizeof(StampRecord))
    return fail(Errc::kMalformed, "Stamp record of " + std::to_string(payload.size()) + " bytes (expected " +
                                      std::to_string(sizeof(StampRecord)) + ")");
  StampRecord st;
  std::memcpy(&st, payload.data(), sizeof st);
  if (st.receive_ns > st.commit_ns)
    return fail(Errc::kMalformed, "Stamp record received at " + std::to_string(st.receive_ns) +
                                      " ns, after its commit at " + std::to_string(st.commit_ns) + " ns");
  // The bound ClockSync puts on a ClockReply's guest time: no clock reads this, and below it the
  // conversion to the host's clock and every difference of two stamps fit in int64.
  if (st.commit_ns >= kMaxClockReadingNs)
    return fail(Errc::kMalformed, "Stamp record committed at " + std::to_string(st.commit_ns) +
                                      " ns, beyond any clock reading");
  return st;
}

Result<int> decode_end(std::span<const std::byte> payload) {
  if (payload.size() != sizeof(EndRecord))
    return fail(Errc::kMalformed, "End record of " + std::to_string(payload.size()) + " bytes (expected " +
                                      std::to_string(sizeof(EndRecord)) + ")");
  EndRecord e;
  std::memcpy(&e, payload.data(), sizeof e);
  if (e.error < 0) return fail(Errc::kMalformed, "End record with errno " + std::to_string(e.error));
  return e.error;
}

}  // namespace vitrine::rdpmux
