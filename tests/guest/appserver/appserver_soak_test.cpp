// "Runs for days without leaking": windows come and go and clients reconnect, again and again,
// while vitrine-appserver's resident memory and open fds must stay flat.
//
// Bounded by default (label slow; a few dozen rounds, about a minute); VITRINE_SOAK=1 runs
// VITRINE_SOAK_ROUNDS rounds (default 600). Each round: new X windows appear (and some old ones
// go), a real X client (xlogo) starts or exits, a host RdpClient (rdpmux/host, RemoteApp, no
// Client Execute) connects, must see exactly the current windows, watches one repaint and a
// window go away, and leaves -- cleanly, or by a client that vanishes in the middle of the
// handshake. After each session the appserver's heap in use (its own report), VmRSS and fd
// count are sampled.
#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "support/child_process.hpp"
#include "support/wait_for.hpp"
#include "support/host_side.hpp"
#include "support/xvfb.hpp"

#ifndef VITRINE_APPSERVER_BIN
#error "VITRINE_APPSERVER_BIN must name the vitrine-appserver binary"
#endif

namespace vitrine::appserver::testing {
namespace {

using namespace std::chrono_literals;
namespace host = rdpmux::host;

std::string read_file(const std::filesystem::path& p) {
  std::string out;
  if (std::FILE* f = std::fopen(p.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

int soak_rounds() {
  const char* soak = std::getenv("VITRINE_SOAK");
  if (!soak || std::string(soak) != "1") return 36;
  const char* n = std::getenv("VITRINE_SOAK_ROUNDS");
  return n ? std::max(8, std::atoi(n)) : 600;
}

// The heap in use that the appserver reported after its last session ("memory after the
// session: heap in use N kB, ..."); -1 when the log has no such line.
long last_heap_in_use_kb(const std::string& log) {
  const std::string key = "memory after the session: heap in use ";
  const auto at = log.rfind(key);
  return at == std::string::npos ? -1 : std::strtol(log.c_str() + at + key.size(), nullptr, 10);
}

struct Sample {
  int round = 0;
  long heap_kb = 0;
  long rss_kb = 0;
  int fds = 0;
  int threads = 0;
};

TEST(AppServerSoak, WindowsComeAndGoClientsReconnectMemoryAndFdsStayFlat) {
  for (const char* p : {"Xvfb", "xlogo"})
    if (!have_program(p)) GTEST_SKIP() << p << " not installed (scripts/deps/appserver.txt)";
  auto guest = Xvfb::start(1024, 768);
  if (!guest) GTEST_SKIP() << "Xvfb did not start";
  const auto dir = std::filesystem::temp_directory_path() / ("vitrine-appserver-soak-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto log_path = dir / "appserver.log";
  auto server = start_appserver(VITRINE_APPSERVER_BIN, guest->display(), dir, log_path);
  ASSERT_TRUE(server) << read_file(log_path);
  const pid_t pid = server->process.pid();

  Display* x = guest->connection();
  std::mt19937 rng(20261125);
  std::deque<Window> windows;  // the test's own top-levels, oldest first
  std::deque<ChildProcess> xlogos;
  auto expected_ids = [&](const std::vector<Window>& extra) {
    std::vector<host::WindowId> ids;
    for (Window w : windows) ids.push_back(static_cast<host::WindowId>(w));
    for (Window w : extra) ids.push_back(static_cast<host::WindowId>(w));
    std::sort(ids.begin(), ids.end());
    return ids;
  };

  const int rounds = soak_rounds();
  std::vector<Sample> samples;
  std::size_t sessions = 0;
  for (int round = 0; round < rounds; ++round) {
    // Windows come: two new ones, titled, at random places.
    for (int i = 0; i < 2; ++i) {
      XSetWindowAttributes a{};
      a.background_pixel = rng() & 0xffffff;
      const Window w = XCreateWindow(x, DefaultRootWindow(x), int(rng() % 700), int(rng() % 500), 60 + rng() % 200,
                                     40 + rng() % 150, 0, CopyFromParent, InputOutput, CopyFromParent, CWBackPixel, &a);
      const std::string title = "soak " + std::to_string(round) + "." + std::to_string(i);
      XStoreName(x, w, title.c_str());
      XMapWindow(x, w);
      windows.push_back(w);
    }
    // ... and go: keep at most six.
    while (windows.size() > 6) {
      XDestroyWindow(x, windows.front());
      windows.pop_front();
    }
    XSync(x, False);
    // A real client comes or goes every other round.
    if (round % 2 == 0) {
      ChildOptions o;
      o.env = {{"DISPLAY", guest->display()}};
      o.stderr_path = "/dev/null";
      xlogos.emplace_back(std::vector<std::string>{"xlogo", "-geometry", "90x70+900+" + std::to_string(10 + (round % 8) * 80)}, o);
    } else if (xlogos.size() > 1) {
      xlogos.front().stop();
      xlogos.pop_front();
    }
    std::vector<Window> logo_windows;
    ASSERT_TRUE(wait_for(
        [&] {
          // xlogo windows are the root's children we did not create (the appserver creates none).
          logo_windows.clear();
          Window r = 0, p = 0, *kids = nullptr;
          unsigned n = 0;
          if (!XQueryTree(x, DefaultRootWindow(x), &r, &p, &kids, &n)) return false;
          for (unsigned i = 0; i < n; ++i) {
            XWindowAttributes a{};
            if (std::find(windows.begin(), windows.end(), kids[i]) == windows.end() &&
                XGetWindowAttributes(x, kids[i], &a) && a.map_state == IsViewable && !a.override_redirect)
              logo_windows.push_back(kids[i]);
          }
          if (kids) XFree(kids);
          return logo_windows.size() == xlogos.size();
        },
        10s, 20ms))
        << "round " << round << ": xlogo windows " << logo_windows.size() << " of " << xlogos.size();

    if (round % 4 == 3) {
      // A client that vanishes in the middle of the handshake.
      const int fd = connect_loopback(server->port);
      ASSERT_GE(fd, 0);
      const unsigned char request[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00};
      (void)::send(fd, request, sizeof request, MSG_NOSIGNAL);
      ::close(fd);
    } else {
      HostObserver observer;
      const int fd = connect_loopback(server->port);
      ASSERT_GE(fd, 0);
      auto client = start_rail_client(fd, "", observer);
      ASSERT_TRUE(client) << host::to_string(client.error());
      auto up = (*client)->wait_connected(30s);
      ASSERT_TRUE(up) << "round " << round << ": " << host::to_string(up.error()) << "\n" << read_file(log_path);
      // Exactly the current windows, nothing stale from earlier sessions.
      const auto want = expected_ids(logo_windows);
      std::vector<host::WindowId> got;
      EXPECT_TRUE(observer.wait(
          [&](const HostObserver& o) {
            got.clear();
            for (const auto& [id, state] : o.windows_locked()) got.push_back(id);
            return got == want;
          },
          20s))
          << "round " << round << ": host sees " << got.size() << " windows, guest has " << want.size();
      // A repaint and a window going away while connected.
      const Window painted = windows.back();
      GC gc = XCreateGC(x, painted, 0, nullptr);
      XSetForeground(x, gc, rng() & 0xffffff);
      XFillRectangle(x, painted, gc, 0, 0, 30, 20);
      XFreeGC(x, gc);
      XDestroyWindow(x, windows.front());
      const auto gone = static_cast<host::WindowId>(windows.front());
      windows.pop_front();
      XSync(x, False);
      EXPECT_TRUE(observer.wait([&](const HostObserver& o) { return !o.windows_locked().contains(gone); }, 20s))
          << "round " << round;
      (*client)->stop();
    }
    ++sessions;
    // The session is over when the appserver says so; then sample it.
    ASSERT_TRUE(wait_for([&] { return count_of(read_file(log_path), "session ended") >= sessions; }, 20s, 20ms))
        << "round " << round << "\n" << read_file(log_path);
    ASSERT_TRUE(server->process.running()) << read_file(log_path);
    std::this_thread::sleep_for(100ms);
    samples.push_back(
        {round, last_heap_in_use_kb(read_file(log_path)), rss_kb(pid), count_fds(pid), count_threads(pid)});
    ASSERT_GE(samples.back().heap_kb, 0) << "no memory report after the session of round " << round;
  }

  // stdout carries the "listening on" line and nothing else: whoever started the appserver may
  // never read that pipe again, and FreeRDP's log once filled it and blocked the server for good
  // after ~80 sessions.
  const auto extra = server->process.read_line_starting("", 300ms);
  EXPECT_FALSE(extra) << "the appserver wrote to stdout after its listening line: " << extra.value_or("");

  // Print the curve (the report quotes it), then judge it after a warm-up: FreeRDP and Xlib
  // fill their caches and allocator arenas during the first sessions.
  for (const Sample& s : samples)
    std::printf("round %3d  heap %5ld kB  rss %6ld kB  fds %3d  threads %2d\n", s.round, s.heap_kb, s.rss_kb, s.fds,
                s.threads);
  const std::size_t warm = samples.size() / 3;
  ASSERT_GE(samples.size(), warm + 4);
  const Sample& base = samples[warm];
  for (std::size_t i = warm; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].fds, base.fds) << "fd count changed at round " << samples[i].round;
    EXPECT_EQ(samples[i].threads, base.threads) << "thread count changed at round " << samples[i].round;
  }
  // Memory, judged on two measures.
  // Heap in use: the appserver's own count of malloc'd bytes not yet freed, after each session.
  // Exact for leaks but for glibc's per-thread cache (tcache), whose chunks mallinfo2 counts as
  // in use: the main thread's fills during the first sessions (~70 kB by round 12, ~100 kB by
  // round 240, 235 kB at most) and adds ~10 kB after warm-up; no block is lost or grows under
  // valgrind. A leak of 16 KiB per session adds 23 x 16 = 368 kB between the first sample after
  // warm-up and the last of the bounded run, and 6 x 16 = 96 kB even when only the vanishing
  // clients (every fourth round) leak: both over 64 kB. Checked by injecting either leak into
  // serve_session: +379 kB and +108 kB, failed (RSS alone missed both: +628 and +204 kB).
  // RSS: what the guest pays. The appserver returns free heap pages when a session ends
  // (process_memory.hpp); before that, freed session buffers pinned below the heap top held
  // 3.7-7.4 MB for one sample or for hundreds. Every sample after warm-up must stay within
  // 1 MiB of the run's lowest (the first session's buffers were mmapped, so round 0 is never
  // pinned); this also bounds what the heap count cannot see (stacks, mappings).
  long heap_peak = 0, rss_peak = 0, rss_floor = samples.front().rss_kb;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    rss_floor = std::min(rss_floor, samples[i].rss_kb);
    if (i < warm) continue;
    heap_peak = std::max(heap_peak, samples[i].heap_kb);
    rss_peak = std::max(rss_peak, samples[i].rss_kb);
  }
  const long heap_growth = samples.back().heap_kb - base.heap_kb;
  const long rss_growth = rss_peak - rss_floor;
  std::printf("after warm-up (rounds %d..%d): heap in use %ld -> %ld kB (%+ld kB, peak %ld kB); "
              "rss peak %ld kB, %+ld kB over the run's floor; fds %d, threads %d\n",
              base.round, samples.back().round, base.heap_kb, samples.back().heap_kb, heap_growth, heap_peak,
              rss_peak, rss_growth, base.fds, base.threads);
  RecordProperty("heap_growth_kb", static_cast<int>(heap_growth));
  RecordProperty("rss_growth_kb", static_cast<int>(rss_growth));
  EXPECT_LT(heap_growth, 64) << "heap in use grew after warm-up: a leak";
  EXPECT_LT(rss_growth, 1024) << "resident memory grew after warm-up";
  xlogos.clear();
  server->process.stop();
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitrine::appserver::testing
