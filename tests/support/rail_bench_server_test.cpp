// rail_bench_server, the program bench_e2e puts into its QEMU guest, run here on the host: the
// benchmark protocol (rail_bench_protocol.hpp) over real TCP with the real client (RdpClient):
// the ready paint, a probe's stamped paint, a batch's last paint with every pixel as specified,
// a second session after the first, and clear refusals of bad arguments.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "null_sink.hpp"
#include "rail_bench_protocol.hpp"
#include "vitrine/rdpmux/host/rdp_client.hpp"

namespace {

using namespace vitrine::rdpmux::host;
using namespace std::chrono_literals;
namespace bp = vitrine::testing::bench_protocol;
using vitrine::ringbus::UniqueFd;

// Keeps the stamp pixel and a copy of the 256x256 painted square after every decoded update.
class Capture final : public vitrine::testing::NullSink {
 public:
  void damaged(const FramebufferView& fb, std::span<const DesktopRect>) override {
    if (fb.width < bp::kSide || fb.height < bp::kSide) return;
    std::lock_guard lock(mutex_);
    square_.resize(std::size_t(bp::kSide) * bp::kSide);
    for (std::uint32_t y = 0; y < bp::kSide; ++y)
      std::memcpy(&square_[std::size_t(y) * bp::kSide], fb.pixels + std::size_t(y) * fb.stride, bp::kSide * 4);
    stamp_ = square_.back() & 0xFFFFFF;
    cv_.notify_all();
  }
  bool wait_stamp(std::uint32_t want) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 20s, [&] { return stamp_ == want; });
  }
  std::vector<std::uint32_t> square() {
    std::lock_guard lock(mutex_);
    return square_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::uint32_t stamp_ = 0;
  std::vector<std::uint32_t> square_;
};

// The server as a child process; its first stdout line gives the port.
struct ServerProcess {
  pid_t pid = -1;
  UniqueFd out;
  ~ServerProcess() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
  explicit ServerProcess(std::vector<std::string> args) {
    ServerProcess& p = *this;
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) return;
    static char path[] = RAIL_BENCH_SERVER_PATH;
    std::vector<char*> argv{path};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    p.pid = ::fork();
    if (p.pid == 0) {
      ::dup2(pipefd[1], 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pipefd[1]);
    p.out = UniqueFd(pipefd[0]);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  // The line printed once listening, or "" after 20 s.
  std::string first_line() {
    std::string line;
    char c;
    while (line.find('\n') == std::string::npos) {
      pollfd pfd{out.get(), POLLIN, 0};
      if (::poll(&pfd, 1, 20000) != 1 || ::read(out.get(), &c, 1) != 1) return {};
      line += c;
    }
    return line;
  }
  // Exit status, or -1 if it did not exit within 10 s.
  int wait_exit() {
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(10000);
    }
    return -1;
  }
};

std::unique_ptr<RdpClient> connect_client(std::uint16_t port, Capture& capture) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return nullptr;
  ClientConfig config;
  config.security = Security::kRdp;
  config.width = bp::kDesktopWidth;
  config.height = bp::kDesktopHeight;
  auto c = RdpClient::start(config, std::move(fd), capture, capture);
  if (!c || !(*c)->wait_connected(20s)) return nullptr;
  return std::move(*c);
}

TEST(RailBenchServerTest, shouldAnswerTheBenchmarkProtocolOverTcp) {
  ServerProcess server({"--port", "0", "--bind", "127.0.0.1"});
  ASSERT_GT(server.pid, 0);
  const std::string line = server.first_line();
  const std::string prefix = "rail_bench_server: listening on 127.0.0.1:";
  ASSERT_TRUE(line.starts_with(prefix)) << line;
  const auto port = static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size())));
  ASSERT_GT(port, 0);

  for (int session = 0; session < 2; ++session) {
    Capture capture;
    auto client = connect_client(port, capture);
    ASSERT_TRUE(client) << "session " << session;
    ASSERT_TRUE(capture.wait_stamp(bp::kReadyStamp)) << "no ready paint, session " << session;

    const DesktopPoint probe{17 + session, 42};
    client->mouse_move(probe);
    ASSERT_TRUE(capture.wait_stamp(bp::probe_stamp(probe.x, probe.y)));

    const DesktopPoint trigger{5 + session, bp::kTriggerTop + 3};
    client->mouse_move(trigger);
    const std::uint32_t last = bp::batch_stamp(bp::batch_index(trigger.x, trigger.y), bp::kBatch - 1);
    ASSERT_TRUE(capture.wait_stamp(last));
    // Raw SurfaceBits are lossless: every pixel of the square is the protocol's.
    const auto square = capture.square();
    ASSERT_EQ(square.size(), std::size_t(bp::kSide) * bp::kSide);
    std::size_t wrong = 0;
    for (std::int32_t y = 0; y < std::int32_t(bp::kSide); ++y)
      for (std::int32_t x = 0; x < std::int32_t(bp::kSide); ++x)
        if ((square[std::size_t(y) * bp::kSide + std::size_t(x)] & 0xFFFFFF) != (bp::stamped_pixel(x, y, last) & 0xFFFFFF))
          ++wrong;
    EXPECT_EQ(wrong, 0u);
    client->stop();
  }
}

TEST(RailBenchServerTest, shouldRefuseBadArgumentsWithUsage) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--port", "70000"}, {"--port", "12x"}, {"--bind", "localhost"}, {"--frobnicate"}, {"--port"}}) {
    ServerProcess server(args);
    ASSERT_GT(server.pid, 0);
    EXPECT_EQ(server.wait_exit(), 2) << args[0];
  }
}

TEST(RailBenchServerTest, shouldKeepTheProtocolsStampsDistinct) {
  // The three kinds of stamps never meet (the client would mistake one paint for another).
  static_assert(bp::probe_stamp(0, 0) != bp::kReadyStamp);
  std::vector<bool> seen(1u << 24);
  const auto mark = [&](std::uint32_t s) {
    const bool fresh = !seen[s];
    seen[s] = true;
    return fresh;
  };
  EXPECT_TRUE(mark(0));  // the client's initial "no stamp yet"
  EXPECT_TRUE(mark(bp::kReadyStamp));
  std::size_t clashes = 0;
  for (std::int32_t y = 0; y < bp::kTriggerTop; ++y)
    for (std::int32_t x = 0; x < bp::kDesktopWidth; ++x) clashes += !mark(bp::probe_stamp(x, y));
  for (std::int32_t y = bp::kTriggerTop; y < bp::kDesktopHeight; ++y)
    for (std::int32_t x = 0; x < bp::kDesktopWidth; ++x)
      for (int i = 0; i < bp::kBatch; ++i) clashes += !mark(bp::batch_stamp(bp::batch_index(x, y), i));
  EXPECT_EQ(clashes, 0u);
}

}  // namespace
