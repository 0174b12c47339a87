// Wire layout of the Vitrine relay protocol. Logic-free: fixed-width little-endian integers,
// explicit padding, static_asserts on every size and offset. Any change to an existing message
// bumps kProtocolVersion; a new message comes with a feature bit negotiated in Hello, so that a
// peer without it never sees the message (the version stays).
//
// Channel 0 (control): every record is one message; the ringbus record type is the message
// type (kMsg*), the record payload is the message struct, exactly sizeof() bytes. The one
// exception is CatalogFragment (below): a variable-length record, header + bytes.
//
//   host                                    guest (vitrine-guest)
//    | Hello{versions, features, channels} ->  |
//    | <- HelloReply{version, features}        |
//    | Open{request, channel N, target}     -> |  connect 127.0.0.1:port or a Unix path
//    | <- Opened{request, N} | OpenFailed{request, N, errno, text}
//    |     ... bytes on channel N (below) ...   |
//    | Close{N}  (abort)                    -> |  the guest drops the socket
//    | <- Closed{N, errno, byte counts, text}  |  after the guest's last record on N
//    | Ping / Pong, StatsRequest / StatsReply, ErrorReply (any malformed or unexpected message)
//    | <- CatalogFragment x n                |  kFeatureCatalog: after HelloReply, after each
//    | CatalogRequest                       -> |  CatalogRequest, and on every change (new
//    |                                         |  generation); see "Application catalogue" below
//    | ClockProbe{nonce, host_ns}           -> |  kFeatureTimestamps: the host learns the guest's
//    | <- ClockReply{nonce, host_ns, guest_ns} |  clock (clock_sync.hpp); see "Timestamps" below
//
// Channel N >= 1 (one connection): each direction is a byte stream cut into records.
//   kRecordData: payload = stream bytes; flag kDataWholePdus when the relay framed them
//                (the record starts and ends at RDP PDU boundaries, see PduFramer).
//   kRecordEnd:  payload = EndRecord; "no more bytes in this direction" (half-close, in band so
//                that it is ordered after the data; a control message would overtake it).
//   kRecordStamp (guest -> host, kFeatureTimestamps only): payload = StampRecord, the guest's
//                times of the kRecordData record right before it (see "Timestamps" below).
//
// Lifecycle of channel N (host allocates, both sides continue the rings' positions, no reset):
//   Free -(host sends Open)-> Opening -(Opened)-> Open -(guest sends Closed)-> Free.
//   The guest sends Closed only after its last record on N, so a host that has seen Closed
//   drains g2h N completely; the host writes on N only after Opened, so a guest that receives
//   Open{N} first discards whatever h2g N still holds from the previous connection.
//
// Message layout example, Open (128 bytes):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                        request_id (u32)                       |
//   +---------------------------------------------------------------+
//   |                         channel (u32)                         |
//   +-------------------------------+-------------------------------+
//   |       target_kind (u16)       |           port (u16)          |
//   +-------------------------------+-------------------------------+
//   |          flags (u16)          |       path_length (u16)       |
//   +-------------------------------+-------------------------------+
//   |                   path[108] (not NUL-terminated)              |
//   +---------------------------------------------------------------+
//   |                        reserved (u32)                         |
//   +---------------------------------------------------------------+
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace vitrine::rdpmux {

// The structs below are the wire format, copied with memcpy: little-endian hosts only.
static_assert(std::endian::native == std::endian::little, "wire structs are little-endian");

inline constexpr std::uint64_t kControlMagic = 0x313058554d525456ull;  // "VTRMUX01", little-endian
inline constexpr std::uint16_t kProtocolVersion = 1;
inline constexpr std::uint32_t kControlChannel = 0;

// Feature bits (Hello::features, HelloReply::features = the accepted subset).
inline constexpr std::uint32_t kFeatureFramedPdus = 1u << 0;   // relay frames RDP PDUs
inline constexpr std::uint32_t kFeatureUnixTargets = 1u << 1;  // Open with a Unix path
inline constexpr std::uint32_t kFeatureStats = 1u << 2;        // StatsRequest / StatsReply
inline constexpr std::uint32_t kFeatureCatalog = 1u << 3;      // CatalogFragment / CatalogRequest
inline constexpr std::uint32_t kFeatureTimestamps = 1u << 4;   // ClockProbe / ClockReply, kRecordStamp
inline constexpr std::uint32_t kKnownFeatures =
    kFeatureFramedPdus | kFeatureUnixTargets | kFeatureStats | kFeatureCatalog | kFeatureTimestamps;

// Control message types = ringbus record types on channel 0 (0 is the ring's padding type).
inline constexpr std::uint16_t kMsgHello = 1;         // host -> guest
inline constexpr std::uint16_t kMsgHelloReply = 2;    // guest -> host
inline constexpr std::uint16_t kMsgOpen = 3;          // host -> guest
inline constexpr std::uint16_t kMsgOpened = 4;        // guest -> host
inline constexpr std::uint16_t kMsgOpenFailed = 5;    // guest -> host
inline constexpr std::uint16_t kMsgClose = 6;         // host -> guest
inline constexpr std::uint16_t kMsgClosed = 7;        // guest -> host
inline constexpr std::uint16_t kMsgPing = 8;          // either way
inline constexpr std::uint16_t kMsgPong = 9;          // either way
inline constexpr std::uint16_t kMsgStatsRequest = 10; // host -> guest
inline constexpr std::uint16_t kMsgStatsReply = 11;   // guest -> host
inline constexpr std::uint16_t kMsgErrorReply = 12;   // either way
inline constexpr std::uint16_t kMsgLast = kMsgErrorReply;  // last of the core messages (1..12)
// Application catalogue (kFeatureCatalog). 13..31 stay free for core messages.
inline constexpr std::uint16_t kMsgCatalogFragment = 32;  // guest -> host, variable length
inline constexpr std::uint16_t kMsgCatalogRequest = 33;   // host -> guest: send it all again
// Timestamps (kFeatureTimestamps). 34..39 stay free (34/35 were a launch proposal, never shipped).
inline constexpr std::uint16_t kMsgClockProbe = 40;  // host -> guest
inline constexpr std::uint16_t kMsgClockReply = 41;  // guest -> host

// Data channel record types and flags.
inline constexpr std::uint16_t kRecordData = 1;
inline constexpr std::uint16_t kRecordEnd = 2;
inline constexpr std::uint16_t kRecordStamp = 3;  // guest -> host, kFeatureTimestamps
inline constexpr std::uint16_t kDataWholePdus = 1u << 0;

// Open::target_kind
inline constexpr std::uint16_t kTargetTcpLoopback = 1;  // 127.0.0.1:port inside the guest
inline constexpr std::uint16_t kTargetUnixPath = 2;     // a filesystem Unix socket path
// Open::flags
inline constexpr std::uint16_t kOpenFramed = 1u << 0;   // frame guest->host bytes as RDP PDUs
inline constexpr std::uint16_t kKnownOpenFlags = kOpenFramed;

// ErrorReply::code
inline constexpr std::uint32_t kErrMalformed = 1;    // size or field out of range
inline constexpr std::uint32_t kErrUnknownType = 2;  // type not in 1..kMsgLast
inline constexpr std::uint32_t kErrBadChannel = 3;   // channel out of range or in the wrong state
inline constexpr std::uint32_t kErrWrongDirection = 4;  // e.g. a guest->host message sent to the guest
inline constexpr std::uint32_t kErrVersion = 5;      // no common version
inline constexpr std::uint32_t kErrNotReady = 6;     // request before Hello
inline constexpr std::uint32_t kErrNotNegotiated = 7;  // message of a feature Hello did not agree on

inline constexpr std::size_t kUnixPathMax = 108;     // sun_path incl. terminator
inline constexpr std::size_t kTextMax = 112;

struct HelloMsg {
  std::uint64_t magic;          // kControlMagic
  std::uint16_t version_min;    // protocol versions the sender speaks
  std::uint16_t version_max;
  std::uint32_t features;       // kFeature* bits the sender offers
  std::uint32_t max_channels;   // bus channels including channel 0
  std::uint32_t reserved;
};
static_assert(sizeof(HelloMsg) == 24);
static_assert(offsetof(HelloMsg, version_min) == 8);
static_assert(offsetof(HelloMsg, features) == 12);
static_assert(offsetof(HelloMsg, max_channels) == 16);

struct HelloReplyMsg {
  std::uint64_t magic;          // kControlMagic
  std::uint16_t version;        // chosen: the highest both speak
  std::uint16_t reserved0;
  std::uint32_t features;       // accepted subset of Hello::features
  std::uint32_t fixed_buffers;  // 1 if the relay registered the bus as io_uring fixed buffers
  std::uint32_t relay_pid;      // diagnostic
};
static_assert(sizeof(HelloReplyMsg) == 24);
static_assert(offsetof(HelloReplyMsg, version) == 8);
static_assert(offsetof(HelloReplyMsg, features) == 12);
static_assert(offsetof(HelloReplyMsg, fixed_buffers) == 16);

struct OpenMsg {
  std::uint32_t request_id;   // echoed in Opened / OpenFailed
  std::uint32_t channel;      // 1..max_channels-1, chosen by the host, must be Free
  std::uint16_t target_kind;  // kTarget*
  std::uint16_t port;         // kTargetTcpLoopback: 1..65535
  std::uint16_t flags;        // kOpen*
  std::uint16_t path_length;  // kTargetUnixPath: 1..kUnixPathMax-1 bytes of path, no NUL
  char path[kUnixPathMax];
  std::uint32_t reserved;
};
static_assert(sizeof(OpenMsg) == 128);
static_assert(offsetof(OpenMsg, target_kind) == 8);
static_assert(offsetof(OpenMsg, port) == 10);
static_assert(offsetof(OpenMsg, flags) == 12);
static_assert(offsetof(OpenMsg, path_length) == 14);
static_assert(offsetof(OpenMsg, path) == 16);

struct OpenedMsg {
  std::uint32_t request_id;
  std::uint32_t channel;
  std::uint32_t flags;        // kOpen* flags in effect
  std::uint32_t reserved;
};
static_assert(sizeof(OpenedMsg) == 16);

struct OpenFailedMsg {
  std::uint32_t request_id;
  std::uint32_t channel;
  std::int32_t error;         // the guest's errno (positive)
  std::uint16_t text_length;  // bytes of text used
  std::uint16_t reserved;
  char text[kTextMax];        // strerror() and context, not NUL-terminated
};
static_assert(sizeof(OpenFailedMsg) == 128);
static_assert(offsetof(OpenFailedMsg, error) == 8);
static_assert(offsetof(OpenFailedMsg, text_length) == 12);
static_assert(offsetof(OpenFailedMsg, text) == 16);

struct CloseMsg {
  std::uint32_t channel;
  std::uint32_t reserved;
};
static_assert(sizeof(CloseMsg) == 8);

struct ClosedMsg {
  std::uint32_t channel;
  std::int32_t error;           // 0: clean; errno of the socket error or EPROTO for framing
  std::uint64_t bytes_to_host;  // payload bytes the guest committed on g2h for this connection
  std::uint64_t bytes_from_host;// payload bytes the guest sent to the socket
  std::uint16_t text_length;
  std::uint16_t reserved0;
  std::uint32_t reserved1;
  char text[kTextMax - 16];     // reason, not NUL-terminated
};
static_assert(sizeof(ClosedMsg) == 128);
static_assert(offsetof(ClosedMsg, bytes_to_host) == 8);
static_assert(offsetof(ClosedMsg, text_length) == 24);
static_assert(offsetof(ClosedMsg, text) == 32);

struct PingMsg {
  std::uint64_t nonce;
  std::uint64_t sent_ns;  // sender's monotonic clock, echoed back
};
static_assert(sizeof(PingMsg) == 16);

struct PongMsg {
  std::uint64_t nonce;
  std::uint64_t sent_ns;  // copied from the Ping
};
static_assert(sizeof(PongMsg) == 16);

struct StatsRequestMsg {
  std::uint64_t reserved;
};
static_assert(sizeof(StatsRequestMsg) == 8);

struct StatsReplyMsg {
  std::uint32_t open_connections;
  std::uint32_t fixed_buffers;        // 1: recv/send use registered ring memory
  std::uint64_t connections_total;
  std::uint64_t open_failures;
  std::uint64_t bytes_to_host;        // payload bytes committed on g2h rings
  std::uint64_t bytes_from_host;      // payload bytes sent from h2g records
  std::uint64_t records_to_host;
  std::uint64_t records_from_host;
  std::uint64_t backpressure_events;  // times a full g2h ring paused receiving
  std::uint64_t bytes_copied;         // payload bytes copied in user space (0 by design)
  std::uint64_t bytes_received_elsewhere;  // payload bytes received outside ring memory
  std::uint64_t framing_errors;
  std::uint64_t protocol_errors;      // malformed control messages received
};
static_assert(sizeof(StatsReplyMsg) == 96);
static_assert(offsetof(StatsReplyMsg, connections_total) == 8);
static_assert(offsetof(StatsReplyMsg, protocol_errors) == 88);

struct ErrorReplyMsg {
  std::uint16_t offending_type;  // record type that caused the error
  std::uint16_t reserved0;
  std::uint32_t code;            // kErr*
  std::uint16_t text_length;
  std::uint16_t reserved1;
  std::uint32_t reserved2;
  char text[kTextMax];
};
static_assert(sizeof(ErrorReplyMsg) == 128);
static_assert(offsetof(ErrorReplyMsg, text) == 16);

// ---- Application catalogue (kFeatureCatalog) -------------------------------------------------
// The guest publishes its applications (guest/catalog: names, commands, PNG icons) as one blob
// of up to kMaxCatalogBytes; the blob's own format is guest/catalog's catalog_wire.hpp. It
// crosses channel 0 cut into CatalogFragment records, in order, offsets 0, n1, n1+n2, ... up to
// total_size. A fragment at offset 0 starts a catalogue (abandoning an incomplete one); every
// other fragment must continue the current one exactly (same generation and total, offset =
// bytes received so far). The host checks all of that before it hands a fragment on; anything
// else is a protocol error and drops the incomplete catalogue.
//
// CatalogFragment record payload (24 + length bytes, at most kMaxCatalogFragmentBytes):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                   magic (u32) "VCFR" 0x52464356               |
//   +---------------------------------------------------------------+
//   |      generation (u32): the guest's catalogue version          |
//   +---------------------------------------------------------------+
//   |      offset (u32): where these bytes go in the blob           |
//   +---------------------------------------------------------------+
//   |      total_size (u32): blob size, 1..kMaxCatalogBytes         |
//   +---------------------------------------------------------------+
//   |      length (u32): bytes after this header, >= 1              |
//   +---------------------------------------------------------------+
//   |                        reserved (u32) = 0                     |
//   +---------------------------------------------------------------+
//   |                    length bytes of the blob                   |
//   +---------------------------------------------------------------+
inline constexpr std::uint32_t kCatalogFragmentMagic = 0x52464356;  // "VCFR", little-endian
inline constexpr std::uint32_t kMaxCatalogBytes = 32u << 20;        // whole blob
inline constexpr std::uint32_t kMaxCatalogFragmentBytes = 64u << 10;  // one record's payload

struct CatalogFragmentHeader {
  std::uint32_t magic;
  std::uint32_t generation;
  std::uint32_t offset;
  std::uint32_t total_size;
  std::uint32_t length;
  std::uint32_t reserved;
};
static_assert(sizeof(CatalogFragmentHeader) == 24);
static_assert(offsetof(CatalogFragmentHeader, offset) == 8);
static_assert(offsetof(CatalogFragmentHeader, length) == 16);
static_assert(kMaxCatalogFragmentBytes > sizeof(CatalogFragmentHeader));

// CatalogRequest: "send the whole catalogue again" (the host lost it, or starts a UI late).
struct CatalogRequestMsg {
  std::uint64_t reserved;
};
static_assert(sizeof(CatalogRequestMsg) == 8);

// ---- Timestamps (kFeatureTimestamps, offered only when the host asks for stamps) ---------------
// Where a frame's time goes before the host sees it: the guest relay stamps each data record it
// commits on g2h N with two readings of ITS CLOCK_MONOTONIC, in a kRecordStamp record committed
// right after the data record (same ring, so it is ordered after exactly that record):
//   receive_ns  the relay's first receive completion whose bytes are in the record
//   commit_ns   just before the data record was committed (published to the host)
// The host notes when it first reads the data record (its own clock) and converts the guest's
// times with the offset it learned from ClockProbe / ClockReply round trips (clock_sync.hpp; in
// the sandbox both clocks are the same clock and the offset comes out within the round trip).
// A relay that cannot fit a stamp (ring full) skips it: stamps are samples, never flow control.
//
// ClockProbe (host -> guest, 16 bytes) / ClockReply (guest -> host, 32 bytes):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +---------------------------------------------------------------+
//   |                          nonce (u64)                          |
//   +---------------------------------------------------------------+
//   |               host_ns (u64): host clock at sending            |
//   +---------------------------------------------------------------+
//   |   ClockReply only: guest_ns (u64): guest clock at receiving   |
//   +---------------------------------------------------------------+
//   |   ClockReply only: reserved (u64) = 0                         |
//   +---------------------------------------------------------------+
struct ClockProbeMsg {
  std::uint64_t nonce;
  std::uint64_t host_ns;
};
static_assert(sizeof(ClockProbeMsg) == 16);

struct ClockReplyMsg {
  std::uint64_t nonce;    // copied from the probe
  std::uint64_t host_ns;  // copied from the probe
  std::uint64_t guest_ns; // the guest's CLOCK_MONOTONIC when it handled the probe
  std::uint64_t reserved;
};
static_assert(sizeof(ClockReplyMsg) == 32);
static_assert(offsetof(ClockReplyMsg, guest_ns) == 16);

// Payload of a kRecordStamp record (guest clock, nanoseconds; receive_ns <= commit_ns).
struct StampRecord {
  std::uint64_t receive_ns;
  std::uint64_t commit_ns;
};
static_assert(sizeof(StampRecord) == 16);

// Payload of a kRecordEnd record on a data channel.
struct EndRecord {
  std::int32_t error;    // 0: clean end of stream; errno otherwise (ECONNRESET, EPROTO, ...)
  std::uint32_t reserved;
};
static_assert(sizeof(EndRecord) == 8);

static_assert(std::is_trivially_copyable_v<OpenMsg> && std::is_trivially_copyable_v<ClosedMsg> &&
              std::is_trivially_copyable_v<StatsReplyMsg> && std::is_trivially_copyable_v<EndRecord> &&
              std::is_trivially_copyable_v<CatalogFragmentHeader> &&
              std::is_trivially_copyable_v<CatalogRequestMsg> && std::is_trivially_copyable_v<ClockReplyMsg> &&
              std::is_trivially_copyable_v<StampRecord>);

}  // namespace vitrine::rdpmux
