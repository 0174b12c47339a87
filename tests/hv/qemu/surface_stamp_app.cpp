// hv_surface_stamp_app: the application inside the QEMU surface guest (qemu_surface_guest.hpp).
// It is bench_e2e's StampWindow (the sandbox surface cases' X client: MIT-SHM PutImage of a whole
// 256x256 window per paint) made into a program, because inside a VM the host cannot call it:
// pointer motion drives it instead (surface_stamp_protocol.hpp).
//   usage: hv_surface_stamp_app [DISPLAY]      (default :0)
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "stamp_window.hpp"
#include "surface_stamp_protocol.hpp"

namespace ss = vitrine::hv::test::surface_stamp;
using vitrine::bench::StampWindow;

static_assert(ss::kSide == StampWindow::kSide && ss::kSlots == StampWindow::kSlots);

int main(int argc, char** argv) {
  const std::string display = argc > 1 ? argv[1] : ":0";
  // Started beside Xvfb: retry until its socket answers (TCG boots slowly; 120 s at most).
  std::unique_ptr<StampWindow> window;
  std::string error;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!window && std::chrono::steady_clock::now() < deadline) {
    auto w = StampWindow::open(display, ss::kWindowX, ss::kWindowY);
    if (w) window = std::move(*w);
    else {
      error = w.error();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  if (!window) {
    std::fprintf(stderr, "hv_surface_stamp_app: %s\n", error.c_str());
    return 1;
  }
  window->paint(ss::kFirstStamp);  // slot 0: the image the test checks pixel by pixel
  std::printf("%s 0x%llx\n", ss::kReadyLine, static_cast<unsigned long long>(window->window()));
  std::fflush(stdout);
  for (;;) {
    const auto at = window->wait_motion(std::chrono::seconds(1));
    if (!at) continue;
    const auto [x, y] = *at;
    if (y < ss::kTriggerTop) {
      window->paint(ss::probe_stamp(x, y));
      continue;
    }
    for (int i = 0; i < ss::kBatch; ++i) window->paint(ss::batch_stamp(x, y, i));
  }
}
