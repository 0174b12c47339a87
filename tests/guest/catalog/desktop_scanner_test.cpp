#include "vitrine/catalog/desktop_scanner.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_dir.hpp"
#include "vitrine/catalog/icon_loader.hpp"
#include "vitrine/catalog/png_image.hpp"

namespace vitrine::catalog {
namespace {

using test::TempDir;
using test::write_file;

std::string entry(std::string_view name, std::string_view exec, std::string_view extra = "") {
  return "[Desktop Entry]\nType=Application\nName=" + std::string(name) + "\nExec=" + std::string(exec) + "\n" +
         std::string(extra);
}

std::string png_of(std::uint32_t w, std::uint32_t h, std::uint8_t value) {
  auto png = encode_png(RgbaImage{w, h, std::vector<std::uint8_t>(std::size_t{w} * h * 4, value)});
  return std::string(reinterpret_cast<const char*>(png->data()), png->size());
}

const AppEntry* find(const ScanResult& r, std::string_view id) {
  auto it = std::find_if(r.apps.begin(), r.apps.end(), [&](const AppEntry& a) { return a.id == id; });
  return it == r.apps.end() ? nullptr : &*it;
}

bool skipped_with(const ScanResult& r, std::string_view what) {
  return std::any_of(r.skipped.begin(), r.skipped.end(),
                     [&](const std::string& s) { return s.find(what) != std::string::npos; });
}

TEST(DesktopScanner, AppliesDesktopFileIdPrecedenceAndFilters) {
  TempDir home, sys;
  write_file(sys.path() / "applications/xterm.desktop", entry("XTerm", "xterm", "Icon=xterm\n"));
  write_file(sys.path() / "applications/kde/konsole.desktop", entry("Konsole", "konsole"));
  write_file(sys.path() / "applications/hidden-by-home.desktop", entry("Masked", "masked"));
  write_file(home.path() / "applications/hidden-by-home.desktop", entry("Masked", "masked", "Hidden=true\n"));
  write_file(home.path() / "applications/xterm.desktop", entry("My XTerm", "xterm -fa Mono"));
  write_file(sys.path() / "applications/nodisplay.desktop", entry("N", "n", "NoDisplay=true\n"));
  write_file(sys.path() / "applications/link.desktop", "[Desktop Entry]\nType=Link\nName=L\nURL=http://x\n");
  write_file(sys.path() / "applications/tryexec.desktop", entry("T", "t", "TryExec=/nonexistent/prog\n"));
  write_file(sys.path() / "applications/broken.desktop", "garbage\n");
  write_file(sys.path() / "applications/gnome-only.desktop", entry("G", "g", "OnlyShowIn=GNOME;\n"));
  write_file(sys.path() / "applications/notes.txt", "not an entry");

  ScanOptions o;
  o.data_dirs = {home.path(), sys.path()};
  auto r = scan_desktop_entries(o);
  ASSERT_EQ(r.apps.size(), 2u);
  const AppEntry* xterm = find(r, "xterm");
  ASSERT_NE(xterm, nullptr);
  EXPECT_EQ(xterm->name, "My XTerm");  // XDG_DATA_HOME wins
  EXPECT_EQ(xterm->exec, (std::vector<std::string>{"xterm", "-fa", "Mono"}));
  EXPECT_NE(find(r, "kde-konsole"), nullptr);  // sub-folder -> '-' in the ID
  EXPECT_TRUE(skipped_with(r, "Hidden=true"));
  EXPECT_TRUE(skipped_with(r, "NoDisplay=true"));
  EXPECT_TRUE(skipped_with(r, "not Application"));
  EXPECT_TRUE(skipped_with(r, "TryExec=/nonexistent/prog"));
  EXPECT_TRUE(skipped_with(r, "broken.desktop:1"));
  EXPECT_TRUE(skipped_with(r, "OnlyShowIn"));
}

TEST(DesktopScanner, FindsIconsByNearestSizeAndConvertsToPng) {
  TempDir d;
  write_file(d.path() / "applications/a.desktop", entry("A", "a", "Icon=appicon\n"));
  write_file(d.path() / "applications/b.desktop", entry("B", "b", "Icon=vector\n"));
  write_file(d.path() / "applications/c.desktop", entry("C", "c", "Icon=" + (d.path() / "abs.png").string() + "\n"));
  write_file(d.path() / "applications/e.desktop", entry("E", "e", "Icon=missing\n"));
  write_file(d.path() / "applications/f.desktop", entry("F", "f", "Icon=corrupt\n"));
  write_file(d.path() / "icons/hicolor/16x16/apps/appicon.png", png_of(16, 16, 1));
  write_file(d.path() / "icons/hicolor/48x48/apps/appicon.png", png_of(48, 48, 2));
  write_file(d.path() / "icons/hicolor/256x256/apps/appicon.png", png_of(4, 4, 3));
  write_file(d.path() / "icons/hicolor/scalable/apps/vector.svg", "<svg/>");
  write_file(d.path() / "abs.png", png_of(8, 8, 9));
  write_file(d.path() / "pixmaps/corrupt.png", "\x89PNG\r\n\x1a\nnot really");

  ScanOptions o;
  o.data_dirs = {d.path()};
  auto r = scan_desktop_entries(o);
  ASSERT_EQ(r.apps.size(), 5u);
  auto a = decode_png(find(r, "a")->icon_png);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->width, 48u);
  EXPECT_EQ(a->pixels[0], 2);
  EXPECT_TRUE(find(r, "b")->icon_png.empty());
  EXPECT_TRUE(skipped_with(r, "SVG icons are not rasterised"));
  auto c = decode_png(find(r, "c")->icon_png);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->width, 8u);
  EXPECT_TRUE(skipped_with(r, "icon 'missing' not found"));
  EXPECT_TRUE(find(r, "f")->icon_png.empty());

  auto near16 = find_icon("appicon", {d.path()}, 16);
  ASSERT_TRUE(near16);
  EXPECT_NE(near16->string().find("16x16"), std::string::npos);
  EXPECT_FALSE(find_icon("../etc/passwd", {d.path()}));
  EXPECT_FALSE(find_icon("", {d.path()}));
}

TEST(DesktopScanner, MissingDirsGiveAnEmptyCatalogue) {
  ScanOptions o;
  o.data_dirs = {"/nonexistent/vitrine/data"};
  auto r = scan_desktop_entries(o);
  EXPECT_TRUE(r.apps.empty());
}

TEST(DesktopScanner, ExplicitApplicationFoldersReplaceTheDataDirsOnes) {
  TempDir d;
  write_file(d.path() / "one/sub/a.desktop", entry("A", "a", "Icon=appicon\n"));
  write_file(d.path() / "two/sub-a.desktop", entry("Shadowed", "x"));
  write_file(d.path() / "two/b.desktop", entry("B", "b"));
  write_file(d.path() / "data/applications/c.desktop", entry("C", "c"));  // not scanned
  write_file(d.path() / "data/icons/hicolor/48x48/apps/appicon.png", png_of(48, 48, 2));
  ScanOptions o;
  o.application_dirs = {d.path() / "one", d.path() / "two"};
  o.data_dirs = {d.path() / "data"};  // icons only
  EXPECT_EQ(application_folders(o), o.application_dirs);
  auto r = scan_desktop_entries(o);
  ASSERT_EQ(r.apps.size(), 2u);
  ASSERT_NE(find(r, "sub-a"), nullptr);
  EXPECT_EQ(find(r, "sub-a")->name, "A");  // the earlier folder wins the same id
  EXPECT_FALSE(find(r, "sub-a")->icon_png.empty());
  EXPECT_NE(find(r, "b"), nullptr);
  EXPECT_EQ(find(r, "c"), nullptr);
}

TEST(DesktopScanner, DataDirsFromEnvironmentFollowTheSpec) {
  ::setenv("XDG_DATA_HOME", "/h", 1);
  ::setenv("XDG_DATA_DIRS", "/a:relative:/b", 1);
  auto dirs = xdg_data_dirs_from_env();
  EXPECT_EQ(dirs, (std::vector<std::filesystem::path>{"/h", "/a", "/b"}));
  ::setenv("XDG_DATA_DIRS", "", 1);
  dirs = xdg_data_dirs_from_env();
  EXPECT_EQ(dirs, (std::vector<std::filesystem::path>{"/h", "/usr/local/share", "/usr/share"}));
  ::unsetenv("XDG_DATA_HOME");
  ::unsetenv("XDG_DATA_DIRS");
}

}  // namespace
}  // namespace vitrine::catalog
