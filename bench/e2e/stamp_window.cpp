#include "stamp_window.hpp"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <poll.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <cstring>

namespace vitrine::bench {

struct StampWindow::X {
  Display* display = nullptr;
  Window window = 0;
  GC gc = nullptr;
  XShmSegmentInfo shm{};
  XImage* image = nullptr;  // kSide x (kSide * kSlots): slot i is rows [i * kSide, (i + 1) * kSide)
  bool attached = false;
  int next_slot = 0;

  std::uint32_t* row(int slot, int y) const {
    return reinterpret_cast<std::uint32_t*>(image->data + static_cast<std::size_t>(slot * kSide + y) * image->bytes_per_line);
  }
};

StampWindow::StampWindow() : x_(std::make_unique<X>()) {}

std::expected<std::unique_ptr<StampWindow>, std::string> StampWindow::open(const std::string& display, int x, int y) {
  std::unique_ptr<StampWindow> w(new StampWindow());
  X& s = *w->x_;
  s.display = XOpenDisplay(display.c_str());
  if (s.display == nullptr) return std::unexpected("cannot open the guest X display " + display);
  if (!XShmQueryExtension(s.display)) return std::unexpected(std::string("the guest X server has no MIT-SHM"));
  const int screen = DefaultScreen(s.display);
  if (DefaultDepth(s.display, screen) != 24) return std::unexpected(std::string("the guest X screen is not 24-bit"));
  s.window = XCreateSimpleWindow(s.display, RootWindow(s.display, screen), x, y, kSide, kSide, 0,
                                 BlackPixel(s.display, screen), BlackPixel(s.display, screen));
  XStoreName(s.display, s.window, "vitrine bench stamp");
  XSelectInput(s.display, s.window, PointerMotionMask | StructureNotifyMask);
  s.gc = XCreateGC(s.display, s.window, 0, nullptr);

  s.image = XShmCreateImage(s.display, DefaultVisual(s.display, screen), 24, ZPixmap, nullptr, &s.shm, kSide,
                            kSide * kSlots);
  if (s.image == nullptr || s.image->bits_per_pixel != 32) return std::unexpected(std::string("XShmCreateImage failed"));
  s.shm.shmid = ::shmget(IPC_PRIVATE, static_cast<std::size_t>(s.image->bytes_per_line) * s.image->height, IPC_CREAT | 0600);
  if (s.shm.shmid < 0) return std::unexpected(std::string("shmget: ") + std::strerror(errno));
  s.shm.shmaddr = s.image->data = static_cast<char*>(::shmat(s.shm.shmid, nullptr, 0));
  // Marked for removal now: the segment goes away with the last detach, even if we crash.
  ::shmctl(s.shm.shmid, IPC_RMID, nullptr);
  if (s.shm.shmaddr == reinterpret_cast<char*>(-1)) return std::unexpected(std::string("shmat: ") + std::strerror(errno));
  s.shm.readOnly = True;
  if (!XShmAttach(s.display, &s.shm)) return std::unexpected(std::string("XShmAttach failed"));
  s.attached = true;
  // Content that changes across the window, so that the X server's copy is a real copy of
  // varying bytes; the stamp pixel starts as 0, which no stamp equals.
  for (int slot = 0; slot < kSlots; ++slot)
    for (int yy = 0; yy < kSide; ++yy) {
      std::uint32_t* p = s.row(slot, yy);
      for (int xx = 0; xx < kSide; ++xx)
        p[xx] = (static_cast<std::uint32_t>(xx * 3 + slot) << 16) | (static_cast<std::uint32_t>(yy * 5) << 8) |
                static_cast<std::uint32_t>(xx ^ yy);
      if (yy == kSide - 1) p[kSide - 1] = 0;
    }

  XMapWindow(s.display, s.window);
  XSync(s.display, False);
  // Mapped before the benchmark starts: the appserver sees it, the host creates its window.
  for (int i = 0; i < 500; ++i) {
    XEvent e;
    if (XCheckTypedWindowEvent(s.display, s.window, MapNotify, &e)) return w;
    pollfd p{ConnectionNumber(s.display), POLLIN, 0};
    ::poll(&p, 1, 10);
  }
  return std::unexpected(std::string("the stamp window was not mapped within 5 s"));
}

StampWindow::~StampWindow() {
  X& s = *x_;
  if (s.display == nullptr) return;
  if (s.attached) XShmDetach(s.display, &s.shm);
  if (s.image != nullptr) {
    s.image->data = nullptr;  // the segment is ours, not Xlib's to free
    XDestroyImage(s.image);
  }
  if (s.shm.shmaddr != nullptr && s.shm.shmaddr != reinterpret_cast<char*>(-1)) ::shmdt(s.shm.shmaddr);
  if (s.gc != nullptr) XFreeGC(s.display, s.gc);
  if (s.window != 0) XDestroyWindow(s.display, s.window);
  XCloseDisplay(s.display);
}

std::uint64_t StampWindow::window() const { return x_->window; }

void StampWindow::paint(std::uint32_t stamp) {
  X& s = *x_;
  const int slot = s.next_slot;
  s.next_slot = (s.next_slot + 1) % kSlots;
  s.row(slot, kSide - 1)[kSide - 1] = stamp & 0xFFFFFF;
  // send_event False: the host's arrival check is the pixel itself, not a completion event.
  XShmPutImage(s.display, s.window, s.gc, s.image, 0, slot * kSide, 0, 0, kSide, kSide, False);
  XFlush(s.display);
}

std::optional<std::pair<int, int>> StampWindow::wait_motion(std::chrono::milliseconds timeout) {
  X& s = *x_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    while (XPending(s.display) > 0) {
      XEvent e;
      XNextEvent(s.display, &e);
      if (e.type == MotionNotify && e.xmotion.window == s.window) return std::pair{e.xmotion.x, e.xmotion.y};
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{ConnectionNumber(s.display), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(left.count()));
  }
}

StampWindow::Responder::Responder(StampWindow& window)
    : thread_([this, &window] {
        while (!stop_.load(std::memory_order_relaxed)) {
          if (auto at = window.wait_motion(std::chrono::milliseconds(20)))
            window.paint(stamp_for_motion(at->first, at->second));
        }
      }) {}

StampWindow::Responder::~Responder() {
  stop_.store(true, std::memory_order_relaxed);
  thread_.join();
}

}  // namespace vitrine::bench
