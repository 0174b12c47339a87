#include "vitrine/catalog/catalog_watcher.hpp"

#include <gtest/gtest.h>

#include "test_dir.hpp"

namespace vitrine::catalog {
namespace {

using namespace std::chrono_literals;

TEST(CatalogWatcher, SeesNewChangedAndRemovedEntries) {
  test::TempDir d;
  auto apps = d.path() / "applications";
  std::filesystem::create_directories(apps / "sub");
  auto w = CatalogWatcher::create({apps});
  ASSERT_TRUE(w) << w.error().message;
  auto quiet = w->wait_for_change(50ms, 10ms);
  ASSERT_TRUE(quiet);
  EXPECT_FALSE(*quiet);

  test::write_file(apps / "a.desktop", "[Desktop Entry]\n");
  auto c1 = w->wait_for_change(5000ms, 20ms);
  ASSERT_TRUE(c1);
  EXPECT_TRUE(*c1);

  test::write_file(apps / "sub" / "b.desktop", "[Desktop Entry]\n");
  auto c2 = w->wait_for_change(5000ms, 20ms);
  ASSERT_TRUE(c2 && *c2);

  std::filesystem::remove(apps / "a.desktop");
  auto c3 = w->wait_for_change(5000ms, 20ms);
  ASSERT_TRUE(c3 && *c3);
}

TEST(CatalogWatcher, NoticesFoldersCreatedLater) {
  test::TempDir d;
  auto apps = d.path() / "share" / "applications";
  auto w = CatalogWatcher::create({apps});  // does not exist yet
  ASSERT_TRUE(w) << w.error().message;
  std::filesystem::create_directories(apps);
  auto c1 = w->wait_for_change(5000ms, 50ms);
  ASSERT_TRUE(c1 && *c1);
  // After re-arming, a file inside the new folder is seen too.
  test::write_file(apps / "new.desktop", "[Desktop Entry]\n");
  auto c2 = w->wait_for_change(5000ms, 20ms);
  ASSERT_TRUE(c2);
  EXPECT_TRUE(*c2);
}

}  // namespace
}  // namespace vitrine::catalog
