// hv_bus_echo: the test guest program of hv's tests and bench_vm. Attaches to the bus like
// vitrine-guest does (sandbox fds from VITRINE_BUS_FD..., the ivshmem PCI device, or a file),
// says hello on channel 0, then serves echo_protocol.hpp requests until kQuit.
// Statically linked, so the same binary runs in the sandbox and in the QEMU initramfs.
//
//   hv_bus_echo [--ivshmem | --path FILE] [--probe-tcp IPV4:PORT]...
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "echo_protocol.hpp"
#include "vitrine/ringbus/ivshmem_guest.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/doorbell.hpp"

using namespace vitrine;
using namespace vitrine::hv;
using vitrine::ringbus::IvshmemGuestDevice;
using vitrine::ringbus::IvshmemHostDoorbell;
using vitrine::ringbus::IvshmemPollDoorbell;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "hv_bus_echo: %s\n", what.c_str());
  std::exit(1);
}

// Sends one record, waiting for space (the host may be slow to drain).
void send(ringbus::Channel& ch, std::uint16_t type, std::span<const std::byte> payload) {
  for (;;) {
    auto claim = ch.tx().try_claim(static_cast<std::uint32_t>(payload.size()));
    if (!claim) die("claim: " + ringbus::to_string(claim.error()));
    if (*claim) {
      std::memcpy(claim->data, payload.data(), payload.size());
      ch.tx().commit(static_cast<std::uint32_t>(payload.size()), type);
      ch.notify_sent();
      return;
    }
    auto w = ch.wait_writable(static_cast<std::uint32_t>(payload.size()), ringbus::WaitPolicy::adaptive(),
                              std::chrono::seconds(1));
    if (!w) die("wait_writable: " + ringbus::to_string(w.error()));
  }
}

template <typename T>
void send_struct(ringbus::Channel& ch, std::uint16_t type, const T& v) {
  send(ch, type, std::as_bytes(std::span<const T>(&v, 1)));
}

std::string probe_tcp(const std::string& target) {
  const auto colon = target.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(target.substr(colon + 1).c_str())));
  if (colon == std::string::npos || ::inet_pton(AF_INET, target.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    return target + " bad-address";
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return target + " socket-failed " + std::strerror(errno);
  std::string result;
  if (::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
    result = "connected";
  } else if (errno != EINPROGRESS) {
    result = std::string("refused ") + std::strerror(errno);
  } else {
    pollfd p{s, POLLOUT, 0};
    if (::poll(&p, 1, 1000) <= 0) {
      result = "refused timeout";
    } else {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      result = err == 0 ? "connected" : std::string("refused ") + std::strerror(err);
    }
  }
  ::close(s);
  return target + " " + result;
}

echo::Done net_send(const echo::NetSend& req) {
  echo::Done done{};
  const auto start = Clock::now();
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(req.port);
  sa.sin_addr.s_addr = htonl(req.ipv4);
  if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    done.error = errno;
    if (s >= 0) ::close(s);
    return done;
  }
  std::vector<std::byte> chunk(64 * 1024);
  echo::fill_checksummed(chunk, req.bytes);
  std::uint64_t left = req.bytes;
  while (left > 0) {
    const std::size_t n = left < chunk.size() ? static_cast<std::size_t>(left) : chunk.size();
    const ssize_t w = ::send(s, chunk.data(), n, MSG_NOSIGNAL);
    if (w <= 0) {
      done.error = errno;
      break;
    }
    left -= static_cast<std::uint64_t>(w);
    done.bytes += static_cast<std::uint64_t>(w);
  }
  ::shutdown(s, SHUT_WR);
  char sink[64];
  while (::recv(s, sink, sizeof sink, 0) > 0) {  // wait for the host to take everything
  }
  ::close(s);
  done.elapsed_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  return done;
}

void generate(ringbus::Channel& ch, const echo::Generate& g) {
  const auto start = Clock::now();
  const std::uint32_t size = g.size < 8 ? 8 : g.size;
  // One checksummed pattern, copied into every record: the transport is measured, not the
  // pattern generator (slow under TCG); net_send() does the same.
  std::vector<std::byte> pattern(size);
  echo::fill_checksummed(pattern, g.seed);
  for (std::uint64_t i = 0; i < g.count;) {
    auto claim = ch.tx().try_claim(size);
    if (!claim) die("claim: " + ringbus::to_string(claim.error()));
    if (!*claim) {
      ch.notify_sent();
      (void)ch.wait_writable(size, ringbus::WaitPolicy::adaptive(), std::chrono::seconds(1));
      continue;
    }
    std::memcpy(claim->data, pattern.data(), size);
    ch.tx().commit(size, echo::kGenerated);
    ++i;
    if ((i & 15) == 0) ch.notify_sent();
  }
  ch.notify_sent();
  echo::Done done{};
  done.bytes = g.count * size;
  done.elapsed_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
  send_struct(ch, echo::kGenDone, done);
}

int env_fd(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? -1 : std::atoi(v);
}

}  // namespace

int main(int argc, char** argv) {
  enum class Mode { kAuto, kIvshmem, kPath } mode = Mode::kAuto;
  std::string path;
  std::vector<std::string> probes;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--ivshmem") mode = Mode::kIvshmem;
    else if (a == "--path" && i + 1 < argc) { mode = Mode::kPath; path = argv[++i]; }
    else if (a == "--probe-tcp" && i + 1 < argc) probes.emplace_back(argv[++i]);
    else die("usage: hv_bus_echo [--ivshmem | --path FILE] [--probe-tcp IPV4:PORT]...");
  }
  if (mode == Mode::kAuto) mode = env_fd("VITRINE_BUS_FD") >= 0 ? Mode::kAuto : Mode::kIvshmem;

  std::optional<IvshmemGuestDevice> device;
  std::unique_ptr<ringbus::Doorbell> wake_me;
  std::unique_ptr<ringbus::Doorbell> wake_peer;
  std::uint32_t attach_kind = 1;
  ringbus::Result<ringbus::Bus> bus = std::unexpected(ringbus::Error{ringbus::Errc::kInvalidArgument, 0, "no bus"});
  if (mode == Mode::kAuto) {
    bus = ringbus::Bus::attach_fd(ringbus::UniqueFd(env_fd("VITRINE_BUS_FD")), ringbus::Side::kGuest);
    wake_me = std::make_unique<ringbus::EventfdDoorbell>(ringbus::UniqueFd(env_fd("VITRINE_WAKE_GUEST_FD")));
    wake_peer = std::make_unique<ringbus::EventfdDoorbell>(ringbus::UniqueFd(env_fd("VITRINE_WAKE_HOST_FD")));
  } else if (mode == Mode::kIvshmem) {
    attach_kind = 2;
    auto dev = IvshmemGuestDevice::open_first();
    if (!dev) die(ringbus::to_string(dev.error()));
    device.emplace(std::move(*dev));
    std::fprintf(stderr, "hv_bus_echo: ivshmem %s, %zu bytes, peer id %d\n", device->pci_address().c_str(),
                 device->shared_size(), device->own_id());
    bus = ringbus::Bus::attach_mapping(device->shared_memory(), device->shared_size(), ringbus::Side::kGuest);
    wake_me = std::make_unique<IvshmemPollDoorbell>();
    if (device->own_id() >= 0) wake_peer = std::make_unique<IvshmemHostDoorbell>(*device);
  } else {
    attach_kind = 3;
    bus = ringbus::Bus::attach_path(path, ringbus::Side::kGuest);
    wake_me = std::make_unique<ringbus::PollingDoorbell>();
  }
  if (!bus) die("attach: " + ringbus::to_string(bus.error()));
  ringbus::Channel& ch = bus->channel(0);
  ch.set_doorbells(wake_me.get(), wake_peer.get());

  send_struct(ch, echo::kHello, echo::Hello{echo::kHelloMagic, static_cast<std::uint32_t>(::getpid()), attach_kind});
  for (const auto& p : probes) {
    const std::string r = probe_tcp(p);
    send(ch, echo::kProbe, std::as_bytes(std::span<const char>(r.data(), r.size())));
  }

  std::vector<std::byte> copy;
  for (;;) {
    auto ready = ch.wait_readable(ringbus::WaitPolicy::adaptive(), std::chrono::seconds(1));
    if (!ready) die("wait_readable: " + ringbus::to_string(ready.error()));
    for (;;) {
      auto rec = ch.rx().peek();
      if (!rec) die("peek: " + ringbus::to_string(rec.error()));
      if (!*rec) break;
      const std::uint16_t type = rec->type;
      copy.assign(rec->payload.begin(), rec->payload.end());  // read the host's bytes once
      ch.rx().release();
      ch.notify_released();
      if (type == echo::kData) {
        send(ch, echo::verify_checksummed(copy) ? echo::kEcho : echo::kBadData, copy);
      } else if (type == echo::kGenerate) {
        echo::Generate g{};
        if (echo::read_struct(std::span<const std::byte>(copy), g)) generate(ch, g);
      } else if (type == echo::kNetSend) {
        echo::NetSend n{};
        if (echo::read_struct(std::span<const std::byte>(copy), n)) send_struct(ch, echo::kNetDone, net_send(n));
      } else if (type == echo::kQuit) {
        return 0;
      }
    }
  }
}
