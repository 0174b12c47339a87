#include "vitrine/rdpmux/mux/catalog_decoder.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace vitrine::rdpmux {
namespace {

using namespace std::chrono_literals;

catalog::CatalogReassembler::Blob blob_of(std::uint32_t generation, std::size_t apps) {
  catalog::Catalog c;
  c.generation = generation;
  for (std::size_t i = 0; i < apps; ++i) {
    catalog::AppEntry a;
    a.id = "app" + std::to_string(i);
    a.name = a.id;
    a.exec = {"x"};
    c.apps.push_back(std::move(a));
  }
  return {generation, {*catalog::encode_catalog(c)}};
}

struct Results {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::uint32_t, bool>> seen;  // generation, decoded ok
  bool hold = false;
  void wait_for_count(std::size_t n) {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return seen.size() >= n; }));
  }
};

TEST(CatalogDecoder, DecodesOnItsOwnThreadAndReportsBadBlobs) {
  Results r;
  const auto caller = std::this_thread::get_id();
  std::thread::id decoder_thread;
  CatalogDecoder decoder([&](std::uint32_t generation, catalog::Result<catalog::Catalog> decoded) {
    std::lock_guard lock(r.m);
    decoder_thread = std::this_thread::get_id();
    r.seen.emplace_back(generation, decoded && decoded->apps.size() == 3);
    r.cv.notify_all();
  });
  decoder.submit(blob_of(5, 3));
  r.wait_for_count(1);
  auto bad = blob_of(6, 3);
  bad.parts[0][0] = std::byte{0};  // magic
  decoder.submit(std::move(bad));
  r.wait_for_count(2);
  std::lock_guard lock(r.m);
  EXPECT_EQ(r.seen[0], std::make_pair(5u, true));
  EXPECT_EQ(r.seen[1], std::make_pair(6u, false));
  EXPECT_NE(decoder_thread, caller);
}

// While a decode runs (here: held in the callback), submit() returns at once and only the
// newest waiting catalogue is decoded next.
TEST(CatalogDecoder, SubmitNeverWaitsForADecodeAndTheLatestWins) {
  Results r;
  bool entered = false, release = false;
  CatalogDecoder decoder([&](std::uint32_t generation, catalog::Result<catalog::Catalog> decoded) {
    std::unique_lock lock(r.m);
    if (generation == 1) {  // the first decode is held until the others were submitted
      entered = true;
      r.cv.notify_all();
      r.cv.wait(lock, [&] { return release; });
    }
    r.seen.emplace_back(generation, bool(decoded));
    r.cv.notify_all();
  });
  decoder.submit(blob_of(1, 2));
  {
    std::unique_lock lock(r.m);
    ASSERT_TRUE(r.cv.wait_for(lock, 20s, [&] { return entered; }));
  }
  auto submits = std::async(std::launch::async, [&] {
    for (std::uint32_t g = 2; g <= 5; ++g) decoder.submit(blob_of(g, 2));
  });
  ASSERT_EQ(submits.wait_for(20s), std::future_status::ready) << "submit() waited for a decode";
  {
    std::lock_guard lock(r.m);
    release = true;
  }
  r.cv.notify_all();
  r.wait_for_count(2);
  std::lock_guard lock(r.m);
  ASSERT_EQ(r.seen.size(), 2u);
  EXPECT_EQ(r.seen[0].first, 1u);
  EXPECT_EQ(r.seen[1].first, 5u);  // 2, 3 and 4 were replaced while 1 was decoding
  EXPECT_EQ(decoder.replaced(), 3u);
}

}  // namespace
}  // namespace vitrine::rdpmux
