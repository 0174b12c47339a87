// USDT probes at Vitrine's stage boundaries (systemtap-sdt-dev's <sys/sdt.h>).
//
// A probe compiles to a single `nop` plus an ELF note (.note.stapsdt) that names it; it costs
// nothing until a tracer (perf probe, bpftrace, systemtap) attaches. Provider: `vitrine`.
// List them on a built binary:   perf/scripts/list-probes.sh build/release/bin/vitrine-guest
// Trace one:                     perf probe -x BIN sdt_vitrine:ring_commit && perf record -e sdt_vitrine:ring_commit ...
//
// The probe names and their arguments (every argument an integer):
//   ring_commit(ring_ptr, position, bytes)           producer published a record
//   ring_release(ring_ptr, position)                 consumer freed records up to position
//   ring_fault(ring_ptr, counter)                    peer broke the ring protocol
//   doorbell_rung(ring_ptr)                          a sleeping peer was woken
//   doorbell_woken(ring_ptr)                         this side woke from its doorbell
//   pdu_framed(channel, bytes, kind)                 relay framed a whole PDU (kind: 0 tpkt, 1 fast-path, 2 tls)
//   conn_opened(channel) / conn_closed(channel, reason)
//   frame_decoded(width, height, pixels)             FreeRDP finished a paint (damage box, damaged pixels)
//   damage_computed(rects, pixels)
//   texture_uploaded(bytes, rects)
//   window_presented(window_id)
#pragma once

#if defined(__has_include)
#if __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#define VITRINE_HAVE_USDT 1
#endif
#endif

#if VITRINE_HAVE_USDT
#define VITRINE_PROBE0(name) DTRACE_PROBE(vitrine, name)
#define VITRINE_PROBE1(name, a) DTRACE_PROBE1(vitrine, name, a)
#define VITRINE_PROBE2(name, a, b) DTRACE_PROBE2(vitrine, name, a, b)
#define VITRINE_PROBE3(name, a, b, c) DTRACE_PROBE3(vitrine, name, a, b, c)
#else
#define VITRINE_PROBE0(name) ((void)0)
#define VITRINE_PROBE1(name, a) ((void)(a))
#define VITRINE_PROBE2(name, a, b) ((void)(a), (void)(b))
#define VITRINE_PROBE3(name, a, b, c) ((void)(a), (void)(b), (void)(c))
#endif
