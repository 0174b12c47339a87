#include "vitrine/catalog/desktop_entry.hpp"

#include <gtest/gtest.h>

namespace vitrine::catalog {
namespace {

TEST(DesktopEntry, ParsesMainGroupAndIgnoresLocalisedKeysAndActions) {
  auto e = parse_desktop_entry(
      "# comment\n[Desktop Entry]\nType=Application\nName=XTerm\nName[de]=XTerminal\nComment=A\\sterm\\\\x\n"
      "Exec=xterm -e \"a b\"\nIcon=xterm\nCategories=System;TerminalEmulator;\nNoDisplay=false\nTerminal=true\n"
      "[Desktop Action new]\nName=Other\nExec=other\n",
      "x.desktop");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->type, "Application");
  EXPECT_EQ(e->name, "XTerm");
  EXPECT_EQ(e->comment, "A term\\x");
  EXPECT_EQ(e->exec, "xterm -e \"a b\"");
  EXPECT_EQ(e->categories, (std::vector<std::string>{"System", "TerminalEmulator"}));
  EXPECT_TRUE(e->terminal);
  EXPECT_FALSE(e->no_display);
}

TEST(DesktopEntry, RejectsMalformedFilesWithLineNumbers) {
  auto no_group = parse_desktop_entry("Name=x\n", "f");
  ASSERT_FALSE(no_group);
  EXPECT_NE(no_group.error().message.find("f:1"), std::string::npos);
  auto bad_line = parse_desktop_entry("[Desktop Entry]\nthis is not a key\n", "f");
  ASSERT_FALSE(bad_line);
  EXPECT_NE(bad_line.error().message.find("f:2"), std::string::npos);
  EXPECT_FALSE(parse_desktop_entry("[Desktop Entry]\nNoDisplay=maybe\n", "f"));
  EXPECT_FALSE(parse_desktop_entry("[Desktop Entry]\nName=a\\\n", "f"));
  EXPECT_FALSE(parse_desktop_entry("[Desktop Entry\n", "f"));
  EXPECT_FALSE(parse_desktop_entry("[Desktop Entry]\n[Desktop Entry]\n", "f"));
  EXPECT_FALSE(parse_desktop_entry("", "f"));
  std::string huge(kMaxDesktopFileBytes + 1, '#');
  auto big = parse_desktop_entry(huge, "f");
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::kTooLarge);
}

TEST(DesktopEntry, SplitsExecWithQuotingRules) {
  auto a = split_exec(R"(prog "a b" "q\"uote" "d\$x" "back\\slash" plain %U)");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, (std::vector<std::string>{"prog", "a b", "q\"uote", "d$x", "back\\slash", "plain", "%U"}));
  EXPECT_FALSE(split_exec("prog \"unterminated"));
  EXPECT_FALSE(split_exec("prog \"bad \\q escape\""));
  EXPECT_FALSE(split_exec("   "));
  auto empty_arg = split_exec("prog \"\"");
  ASSERT_TRUE(empty_arg);
  EXPECT_EQ(empty_arg->size(), 2u);
}

TEST(DesktopEntry, ExpandsFieldCodes) {
  ExecContext c{{"f1", "f2"}, "icon", "Name", "/a.desktop"};
  auto x = expand_exec({"p", "%F", "--name=%c", "%i", "%k", "100%%", "%d"}, c);
  // %d (deprecated) standing alone is removed, not left as an empty argument.
  ASSERT_TRUE(x) << x.error().message;
  EXPECT_EQ(*x, (std::vector<std::string>{"p", "f1", "f2", "--name=Name", "--icon", "icon", "/a.desktop", "100%"}));
  auto single = expand_exec({"p", "%f"}, c);
  ASSERT_TRUE(single);
  EXPECT_EQ(*single, (std::vector<std::string>{"p", "f1"}));
  // No file code: the user's arguments are appended.
  auto appended = expand_exec({"xterm"}, ExecContext{{"-e", "top"}, "", "", ""});
  ASSERT_TRUE(appended);
  EXPECT_EQ(*appended, (std::vector<std::string>{"xterm", "-e", "top"}));
  EXPECT_FALSE(expand_exec({"p", "%z"}, c));
  EXPECT_FALSE(expand_exec({"p", "x%F"}, c));
  EXPECT_FALSE(expand_exec({"p", "50%"}, c));
  EXPECT_FALSE(expand_exec({"%F"}, ExecContext{}));
}

TEST(DesktopEntry, QuotedArgumentsRoundTripThroughTheParser) {
  for (std::string arg : {"plain", "with space", "q\"uote", "$HOME", "back\\slash", "50%", "a=b", "`cmd`", ""}) {
    std::string exec = "prog " + quote_exec_argument(arg);
    // escape_desktop_value + parse_desktop_entry undo each other, then split/expand.
    auto entry = parse_desktop_entry("[Desktop Entry]\nExec=" + escape_desktop_value(exec) + "\n", "t");
    ASSERT_TRUE(entry) << entry.error().message;
    auto argv = split_exec(entry->exec);
    ASSERT_TRUE(argv) << argv.error().message << " for " << arg;
    auto expanded = expand_exec(*argv, ExecContext{});
    ASSERT_TRUE(expanded) << expanded.error().message;
    ASSERT_EQ(expanded->size(), 2u) << arg;
    EXPECT_EQ((*expanded)[1], arg);
  }
}

}  // namespace
}  // namespace vitrine::catalog
