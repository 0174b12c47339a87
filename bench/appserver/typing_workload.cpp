#include "typing_workload.hpp"

#include <poll.h>

#include <chrono>
#include <thread>

#include "rdp/surface_encoder.hpp"
#include "support/xvfb.hpp"
#include "x11/x11_capture.hpp"

namespace vitrine::appserver::bench {

struct TypingWorkload::Impl {
  std::unique_ptr<testing::Xvfb> xvfb;
  testing::ChildProcess xterm;
  std::unique_ptr<x11::X11Capture> capture;
  std::unique_ptr<rdp::SurfaceEncoder> encoder;
  Window term = 0;
  unsigned n = 0;
};

TypingWorkload::TypingWorkload(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TypingWorkload::~TypingWorkload() = default;

std::unique_ptr<TypingWorkload> TypingWorkload::start(std::string* why) {
  auto impl = std::make_unique<Impl>();
  if (!testing::have_program("xterm")) {
    *why = "xterm not installed";
    return nullptr;
  }
  impl->xvfb = testing::Xvfb::start(1024, 768);
  if (!impl->xvfb) {
    *why = "Xvfb did not start";
    return nullptr;
  }
  testing::ChildOptions o;
  o.env = {{"DISPLAY", impl->xvfb->display()}};
  o.stderr_path = "/dev/null";
  // `cat` echoes what is typed: each key is one glyph of damage, as at a shell prompt.
  impl->xterm = testing::ChildProcess({"xterm", "-geometry", "80x24+0+0", "-e", "cat"}, o);
  auto cap = x11::X11Capture::open({impl->xvfb->display(), true});
  if (!cap) {
    *why = cap.error();
    return nullptr;
  }
  impl->capture = std::move(*cap);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline && impl->term == 0) {
    impl->capture->pump();
    for (const auto& [id, info] : impl->capture->windows().windows()) {
      if (info.app_id == "XTerm" && info.viewable) impl->term = id;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (impl->term == 0) {
    *why = "xterm window did not appear";
    return nullptr;
  }
  auto enc = rdp::SurfaceEncoder::create(rdp::Codec::kPlanar, impl->capture->desktop(), 65535);
  if (!enc) {
    *why = enc.error();
    return nullptr;
  }
  impl->encoder = std::move(*enc);
  impl->capture->actions().activate(impl->term);
  // Let xterm finish its first paint, then start from no damage.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  impl->capture->pump();
  impl->capture->damage().clear();
  return std::unique_ptr<TypingWorkload>(new TypingWorkload(std::move(impl)));
}

size_t TypingWorkload::frame() {
  Impl& s = *impl_;
  // Letters a..z (scancodes 0x1e.. cover a row), Return every 60 keys so the line wraps.
  static constexpr uint16_t kKeys[] = {0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23};
  const uint16_t key = (++s.n % 60 == 0) ? 0x1c : kKeys[s.n % 8];
  s.capture->input().key(key, false, true);
  s.capture->input().key(key, false, false);
  s.capture->flush();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  // Block on the X connection between batches, so the count does not depend on spinning.
  while (s.capture->damage().empty() && std::chrono::steady_clock::now() < deadline) {
    if (s.capture->pump() == 0) {
      pollfd p{s.capture->fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
    }
  }
  s.encoder->clear();
  for (const Rect& raw : s.capture->damage().rects(s.capture->desktop(), 128)) {
    const Rect r = align_horizontally(raw, s.capture->desktop(), 4);
    auto img = s.capture->grabber().grab_screen(r);
    if (img) s.encoder->encode(*img, r);
  }
  s.capture->damage().clear();
  return s.encoder->bytes();
}

__attribute__((noinline)) size_t typing_frame(TypingWorkload& w) { return w.frame(); }

}  // namespace vitrine::appserver::bench
