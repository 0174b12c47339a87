// The guest console's host-side log: 0600, capped and rotated to FILE.1, control characters
// escaped, bounded memory, and a line dropped (never a stalled guest) when it cannot be written.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "allocation_counter.hpp"
#include "vitrine/hv/kvm/console_log.hpp"

namespace kvm = vitrine::hv::kvm;
namespace fs = std::filesystem;
using kvm::ConsoleLog;

namespace {

class ConsoleLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "console_log_test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "guest-serial.log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static unsigned mode_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }
  static void put(ConsoleLog& log, std::string_view bytes) {
    for (char c : bytes) log.put(static_cast<std::uint8_t>(c));
  }

  fs::path dir_;
  std::string path_;
};

// What the escaper makes of `bytes`, held-back byte included.
std::string escaped(std::string_view bytes) {
  kvm::ConsoleEscaper e;
  std::string out;
  for (char c : bytes) e.put(static_cast<std::uint8_t>(c), out);
  e.finish(out);
  return out;
}

}  // namespace

TEST(ConsoleEscaper, EscapesControlCharactersButKeepsLinesTabsAndText) {
  EXPECT_EQ(escaped("plain text\twith a tab\n"), "plain text\twith a tab\n");
  EXPECT_EQ(escaped("\x1b[2J\x1b]0;owned\x07"), "\\x1b[2J\\x1b]0;owned\\x07");
  EXPECT_EQ(escaped(std::string_view("nul\0del\x7f", 8)), "nul\\x00del\\x7f");
  EXPECT_EQ(escaped("crlf\r\n"), "crlf\r\n");            // Linux's console line end passes
  EXPECT_EQ(escaped("hide\rshow\n"), "hide\\x0dshow\n");  // a lone CR would overwrite the line
  EXPECT_EQ(escaped("end\r"), "end\\x0d");
  EXPECT_EQ(escaped("\r\r\n"), "\\x0d\r\n");
  // C1 controls in UTF-8 (U+009B is CSI on terminals that take 8-bit controls); other UTF-8 passes.
  EXPECT_EQ(escaped("\xc2\x9b" "31m"), "\\xc2\\x9b31m");
  EXPECT_EQ(escaped("caf\xc3\xa9 \xc2\xa0nbsp \xc2"), "caf\xc3\xa9 \xc2\xa0nbsp \xc2");
  EXPECT_EQ(escaped("\xc2\xc2\x85"), "\xc2\\xc2\\x85");
  EXPECT_EQ(escaped("a\\x1b"), "a\\x1b");  // a backslash is text: the log is for reading
}

TEST(ConsoleEscaper, EveryByteValueYieldsPrintableTextOnly) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char in[2] = {static_cast<char>(a), static_cast<char>(b)};
      const std::string out = escaped(std::string_view(in, 2));
      ASSERT_LE(out.size(), 2 * kvm::ConsoleEscaper::kMaxAppend);
      for (std::size_t i = 0; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out[i]);
        const bool crlf = c == '\r' && i + 1 < out.size() && out[i + 1] == '\n';
        ASSERT_TRUE((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t' || crlf) << a << " " << b;
        ASSERT_FALSE(i > 0 && static_cast<unsigned char>(out[i - 1]) == 0xc2 && c >= 0x80 && c <= 0x9f)
            << a << " " << b;
      }
    }
  }
}

TEST_F(ConsoleLogTest, WritesEscapedLinesToAFileOfMode0600) {
  const mode_t old_umask = ::umask(0);  // the mode must not depend on the caller's umask
  {
    auto log = ConsoleLog::open(path_);
    ::umask(old_umask);
    ASSERT_TRUE(log) << vitrine::ringbus::to_string(log.error());
    put(*log, "boot ok\r\n\x1b[31mred\x1b[0m\tand bell\x07\n");
    put(*log, "partial, no newline");
  }  // the destructor writes the partial line
  EXPECT_EQ(mode_of(path_), 0600u);
  EXPECT_EQ(slurp(path_), "boot ok\r\n\\x1b[31mred\\x1b[0m\tand bell\\x07\npartial, no newline");
}

TEST_F(ConsoleLogTest, AnExistingFileIsTruncatedAndMade0600) {
  {
    std::ofstream(path_) << "an older run's console\n";
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  auto log = ConsoleLog::open(path_);
  ASSERT_TRUE(log) << vitrine::ringbus::to_string(log.error());
  EXPECT_EQ(mode_of(path_), 0600u);
  EXPECT_EQ(fs::file_size(path_), 0u);
}

TEST_F(ConsoleLogTest, RotatesPastTheCapKeepingOneOldFile) {
  constexpr std::uint64_t kCap = 4096;
  auto log = ConsoleLog::open(path_, kCap);
  ASSERT_TRUE(log) << vitrine::ringbus::to_string(log.error());
  // 100 lines of 100 bytes: 40 fit under the cap, the 41st and the 81st rotate.
  auto line = [](int i) {
    std::string s = "line " + std::to_string(1000 + i) + " ";
    s.resize(99, '.');
    return s + "\n";
  };
  for (int i = 0; i < 100; ++i) put(*log, line(i));
  EXPECT_EQ(log->rotations(), 2u);
  EXPECT_EQ(log->lines_written(), 100u);
  EXPECT_EQ(log->lines_dropped(), 0u);
  const std::string current = slurp(path_), old = slurp(path_ + ".1");
  EXPECT_LE(current.size(), kCap);
  EXPECT_LE(old.size(), kCap);
  EXPECT_EQ(current.size(), 20u * 100u);
  EXPECT_EQ(current.substr(0, 100), line(80));
  EXPECT_EQ(old.substr(0, 100), line(40));
  EXPECT_FALSE(fs::exists(path_ + ".2"));
  EXPECT_EQ(mode_of(path_), 0600u);
  EXPECT_EQ(mode_of(path_ + ".1"), 0600u);
}

TEST_F(ConsoleLogTest, AGuestFloodStaysWithinTwoCapsAndAllocatesNothing) {
  constexpr std::uint64_t kCap = 64 * 1024;
  auto log = ConsoleLog::open(path_, kCap);
  ASSERT_TRUE(log) << vitrine::ringbus::to_string(log.error());
  const std::uint64_t allocations_before = kvm::test::allocations();
  // 4 MiB with no newline, escapes mixed in: written in kLineBytes pieces, never buffered whole.
  for (std::size_t i = 0; i < (std::size_t{4} << 20); ++i) log->put(static_cast<std::uint8_t>(i % 7 == 0 ? 0x1b : 'x'));
  log->flush();
  const std::uint64_t allocations_after = kvm::test::allocations();
  EXPECT_EQ(allocations_after, allocations_before) << "the line buffer must not grow, rotation must not allocate";
  EXPECT_LE(fs::file_size(path_), kCap);
  EXPECT_LE(fs::file_size(path_ + ".1"), kCap);
  EXPECT_GT(log->rotations(), 60u);
  EXPECT_EQ(log->lines_dropped(), 0u);
}

TEST_F(ConsoleLogTest, AnUnusableOldFileStartsTheFileOverInPlace) {
  // FILE.1 is a non-empty directory: it cannot be the old file, even for root. The cap must
  // still hold.
  fs::create_directories(path_ + ".1/keep");
  auto log = ConsoleLog::open(path_, 4096);
  ASSERT_TRUE(log) << vitrine::ringbus::to_string(log.error());
  for (int i = 0; i < 200; ++i) put(*log, "0123456789012345678901234567890123456789\n");
  EXPECT_LE(fs::file_size(path_), 4096u);
  EXPECT_GE(log->rotations(), 1u);
  EXPECT_EQ(log->lines_dropped(), 0u);
  EXPECT_EQ(slurp(path_).substr(0, 10), "0123456789");  // appended at 0 after the truncate, no hole
}

TEST_F(ConsoleLogTest, CapBelowTheMinimumIsRefused) {
  auto log = ConsoleLog::open(path_, ConsoleLog::kMinMaxBytes - 1);
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code, kvm::Errc::kInvalidArgument);
  EXPECT_FALSE(fs::exists(path_));
}

TEST(ConsoleLog, AFullPipeDropsTheLineInsteadOfBlocking) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  // Fill the pipe, then make the write end blocking again, as a stdout would be.
  ASSERT_EQ(::fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
  const std::string chunk(4096, 'f');
  while (::write(p[1], chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(::fcntl(p[1], F_SETFL, 0), 0);
  {
    ConsoleLog log = ConsoleLog::borrow(p[1]);
    log.put('x');
    log.put('\n');  // would block forever without the readiness check
    EXPECT_EQ(log.lines_dropped(), 1u);
    EXPECT_EQ(log.lines_written(), 0u);
    // The reader catches up: the next line goes through.
    std::string drain(1 << 20, '\0');
    ASSERT_EQ(::fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
    while (::read(p[0], drain.data(), drain.size()) > 0) {
    }
    log.put('y');
    log.put('\n');
    EXPECT_EQ(log.lines_written(), 1u);
    ASSERT_EQ(::read(p[0], drain.data(), drain.size()), 2);
    EXPECT_EQ(drain.substr(0, 2), "y\n");
  }
  // No reader left: dropped without the write that would raise SIGPIPE (kept ignored here, so a
  // regression fails the expectation rather than killing the test program).
  ::close(p[0]);
  auto* old = std::signal(SIGPIPE, SIG_IGN);
  {
    ConsoleLog log = ConsoleLog::borrow(p[1]);
    log.put('z');
    log.put('\n');
    EXPECT_EQ(log.lines_dropped(), 1u);
  }
  std::signal(SIGPIPE, old);
  ::close(p[1]);
}

TEST(ConsoleLog, AWriteErrorDropsTheLineAndADeviceIsNeverChmodded) {
  struct stat before {};
  if (::stat("/dev/full", &before) != 0) GTEST_SKIP() << "no /dev/full on this machine";
  {
    auto log = ConsoleLog::open("/dev/full");
    ASSERT_TRUE(log) << vitrine::ringbus::to_string(log.error());
    for (char c : std::string("no space\n")) log->put(static_cast<std::uint8_t>(c));
    EXPECT_EQ(log->lines_dropped(), 1u);
    EXPECT_EQ(log->rotations(), 0u);
  }
  struct stat after {};
  ASSERT_EQ(::stat("/dev/full", &after), 0);
  EXPECT_EQ(after.st_mode, before.st_mode);
}
