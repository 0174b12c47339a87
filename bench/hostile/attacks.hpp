// The attacks of bench_hostile: each runs on its own thread as the guest (or, for window orders,
// as FreeRDP's session thread fed by a hostile RDP server) until `stop`, at full speed: when a
// ring is full it rings the host and naps 50 us, as a guest whose vCPU keeps trying would.
// Every function counts what it sent in GuestCounters so the table can say how hard it pushed.
#pragma once

#include <atomic>
#include <cstdint>

#include "harness.hpp"

namespace vitrine::bench::hostile {

struct GuestCounters {
  std::atomic<std::uint64_t> records{0};   // records (or window orders) sent
  std::atomic<std::uint64_t> full{0};      // times a ring was full (the guest napped)
  std::atomic<std::uint64_t> rings{0};     // doorbell rings of the host's shared eventfd
  std::atomic<std::uint64_t> rounds{0};    // whole catalogues / surface rounds / window batches
  std::atomic<std::uint64_t> errors{0};    // orders WindowModel refused (each would end an RDP session)
  std::atomic<std::uint64_t> backlog_max{0};  // window events posted ahead of the UI thread, most seen
  std::atomic<std::uint64_t> throttled{0};    // times the window storm paused at its backlog cap
};

// 1. Pings as fast as the control ring takes them; the guest never reads host->guest control.
void ping_flood(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 2. Malformed and unknown control records, wrong-direction messages, Opened/Closed for channels
// the host never opened, clock readings past 2^62, unsolicited Pongs, guest ErrorReplies.
void control_garbage(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 3a. 32 MiB catalogues of minimal (25-byte) entries, about 1.3 million of them, over and over.
void catalog_minimal_32mib(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 3b. A stream of first fragments (offset 0, total 32 MiB), each of a new generation.
void catalog_restarts(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 3c. Valid 31 MiB catalogues of kMaxApps fat entries (the most the cap lets through), over and over.
void catalog_fat(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 4. Stamp records and empty data records on the open connection (channel 1), a 1-byte data
// record every 4096.
void stamp_flood(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 5. Surface protocol abuse: per round a valid surface with two uploads (one of 64 rectangles),
// a forged buffer index, a 16384x16384 Create outside the pool, an offset near 2^64, a huge
// Resize of an unknown surface, a truncated Present, a surface for an unknown window, destroys
// of dropped and unknown surfaces. Fresh surface ids every round (the host's dropped-id set).
void surface_abuse(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 5, reference: a well-behaved guest presenting every window's surface as fast as the host
// gives buffers back (Released), whole-surface damage: what normal surface traffic costs the UI.
void surface_valid(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 6. RAIL window orders through the real WindowModel into the RemoteDisplay: batches of 1000
// creates (15 of 16 at 16384x16384, one at 1920x1080), 1000 resizes, 1000 deletes. Paused while
// more than 200 000 events wait for the UI thread (a guard for the shared machine; the most seen
// is reported).
void window_storm(Host& host, const std::atomic<bool>& stop, GuestCounters& c);
// 7. The guest writes "consumer waiting" and head/tail of a channel the host never opened, and
// rings the shared host doorbell 100 times a second. `forge` false: the rings alone (control).
void doorbell_forgery(Host& host, const std::atomic<bool>& stop, GuestCounters& c, bool forge);

}  // namespace vitrine::bench::hostile
