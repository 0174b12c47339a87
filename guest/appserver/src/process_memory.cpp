#include "process_memory.hpp"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vitrine::appserver {

void release_free_memory() { ::malloc_trim(0); }

MemoryUsage memory_usage() {
  MemoryUsage m;
  const struct mallinfo2 mi = ::mallinfo2();
  m.heap_in_use_kb = (mi.uordblks + mi.hblkhd) / 1024;
  if (std::FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "VmRSS:", 6) == 0) {
        m.rss_kb = std::strtol(line + 6, nullptr, 10);
        break;
      }
    }
    std::fclose(f);
  }
  return m;
}

}  // namespace vitrine::appserver
