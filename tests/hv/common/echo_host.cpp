#include "echo_host.hpp"

#include <cstring>
#include <vector>

namespace vitrine::hv::echo {
namespace {

using Clock = std::chrono::steady_clock;
using ringbus::Errc;
using ringbus::Error;

Error timeout_error(const std::string& what) { return Error{Errc::kTimeout, 0, "timed out waiting for " + what}; }
Error protocol_error(const std::string& what) { return Error{Errc::kChannelFault, 0, what}; }

}  // namespace

Result<void> EchoHost::send(std::uint16_t type, std::span<const std::byte> payload,
                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto claim = ch_.tx().try_claim(static_cast<std::uint32_t>(payload.size()));
    if (!claim) return std::unexpected(claim.error());
    if (*claim) {
      std::memcpy(claim->data, payload.data(), payload.size());
      ch_.tx().commit(static_cast<std::uint32_t>(payload.size()), type);
      ch_.notify_sent();
      return {};
    }
    if (Clock::now() > deadline) return std::unexpected(timeout_error("space in the host->guest ring"));
    auto w = ch_.wait_writable(static_cast<std::uint32_t>(payload.size()), ringbus::WaitPolicy::adaptive(),
                               std::chrono::milliseconds(100));
    if (!w) return std::unexpected(w.error());
  }
}

Result<Hello> EchoHost::wait_hello(std::chrono::milliseconds timeout, const std::function<hv::Result<void>()>& alive) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto rec = ch_.rx().peek();
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) {
      if (alive)
        if (auto a = alive(); !a)
          return std::unexpected(ringbus::Error{ringbus::Errc::kPeerClosed, 0, a.error().message});
      auto w = ch_.wait_readable(ringbus::WaitPolicy::adaptive(), std::chrono::milliseconds(50));
      if (!w) return std::unexpected(w.error());
      continue;
    }
    Hello h{};
    const bool ok = rec->type == kHello && read_struct(rec->payload, h) && h.magic == kHelloMagic;
    const std::uint16_t type = rec->type;
    ch_.rx().release();
    ch_.notify_released();
    if (!ok) return std::unexpected(protocol_error("expected a hello, got record type " + std::to_string(type)));
    return h;
  }
  return std::unexpected(timeout_error("the guest's hello"));
}

Result<TrafficResult> EchoHost::echo(std::uint64_t count, std::uint32_t size, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<std::byte> buf(size < 8 ? 8 : size);
  TrafficResult r;
  std::uint64_t sent = 0;
  while (r.records < count) {
    if (Clock::now() > deadline)
      return std::unexpected(timeout_error("echoes (" + std::to_string(r.records) + " of " +
                                           std::to_string(count) + ")"));
    // Keep up to 16 records in flight.
    while (sent < count && sent - r.records < 16) {
      auto claim = ch_.tx().try_claim(static_cast<std::uint32_t>(buf.size()));
      if (!claim) return std::unexpected(claim.error());
      if (!*claim) break;
      fill_checksummed(claim->span().first(buf.size()), sent + 1);
      ch_.tx().commit(static_cast<std::uint32_t>(buf.size()), kData);
      ++sent;
    }
    ch_.notify_sent();
    auto rec = ch_.rx().peek();
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) {
      auto w = ch_.wait_readable(ringbus::WaitPolicy::adaptive(), std::chrono::milliseconds(50));
      if (!w) return std::unexpected(w.error());
      continue;
    }
    if (rec->type == kBadData) return std::unexpected(protocol_error("the guest saw a bad checksum (host->guest)"));
    if (rec->type != kEcho) return std::unexpected(protocol_error("unexpected record type " + std::to_string(rec->type)));
    std::memcpy(buf.data(), rec->payload.data(), std::min(buf.size(), rec->payload.size()));
    if (rec->payload.size() != buf.size() || !verify_checksummed(buf)) ++r.bad;
    ++r.records;
    r.bytes += rec->payload.size();
    ch_.rx().release();
    ch_.notify_released();
  }
  return r;
}

Result<Done> EchoHost::generate(std::uint64_t count, std::uint32_t size, std::chrono::milliseconds timeout,
                                TrafficResult* traffic) {
  const auto deadline = Clock::now() + timeout;
  const Generate g{count, size, 7};
  if (auto s = send(kGenerate, std::as_bytes(std::span<const Generate>(&g, 1)), timeout); !s)
    return std::unexpected(s.error());
  TrafficResult t;
  std::vector<std::byte> buf;
  for (;;) {
    if (Clock::now() > deadline) return std::unexpected(timeout_error("generated records"));
    auto rec = ch_.rx().peek();
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) {
      ch_.rx().release();
      ch_.notify_released();
      auto w = ch_.wait_readable(ringbus::WaitPolicy::adaptive(), std::chrono::milliseconds(50));
      if (!w) return std::unexpected(w.error());
      continue;
    }
    if (rec->type == kGenerated) {
      buf.assign(rec->payload.begin(), rec->payload.end());
      if (!verify_checksummed(buf)) ++t.bad;
      ++t.records;
      t.bytes += buf.size();
      if ((t.records & 31) == 0) {
        ch_.rx().release();
        ch_.notify_released();
      }
      continue;
    }
    Done d{};
    const bool ok = rec->type == kGenDone && read_struct(rec->payload, d);
    ch_.rx().release();
    ch_.notify_released();
    if (!ok) return std::unexpected(protocol_error("unexpected record type " + std::to_string(rec->type)));
    if (traffic) *traffic = t;
    if (t.records != count || t.bad != 0)
      return std::unexpected(protocol_error("generated " + std::to_string(t.records) + " of " +
                                            std::to_string(count) + " records, " + std::to_string(t.bad) +
                                            " bad checksums"));
    return d;
  }
}

Result<Done> EchoHost::net_send(std::uint32_t ipv4, std::uint16_t port, std::uint64_t bytes,
                                std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const NetSend n{ipv4, port, 0, bytes};
  if (auto s = send(kNetSend, std::as_bytes(std::span<const NetSend>(&n, 1)), timeout); !s)
    return std::unexpected(s.error());
  while (Clock::now() < deadline) {
    auto rec = ch_.rx().peek();
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) {
      auto w = ch_.wait_readable(ringbus::WaitPolicy::adaptive(), std::chrono::milliseconds(50));
      if (!w) return std::unexpected(w.error());
      continue;
    }
    Done d{};
    const bool ok = rec->type == kNetDone && read_struct(rec->payload, d);
    ch_.rx().release();
    ch_.notify_released();
    if (!ok) return std::unexpected(protocol_error("unexpected record type " + std::to_string(rec->type)));
    return d;
  }
  return std::unexpected(timeout_error("the guest's network transfer"));
}

Result<std::string> EchoHost::wait_probe(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    auto rec = ch_.rx().peek();
    if (!rec) return std::unexpected(rec.error());
    if (!*rec) {
      auto w = ch_.wait_readable(ringbus::WaitPolicy::adaptive(), std::chrono::milliseconds(50));
      if (!w) return std::unexpected(w.error());
      continue;
    }
    std::string text(reinterpret_cast<const char*>(rec->payload.data()), rec->payload.size());
    const std::uint16_t type = rec->type;
    ch_.rx().release();
    ch_.notify_released();
    if (type != kProbe) return std::unexpected(protocol_error("unexpected record type " + std::to_string(type)));
    return text;
  }
  return std::unexpected(timeout_error("a probe result"));
}

Result<void> EchoHost::quit() { return send(kQuit, {}, std::chrono::seconds(5)); }

}  // namespace vitrine::hv::echo
