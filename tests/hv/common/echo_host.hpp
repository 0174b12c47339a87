// EchoHost: the host side of echo_protocol.hpp on one channel, for hv's tests and bench_vm.
// Every call is bounded by a timeout and says what went wrong in its error.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <string>

#include "echo_protocol.hpp"
#include "vitrine/ringbus/channel.hpp"
#include "vitrine/hv/error.hpp"
#include "vitrine/ringbus/error.hpp"

namespace vitrine::hv::echo {

using ringbus::Result;

struct TrafficResult {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t bad = 0;  // checksum failures
};

class EchoHost {
 public:
  explicit EchoHost(ringbus::Channel& channel) : ch_(channel) {}

  // Waits for the guest's hello (other records before it are an error). `alive`, when given,
  // is asked every 50 ms at most; an error from it (the VM process died) ends the wait at once
  // with that error instead of waiting out `timeout` for a hello that cannot come.
  // `alive`: hv's check that the guest side still runs; its failure ends the wait as kPeerClosed.
  Result<Hello> wait_hello(std::chrono::milliseconds timeout, const std::function<hv::Result<void>()>& alive = {});
  // Sends `count` checksummed kData records of `size` bytes (pipelined) and checks every echo:
  // the guest verified host->guest, we verify guest->host.
  Result<TrafficResult> echo(std::uint64_t count, std::uint32_t size, std::chrono::milliseconds timeout);
  // Asks the guest for `count` records of `size` bytes and verifies each.
  Result<Done> generate(std::uint64_t count, std::uint32_t size, std::chrono::milliseconds timeout,
                        TrafficResult* traffic = nullptr);
  // Asks the guest to send `bytes` to ipv4:port over TCP; returns its report.
  Result<Done> net_send(std::uint32_t ipv4, std::uint16_t port, std::uint64_t bytes,
                        std::chrono::milliseconds timeout);
  // Next kProbe text.
  Result<std::string> wait_probe(std::chrono::milliseconds timeout);
  Result<void> quit();

 private:
  Result<void> send(std::uint16_t type, std::span<const std::byte> payload, std::chrono::milliseconds timeout);
  ringbus::Channel& ch_;
};

}  // namespace vitrine::hv::echo
