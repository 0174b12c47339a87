// RDP bulk compression (ClientConfig::bulk_compression) decided by the host's client for both
// ends: the real RdpClient against tests/support's RailTestServer (libfreerdp-server2, which
// compresses its fast-path output exactly when the client's Client Info PDU asked for it).
//
// What is observed is the wire: a tap between client and server parses the server's output
// (TPKT slow-path PDUs, fast-path PDUs and each fast-path update's compression header,
// MS-RDPBCGR 2.2.9.1.2.1) and counts updates sent with PACKET_COMPRESSED. The "on" cases prove
// the tap sees compression when there is some, so the "off" cases' zero can fail. Every case
// also checks that the painted pixels arrive exactly (compressed or not, the client decodes).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <ostream>
#include <thread>
#include <vector>

#include "null_sink.hpp"
#include "rail_test_server.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace vitrine::rdpmux::host {
namespace {

using namespace std::chrono_literals;
using ringbus::UniqueFd;

// What the tap saw of the server's output.
struct WireCounts {
  std::uint64_t slow_path_pdus = 0;
  std::uint64_t fast_path_pdus = 0;
  std::uint64_t fast_path_updates = 0;
  std::uint64_t compressed_updates = 0;  // compressionFlags with PACKET_COMPRESSED
  std::uint64_t encrypted_pdus = 0;      // not parseable: must stay 0 (encryption level NONE)
  bool lost_sync = false;                // a first byte neither TPKT nor fast-path
};

// Parses the server -> client byte stream as it passes. MS-RDPBCGR 2.2.9.1.2: fpOutputHeader
// (action in bits 0-1, 0 = fast-path; encryption flags in bits 6-7), a 1- or 2-byte length
// (high bit of the first byte set: 15 bits) covering the whole PDU, then updates; each update:
// updateHeader (code bits 0-3, fragmentation 4-5, compression 6-7; 2 = compressionFlags byte
// follows), size (2 bytes LE), data. TPKT (version 3, big-endian length in bytes 2-3) is skipped.
class ServerOutputParser {
 public:
  void feed(const std::uint8_t* data, std::size_t n) {
    buf_.insert(buf_.end(), data, data + n);
    std::size_t at = 0;
    while (!counts_.lost_sync) {
      const std::size_t left = buf_.size() - at;
      if (left < 2) break;
      const std::uint8_t* p = buf_.data() + at;
      std::size_t length = 0;
      if (p[0] == 0x03) {
        if (left < 4) break;
        length = std::size_t{p[2]} << 8 | p[3];
        if (length < 4) {
          counts_.lost_sync = true;
          break;
        }
        if (left < length) break;
        ++counts_.slow_path_pdus;
      } else if ((p[0] & 0x3) == 0) {
        std::size_t header = 2;
        length = p[1];
        if (p[1] & 0x80) {
          if (left < 3) break;
          length = std::size_t{p[1] & 0x7Fu} << 8 | p[2];
          header = 3;
        }
        if (length < header) {
          counts_.lost_sync = true;
          break;
        }
        if (left < length) break;
        ++counts_.fast_path_pdus;
        if (p[0] >> 6) ++counts_.encrypted_pdus;
        else count_updates(p + header, length - header);
      } else {
        counts_.lost_sync = true;
        break;
      }
      at += length;
    }
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  const WireCounts& counts() const { return counts_; }

 private:
  void count_updates(const std::uint8_t* p, std::size_t n) {
    constexpr std::uint8_t kCompressionUsed = 0x2;  // FASTPATH_OUTPUT_COMPRESSION_USED
    constexpr std::uint8_t kPacketCompressed = 0x20;
    while (n > 0) {
      const std::uint8_t compression = p[0] >> 6;
      const std::size_t header = compression == kCompressionUsed ? 4 : 3;
      if (n < header) return;
      const std::size_t size = std::size_t{p[header - 2]} | std::size_t{p[header - 1]} << 8;
      ++counts_.fast_path_updates;
      if (compression == kCompressionUsed && (p[1] & kPacketCompressed)) ++counts_.compressed_updates;
      if (n < header + size) return;
      p += header + size;
      n -= header + size;
    }
  }

  std::vector<std::uint8_t> buf_;
  WireCounts counts_;
};

// Pumps bytes between the client's socket and the server's, parsing what the server sends.
class WireTap {
 public:
  WireTap(UniqueFd client_side, UniqueFd server_side)
      : client_(std::move(client_side)), server_(std::move(server_side)), stop_(::eventfd(0, EFD_CLOEXEC)) {
    thread_ = std::thread([this] { run(); });
  }
  ~WireTap() {
    const std::uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
  WireCounts counts() const {
    std::lock_guard lock(mutex_);
    return parser_.counts();
  }

 private:
  static bool write_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }

  void run() {
    std::vector<std::uint8_t> chunk(1 << 16);
    pollfd fds[3] = {{client_.get(), POLLIN, 0}, {server_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    while (::poll(fds, 3, -1) > 0 && !(fds[2].revents & POLLIN)) {
      for (int side = 0; side < 2; ++side) {
        if (!fds[side].revents) continue;
        const ssize_t n = ::recv(fds[side].fd, chunk.data(), chunk.size(), 0);
        if (n <= 0) return;  // one side closed: the session is over
        if (side == 1) {
          std::lock_guard lock(mutex_);
          parser_.feed(chunk.data(), static_cast<std::size_t>(n));
        }
        if (!write_all(fds[1 - side].fd, chunk.data(), static_cast<std::size_t>(n))) return;
      }
    }
  }

  UniqueFd client_, server_, stop_;
  mutable std::mutex mutex_;
  ServerOutputParser parser_;
  std::thread thread_;
};

constexpr std::uint32_t kSide = 256;

// Keeps how many pixels of the last painted 256x256 square at (0, 0) differ from `expected`, and
// the stamp in its last pixel.
class CheckingSink final : public testing::NullSink {
 public:
  explicit CheckingSink(std::uint32_t frame) : frame_(frame) {}
  void damaged(const FramebufferView& fb, std::span<const DesktopRect>) override {
    if (fb.width < kSide || fb.height < kSide) return;
    std::uint32_t wrong = 0;
    std::uint32_t last = 0;
    for (std::uint32_t y = 0; y < kSide; ++y)
      for (std::uint32_t x = 0; x < kSide; ++x) {
        std::uint32_t v;
        std::memcpy(&v, fb.pixels + std::size_t(y) * fb.stride + std::size_t(x) * 4, 4);
        last = v;
        if ((x != kSide - 1 || y != kSide - 1) && (v & 0xFFFFFF) != (expected(x, y) & 0xFFFFFF)) ++wrong;
      }
    {
      std::lock_guard lock(mutex_);
      stamp_ = last & 0xFFFFFF;
      wrong_ = wrong;
    }
    cv_.notify_all();
  }
  std::uint32_t expected(std::uint32_t x, std::uint32_t y) const {
    return testing::test_pattern(static_cast<std::int32_t>(x), static_cast<std::int32_t>(y), frame_);
  }
  // Waits for the stamp; then the number of wrong pixels of that paint, or -1 on timeout.
  long wrong_pixels_after(std::uint32_t stamp) {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, 10s, [&] { return stamp_ == stamp; })) return -1;
    return static_cast<long>(wrong_);
  }

 private:
  const std::uint32_t frame_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint32_t stamp_ = 0;
  std::uint32_t wrong_ = 0;
};

enum class ClientSocket { kUnix, kTcp };

// The client's end: AF_UNIX (a socketpair, as the ConnectionBridge hands RdpClient) or a TCP
// loopback connection (a network path). The other end goes to the tap.
bool client_link(ClientSocket kind, UniqueFd& client, UniqueFd& tap_end) {
  if (kind == ClientSocket::kUnix) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return false;
    client.reset(fds[0]);
    tap_end.reset(fds[1]);
    return true;
  }
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (!listener || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener.get(), 1) != 0 || ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return false;
  client.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!client || ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return false;
  tap_end.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  const int one = 1;
  ::setsockopt(client.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return static_cast<bool>(tap_end);
}

struct Case {
  const char* name;
  ClientSocket socket;
  BulkCompression setting;
  bool expect_compression;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class BulkCompressionTest : public ::testing::TestWithParam<Case> {};

TEST_P(BulkCompressionTest, ServerCompressesExactlyWhenTheClientAsks) {
  const Case& c = GetParam();
  UniqueFd client_end, tap_client;
  ASSERT_TRUE(client_link(c.socket, client_end, tap_client));
  int server_pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, server_pair), 0);
  auto server = testing::RailTestServer::start(server_pair[0]);
  ASSERT_TRUE(server);
  WireTap tap(std::move(tap_client), UniqueFd(server_pair[1]));

  const std::uint32_t frame = 5;
  CheckingSink sink(frame);
  ClientConfig config;
  config.security = Security::kRdp;
  config.bulk_compression = c.setting;
  auto client = RdpClient::start(config, std::move(client_end), sink, sink);
  ASSERT_TRUE(client) << to_string(client.error());
  ASSERT_TRUE((*client)->wait_connected(20s));
  ASSERT_TRUE(server->wait_ready(20s));
  EXPECT_EQ((*client)->bulk_compression(), c.expect_compression);

  // A few paints of a pattern that compresses well, each checked pixel by pixel.
  for (std::uint32_t round = 1; round <= 3; ++round) {
    const std::uint32_t stamp = 0x100000u + round;
    ASSERT_TRUE(server->paint(0, 0, kSide, kSide, [&](std::int32_t x, std::int32_t y) {
      return (x == kSide - 1 && y == kSide - 1) ? (0xFF000000u | stamp)
                                                : sink.expected(std::uint32_t(x), std::uint32_t(y));
    }));
    EXPECT_EQ(sink.wrong_pixels_after(stamp), 0) << "round " << round;
  }
  (*client)->stop();
  server.reset();

  const WireCounts w = tap.counts();
  ASSERT_FALSE(w.lost_sync) << "the tap could not follow the server's output";
  ASSERT_EQ(w.encrypted_pdus, 0u) << "standard RDP security against a local peer negotiates no encryption";
  ASSERT_GT(w.fast_path_updates, 0u);
  if (c.expect_compression)
    EXPECT_GT(w.compressed_updates, 0u) << "the client asked for compression; the server sent none";
  else
    EXPECT_EQ(w.compressed_updates, 0u) << "of " << w.fast_path_updates << " fast-path updates";
}

INSTANTIATE_TEST_SUITE_P(
    Transports, BulkCompressionTest,
    ::testing::Values(Case{"AutoOnUnixSocketIsOff", ClientSocket::kUnix, BulkCompression::kAuto, false},
                      Case{"AutoOnTcpIsOn", ClientSocket::kTcp, BulkCompression::kAuto, true},
                      Case{"OnOverUnixSocket", ClientSocket::kUnix, BulkCompression::kOn, true},
                      Case{"OffOverTcp", ClientSocket::kTcp, BulkCompression::kOff, false}),
    [](const ::testing::TestParamInfo<Case>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace vitrine::rdpmux::host
