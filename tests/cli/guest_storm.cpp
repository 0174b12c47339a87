// Test helper that runs INSIDE a sandbox guest (launched by the appserver as the RemoteApp
// program of surface_storm_test): a storm of X window traffic, deterministic from a seed, that
// ends in a known set of top-level windows with random content, then writes what it left and
// idles. The test compares the host's view of those windows with the guest's own screen.
//
//   vitrine_test_guest_storm SEED DIR [QUIET_MS [OVERHANG]]
//     display: $DISPLAY (set by the appserver's launcher); QUIET_MS: the pause before the last
//     single pixels (default 300); OVERHANG 1: storm-0 hangs over the screen's edge.
//
// Phases, each paced by short random sleeps so that the appserver sees every intermediate
// state at some point (damage mid-present, windows that die between its turns):
//   1. the final windows ("storm-<k>"), one per cell of a grid, some with an X border, some
//      keeping their contents on resize (NorthWestGravity), storm-0 hanging over the screen's
//      edge if asked, and a damage storm on them: filled rectangles and XPutImage patterns of
//      random sizes and colours, 1-pixel and whole-window ones, rectangles that cross the edges;
//   2. a create/destroy storm of temporary top-level windows ("tmp-<n>") anywhere on the screen,
//      over the final ones, now and then as large as the screen: created and never mapped,
//      mapped and destroyed before their first paint, painted and destroyed a few milliseconds
//      later, or left for a while;
//   3. a resize storm on the final windows: grow and shrink to odd and even sizes, moves inside
//      their cells, a border width change, unmap and map again, each followed (or not) by more
//      damage; phases 1 (its damage part) to 3 run twice;
//   4. a last damage round, a quiet moment, single pixels, then DIR/storm-done: one line
//      "title x y width height" per final window, frame coordinates (the X border included), as
//      the guest's X server reports them.
// No window manager runs in the guest and the cells do not overlap, so at the end every final
// window is entirely visible on the guest's screen (the test's screenshots see all of it), but
// for the part of an overhanging storm-0 that is off the screen.
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kColumns = 4;
constexpr int kRows = 3;
constexpr int kCellMargin = 6;  // between a frame and its cell's edge: cells never touch

class Storm {
 public:
  Storm(Display* dpy, std::uint32_t seed, int quiet_ms, bool overhang)
      : dpy_(dpy), rng_(seed), quiet_ms_(quiet_ms), overhang_(overhang) {
    screen_ = DefaultScreen(dpy_);
    root_ = RootWindow(dpy_, screen_);
    visual_ = DefaultVisual(dpy_, screen_);
    depth_ = DefaultDepth(dpy_, screen_);
    screen_w_ = DisplayWidth(dpy_, screen_);
    screen_h_ = DisplayHeight(dpy_, screen_);
    cell_w_ = screen_w_ / kColumns;
    cell_h_ = screen_h_ / kRows;
    gc_ = XCreateGC(dpy_, root_, 0, nullptr);
  }
  ~Storm() { XFreeGC(dpy_, gc_); }

  int run(const std::filesystem::path& dir) {
    create_finals();
    for (int cycle = 0; cycle < 2; ++cycle) {
      for (int i = 0; i < 150; ++i) {
        damage(finals_[pick(finals_.size())]);
        pace(i, 6);
      }
      tmp_storm();
      resize_storm();
    }
    for (auto& f : finals_) {
      const int n = between(2, 8);
      for (int i = 0; i < n; ++i) damage(f);
    }
    // A quiet moment, then single pixels: the appserver must notice a tiny change after idling
    // (no burst behind it to carry it along).
    XSync(dpy_, False);
    ::usleep(static_cast<useconds_t>(quiet_ms_) * 1000);
    for (int i = 0; i < 3; ++i) {
      const Final& f = finals_[pick(finals_.size())];
      int width, height;
      size_of(f.id, width, height);
      XSetForeground(dpy_, gc_, colour());
      XFillRectangle(dpy_, f.id, gc_, between(0, width - 1), between(0, height - 1), 1, 1);
    }
    XSync(dpy_, False);
    return write_done(dir);
  }

 private:
  struct Final {
    Window id = 0;
    std::string title;
    int cell = 0;
    int border = 0;
    bool overhang = false;  // hangs over the screen's edge (its cell is on that edge)
  };

  int between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::size_t pick(std::size_t n) { return static_cast<std::size_t>(between(0, static_cast<int>(n) - 1)); }
  unsigned long colour() { return static_cast<unsigned long>(between(0, 0xffffff)); }
  bool chance(int percent) { return between(1, 100) <= percent; }

  // A flush every op and, now and then, a pause of a few ms: the appserver then reads the
  // window in the middle of a burst rather than only after it.
  void pace(int i, int every) {
    XFlush(dpy_);
    if (i % every == 0) ::usleep(static_cast<useconds_t>(between(0, 12'000)));
  }

  // The largest frame (border included) that fits cell `c` with its margins.
  int cell_x(int c) const { return (c % kColumns) * cell_w_; }
  int cell_y(int c) const { return (c / kColumns) * cell_h_; }
  int max_frame_w() const { return cell_w_ - 2 * kCellMargin; }
  int max_frame_h() const { return cell_h_ - 2 * kCellMargin; }

  // A random frame inside cell `c` for a window of border `b`: (x, y, inner width, height).
  void place_in_cell(int c, int b, int& x, int& y, int& w, int& h) {
    const int fw = between(std::max(8, 2 * b + 1), max_frame_w());
    const int fh = between(std::max(8, 2 * b + 1), max_frame_h());
    w = fw - 2 * b;
    h = fh - 2 * b;
    x = cell_x(c) + kCellMargin + between(0, max_frame_w() - fw);
    y = cell_y(c) + kCellMargin + between(0, max_frame_h() - fh);
  }

  // Moves a frame of cell `c` (fw x fh, border included) part-way over the screen edges its cell
  // touches: between one pixel and half the frame is off the screen. The cell's inner sides stay
  // where they were, so the neighbours are not covered.
  void hang_over(int c, int fw, int fh, int& x, int& y) {
    const int col = c % kColumns, row = c / kColumns;
    std::vector<int> edges;  // 0 left, 1 right, 2 top, 3 bottom
    if (col == 0) edges.push_back(0);
    if (col == kColumns - 1) edges.push_back(1);
    if (row == 0) edges.push_back(2);
    if (row == kRows - 1) edges.push_back(3);
    const int n = edges.size() > 1 && chance(40) ? 2 : 1;  // a corner cell: sometimes both
    std::shuffle(edges.begin(), edges.end(), rng_);
    for (int i = 0; i < n && i < static_cast<int>(edges.size()); ++i) {
      switch (edges[static_cast<std::size_t>(i)]) {
        case 0: x = -between(1, fw / 2); break;
        case 1: x = screen_w_ - fw + between(1, fw / 2); break;
        case 2: y = -between(1, fh / 2); break;
        default: y = screen_h_ - fh + between(1, fh / 2); break;
      }
    }
  }
  static bool on_screen_edge(int c) {
    const int col = c % kColumns, row = c / kColumns;
    return col == 0 || col == kColumns - 1 || row == 0 || row == kRows - 1;
  }

  Window make_window(int x, int y, int w, int h, int border, const std::string& title, bool keep_on_resize) {
    XSetWindowAttributes a{};
    a.background_pixel = colour();
    a.border_pixel = colour();
    a.bit_gravity = keep_on_resize ? NorthWestGravity : ForgetGravity;
    const Window win = XCreateWindow(dpy_, root_, x, y, static_cast<unsigned>(w), static_cast<unsigned>(h),
                                     static_cast<unsigned>(border), depth_, InputOutput, visual_,
                                     CWBackPixel | CWBorderPixel | CWBitGravity, &a);
    XStoreName(dpy_, win, title.c_str());
    return win;
  }

  void create_finals() {
    std::vector<int> cells(kColumns * kRows);
    for (int i = 0; i < kColumns * kRows; ++i) cells[static_cast<std::size_t>(i)] = i;
    std::shuffle(cells.begin(), cells.end(), rng_);
    // storm-0 may hang over the screen's edge: its cell must be on one.
    if (overhang_) std::iter_swap(cells.begin(), std::find_if(cells.begin(), cells.end(), on_screen_edge));
    const int n = between(5, 8);
    for (int k = 0; k < n; ++k) {
      Final f;
      f.cell = cells[static_cast<std::size_t>(k)];
      f.border = std::vector<int>{0, 0, 1, 3}[pick(4)];
      f.title = "storm-" + std::to_string(k);
      f.overhang = overhang_ && k == 0;
      int x, y, w, h;
      place_in_cell(f.cell, f.border, x, y, w, h);
      if (f.overhang) hang_over(f.cell, w + 2 * f.border, h + 2 * f.border, x, y);
      f.id = make_window(x, y, w, h, f.border, f.title, chance(50));
      XMapWindow(dpy_, f.id);
      finals_.push_back(f);
      // Some windows paint at once, the others only in the storm that follows.
      if (chance(50)) damage(f);
      pace(k, 1);
    }
  }

  // The window's inner size now (resizes change it).
  void size_of(Window w, int& width, int& height) {
    Window root_ret;
    int x, y;
    unsigned uw, uh, bw, d;
    XGetGeometry(dpy_, w, &root_ret, &x, &y, &uw, &uh, &bw, &d);
    width = static_cast<int>(uw);
    height = static_cast<int>(uh);
  }

  // One random drawing on `w`: a filled rectangle or an image, of any size from one pixel to
  // the whole window, sometimes hanging over an edge (the server clips).
  void damage(Window w, int width, int height) {
    int rw, rh, x, y;
    switch (between(0, 5)) {
      case 0:  // one pixel, often in a corner or on an edge
        rw = rh = 1;
        x = chance(50) ? (chance(50) ? 0 : width - 1) : between(0, width - 1);
        y = chance(50) ? (chance(50) ? 0 : height - 1) : between(0, height - 1);
        break;
      case 1:  // the whole window
        rw = width, rh = height, x = 0, y = 0;
        break;
      case 2:  // across an edge
        rw = between(1, width), rh = between(1, height);
        x = between(-rw + 1, width - 1), y = between(-rh + 1, height - 1);
        break;
      case 3:  // a one-pixel line along an edge
        if (chance(50)) rw = width, rh = 1, x = 0, y = chance(50) ? 0 : height - 1;
        else rw = 1, rh = height, y = 0, x = chance(50) ? 0 : width - 1;
        break;
      default:  // anywhere inside
        rw = between(1, width), rh = between(1, height);
        x = between(0, width - rw), y = between(0, height - rh);
        break;
    }
    if (chance(40)) {
      put_image(w, x, y, rw, rh);
    } else {
      XSetForeground(dpy_, gc_, colour());
      XFillRectangle(dpy_, w, gc_, x, y, static_cast<unsigned>(rw), static_cast<unsigned>(rh));
    }
  }
  void damage(const Final& f) {
    int width, height;
    size_of(f.id, width, height);
    damage(f.id, width, height);
  }

  // An image of random pixels, stripes or a gradient, put with XPutImage (the client's own
  // pixels, not the server's fill path).
  void put_image(Window w, int x, int y, int width, int height) {
    auto* data = static_cast<char*>(std::malloc(static_cast<std::size_t>(width) * height * 4));
    if (data == nullptr) return;
    XImage* img = XCreateImage(dpy_, visual_, static_cast<unsigned>(depth_), ZPixmap, 0, data,
                               static_cast<unsigned>(width), static_cast<unsigned>(height), 32, 0);
    if (img == nullptr) {
      std::free(data);
      return;
    }
    const int kind = between(0, 2);
    const unsigned long a = colour(), b = colour();
    const int period = between(1, 7);
    for (int row = 0; row < height; ++row)
      for (int col = 0; col < width; ++col) {
        unsigned long p;
        if (kind == 0) p = static_cast<unsigned long>(rng_()) & 0xffffff;
        else if (kind == 1) p = ((row + col) / period) % 2 ? a : b;
        else p = (static_cast<unsigned long>(col * 255 / std::max(1, width - 1)) << 16) |
                 (static_cast<unsigned long>(row * 255 / std::max(1, height - 1)) << 8) | (a & 0xff);
        XPutPixel(img, col, row, p);
      }
    XPutImage(dpy_, w, gc_, img, 0, 0, x, y, static_cast<unsigned>(width), static_cast<unsigned>(height));
    XDestroyImage(img);  // frees data
  }

  // Temporary top-level windows in every short life the appserver may meet.
  void tmp_storm() {
    struct Tmp {
      Window id;
      int width, height;
      int ttl;  // storm steps left
    };
    std::vector<Tmp> alive;
    const int total = between(30, 45);
    for (int n = 0; n < total; ++n) {
      // Mostly small; now and then up to the whole screen (8 MiB of pool for its two buffers):
      // the pool fills and empties while the final windows keep their surfaces.
      const bool big = chance(15);
      const int w = big ? between(400, screen_w_) : between(1, 400), h = big ? between(300, screen_h_) : between(1, 300);
      const int x = between(-w / 2, screen_w_ - w / 2), y = between(-h / 2, screen_h_ - h / 2);
      const Window win = make_window(x, y, w, h, between(0, 2), "tmp-" + std::to_string(n), chance(50));
      switch (between(0, 4)) {
        case 0:  // never mapped
          if (chance(50)) XDestroyWindow(dpy_, win);
          else alive.push_back({win, w, h, between(1, 6)});
          break;
        case 1:  // mapped, destroyed before its first paint
          XMapWindow(dpy_, win);
          if (chance(50)) XFlush(dpy_);
          XDestroyWindow(dpy_, win);
          break;
        case 2:  // painted, destroyed a moment later
          XMapWindow(dpy_, win);
          damage(win, w, h);
          XFlush(dpy_);
          ::usleep(static_cast<useconds_t>(between(0, 5'000)));
          XDestroyWindow(dpy_, win);
          break;
        default:  // lives for a few steps, painted now and then, maybe unmapped first
          XMapWindow(dpy_, win);
          if (chance(70)) damage(win, w, h);
          alive.push_back({win, w, h, between(1, 8)});
          break;
      }
      for (auto it = alive.begin(); it != alive.end();) {
        if (--it->ttl > 0) {
          if (chance(30)) damage(it->id, it->width, it->height);
          ++it;
          continue;
        }
        if (chance(30)) XUnmapWindow(dpy_, it->id);
        XDestroyWindow(dpy_, it->id);
        it = alive.erase(it);
      }
      // The final windows keep being drawn on while others come and go above them.
      if (chance(40)) damage(finals_[pick(finals_.size())]);
      pace(n, 2);
    }
    for (auto& t : alive) XDestroyWindow(dpy_, t.id);
    XFlush(dpy_);
  }

  void resize_storm() {
    const int rounds = between(3, 5);
    for (int r = 0; r < rounds; ++r) {
      for (auto& f : finals_) {
        if (chance(20)) continue;
        if (chance(10)) {  // hidden and shown again: a new surface (and host window) for the same X window
          XUnmapWindow(dpy_, f.id);
          if (chance(50)) {
            XFlush(dpy_);
            ::usleep(static_cast<useconds_t>(between(0, 20'000)));
          }
          XMapWindow(dpy_, f.id);
        }
        if (chance(15)) {  // a new border: the frame (and the surface) changes size around the window
          f.border = std::vector<int>{0, 1, 2, 5}[pick(4)];
          XSetWindowBorderWidth(dpy_, f.id, static_cast<unsigned>(f.border));
        }
        int x, y, w, h;
        place_in_cell(f.cell, f.border, x, y, w, h);
        if (chance(25)) {  // a one-pixel change: the smallest resize
          int cw, ch;
          size_of(f.id, cw, ch);
          w = std::clamp(cw + (chance(50) ? 1 : -1), 1, max_frame_w() - 2 * f.border);
          h = std::clamp(ch + (chance(50) ? 1 : -1), 1, max_frame_h() - 2 * f.border);
          x = cell_x(f.cell) + kCellMargin;
          y = cell_y(f.cell) + kCellMargin;
        }
        if (f.overhang) hang_over(f.cell, w + 2 * f.border, h + 2 * f.border, x, y);
        if (chance(50)) {
          XMoveResizeWindow(dpy_, f.id, x, y, static_cast<unsigned>(w), static_cast<unsigned>(h));
        } else {
          // Two requests: the appserver may meet the move without the resize. The frame may
          // cross its cell for that moment; exposures repaint the neighbour's background.
          XMoveWindow(dpy_, f.id, x, y);
          if (chance(50)) XFlush(dpy_);
          XResizeWindow(dpy_, f.id, static_cast<unsigned>(w), static_cast<unsigned>(h));
        }
        const int n = between(0, 4);
        for (int i = 0; i < n; ++i) damage(f);
        pace(r, 1);
      }
    }
  }

  int write_done(const std::filesystem::path& dir) {
    std::string lines;
    for (const auto& f : finals_) {
      XWindowAttributes a{};
      if (!XGetWindowAttributes(dpy_, f.id, &a)) {
        std::fprintf(stderr, "guest_storm: %s is gone\n", f.title.c_str());
        return 1;
      }
      lines += f.title + " " + std::to_string(a.x) + " " + std::to_string(a.y) + " " +
               std::to_string(a.width + 2 * a.border_width) + " " + std::to_string(a.height + 2 * a.border_width) + "\n";
    }
    const auto file = dir / "storm-done";
    {
      std::ofstream out(file.string() + ".tmp", std::ios::trunc);
      out << lines;
      if (!out) return 1;
    }
    std::error_code ec;
    std::filesystem::rename(file.string() + ".tmp", file, ec);  // the test never reads half a file
    return ec ? 1 : 0;
  }

  Display* dpy_;
  std::mt19937 rng_;
  int quiet_ms_;
  bool overhang_;  // storm-0 hangs over the screen's edge
  int screen_ = 0;
  Window root_ = 0;
  Visual* visual_ = nullptr;
  int depth_ = 24;
  int screen_w_ = 0, screen_h_ = 0, cell_w_ = 0, cell_h_ = 0;
  GC gc_;
  std::vector<Final> finals_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SEED DIR [QUIET_MS [OVERHANG]]\n", argv[0]);
    return 2;
  }
  Display* dpy = XOpenDisplay(nullptr);
  if (dpy == nullptr) {
    std::fprintf(stderr, "guest_storm: cannot open display %s\n", std::getenv("DISPLAY") ? std::getenv("DISPLAY") : "");
    return 1;
  }
  if (DefaultDepth(dpy, DefaultScreen(dpy)) != 24) {
    std::fprintf(stderr, "guest_storm: needs a 24-bit TrueColor screen\n");
    return 1;
  }
  Storm storm(dpy, static_cast<std::uint32_t>(std::strtoul(argv[1], nullptr, 10)), argc > 3 ? std::atoi(argv[3]) : 300,
              argc > 4 && std::atoi(argv[4]) != 0);
  if (const int rc = storm.run(argv[2]); rc != 0) return rc;
  // Idle with the windows up until the sandbox ends: the windows die with this connection.
  for (;;) ::pause();
}
