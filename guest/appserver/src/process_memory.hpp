// The appserver's own memory, as glibc malloc sees it (the guest binary does not link
// mimalloc), and giving freed pages back after a client leaves. Main thread, between sessions.
//
// Why: every session allocates ~8 MB inside freerdp_peer_context_new (two XCrush contexts of
// 2.7 MB, two NCrush of 330 kB: the bulk compressors) plus a 1 MB encoder buffer. After the
// first session glibc's dynamic mmap threshold has risen past those sizes, so later sessions get
// them from the brk heap; when the session ends they are freed, but any small block allocated
// above them meanwhile (an X event queue entry, a window model node) keeps the heap top from
// shrinking, and the freed pages stay resident -- 7-8 MB of RSS for as long as that block lives
// (appserver_soak_test saw +7.4 MB held over a dozen sessions with heap in use flat at ~640 kB).
#pragma once

#include <cstdint>

namespace vitrine::appserver {

struct MemoryUsage {
  uint64_t heap_in_use_kb = 0;  // malloc'd and not freed (mallinfo2: uordblks + hblkhd)
  int64_t rss_kb = -1;          // VmRSS of this process; -1 when /proc is unreadable
};

// Returns every free heap page of every arena to the kernel (malloc_trim(0), which also
// releases free pages below the heap top). Costs a walk of malloc's free lists.
void release_free_memory();

[[nodiscard]] MemoryUsage memory_usage();

}  // namespace vitrine::appserver
