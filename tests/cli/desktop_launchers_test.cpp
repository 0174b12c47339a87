#include "desktop_launchers.hpp"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "test_dir.hpp"
#include "vitrine/catalog/desktop_entry.hpp"
#include "vitrine/catalog/png_image.hpp"
#include <cstring>

namespace vitrine::cli {
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<catalog::AppEntry> published() {
  auto png = catalog::encode_png(catalog::RgbaImage{2, 2, std::vector<std::uint8_t>(16, 0x80)});
  catalog::AppEntry a;
  a.id = "debian-xterm";
  a.name = "XTerm";
  a.comment = "terminal\nwith a newline";
  a.exec = {"xterm"};
  a.icon_png = *png;
  catalog::AppEntry b;
  b.id = "odd id/with$chars%";
  b.name = "Odd \"quoted\" name; with = signs";
  b.exec = {"odd"};
  return {a, b};
}

LauncherInstallOptions options(const std::filesystem::path& home) {
  LauncherInstallOptions o;
  o.data_home = home;
  o.instance = "test";
  o.vitrine_binary = "/opt/vitrine dir/bin/vitrine";
  return o;
}

TEST(DesktopLaunchers, WritesOneEntryPerAppWithIconAndLaunchCommand) {
  test::TempDir home;
  auto report = install_launchers(published(), options(home.path()));
  ASSERT_TRUE(report) << report.error();
  ASSERT_EQ(report->written.size(), 2u);
  auto xterm = home.path() / "applications" / "vitrine-test-debian-xterm.desktop";
  ASSERT_TRUE(std::filesystem::exists(xterm));
  auto text = read(xterm);
  auto entry = catalog::parse_desktop_entry(text, xterm.string());
  ASSERT_TRUE(entry) << entry.error().message;
  EXPECT_EQ(entry->name, "XTerm");
  EXPECT_EQ(entry->comment, "terminal with a newline");
  // Exec parses back to exactly the launch command.
  auto argv = catalog::split_exec(entry->exec);
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv, (std::vector<std::string>{"/opt/vitrine dir/bin/vitrine", "--instance", "test", "launch", "--",
                                             "debian-xterm"}));
  auto icon = home.path() / "vitrine" / "icons" / "test" / "debian-xterm.png";
  EXPECT_EQ(entry->icon, icon.string());
  EXPECT_TRUE(std::filesystem::exists(icon));

  auto odd = home.path() / "applications" / ("vitrine-test-" + launcher_file_id("odd id/with$chars%") + ".desktop");
  ASSERT_TRUE(std::filesystem::exists(odd)) << odd;
  auto odd_entry = catalog::parse_desktop_entry(read(odd), odd.string());
  ASSERT_TRUE(odd_entry);
  auto odd_argv = catalog::split_exec(odd_entry->exec);
  ASSERT_TRUE(odd_argv);
  auto expanded = catalog::expand_exec(*odd_argv, {});
  ASSERT_TRUE(expanded);
  EXPECT_EQ(expanded->back(), "odd id/with$chars%");
}

// Icons reach the host's desktop only as pixels: re-encoded, never the guest's bytes.
TEST(DesktopLaunchers, IconsAreReencodedFromPixelsAndBadOnesAreLeftOut) {
  test::TempDir home;
  catalog::RgbaImage image{3, 2, {}};
  for (std::uint8_t i = 0; i < 24; ++i) image.pixels.push_back(static_cast<std::uint8_t>(i * 10));
  auto png = catalog::encode_png(image);
  ASSERT_TRUE(png);
  // Bytes after IEND reach any decoder that reads past it; they must not reach the file.
  const std::string trailer = "EXPLOIT-PAYLOAD";
  for (char c : trailer) png->push_back(static_cast<std::byte>(c));
  auto apps = published();
  apps[0].icon_png = *png;
  apps[1].icon_png = {std::byte{0x89}, std::byte{'P'}, std::byte{'N'}, std::byte{'G'}};  // not a PNG
  auto report = install_launchers(apps, options(home.path()));
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->written.size(), 2u);  // the bad icon costs its icon, not its entry
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_NE(report->warnings[0].find("refused"), std::string::npos) << report->warnings[0];

  const auto icon = home.path() / "vitrine" / "icons" / "test" / "debian-xterm.png";
  const std::string written = read(icon);
  EXPECT_EQ(written.find(trailer), std::string::npos);
  std::vector<std::byte> bytes(written.size());
  std::memcpy(bytes.data(), written.data(), written.size());
  auto decoded = catalog::decode_png(bytes);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->width, 3u);
  EXPECT_EQ(decoded->height, 2u);
  EXPECT_EQ(decoded->pixels, image.pixels);
  const auto odd = home.path() / "applications" / ("vitrine-test-" + launcher_file_id(apps[1].id) + ".desktop");
  EXPECT_EQ(read(odd).find("Icon="), std::string::npos);
  // The menu's startup notification goes to `vitrine launch` (DESKTOP_STARTUP_ID).
  EXPECT_NE(read(odd).find("\nStartupNotify=true\n"), std::string::npos) << read(odd);
}

// Distinct guest ids never share a launcher file (one would silently replace the other), and an
// id too long for a file name is skipped with a warning while the others are installed.
TEST(DesktopLaunchers, FileIdsAreInjectiveAndOverlongIdsAreSkipped) {
  EXPECT_NE(launcher_file_id("a/"), launcher_file_id("a_2f"));
  EXPECT_NE(launcher_file_id("_"), launcher_file_id("_5f"));
  EXPECT_EQ(launcher_file_id("a_b"), "a_5fb");
  test::TempDir home;
  auto apps = published();
  catalog::AppEntry huge;
  huge.id = std::string(300, 'x');
  huge.name = "Huge";
  huge.exec = {"huge"};
  apps.insert(apps.begin(), huge);
  auto report = install_launchers(apps, options(home.path()));
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->written.size(), 2u);
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_NE(report->warnings[0].find("skipped application"), std::string::npos) << report->warnings[0];
}

TEST(DesktopLaunchers, OutputPassesDesktopFileValidate) {
  if (std::system("command -v desktop-file-validate >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "desktop-file-validate not installed (package desktop-file-utils)";
  test::TempDir home;
  auto report = install_launchers(published(), options(home.path()));
  ASSERT_TRUE(report) << report.error();
  for (const auto& f : report->written) {
    std::string cmd = "desktop-file-validate '" + f.string() + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int status = ::pclose(p);
    EXPECT_EQ(WEXITSTATUS(status), 0) << f << ":\n" << out << read(f);
    EXPECT_EQ(out.find("error"), std::string::npos) << out;
  }
}

TEST(DesktopLaunchers, StaleEntriesAreRemovedAndForeignFilesKept) {
  test::TempDir home;
  auto o = options(home.path());
  ASSERT_TRUE(install_launchers(published(), o));
  // A file a user wrote with our prefix but without our marker, and another instance's entry.
  test::write_file(home.path() / "applications" / "vitrine-test-mine.desktop", "[Desktop Entry]\nName=mine\n");
  auto other = o;
  other.instance = "other";
  ASSERT_TRUE(install_launchers(published(), other));

  auto fewer = published();
  fewer.pop_back();
  auto report = install_launchers(fewer, o);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->removed.size(), 1u);
  EXPECT_NE(report->removed[0].string().find("odd"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(home.path() / "applications" / "vitrine-test-mine.desktop"));
  EXPECT_TRUE(std::filesystem::exists(home.path() / "applications" / "vitrine-other-debian-xterm.desktop"));

  auto gone = uninstall_launchers(o);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->removed.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(home.path() / "applications" / "vitrine-test-debian-xterm.desktop"));
  EXPECT_FALSE(std::filesystem::exists(home.path() / "vitrine" / "icons" / "test"));
  EXPECT_TRUE(std::filesystem::exists(home.path() / "applications" / "vitrine-other-debian-xterm.desktop"));
  EXPECT_TRUE(std::filesystem::exists(home.path() / "applications" / "vitrine-test-mine.desktop"));
}

}  // namespace
}  // namespace vitrine::cli
