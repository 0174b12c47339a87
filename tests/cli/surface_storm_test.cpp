// Window traffic storms on the real product, headless: `vitrine run` on the sandbox demo guest
// with guest_storm as its RemoteApp program (random damage, resizes, moves, border changes and
// create/destroy storms of top-level windows, deterministic from a seed). When the storm is over
// (its storm-done file names the windows it left and their frames), the host's headless
// screenshots of those windows must equal the guest's own screen (guest_xshot) pixel for pixel,
// the host must show exactly those windows (none lost, none left over), and the pixels must
// have come the way the case says: shared-memory surfaces (zero-copy in the guest) or, with
// --no-surfaces, RDP (planar is lossless, so the comparison is exact on both paths).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "demo_guest.hpp"
#include "demo_support.hpp"
#include "process_util.hpp"
#include "test_dir.hpp"

namespace vitrine::cli {
namespace {

using namespace e2e;  // demo_support.hpp
using relay::testing::have_program;

struct StormCase {
  std::uint32_t seed = 0;
  bool surfaces = true;
  bool overhang = false;  // storm-0 ends partly off the guest's screen
};

void PrintTo(const StormCase& c, std::ostream* os) {
  *os << (c.surfaces ? "surfaces" : "rdp") << ", seed " << c.seed << (c.overhang ? ", over the screen's edge" : "");
}

std::string case_name(const ::testing::TestParamInfo<StormCase>& info) {
  return std::string(info.param.surfaces ? "Surfaces" : "Rdp") + "Seed" + std::to_string(info.param.seed) +
         (info.param.overhang ? "OverScreenEdge" : "");
}

// A final window as the storm reports it: title and frame (guest desktop coordinates, border
// included).
struct Expected {
  std::string title;
  int x = 0, y = 0, width = 0, height = 0;
};

std::vector<Expected> read_done(const std::filesystem::path& file) {
  std::vector<Expected> out;
  std::istringstream in(read_file(file));
  for (Expected e; in >> e.title >> e.x >> e.y >> e.width >> e.height;) out.push_back(e);
  return out;
}

// Exact comparison of a host window (RGBA, window-sized) with the guest's screen at its frame;
// the failure names how many pixels differ, their bounding box and the first one.
::testing::AssertionResult equals_guest(const std::string& title, const catalog::RgbaImage& host,
                                        const catalog::RgbaImage& guest, int x, int y) {
  std::size_t diff = 0;
  int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
  std::string first;
  for (int row = 0; row < static_cast<int>(host.height); ++row)
    for (int col = 0; col < static_cast<int>(host.width); ++col) {
      const int gx = x + col, gy = y + row;
      if (gx < 0 || gy < 0 || gx >= static_cast<int>(guest.width) || gy >= static_cast<int>(guest.height)) continue;
      const std::uint8_t* g = &guest.pixels[(static_cast<std::size_t>(gy) * guest.width + gx) * 4];
      const std::uint8_t* h = &host.pixels[(static_cast<std::size_t>(row) * host.width + col) * 4];
      if (h[0] == g[0] && h[1] == g[1] && h[2] == g[2]) continue;
      if (diff++ == 0) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "(%d,%d) host %02x%02x%02x guest %02x%02x%02x", col, row, h[0], h[1], h[2], g[0],
                      g[1], g[2]);
        first = buf;
      }
      x0 = std::min(x0, col), y0 = std::min(y0, row), x1 = std::max(x1, col), y1 = std::max(y1, row);
    }
  if (diff == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << title << " (" << host.width << "x" << host.height << " at " << x << "," << y
                                       << "): " << diff << " pixels differ from the guest's screen, within window rect ("
                                       << x0 << "," << y0 << ")-(" << x1 << "," << y1 << "), first " << first;
}

// The count of a stage in the telemetry JSON (-1: absent).
long stage_count(const std::string& json, const std::string& stage) {
  const std::regex re("\"" + stage + "\":\\{\"count\":([0-9]+)");
  std::smatch m;
  return std::regex_search(json, m, re) ? std::stol(m[1]) : -1;
}

std::string counter(const std::string& json, const std::string& name) {
  const std::regex re("\"" + name + "\": \"([^\"]*)\"");
  std::smatch m;
  return std::regex_search(json, m, re) ? std::string(m[1]) : std::string("?");
}

// "surface" or "rdp" for window `id` from the counters ("" when absent). The value reads
// `surface "title"`; only its first word is taken, whatever the title's quoting.
std::string window_path(const std::string& json, std::uint32_t id) {
  const std::regex re("\"window\\." + std::to_string(id) + "\\.pixels\": \"([a-z]+)");
  std::smatch m;
  return std::regex_search(json, m, re) ? std::string(m[1]) : std::string();
}

class SurfaceStorm : public ::testing::TestWithParam<StormCase> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "cannot create a folder in /var/tmp";
    if (!have_program("Xvfb")) GTEST_SKIP() << "needs Xvfb (xvfb)";
    auto guest = locate_demo_guest();
    if (!guest) GTEST_SKIP() << guest.error();
    guest_ = *guest;
    for (const char* helper : {"vitrine_test_guest_xshot", "vitrine_test_guest_storm"})
      if (!std::filesystem::exists(guest_.bin_dir / helper))
        GTEST_SKIP() << helper << " is not built next to vitrine in " << guest_.bin_dir;
    shots_ = dir_.path() / "guest-shots";
    storm_dir_ = dir_.path() / "storm";
    std::filesystem::create_directories(shots_);
    std::filesystem::create_directories(storm_dir_);
  }

  // The demo guest with the storm as RemoteApp alias "storm" and the screenshot helper.
  // The storm's last single pixels come 600 ms after its last burst: longer than the host
  // display's quiet time before a screenshot (400 ms), so they arrive to an idle host.
  std::filesystem::path write_config(const StormCase& c) {
    auto demo = write_demo_config(guest_, dir_.path() / "demo");
    EXPECT_TRUE(demo) << demo.error();
    std::string toml = read_file(*demo);
    const std::string first_alias = "\"--app\", \"xterm=";
    const auto at = toml.find(first_alias);
    EXPECT_NE(at, std::string::npos) << "the demo's appserver command changed:\n" << toml;
    const std::string storm = "\"--app\", \"storm=" + (guest_.bin_dir / "vitrine_test_guest_storm").string() + " " +
                              std::to_string(c.seed) + " " + storm_dir_.string() + " 600 " + (c.overhang ? "1" : "0") +
                              "\", ";
    if (at != std::string::npos) toml.insert(at, storm);
    toml += "\n[[sandbox.program]]\nname = \"xshot\"\ncommand = [\"" +
            (guest_.bin_dir / "vitrine_test_guest_xshot").string() + "\", \":0\", \"" + shots_.string() +
            "\", \"250\"]\nrestart = \"on-failure\"\n";
    // Host windows are compared with the guest's screen pixel for pixel and found by title: no
    // per-VM label here (its border and title prefix have their own tests).
    toml += "\n[display]\nborder_px = 0\ntitle_prefix = \"\"\n";
    const auto file = dir_.path() / "vm.toml";
    std::ofstream(file) << toml;
    return file;
  }

  std::map<std::string, std::string> env() const {
    return {{"DISPLAY", ""},
            {"XDG_STATE_HOME", (dir_.path() / "state").string()},
            {"XDG_RUNTIME_DIR", runtime_.path().string()},
            {"XDG_DATA_HOME", (dir_.path() / "data").string()}};
  }

  SharedDir dir_;
  test::TempDir runtime_;
  DemoGuest guest_;
  std::filesystem::path shots_;
  std::filesystem::path storm_dir_;
};

TEST_P(SurfaceStorm, EveryWindowLeftEqualsTheGuestsPixels) {
  const StormCase c = GetParam();
  const std::string instance = "storm" + std::to_string(c.seed) + (c.surfaces ? "s" : "r");
  const auto out = dir_.path() / "host-shots";
  const auto telemetry = dir_.path() / "telemetry.json";
  std::vector<std::string> args{"-v",      "--instance", instance,           "run",  write_config(c).string(),
                                "--app",   "||storm",    "--headless",       "--screenshot-dir", out.string(),
                                "--telemetry-json", telemetry.string()};
  if (!c.surfaces) args.push_back("--no-surfaces");
  Vitrine v(args, env(), dir_.path() / "vitrine.log");
  const auto guest_log = dir_.path() / "state" / "vitrine" / instance / "logs" / "demo-sandbox.log";
  const std::string where = "\n(test folder " + dir_.path().string() + "; VITRINE_KEEP_TEST_DIRS=1 keeps it)";

  // The storm runs once the RemoteApp session is up; its file says it is over.
  const auto done = storm_dir_ / "storm-done";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(done) || !v.running(); }, 90s) &&
              std::filesystem::exists(done))
      << v.log() << "\n" << read_file(guest_log) << where;
  const auto expected = read_done(done);
  ASSERT_GE(expected.size(), 5u) << read_file(done);

  // The host shows exactly the storm's windows at their frames (the live index, rewritten after
  // every change once the display is quiet).
  auto index_matches = [&] {
    auto shown = read_index(out);
    if (shown.size() != expected.size()) return false;
    for (const auto& e : expected) {
      const auto it = std::find_if(shown.begin(), shown.end(), [&](const ShotWindow& w) { return w.title == e.title; });
      if (it == shown.end() || it->x != e.x || it->y != e.y || it->width != e.width || it->height != e.height)
        return false;
    }
    return true;
  };
  EXPECT_TRUE(wait_until([&] { return index_matches() || !v.running(); }, 30s))
      << "the host's windows did not settle to the storm's:\n" << read_file(out / "windows.json") << "expected:\n"
      << read_file(done) << where;
  // Two guest screenshots taken after the storm ended (guest_xshot shoots every 250 ms): the
  // guest's screen has not changed since; then a moment for the host's last uploads.
  const auto shots_then = guest_shot_files(shots_);
  const long after = shots_then.empty() ? -1 : shots_then.front().first;
  ASSERT_TRUE(wait_until(
      [&] {
        const auto f = guest_shot_files(shots_);
        return !f.empty() && f.front().first >= after + 2;
      },
      20s))
      << "guest_xshot stopped taking screenshots" << where;
  // Read now, not after the stop: once the VM stops, the storm's windows may vanish before
  // guest_xshot does.
  const auto newest = guest_shot_files(shots_);
  ASSERT_FALSE(newest.empty());
  const auto guest = load_png(newest.front().second);
  ASSERT_TRUE(guest) << newest.front().second;
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(v.finish(SIGINT, 30s), 130) << v.log() << where;  // writes the final screenshots

  // None lost, none left over, each at its frame, each pixel the guest's.
  const auto windows = read_index(out);
  std::set<std::string> shown_titles, expected_titles;
  for (const auto& w : windows) shown_titles.insert(w.title);
  for (const auto& e : expected) expected_titles.insert(e.title);
  EXPECT_EQ(shown_titles, expected_titles) << read_file(out / "windows.json") << where;
  EXPECT_EQ(windows.size(), expected.size()) << read_file(out / "windows.json") << where;
  for (const auto& e : expected) {
    const auto it = std::find_if(windows.begin(), windows.end(), [&](const ShotWindow& w) { return w.title == e.title; });
    if (it == windows.end()) continue;  // reported above
    EXPECT_EQ(std::make_tuple(it->x, it->y, it->width, it->height), std::make_tuple(e.x, e.y, e.width, e.height))
        << e.title << " frame on the host" << where;
    auto img = load_png(out / it->file);
    ASSERT_TRUE(img) << it->file << where;
    ASSERT_EQ(static_cast<int>(img->width), it->width) << it->file;
    ASSERT_EQ(static_cast<int>(img->height), it->height) << it->file;
    EXPECT_TRUE(equals_guest(e.title, *img, *guest, e.x, e.y)) << newest.front().second << where;
  }

  // The path the pixels took.
  const std::string json = read_file(telemetry);
  const std::string log = v.log();
  const std::string glog = read_file(guest_log);
  const long surface_uploads = stage_count(json, "surface_read_to_upload");
  const long rdp_uploads = stage_count(json, "paint_to_upload");
  std::printf("seed %u %s: %zu windows; surfaces %s, surface presents %s, rdp.paints %s\n", c.seed,
              c.surfaces ? "surfaces" : "rdp", expected.size(), counter(json, "surface.surfaces").c_str(),
              counter(json, "surface.presents").c_str(), counter(json, "rdp.paints").c_str());
  // Hidden windows too: the host keeps none that the guest destroyed.
  EXPECT_EQ(counter(json, "display.windows"), std::to_string(expected.size())) << json << where;
  // Per window, the path that carried its pixels at the end (`vitrine stats`' window.<id>.pixels,
  // also in the telemetry file's counters).
  for (const auto& w : windows) {
    const std::string path = window_path(json, w.id);
    EXPECT_EQ(path, c.surfaces ? "surface" : "rdp") << w.title << " (window " << w.id << ")\n" << json;
  }
  if (c.surfaces) {
    EXPECT_NE(counter(json, "surface.faults").find("0 records refused, 0 surfaces dropped, 0 ring resets"),
              std::string::npos)
        << json;
    EXPECT_NE(counter(json, "surface.uploads").find(", 0 failed)"), std::string::npos) << json;
    EXPECT_NE(log.find("window pixels: shared-memory surfaces"), std::string::npos) << log;
    EXPECT_GT(surface_uploads, 0) << json;
    EXPECT_NE(glog.find("the host reads window surfaces"), std::string::npos) << glog;
    EXPECT_NE(glog.find("zero-copy true"), std::string::npos) << "the X server did not write into the pool\n" << glog;
    // No surface fell back to RDP or was refused on the way.
    EXPECT_EQ(glog.find("the host dropped the surface"), std::string::npos) << glog;
    EXPECT_EQ(log.find("surface channel"), std::string::npos) << log;
    EXPECT_EQ(std::regex_search(log, std::regex("surface [0-9]+ of window")), false) << log;
  } else {
    EXPECT_NE(log.find("window pixels over RDP (--no-surfaces)"), std::string::npos) << log;
    EXPECT_LE(surface_uploads, 0) << json;
    EXPECT_GT(rdp_uploads, 0) << json;
    EXPECT_EQ(glog.find("the host reads window surfaces"), std::string::npos) << glog;
  }
}

// Three seeds on the surface path; a fourth with a window over the screen's edge (a window the
// user dragged part-way off the guest's screen: X's GetImage refuses such a rectangle); one seed
// on the RDP path (--no-surfaces, which the demo tests cover as well) with that window too.
INSTANTIATE_TEST_SUITE_P(Seeds, SurfaceStorm,
                         ::testing::Values(StormCase{1, true, false}, StormCase{2, true, false},
                                           StormCase{3, true, false}, StormCase{5, true, true},
                                           StormCase{4, false, true}),
                         case_name);

}  // namespace
}  // namespace vitrine::cli
