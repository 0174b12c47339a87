// The application catalogue end to end: a real vitrine-guest process publishes a temp apps
// folder over a bus, the host's HostMux receives it in an event loop that sleeps on
// control_wake_fd(), CatalogReassembler decodes it. Changes in the folder give new generations;
// CatalogRequest resends; --no-catalog publishes nothing.
#include <gtest/gtest.h>
#include <poll.h>

#include <filesystem>
#include <optional>

#include "process_util.hpp"
#include "relay_fixture.hpp"
#include "test_dir.hpp"
#include "vitrine/rdpmux/catalog_exec.hpp"
#include "vitrine/rdpmux/catalog_wire.hpp"
#include "vitrine/catalog/png_image.hpp"

namespace vitrine::relay::testing {
namespace {

namespace fs = std::filesystem;

std::string desktop(const std::string& name, const std::string& exec, const std::string& extra = "") {
  return "[Desktop Entry]\nType=Application\nName=" + name + "\nExec=" + exec + "\n" + extra;
}

// Writes next to the folder, then renames in: the watcher sees one complete file appear.
void install(const fs::path& apps, const std::string& file, const std::string& text) {
  const fs::path tmp = apps.parent_path() / (file + ".partial");
  test::write_file(tmp, text);
  fs::rename(tmp, apps / file);
}

class CatalogProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    apps_ = dir_.path() / "share" / "applications";
    fs::create_directories(apps_);
    install(apps_, "xclock.desktop", desktop("XClock", "xclock -update 1", "Icon=xclock\nComment=a clock\n"));
    install(apps_, "xterm.desktop", desktop("XTerm", "xterm %U", "Terminal=false\n"));
    // The icon: 16x16 RGBA in hicolor, re-encoded by the guest as RGBA8 PNG.
    icon_.width = icon_.height = 16;
    icon_.pixels.resize(16 * 16 * 4);
    for (std::size_t i = 0; i < icon_.pixels.size(); ++i) icon_.pixels[i] = static_cast<std::uint8_t>(i * 7);
    auto png = catalog::encode_png(icon_);
    ASSERT_TRUE(png);
    test::write_file(dir_.path() / "share/icons/hicolor/16x16/apps/xclock.png",
                     std::string_view(reinterpret_cast<const char*>(png->data()), png->size()));
  }

  void start(std::vector<std::string> extra_args = {}) {
    auto bus = ringbus::Bus::create(ringbus::BusConfig::uniform(3, 16, 16));
    ASSERT_TRUE(bus);
    bus_ = std::make_unique<ringbus::Bus>(std::move(*bus));
    auto bells = rdpmux::BusDoorbells::create_eventfds(3);
    ASSERT_TRUE(bells);
    const std::vector<int> bell_fds = bells->fds();
    std::vector<int> keep = bell_fds;
    keep.push_back(bus_->fd());
    std::vector<std::string> args = {"--bus-fd", std::to_string(bus_->fd()), "--doorbell-fds", join(bell_fds)};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn_guest(args, keep);
    rdpmux::HostMuxOptions options;
    options.on_catalog_fragment = [this](std::span<const std::byte> fragment) {
      auto r = reassembler_.add(fragment);
      if (!r) {
        ++reassembly_errors_;
        ADD_FAILURE() << "reassembly: " << r.error().message;
      } else if (r->has_value()) {
        catalogs_.push_back(std::move(**r));
      }
    };
    auto mux = rdpmux::HostMux::create(*bus_, std::move(*bells), std::move(options));
    ASSERT_TRUE(mux);
    mux_ = std::move(*mux);
    auto hello = mux_->wait_ready(10s);
    ASSERT_TRUE(hello) << rdpmux::to_string(hello.error());
  }

  void TearDown() override {
    if (pid_ > 0) {
      EXPECT_EQ(stop_guest(pid_), 0);
    }
  }

  // The host's event loop: sleeps on the control wake fd, polls; until `count` catalogues.
  bool wait_catalogs(std::size_t count, std::chrono::seconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (catalogs_.size() < count && std::chrono::steady_clock::now() < deadline) {
      if (mux_->arm_control_wake()) {
        pollfd pfd{mux_->control_wake_fd(), POLLIN, 0};
        ::poll(&pfd, 1, 200);
      }
      mux_->poll();
    }
    return catalogs_.size() >= count;
  }

  static const catalog::AppEntry* find(const catalog::Catalog& c, const std::string& id) {
    for (const auto& a : c.apps)
      if (a.id == id) return &a;
    return nullptr;
  }

  test::TempDir dir_;
  fs::path apps_;
  catalog::RgbaImage icon_;
  std::unique_ptr<ringbus::Bus> bus_;
  pid_t pid_ = -1;
  std::unique_ptr<rdpmux::HostMux> mux_;
  catalog::CatalogReassembler reassembler_;
  std::vector<catalog::Catalog> catalogs_;
  int reassembly_errors_ = 0;
};

TEST_F(CatalogProcess, TheGuestsApplicationsArriveAndFollowChanges) {
  start({"--apps-dir", apps_.string()});
  ASSERT_TRUE(mux_->catalog_negotiated());
  ASSERT_GE(mux_->control_wake_fd(), 0);
  ASSERT_TRUE(wait_catalogs(1)) << "no catalogue after HelloReply";
  const catalog::Catalog first = catalogs_.back();
  ASSERT_EQ(first.apps.size(), 2u);
  const auto* xclock = find(first, "xclock");
  ASSERT_NE(xclock, nullptr);
  EXPECT_EQ(xclock->name, "XClock");
  EXPECT_EQ(xclock->comment, "a clock");
  EXPECT_EQ(xclock->exec, (std::vector<std::string>{"xclock", "-update", "1"}));
  auto icon = catalog::decode_png(xclock->icon_png);
  ASSERT_TRUE(icon) << "icon did not arrive as PNG";
  EXPECT_EQ(icon->width, 16u);
  EXPECT_EQ(icon->pixels, icon_.pixels);
  const auto* xterm = find(first, "xterm");
  ASSERT_NE(xterm, nullptr);
  EXPECT_TRUE(xterm->icon_png.empty());
  // What `vitrine launch xterm /tmp` would run in the RDP session.
  EXPECT_EQ(*catalog::launch_argv(*xterm, {"/tmp"}), (std::vector<std::string>{"xterm", "/tmp"}));

  // Adding a file: a new generation with it.
  install(apps_, "xeyes.desktop", desktop("XEyes", "xeyes"));
  ASSERT_TRUE(wait_catalogs(2)) << "no new generation after adding xeyes.desktop";
  EXPECT_GT(catalogs_[1].generation, first.generation);
  EXPECT_EQ(catalogs_[1].apps.size(), 3u);
  EXPECT_NE(find(catalogs_[1], "xeyes"), nullptr);

  // Removing one: another generation without it.
  fs::remove(apps_ / "xclock.desktop");
  ASSERT_TRUE(wait_catalogs(3)) << "no new generation after removing xclock.desktop";
  EXPECT_GT(catalogs_[2].generation, catalogs_[1].generation);
  EXPECT_EQ(catalogs_[2].apps.size(), 2u);
  EXPECT_EQ(find(catalogs_[2], "xclock"), nullptr);

  // CatalogRequest: the same generation again, whole.
  ASSERT_TRUE(mux_->request_catalog());
  ASSERT_TRUE(wait_catalogs(4)) << "CatalogRequest was not answered";
  EXPECT_EQ(catalogs_[3].generation, catalogs_[2].generation);
  EXPECT_EQ(catalogs_[3].apps, catalogs_[2].apps);

  EXPECT_EQ(mux_->counters().protocol_errors.load(), 0u);
  EXPECT_EQ(mux_->counters().catalogs_complete.load(), 4u);
  EXPECT_EQ(reassembly_errors_, 0);
}

catalog::RgbaImage noise(std::uint32_t side, std::uint32_t seed) {
  catalog::RgbaImage img;
  img.width = img.height = side;
  img.pixels.resize(std::size_t{side} * side * 4);
  for (auto& p : img.pixels) p = static_cast<std::uint8_t>((seed = seed * 1103515245 + 12345) >> 16);
  return img;  // incompressible: the PNG is as large as the pixels
}

void write_png(const fs::path& file, const catalog::RgbaImage& img) {
  auto png = catalog::encode_png(img);
  ASSERT_TRUE(png);
  test::write_file(file, std::string_view(reinterpret_cast<const char*>(png->data()), png->size()));
}

TEST_F(CatalogProcess, ACatalogueOfManyRecordsArrivesWholeAndAnOversizedIconIsLeftOut) {
  // 64 KiB icons: the catalogue spans many records of the 64 KiB control ring (16 KiB each).
  const auto icon = noise(128, 7);
  for (int i = 0; i < 6; ++i) {
    const std::string id = "big" + std::to_string(i);
    write_png(dir_.path() / ("share/icons/hicolor/128x128/apps/" + id + ".png"), icon);
    install(apps_, id + ".desktop", desktop("Big " + std::to_string(i), id, "Icon=" + id + "\n"));
  }
  // Above kMaxIconPngBytes as PNG: the entry is published without it, the rest unharmed.
  write_png(dir_.path() / "share/icons/hicolor/512x512/apps/huge.png", noise(512, 9));
  install(apps_, "huge.desktop", desktop("Huge", "huge", "Icon=huge\n"));
  start({"--apps-dir", apps_.string()});
  ASSERT_TRUE(wait_catalogs(1, 30s));
  ASSERT_EQ(catalogs_[0].apps.size(), 9u);
  const auto* b = find(catalogs_[0], "big3");
  ASSERT_NE(b, nullptr);
  auto decoded = catalog::decode_png(b->icon_png);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->pixels, icon.pixels);
  const auto* huge = find(catalogs_[0], "huge");
  ASSERT_NE(huge, nullptr);
  EXPECT_TRUE(huge->icon_png.empty());
  EXPECT_GT(mux_->counters().catalog_fragments.load(), 20u);
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 0u);
}

TEST_F(CatalogProcess, NoCatalogPublishesNothing) {
  start({"--apps-dir", apps_.string(), "--no-catalog"});
  EXPECT_FALSE(mux_->catalog_negotiated());
  EXPECT_EQ(mux_->request_catalog().error().code, rdpmux::Errc::kInvalidArgument);
  EXPECT_FALSE(wait_catalogs(1, 1s));
  EXPECT_EQ(mux_->counters().protocol_errors.load(), 0u);
}

TEST_F(CatalogProcess, AnyFolderNameWorksAndARelativeAppsDirIsRefused) {
  // `vitrine demo` publishes a folder named demo-applications.
  const fs::path other = dir_.path() / "demo-applications";
  fs::create_directories(other);
  install(other, "xlogo.desktop", desktop("XLogo", "xlogo"));
  start({"--apps-dir", other.string()});
  ASSERT_TRUE(wait_catalogs(1));
  ASSERT_EQ(catalogs_[0].apps.size(), 1u);
  EXPECT_EQ(catalogs_[0].apps[0].id, "xlogo");

  const pid_t pid = spawn_guest({"--bus-fd", "3", "--apps-dir", "relative/applications"}, {});
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace vitrine::relay::testing
