// Encoding and validation of control messages (control_layout.hpp). Both sides decode every
// received record with decode_control(): the payload is copied out of the ring once (the peer
// may change ring bytes at any time), then every field is checked. A message that fails is
// reported as kMalformed / kUnknownType with the offending values; the caller answers with an
// ErrorReply and keeps running.
//
// Sizes: every message is a fixed struct of at most 128 bytes, except CatalogFragment, whose
// payload is 24..kMaxCatalogFragmentBytes bytes (a header and a slice of the catalogue blob).
// decode_control() checks the size before it copies anything, so a hostile record costs at most
// one copy of kMaxCatalogFragmentBytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vitrine/rdpmux/control_layout.hpp"
#include "vitrine/rdpmux/error.hpp"

namespace vitrine::rdpmux {

// A decoded CatalogFragment: the header (validated) and the whole record payload, header
// included, as the private copy that was validated (what CatalogReassembler::add takes).
struct CatalogFragmentMsg {
  CatalogFragmentHeader header{};
  std::vector<std::byte> record;
  // The slice of the catalogue blob: record without its header.
  std::span<const std::byte> data() const {
    return std::span<const std::byte>(record).subspan(sizeof(CatalogFragmentHeader));
  }
};

using ControlMessage =
    std::variant<HelloMsg, HelloReplyMsg, OpenMsg, OpenedMsg, OpenFailedMsg, CloseMsg, ClosedMsg,
                 PingMsg, PongMsg, StatsRequestMsg, StatsReplyMsg, ErrorReplyMsg, CatalogFragmentMsg,
                 CatalogRequestMsg, ClockProbeMsg, ClockReplyMsg>;

// Record type of a message struct (kMsg*).
template <typename M> constexpr std::uint16_t message_type();
template <> constexpr std::uint16_t message_type<HelloMsg>() { return kMsgHello; }
template <> constexpr std::uint16_t message_type<HelloReplyMsg>() { return kMsgHelloReply; }
template <> constexpr std::uint16_t message_type<OpenMsg>() { return kMsgOpen; }
template <> constexpr std::uint16_t message_type<OpenedMsg>() { return kMsgOpened; }
template <> constexpr std::uint16_t message_type<OpenFailedMsg>() { return kMsgOpenFailed; }
template <> constexpr std::uint16_t message_type<CloseMsg>() { return kMsgClose; }
template <> constexpr std::uint16_t message_type<ClosedMsg>() { return kMsgClosed; }
template <> constexpr std::uint16_t message_type<PingMsg>() { return kMsgPing; }
template <> constexpr std::uint16_t message_type<PongMsg>() { return kMsgPong; }
template <> constexpr std::uint16_t message_type<StatsRequestMsg>() { return kMsgStatsRequest; }
template <> constexpr std::uint16_t message_type<StatsReplyMsg>() { return kMsgStatsReply; }
template <> constexpr std::uint16_t message_type<ErrorReplyMsg>() { return kMsgErrorReply; }
template <> constexpr std::uint16_t message_type<CatalogFragmentMsg>() { return kMsgCatalogFragment; }
template <> constexpr std::uint16_t message_type<CatalogRequestMsg>() { return kMsgCatalogRequest; }
template <> constexpr std::uint16_t message_type<ClockProbeMsg>() { return kMsgClockProbe; }
template <> constexpr std::uint16_t message_type<ClockReplyMsg>() { return kMsgClockReply; }

std::uint16_t message_type_of(const ControlMessage& message);
std::string_view message_name(std::uint16_t type);

// Which side may send a message type. Receivers reject the other direction (kErrWrongDirection).
enum class Sender : std::uint8_t { kHost, kGuest, kEither };
Sender message_sender(std::uint16_t type);

// One encoded message: the record type and its payload bytes. Fixed messages live in `bytes`
// (no allocation); a CatalogFragment, the one variable-length message, in `large`.
struct EncodedMessage {
  std::uint16_t type = 0;
  std::uint32_t size = 0;
  std::array<std::byte, 128> bytes{};
  std::vector<std::byte> large;
  std::span<const std::byte> payload() const {
    return large.empty() ? std::span<const std::byte>(bytes.data(), size) : std::span<const std::byte>(large);
  }
};
static_assert(sizeof(StatsReplyMsg) <= 128 && sizeof(OpenMsg) <= 128);

EncodedMessage encode_control(const ControlMessage& message);

// Validates and copies one received record. `type` is the ringbus record type.
Result<ControlMessage> decode_control(std::uint16_t type, std::span<const std::byte> payload);

// Field-level checks, shared by decode and by the builders below.
Result<void> validate(const HelloMsg& m);
Result<void> validate(const HelloReplyMsg& m);
Result<void> validate(const OpenMsg& m);
Result<void> validate(const OpenFailedMsg& m);
Result<void> validate(const ClosedMsg& m);
Result<void> validate(const ErrorReplyMsg& m);
// Header fields and that `record` is exactly the header plus `length` bytes.
Result<void> validate(const CatalogFragmentMsg& m);

// Builders: fill the fixed text fields (truncating to the field, never overflowing).
HelloMsg make_hello(std::uint32_t features, std::uint32_t max_channels);
HelloReplyMsg make_hello_reply(std::uint16_t version, std::uint32_t features,
                               std::uint32_t fixed_buffers, std::uint32_t relay_pid);
Result<OpenMsg> make_open_tcp(std::uint32_t request_id, std::uint32_t channel, std::uint16_t port,
                              std::uint16_t flags);
Result<OpenMsg> make_open_unix(std::uint32_t request_id, std::uint32_t channel,
                               std::string_view path, std::uint16_t flags);
OpenFailedMsg make_open_failed(std::uint32_t request_id, std::uint32_t channel, int error,
                               std::string_view text);
ClosedMsg make_closed(std::uint32_t channel, int error, std::uint64_t bytes_to_host,
                      std::uint64_t bytes_from_host, std::string_view text);
ErrorReplyMsg make_error_reply(std::uint16_t offending_type, std::uint32_t code,
                               std::string_view text);
// Wraps one record payload that guest/catalog's fragment_catalog() produced (header included).
// kInvalidArgument when it would not pass validate() on the receiving side.
Result<CatalogFragmentMsg> make_catalog_fragment(std::span<const std::byte> record);

// The used part of a fixed text field.
std::string_view text_of(const OpenFailedMsg& m);
std::string_view text_of(const ClosedMsg& m);
std::string_view text_of(const ErrorReplyMsg& m);
std::string_view path_of(const OpenMsg& m);

// Highest version in both [a_min, a_max] and [b_min, b_max]; 0 if none.
std::uint16_t choose_version(std::uint16_t a_min, std::uint16_t a_max, std::uint16_t b_min,
                             std::uint16_t b_max);

// Data-channel End record payload.
std::array<std::byte, sizeof(EndRecord)> encode_end(int error);
// Value: the error carried (0 = clean end). kMalformed on a wrong size.
Result<int> decode_end(std::span<const std::byte> payload);

// Data-channel Stamp record payload (kFeatureTimestamps; guest clock).
std::array<std::byte, sizeof(StampRecord)> encode_stamp(std::uint64_t receive_ns, std::uint64_t commit_ns);
// kMalformed on a wrong size or receive_ns > commit_ns.
Result<StampRecord> decode_stamp(std::span<const std::byte> payload);

}  // namespace vitrine::rdpmux
