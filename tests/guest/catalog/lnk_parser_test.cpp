#include "vitrine/catalog/lnk_parser.hpp"

#include <gtest/gtest.h>

#include "lnk_builder.hpp"
#include "test_dir.hpp"
#include "vitrine/catalog/start_menu_scanner.hpp"

namespace vitrine::catalog {
namespace {

using test::LnkBuilder;

std::span<const std::byte> bytes_of(const std::vector<std::uint8_t>& v) { return std::as_bytes(std::span(v)); }

LnkBuilder notepad() {
  LnkBuilder b;
  b.id_items = {{0x1F, 0x50, 1, 2, 3}, {0x2F, 'C', ':', '\\'}};
  b.local_base_path = "C:\\Windows\\notepad.exe";
  b.name = u"Edit text files";
  b.working_dir = u"%HOMEDRIVE%%HOMEPATH%";
  b.arguments = u"/A readme.txt";
  b.icon_location = u"%SystemRoot%\\system32\\notepad.exe";
  return b;
}

TEST(LnkParser, ParsesAValidUnicodeShortcut) {
  auto file = notepad().build();
  auto link = parse_shell_link(bytes_of(file));
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(link->target(), "C:\\Windows\\notepad.exe");
  EXPECT_EQ(link->name, "Edit text files");
  EXPECT_EQ(link->arguments, "/A readme.txt");
  EXPECT_EQ(link->working_dir, "%HOMEDRIVE%%HOMEPATH%");
  EXPECT_EQ(link->icon_location, "%SystemRoot%\\system32\\notepad.exe");
  EXPECT_EQ(link->icon_index, 3);
  EXPECT_EQ(link->show_command, 1u);
  EXPECT_EQ(link->id_list_items, 2u);
}

TEST(LnkParser, DecodesAnsiAsWindows1252AndUnicodeSurrogates) {
  LnkBuilder b;
  b.unicode = false;
  b.local_base_path = "C:\\Caf\xE9\\\x80.exe";
  b.name = u"R\u00e9sum\u00e9";
  auto link = parse_shell_link(bytes_of(b.build()));
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(link->target(), "C:\\Caf\xC3\xA9\\\xE2\x82\xAC.exe");  // é and €
  EXPECT_EQ(link->name, "R\xC3\xA9sum\xC3\xA9");

  LnkBuilder u;
  u.local_base_path_unicode = u"C:\\\U0001F600.exe";
  u.arguments = std::u16string(1, char16_t{0xD800});  // lone surrogate
  auto wide = parse_shell_link(bytes_of(u.build()));
  ASSERT_TRUE(wide) << wide.error().message;
  EXPECT_EQ(wide->target(), "C:\\\xF0\x9F\x98\x80.exe");
  EXPECT_EQ(wide->arguments, "\xEF\xBF\xBD");
}

TEST(LnkParser, NetworkPathAndEnvironmentTarget) {
  LnkBuilder n;
  n.net_name = "\\\\server\\share";
  n.suffix = "tools\\app.exe";
  auto net = parse_shell_link(bytes_of(n.build()));
  ASSERT_TRUE(net) << net.error().message;
  EXPECT_EQ(net->target(), "\\\\server\\share\\tools\\app.exe");

  LnkBuilder e;
  e.env_target_ansi = "%windir%\\ansi.exe";
  e.env_target_unicode = u"%windir%\\regedit.exe";
  auto env = parse_shell_link(bytes_of(e.build()));
  ASSERT_TRUE(env) << env.error().message;
  EXPECT_EQ(env->target(), "%windir%\\regedit.exe");
}

TEST(LnkParser, EveryTruncationIsAClearErrorNeverACrash) {
  auto file = notepad().build();
  // The terminal block is optional, so the last 4 bytes may go; anything shorter fails.
  for (std::size_t n = 0; n + 4 < file.size(); ++n) {
    auto r = parse_shell_link(bytes_of(file).first(n));
    ASSERT_FALSE(r) << "prefix of " << n << " bytes parsed";
    EXPECT_FALSE(r.error().message.empty());
  }
  auto short_header = parse_shell_link(bytes_of(file).first(10));
  EXPECT_EQ(short_header.error().code, Errc::kTruncated);
}

TEST(LnkParser, HostileSizesAndOffsetsAreRejected) {
  auto base = notepad().build();
  const std::size_t id_list = 0x4C;
  {
    auto f = base;
    f[0] = 0x4D;
    EXPECT_EQ(parse_shell_link(bytes_of(f)).error().code, Errc::kMalformed);
  }
  {
    auto f = base;
    f[5] ^= 0xFF;  // CLSID
    EXPECT_FALSE(parse_shell_link(bytes_of(f)));
  }
  {
    auto f = base;  // IDListSize 0xFFFF
    f[id_list] = 0xFF;
    f[id_list + 1] = 0xFF;
    EXPECT_EQ(parse_shell_link(bytes_of(f)).error().code, Errc::kTruncated);
  }
  {
    auto f = base;  // first ItemIDSize larger than the list
    f[id_list + 2] = 0xF0;
    EXPECT_EQ(parse_shell_link(bytes_of(f)).error().code, Errc::kMalformed);
  }
  {
    auto f = base;  // ItemIDSize 1 (below its own size field)
    f[id_list + 2] = 1;
    f[id_list + 3] = 0;
    EXPECT_FALSE(parse_shell_link(bytes_of(f)));
  }
  const std::size_t link_info = id_list + 2 + (base[id_list] | (base[id_list + 1] << 8));
  {
    auto f = base;  // LinkInfoSize huge
    LnkBuilder::put32(f, link_info, 0x7FFFFFFF);
    EXPECT_EQ(parse_shell_link(bytes_of(f)).error().code, Errc::kTruncated);
  }
  {
    auto f = base;  // LocalBasePathOffset outside LinkInfo
    LnkBuilder::put32(f, link_info + 16, 0xFFFFFF00);
    EXPECT_EQ(parse_shell_link(bytes_of(f)).error().code, Errc::kMalformed);
  }
  {
    auto f = base;  // LinkInfoHeaderSize beyond LinkInfoSize
    LnkBuilder::put32(f, link_info + 4, 0x10000);
    EXPECT_FALSE(parse_shell_link(bytes_of(f)));
  }
  {
    auto f = base;  // string without NUL inside LinkInfo: overwrite the path's terminator and suffix
    std::uint32_t size = f[link_info] | (f[link_info + 1] << 8);
    for (std::size_t i = link_info + 0x1C + 0x11; i < link_info + size; ++i) f[i] = 'A';
    EXPECT_FALSE(parse_shell_link(bytes_of(f)));
  }
  {
    auto f = base;  // ExtraData block claiming more bytes than remain
    LnkBuilder::put32(f, f.size() - 4, 0x1000);
    f.resize(f.size() + 8, 0);
    EXPECT_FALSE(parse_shell_link(bytes_of(f)));
  }
  {
    std::vector<std::byte> huge(kMaxLnkBytes + 1);
    EXPECT_EQ(parse_shell_link(huge).error().code, Errc::kTooLarge);
  }
}

TEST(LnkParser, StringCountsPastTheEndAreTruncationErrors) {
  LnkBuilder b;
  b.local_base_path = "C:\\a.exe";
  b.name = u"n";
  auto f = b.build();
  // NAME_STRING count sits right after LinkInfo: claim 0xFFFF characters.
  std::size_t at = f.size() - 4 - 2 - 2;
  f[at] = 0xFF;
  f[at + 1] = 0xFF;
  EXPECT_EQ(parse_shell_link(bytes_of(f)).error().code, Errc::kTruncated);
}

TEST(LnkParser, StartMenuScanPublishesShortcutsWithTargets) {
  test::TempDir d;
  auto write = [&](const std::string& rel, const std::vector<std::uint8_t>& data) {
    test::write_file(d.path() / rel, std::string(data.begin(), data.end()));
  };
  write("Accessories/Notepad.lnk", notepad().build());
  LnkBuilder shell_only;  // a shell namespace item: no file-system target
  shell_only.id_items = {{0x1F, 0x50}};
  write("Control Panel.lnk", shell_only.build());
  write("Broken.lnk", {1, 2, 3});
  test::write_file(d.path() / "readme.txt", "x");
  auto r = scan_start_menu(d.path());
  ASSERT_EQ(r.apps.size(), 1u);
  EXPECT_EQ(r.apps[0].id, "Accessories-Notepad");
  EXPECT_EQ(r.apps[0].name, "Notepad");
  EXPECT_EQ(r.apps[0].exec, (std::vector<std::string>{"C:\\Windows\\notepad.exe", "/A readme.txt"}));
  EXPECT_EQ(r.skipped.size(), 2u);
}

}  // namespace
}  // namespace vitrine::catalog
