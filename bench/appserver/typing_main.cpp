// bench_appserver_typing [N]: types N keys (default 200) into xterm in a private Xvfb, one frame
// each. Run under callgrind to count instructions per frame:
//   valgrind --tool=callgrind --collect-atstart=no
//            --toggle-collect='vitrine::appserver::bench::typing_frame*' bench_appserver_typing 200
#include <cstdio>
#include <cstdlib>
#include <string>

#include "typing_workload.hpp"

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 200;
  if (frames <= 0) {
    std::fputs("usage: bench_appserver_typing [frames > 0]\n", stderr);
    return 2;
  }
  std::string why;
  auto w = vitrine::appserver::bench::TypingWorkload::start(&why);
  if (!w) {
    std::fprintf(stderr, "bench_appserver_typing: skipped: %s\n", why.c_str());
    return 77;
  }
  size_t bytes = 0;
  for (int i = 0; i < frames; ++i) bytes += vitrine::appserver::bench::typing_frame(*w);
  std::printf("frames %d, encoded bytes per frame %.1f\n", frames, double(bytes) / frames);
  return 0;
}
