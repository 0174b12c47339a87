#include "vitrine/rdpmux/catalog_exec.hpp"

#include <gtest/gtest.h>

#include "vitrine/rdpmux/catalog_wire.hpp"

namespace vitrine::catalog {
namespace {

using Argv = std::vector<std::string>;

AppEntry entry(Argv exec, bool terminal = false) {
  AppEntry a;
  a.id = "app";
  a.name = "App Name";
  a.icon_name = "app-icon";
  a.exec = std::move(exec);
  a.terminal = terminal;
  return a;
}

TEST(LaunchArgv, ExpandsFieldCodesFromADecodedEntry) {
  // Through the wire first: what the host has is a decoded catalogue, not the guest's file.
  Catalog c;
  c.apps.push_back(entry({"viewer", "--title", "%c", "%i", "%U", "%k", "%%lit"}));
  auto blob = encode_catalog(c);
  ASSERT_TRUE(blob);
  auto back = decode_catalog(*blob);
  ASSERT_TRUE(back);
  auto argv = launch_argv(back->apps.at(0), {"file:///a", "/b"});
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv, (Argv{"viewer", "--title", "App Name", "--icon", "app-icon", "file:///a", "/b", "%lit"}));
}

TEST(LaunchArgv, SingleFileCodesTakeTheFirstArgumentAndPlainLinesGetThemAppended) {
  EXPECT_EQ(*launch_argv(entry({"edit", "%f"}), {"/x", "/y"}), (Argv{"edit", "/x"}));
  EXPECT_EQ(*launch_argv(entry({"edit", "%f"}), {}), (Argv{"edit"}));
  EXPECT_EQ(*launch_argv(entry({"xterm"}), {"-e", "top"}), (Argv{"xterm", "-e", "top"}));
}

TEST(LaunchArgv, TerminalEntriesRunInTheTerminalEmulator) {
  EXPECT_EQ(*launch_argv(entry({"htop", "%F"}, true), {}), (Argv{kTerminalEmulator, "-e", "htop"}));
}

TEST(LaunchArgv, BadEntriesAreErrorsNotCrashes) {
  EXPECT_EQ(launch_argv(entry({}), {}).error().code, Errc::kMalformed);
  EXPECT_EQ(launch_argv(entry({""}), {}).error().code, Errc::kMalformed);
  EXPECT_EQ(launch_argv(entry({"prog", "%z"}), {}).error().code, Errc::kMalformed);
  // Nothing left to run once the codes are gone.
  EXPECT_FALSE(launch_argv(entry({"%f"}), {}));
}

}  // namespace
}  // namespace vitrine::catalog
