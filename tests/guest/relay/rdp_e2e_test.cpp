// A real RDP session through the relay: freerdp-shadow-cli (on Xvfb) in the "guest", xfreerdp
// (on a second Xvfb) on the "host" reaching it only through host API -> bus -> relay. A tap
// between the relay and the server hashes what the server sent and received; a bridge on the
// host side hashes what the client sent and received. Both directions must match (xxh3).
#include <poll.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "process_util.hpp"
#include "relay_fixture.hpp"
#include "vitrine/rdpmux/pdu_framer.hpp"

namespace vitrine::relay::testing {
namespace {

struct Hashes {
  XXH3_state_t* c2s = XXH3_createState();
  XXH3_state_t* s2c = XXH3_createState();
  std::atomic<std::uint64_t> c2s_bytes{0}, s2c_bytes{0};
  Hashes() {
    XXH3_64bits_reset(c2s);
    XXH3_64bits_reset(s2c);
  }
  ~Hashes() {
    XXH3_freeState(c2s);
    XXH3_freeState(s2c);
  }
};

// Guest-side tap: relay <-> server, one thread per direction, hashing each.
void tap_direction(int from, int to, XXH3_state_t* h, std::atomic<std::uint64_t>& count) {
  std::vector<std::byte> buf(65536);
  for (;;) {
    const ssize_t n = ::recv(from, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    XXH3_64bits_update(h, buf.data(), static_cast<std::size_t>(n));
    count += static_cast<std::uint64_t>(n);
    if (!send_all(to, buf.data(), static_cast<std::size_t>(n))) break;
  }
  ::shutdown(to, SHUT_WR);
}

ringbus::UniqueFd connect_unix(const std::string& path) {
  ringbus::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fd.reset();
  return fd;
}

TEST_F(RelayFixture, RealRdpSessionThroughTheRelay) {
  if (!have_program("Xvfb") || !have_program("freerdp-shadow-cli") || !have_program("xfreerdp"))
    GTEST_SKIP() << "needs Xvfb, freerdp-shadow-cli (freerdp2-shadow-x11) and xfreerdp (freerdp2-x11)";
  Xvfb server_x;
  Xvfb client_x;
  if (server_x.display().empty() || client_x.display().empty()) GTEST_SKIP() << "Xvfb did not start";
  start(3, 20);
  // Something that keeps drawing on the server's screen, so that updates flow.
  Child drawing;
  if (have_program("xclock"))
    drawing = Child::start({"xclock", "-update", "1", "-geometry", "400x400+0+0"}, {"DISPLAY=" + server_x.display()});

  // The RDP server inside the "guest" (no authentication), on a Unix socket of this test's own
  // (/ipc-socket): no TCP port to pick, so tests running in parallel never race for one.
  const ScratchDir sock_dir("vitrine-e2e-shadow-");
  const std::string rdp_socket = (sock_dir.path() / "rdp.sock").string();
  Child shadow = Child::start({"freerdp-shadow-cli", "/ipc-socket:" + rdp_socket, "-auth"},
                              {"DISPLAY=" + server_x.display()});
  ringbus::UniqueFd probe;
  for (int i = 0; i < 300 && !probe; ++i) {
    probe = connect_unix(rdp_socket);
    if (!probe) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(probe) << "freerdp-shadow-cli did not listen on " << rdp_socket << " within 15 s";
  probe.reset();

  // The tap the relay connects to.
  Listener tap = Listener::open();
  Hashes guest;
  std::thread tap_thread([&] {
    auto from_relay = tap.accept();
    auto to_server = connect_unix(rdp_socket);
    ASSERT_TRUE(to_server);
    std::thread up([&] { tap_direction(from_relay.get(), to_server.get(), guest.c2s, guest.c2s_bytes); });
    tap_direction(to_server.get(), from_relay.get(), guest.s2c, guest.s2c_bytes);
    up.join();
  });

  // The host-side bridge xfreerdp connects to.
  Listener front = Listener::open();
  Child client = Child::start({"xfreerdp", "/v:127.0.0.1:" + std::to_string(front.port), "/sec:rdp",
                               "/cert:ignore", "/u:vitrine", "/p:vitrine", "/size:800x600", "-grab-keyboard", "-gfx", "/bpp:32"},
                              {"DISPLAY=" + client_x.display()});
  pollfd apfd{front.fd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&apfd, 1, 15000), 1) << "xfreerdp did not connect";
  auto cs = front.accept();
  ASSERT_TRUE(cs);
  ::fcntl(cs.get(), F_SETFL, O_NONBLOCK);
  auto conn = mux_->open(rdpmux::Target::tcp(tap.port), {.framed = true, .timeout = 5000ms});
  ASSERT_TRUE(conn.has_value()) << rdpmux::to_string(conn.error());
  rdpmux::Connection& c = **conn;

  Hashes host;
  std::vector<std::byte> recorded;  // server->client stream as the host saw it
  const char* record_path = std::getenv("VITRINE_RECORD_RDP_STREAM");
  bool client_eof = false;
  const auto session_end = std::chrono::steady_clock::now() + 6s;
  bool stopped_client = false;
  std::uint64_t records = 0, whole = 0;
  const auto hard_end = std::chrono::steady_clock::now() + 40s;
  while (std::chrono::steady_clock::now() < hard_end) {
    bool progress = false;
    if (!stopped_client && std::chrono::steady_clock::now() >= session_end) {
      client.stop();  // the user closes the client: its socket closes
      stopped_client = true;
    }
    bool ring_full = false;
    if (!client_eof) {
      auto claim = c.claim_write(65536);
      ASSERT_TRUE(claim.has_value()) << rdpmux::to_string(claim.error());
      if (*claim) {
        const ssize_t n = ::recv(cs.get(), claim->data, claim->capacity, 0);
        if (n > 0) {
          XXH3_64bits_update(host.c2s, claim->data, static_cast<std::size_t>(n));
          host.c2s_bytes += static_cast<std::uint64_t>(n);
          c.commit_write(static_cast<std::uint32_t>(n));
          progress = true;
        } else {
          c.abort_write();
          if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            client_eof = true;
            ASSERT_TRUE(c.shutdown_write().has_value());
            progress = true;
          }
        }
      } else {
        ring_full = true;
      }
    }
    auto span = c.peek_read();
    ASSERT_TRUE(span.has_value()) << rdpmux::to_string(span.error());
    bool client_blocked = false;
    if (!span->empty()) {
      ssize_t w = ::send(cs.get(), span->data(), span->size(), MSG_NOSIGNAL);
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        client_blocked = true;
        w = 0;
      } else if (w < 0) {
        w = static_cast<ssize_t>(span->size());  // client gone: still account for the bytes
      }
      if (w > 0) {
        XXH3_64bits_update(host.s2c, span->data(), static_cast<std::size_t>(w));
        host.s2c_bytes += static_cast<std::uint64_t>(w);
        if (record_path) recorded.insert(recorded.end(), span->begin(), span->begin() + w);
        if (static_cast<std::size_t>(w) == span->size()) {
          ++records;
        }
        c.consume(static_cast<std::size_t>(w));
        progress = true;
      }
    }
    if (c.eof() && client_eof) break;
    if (progress) continue;
    if (c.prepare_wait(true, ring_full)) continue;
    pollfd p[2] = {{cs.get(), static_cast<short>((client_eof || ring_full ? 0 : POLLIN) | (client_blocked ? POLLOUT : 0)), 0},
                   {c.wake_fd(), POLLIN, 0}};
    ::poll(p, 2, 50);
    c.finish_wait();
  }
  whole = c.stats().whole_pdu_records;
  const std::uint64_t records_read = c.stats().records_read;
  ASSERT_TRUE(c.eof()) << "the session did not end within 40 s";
  conn->reset();
  tap_thread.join();
  shadow.stop();

  // A real session: the server sent the connection sequence and screen updates.
  EXPECT_GT(guest.s2c_bytes.load(), 2000u);
  EXPECT_GT(guest.c2s_bytes.load(), 500u);
  EXPECT_EQ(host.c2s_bytes.load(), guest.c2s_bytes.load());
  EXPECT_EQ(host.s2c_bytes.load(), guest.s2c_bytes.load());
  EXPECT_EQ(XXH3_64bits_digest(host.c2s), XXH3_64bits_digest(guest.c2s)) << "client -> server bytes differ";
  EXPECT_EQ(XXH3_64bits_digest(host.s2c), XXH3_64bits_digest(guest.s2c)) << "server -> client bytes differ";
  EXPECT_EQ(whole, records_read) << "every record the relay framed holds whole PDUs";
  EXPECT_EQ(relay_->counters().framing_errors.get(), 0u);
  EXPECT_EQ(relay_->counters().bytes_copied.get(), 0u);
  std::printf("rdp session: %llu bytes server->client in %llu records, %llu bytes client->server\n",
              static_cast<unsigned long long>(guest.s2c_bytes.load()), static_cast<unsigned long long>(records_read),
              static_cast<unsigned long long>(guest.c2s_bytes.load()));
  if (record_path) std::ofstream(record_path, std::ios::binary).write(reinterpret_cast<const char*>(recorded.data()),
                                                                       static_cast<std::streamsize>(recorded.size()));
}

}  // namespace
}  // namespace vitrine::relay::testing
