// fuzz-libs: vitrine_rdpmux_mux
// HostMux (rdpmux/mux) fed whole guest message sequences on a real bus: any control record
// (well-formed HelloReply, Opened, OpenFailed, Closed, catalogue fragments, clock replies, pings,
// or raw bytes of any type and length), stamps and data on connection channels, in any order,
// interleaved with the host's own calls (poll, open, read, close, catalogue request, clock sync).
// The host never crashes or hangs (every wait here is bounded at a millisecond), its counters
// stay consistent, and closing everything frees every channel.
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "vitrine/rdpmux/control_layout.hpp"
#include "vitrine/rdpmux/mux/host_mux.hpp"

namespace {

using namespace vitrine;
using namespace vitrine::rdpmux;
using namespace std::chrono_literals;

constexpr std::uint32_t kChannels = 4;

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint32_t u32() { return u8() | (u8() << 8) | (u8() << 16) | (std::uint32_t{u8()} << 24); }
  std::uint64_t u64() { return u32() | (std::uint64_t{u32()} << 32); }
  std::vector<std::byte> bytes(std::size_t len) {
    std::vector<std::byte> out(len < n ? len : n);
    if (!out.empty()) std::memcpy(out.data(), p, out.size());
    p += out.size();
    n -= out.size();
    return out;
  }
};

template <typename M>
std::vector<std::byte> as_bytes(const M& m) {
  std::vector<std::byte> out(sizeof m);
  std::memcpy(out.data(), &m, sizeof m);
  return out;
}

// One record the guest writes: a chosen kind with fuzzed fields, or raw bytes.
void guest_step(Reader& in, ringbus::Bus& guest) {
  const std::uint8_t kind = in.u8();
  std::uint16_t type = 0;
  std::vector<std::byte> payload;
  std::uint32_t channel = kControlChannel;
  switch (kind % 10) {
    case 0: {
      HelloReplyMsg m{kControlMagic, kProtocolVersion, 0, in.u32(), 0, 1};
      type = kMsgHelloReply;
      payload = as_bytes(m);
      break;
    }
    case 1: {
      OpenedMsg m{in.u8() % 8u, in.u8() % (kChannels + 1), 0, 0};
      type = kMsgOpened;
      payload = as_bytes(m);
      break;
    }
    case 2: {
      ClosedMsg m{};
      m.channel = in.u8() % (kChannels + 1);
      m.error = static_cast<std::int32_t>(in.u8());
      m.text_length = in.u8();
      type = kMsgClosed;
      payload = as_bytes(m);
      break;
    }
    case 3: {
      OpenFailedMsg m{};
      m.request_id = in.u8() % 8u;
      m.channel = in.u8() % (kChannels + 1);
      m.error = in.u8();
      m.text_length = static_cast<std::uint16_t>(in.u8() * 2);
      type = kMsgOpenFailed;
      payload = as_bytes(m);
      break;
    }
    case 4: {
      ClockReplyMsg m{in.u64(), in.u64(), in.u64(), 0};
      type = kMsgClockReply;
      payload = as_bytes(m);
      break;
    }
    case 5: {
      PingMsg m{in.u64(), in.u64()};
      type = kMsgPing;
      payload = as_bytes(m);
      break;
    }
    case 6: {  // a catalogue fragment with a plausible header
      CatalogFragmentHeader h{};
      auto raw = in.bytes(sizeof h);
      if (!raw.empty()) std::memcpy(&h, raw.data(), raw.size());
      h.magic = kCatalogFragmentMagic;
      auto data = in.bytes(in.u8());
      if (kind & 0x10) h.length = static_cast<std::uint32_t>(data.size());  // often consistent
      if (kind & 0x20) h.offset = 0;
      type = kMsgCatalogFragment;
      payload = as_bytes(h);
      payload.insert(payload.end(), data.begin(), data.end());
      break;
    }
    case 7: {  // a stamp on a connection channel
      StampRecord s{in.u64(), in.u64()};
      channel = 1 + in.u8() % (kChannels - 1);
      type = kRecordStamp;
      payload = as_bytes(s);
      break;
    }
    case 8: {  // data on a connection channel, any record type
      channel = 1 + in.u8() % (kChannels - 1);
      type = static_cast<std::uint16_t>(in.u8() % 5);
      payload = in.bytes(in.u8() * 4u);
      break;
    }
    default: {  // raw control bytes of any type and length
      type = static_cast<std::uint16_t>(in.u8() | (in.u8() << 8));
      payload = in.bytes(in.u8());
      break;
    }
  }
  // The padding type is the ring's own (try_send refuses it as a caller bug); the ring fuzzer
  // covers forged padding.
  if (type == ringbus::kPaddingType) type = 0x7fff;
  auto& ch = guest.channel(channel);
  if (auto sent = ch.try_send(type, payload, 0); sent && *sent) ch.notify_sent();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto host_bus = ringbus::Bus::create(ringbus::BusConfig::uniform(kChannels, 12, 12));
  if (!host_bus) std::abort();
  auto guest_bus = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(host_bus->fd())), ringbus::Side::kGuest);
  if (!guest_bus) std::abort();
  auto bells = BusDoorbells::create_eventfds(1);
  if (!bells) std::abort();
  std::uint64_t fragments = 0, stamps = 0;
  HostMuxOptions options;
  options.on_catalog_fragment = [&](std::span<const std::byte>) { ++fragments; };
  options.on_stamp = [&](const GuestStamp&) { ++stamps; };
  options.clock_probe_interval = 0ms;
  auto mux = HostMux::create(*host_bus, std::move(*bells), std::move(options));
  if (!mux) return 0;
  std::vector<std::unique_ptr<Connection>> open;

  Reader in{data, size};
  while (in.n > 0) {
    const std::uint8_t op = in.u8();
    switch (op % 8) {
      case 0: case 1: case 2: guest_step(in, *guest_bus); break;
      case 3: (void)(*mux)->poll(); break;
      case 4:
        if (open.size() < kChannels) {
          auto c = (*mux)->open(Target::tcp(3389), {.framed = (op & 0x80) != 0, .timeout = 1ms});
          if (c) open.push_back(std::move(*c));
        }
        break;
      case 5:
        for (auto& c : open) {
          auto bytes = c->peek_read();
          if (bytes && !bytes->empty()) c->consume(bytes->size() - bytes->size() / 2);
        }
        break;
      case 6:
        if (!open.empty()) open.erase(open.begin() + static_cast<std::ptrdiff_t>(in.u8() % open.size()));
        break;
      default:
        if (op & 0x80) (void)(*mux)->request_catalog(1ms);
        else (void)(*mux)->sync_clock(1ms, 1);
        break;
    }
  }
  open.clear();
  (void)(*mux)->poll();
  const auto& k = (*mux)->counters();
  if (k.catalog_fragments.load() != fragments || k.stamps.load() != stamps) std::abort();
  if ((*mux)->free_channels() > (*mux)->channel_count()) std::abort();
  return 0;
}
