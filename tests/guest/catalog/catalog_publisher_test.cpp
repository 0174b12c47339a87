#include "vitrine/catalog/catalog_publisher.hpp"
#include "vitrine/rdpmux/catalog_exec.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "test_dir.hpp"

namespace vitrine::catalog {
namespace {

using namespace std::chrono_literals;

std::optional<Catalog> reassemble(const CatalogPublisher::Payloads& payloads) {
  CatalogReassembler r;
  std::optional<Catalog> out;
  for (const auto& p : payloads) {
    auto s = r.add(p);
    EXPECT_TRUE(s) << s.error().message;
    if (s && s->has_value()) out = std::move(**s);
  }
  return out;
}

TEST(CatalogPublisher, PublishesSnapshotsAndNewGenerationsOnChange) {
  test::TempDir d;
  test::write_file(d.path() / "applications/xclock.desktop",
                   "[Desktop Entry]\nType=Application\nName=XClock\nExec=xclock -update 1\n");
  ScanOptions o;
  o.data_dirs = {d.path()};
  auto pub = CatalogPublisher::create(o, 256);
  ASSERT_TRUE(pub) << pub.error().message;
  auto snap = (*pub)->snapshot();
  ASSERT_TRUE(snap);
  auto first = reassemble(*snap);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->apps.size(), 1u);
  EXPECT_EQ(first->apps[0].id, "xclock");
  EXPECT_TRUE(first->apps[0].source.empty());

  auto none = (*pub)->refresh();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());

  test::write_file(d.path() / "applications/xeyes.desktop",
                   "[Desktop Entry]\nType=Application\nName=XEyes\nExec=xeyes\nTerminal=true\n");
  std::optional<CatalogPublisher::Payloads> update;
  for (int i = 0; i < 100 && !update; ++i) {
    auto r = (*pub)->refresh();
    ASSERT_TRUE(r);
    if (r->has_value()) update = std::move(**r);
    else std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(update);
  auto second = reassemble(*update);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->generation, first->generation + 1);
  EXPECT_EQ(second->apps.size(), 2u);

  // The host starts entries from the decoded catalogue (what `vitrine launch` does).
  auto argv = launch_argv(second->apps[0], {"-bg", "red"});
  ASSERT_TRUE(argv) << argv.error().message;
  EXPECT_EQ(*argv, (std::vector<std::string>{"xclock", "-update", "1", "-bg", "red"}));
  auto term = launch_argv(second->apps[1], {});
  ASSERT_TRUE(term);
  EXPECT_EQ(*term, (std::vector<std::string>{"x-terminal-emulator", "-e", "xeyes"}));
}

// A guest with more applications than the host accepts publishes the first kMaxApps (the host
// would refuse the whole catalogue otherwise) and says which it left out.
TEST(CatalogPublisher, PublishesAtMostKMaxAppsAndSaysWhatItLeftOut) {
  test::TempDir d;
  for (std::size_t i = 0; i <= kMaxApps; ++i)
    test::write_file(d.path() / ("applications/app" + std::to_string(i) + ".desktop"),
                     "[Desktop Entry]\nType=Application\nName=A" + std::to_string(i) + "\nExec=a\n");
  ScanOptions o;
  o.data_dirs = {d.path()};
  auto pub = CatalogPublisher::create(o, 64 * 1024);
  ASSERT_TRUE(pub) << pub.error().message;
  EXPECT_EQ((*pub)->apps().size(), kMaxApps);
  ASSERT_EQ((*pub)->skipped().size(), 1u);
  EXPECT_NE((*pub)->skipped()[0].find(std::to_string(kMaxApps)), std::string::npos) << (*pub)->skipped()[0];
  auto snap = (*pub)->snapshot();
  ASSERT_TRUE(snap) << snap.error().message;
  auto decoded = reassemble(*snap);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->apps.size(), kMaxApps);
}

TEST(CatalogPublisher, RejectsRecordsTooSmallForAFragment) {
  ScanOptions o;
  EXPECT_FALSE(CatalogPublisher::create(o, kFragmentHeaderSize));
}

}  // namespace
}  // namespace vitrine::catalog
