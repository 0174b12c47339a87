// Recording round trip and every way a file can be damaged: each gives a clear error with the
// byte offset where it was found.
#include "vitrine/base/clock.hpp"
#include "vitrine/perf/recording.hpp"
#include "vitrine/perf/histogram.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace vitrine::perf {
namespace {

class RecordingTest : public ::testing::Test {
 protected:
  std::string path = (std::filesystem::temp_directory_path() /
                      ("vitrine-rec-" + std::to_string(::getpid()) + "-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                         .string();
  ~RecordingTest() override { std::filesystem::remove(path); }

  // 3000 entries of random sizes over several blocks; returns xxh3 of all payloads in order.
  std::uint64_t write_sample(std::size_t block_bytes = 64 * 1024) {
    auto w = RecordingWriter::create(path, 0b110, block_bytes);
    EXPECT_TRUE(w) << w.error().to_string();
    std::mt19937_64 rng(5);
    XXH3_state_t* st = XXH3_createState();
    XXH3_64bits_reset(st);
    std::vector<std::byte> buf;
    for (std::uint64_t i = 0; i < 3000; ++i) {
      buf.resize(rng() % 3000);
      for (auto& b : buf) b = static_cast<std::byte>(rng());
      XXH3_64bits_update(st, buf.data(), buf.size());
      Entry e{1000 + i * 10, static_cast<std::uint32_t>(1 + i % 2), static_cast<std::uint16_t>(i % 2),
              static_cast<std::uint16_t>(1 + i % 5), static_cast<std::uint16_t>(i), buf};
      EXPECT_TRUE(w->append(e));
    }
    EXPECT_TRUE(w->close());
    const auto h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
  }
  std::vector<char> bytes() {
    std::ifstream f(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
  }
  void put(const std::vector<char>& b) { std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size())); }
  RecordingError read_error() {
    auto r = read_recording(path, [](const Entry&) { return true; });
    EXPECT_FALSE(r.has_value());
    return r ? RecordingError{} : r.error();
  }
};

TEST_F(RecordingTest, RoundTripKeepsEveryEntryInOrder) {
  const auto expect = write_sample();
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::uint64_t i = 0;
  auto r = read_recording(path, [&](const Entry& e) {
    EXPECT_EQ(e.timestamp_ns, 1000 + i * 10);
    EXPECT_EQ(e.channel, 1 + i % 2);
    EXPECT_EQ(e.flags, static_cast<std::uint16_t>(i));
    XXH3_64bits_update(st, e.payload.data(), e.payload.size());
    ++i;
    return true;
  });
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->entries, 3000u);
  EXPECT_GT(r->blocks, 10u);
  EXPECT_EQ(XXH3_64bits_digest(st), expect);
  XXH3_freeState(st);
}

TEST_F(RecordingTest, TruncatedFileNamesTheOffset) {
  write_sample();
  auto b = bytes();
  b.resize(b.size() - 100);
  put(b);
  const auto e = read_error();
  EXPECT_NE(e.message.find("truncated block"), std::string::npos) << e.to_string();
  EXPECT_EQ(e.offset, b.size());
  b.resize(30);
  put(b);
  EXPECT_NE(read_error().message.find("truncated file header"), std::string::npos);
}

TEST_F(RecordingTest, CorruptBlockIsCaughtByItsChecksum) {
  write_sample();
  auto b = bytes();
  b[64 + 40 + 17] ^= 0x40;  // inside the first block's compressed bytes
  put(b);
  const auto e = read_error();
  EXPECT_NE(e.message.find("checksum"), std::string::npos) << e.to_string();
  EXPECT_EQ(e.offset, 64u);
}

TEST_F(RecordingTest, WrongVersionAndForeignFileAreRefused) {
  write_sample();
  auto b = bytes();
  b[8] = 9;  // version field
  put(b);
  EXPECT_NE(read_error().message.find("version 9"), std::string::npos);
  std::vector<char> junk(4096, 'x');
  put(junk);
  EXPECT_NE(read_error().message.find("not a Vitrine recording"), std::string::npos);
}

TEST_F(RecordingTest, HostileBlockSizesAreRefused) {
  write_sample();
  auto b = bytes();
  const std::uint32_t huge = 0x7fffffff;
  std::memcpy(b.data() + 64 + 8, &huge, 4);  // raw_size of the first block
  put(b);
  EXPECT_NE(read_error().message.find("out of range"), std::string::npos);
}

TEST_F(RecordingTest, RealTimePacingFollowsTimestamps) {
  {
    auto w = RecordingWriter::create(path, 1);
    ASSERT_TRUE(w);
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(w->append(Entry{i * 20'000'000, 1, 0, 1, 0, {}}));
    ASSERT_TRUE(w->close());
  }
  std::vector<std::uint64_t> seen;
  auto r = replay_recording(path, Pacing::kRealTime, [&](const Entry&) {
    seen.push_back(base::monotonic_ns());
    return true;
  });
  ASSERT_TRUE(r);
  ASSERT_EQ(seen.size(), 3u);
  // Never early: the second and third entries wait for their timestamps (>= 20 ms apart).
  EXPECT_GE(seen[1] - seen[0], 19'000'000u);
  EXPECT_GE(seen[2] - seen[0], 39'000'000u);
}

}  // namespace
}  // namespace vitrine::perf
