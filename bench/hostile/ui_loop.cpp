// bench_hostile: the host under attack (Host) and the UI loop that is timed (run_ui_loop).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "harness.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/rdpmux/control_codec.hpp"

namespace vitrine::bench::hostile {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Rss read_rss() {
  // statm: size resident shared text lib data dt, in pages. shared = file + shmem pages.
  std::ifstream in("/proc/self/statm");
  std::int64_t size = 0, resident = 0, shared = 0;
  in >> size >> resident >> shared;
  const std::int64_t page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
  return {resident * page_kib, (resident - shared) * page_kib};
}

namespace {

std::atomic<std::uint64_t> g_log_lines{0};
bool g_print_log = false;

void counting_sink(base::LogLevel level, std::string_view message) {
  g_log_lines.fetch_add(1, std::memory_order_relaxed);
  if (g_print_log) base::stderr_sink(level, message);
}

}  // namespace

void install_counting_log_sink() {
  const char* v = std::getenv("VITRINE_HOSTILE_LOG");
  g_print_log = v != nullptr && std::strcmp(v, "1") == 0;
  base::set_log_level(base::LogLevel::kInfo);  // what `vitrine run` keeps without --verbose
  base::set_log_sink(counting_sink);
}

std::uint64_t log_lines() { return g_log_lines.load(std::memory_order_relaxed); }

// ---- guest side ------------------------------------------------------------------------------

std::optional<rdpmux::ControlMessage> guest_receive_control(ringbus::Bus& guest, std::chrono::milliseconds timeout) {
  ringbus::Channel& ch = guest.channel(rdpmux::kControlChannel);
  const auto deadline = Clock::now() + timeout;
  std::optional<rdpmux::ControlMessage> out;
  while (!out && Clock::now() < deadline) {
    auto n = ch.rx().read(
        [&](const ringbus::RecordView& r) {
          if (auto m = rdpmux::decode_control(r.type, r.payload)) out = std::move(*m);
        },
        1);
    if (n && *n) ch.notify_released();
    else std::this_thread::sleep_for(200us);
  }
  return out;
}

bool guest_try_send(ringbus::Bus& guest, std::uint32_t channel, std::uint16_t type, std::span<const std::byte> payload) {
  auto sent = guest.channel(channel).try_send(type, payload);
  return sent && *sent;
}

bool guest_try_send(ringbus::Bus& guest, const rdpmux::ControlMessage& message) {
  const auto e = rdpmux::encode_control(message);
  return guest_try_send(guest, rdpmux::kControlChannel, e.type, e.payload());
}

std::uint64_t guest_drain(ringbus::Bus& guest, std::uint32_t channel) {
  ringbus::Channel& ch = guest.channel(channel);
  std::uint64_t total = 0;
  for (;;) {
    auto n = ch.rx().read([](const ringbus::RecordView&) {}, 1024);
    if (!n || *n == 0) break;
    total += *n;
    ch.notify_released();
  }
  return total;
}

// ---- Host ------------------------------------------------------------------------------------

std::expected<std::unique_ptr<Host>, std::string> Host::create(HostOptions options) {
  std::unique_ptr<Host> h(new Host());
  h->options_ = options;
  ringbus::BusConfig config = ringbus::BusConfig::uniform(kChannels, kRingLog2, kRingLog2);
  config.surface_pool_bytes = kSurfacePoolBytes;
  auto host = ringbus::Bus::create(config);
  if (!host) return std::unexpected("bus: " + ringbus::to_string(host.error()));
  h->host_ = std::make_unique<ringbus::Bus>(std::move(*host));
  auto guest = ringbus::Bus::attach_fd(ringbus::UniqueFd(::dup(h->host_->fd())), ringbus::Side::kGuest);
  if (!guest) return std::unexpected("guest attach: " + ringbus::to_string(guest.error()));
  h->guest_ = std::make_unique<ringbus::Bus>(std::move(*guest));
  // The guest's pool pages exist before the attack (in a VM they are guest RAM).
  if (auto pool = h->guest_->surface_bytes(0, h->guest_->surface_pool_size()))
    std::memset(pool->data(), 0x40, pool->size());

  auto bells = rdpmux::BusDoorbells::create_eventfds(options.doorbells == Doorbells::kShared ? 1 : kChannels);
  if (!bells) return std::unexpected("doorbells: " + rdpmux::to_string(bells.error()));
  auto guest_fds = bells->dup_fds();
  if (!guest_fds) return std::unexpected("doorbells: " + rdpmux::to_string(guest_fds.error()));
  auto guest_bells = rdpmux::BusDoorbells::from_fds(std::move(*guest_fds));
  if (!guest_bells) return std::unexpected("doorbells: " + rdpmux::to_string(guest_bells.error()));
  h->guest_bells_ = std::make_unique<rdpmux::BusDoorbells>(std::move(*guest_bells));
  if (auto ok = h->guest_bells_->apply(*h->guest_); !ok) return std::unexpected("doorbells: " + rdpmux::to_string(ok.error()));

  rdpmux::HostMuxOptions mux_options;
  Host* self = h.get();
  mux_options.on_catalog_fragment = [self](std::span<const std::byte> f) { self->on_fragment(f); };
  mux_options.on_stamp = [](const rdpmux::GuestStamp&) {};
  auto mux = rdpmux::HostMux::create(*h->host_, std::move(*bells), std::move(mux_options));
  if (!mux) return std::unexpected("mux: " + rdpmux::to_string(mux.error()));
  h->mux_ = std::move(*mux);

  // The guest answers Hello with everything the host offered (catalogue, timestamps).
  auto hello = guest_receive_control(*h->guest_, 2000ms);
  if (!hello || !std::holds_alternative<rdpmux::HelloMsg>(*hello)) return std::unexpected("no Hello from the host");
  const auto offered = std::get<rdpmux::HelloMsg>(*hello).features;
  if (!guest_try_send(*h->guest_, rdpmux::make_hello_reply(rdpmux::kProtocolVersion, offered, 0, 1)))
    return std::unexpected("guest control ring full at hello");
  h->guest_->channel(rdpmux::kControlChannel).notify_sent();
  if (auto ready = h->mux_->wait_ready(2s); !ready) return std::unexpected("wait_ready: " + rdpmux::to_string(ready.error()));

  viewer::RemoteDisplayOptions display_options;
  display_options.headless = true;
  auto display = viewer::RemoteDisplay::create(display_options);
  if (!display) return std::unexpected("headless display (EGL surfaceless): " + display.error());
  h->display_ = std::move(*display);
  rdpmux::HostMux& m = *h->mux_;
  auto enabled = h->display_->enable_surfaces(
      *h->host_, [&m](std::uint32_t channel) { m.pass_on_shared_wakeup(channel); }, [&m] { return m.clock_estimate(); });
  if (!enabled) return std::unexpected("surfaces: " + enabled.error());

  // A connected session: the framebuffer and a few windows, posted from a session thread.
  std::thread session([&] {
    auto fb = h->display_->provide_framebuffer(kDesktopWidth, kDesktopHeight, kDesktopWidth * 4);
    std::memset(fb.data(), 0x80, fb.size());
    const rdpmux::host::FramebufferView view{fb.data(), kDesktopWidth, kDesktopHeight, kDesktopWidth * 4};
    h->display_->framebuffer_changed(view);
    for (std::uint32_t id = 1; id <= kSessionWindows; ++id) {
      rdpmux::host::WindowState s;
      s.id = id;
      s.title = "window " + std::to_string(id);
      s.frame = {static_cast<std::int32_t>(id * 100), 50, kSessionWindowSide, kSessionWindowSide};
      s.show = rdpmux::host::ShowState::kNormal;
      s.style = rdpmux::host::style::kCaption;
      h->display_->window_created(s);
    }
    const rdpmux::host::DesktopRect all{0, 0, kDesktopWidth, kDesktopHeight};
    h->display_->damaged(view, std::span(&all, 1));
  });
  session.join();
  for (int i = 0; i < 5; ++i) {
    h->display_->dispatch();
    h->mux_->poll();
  }
  guest_drain(*h->guest_, h->guest_->surface_channel());  // HostReady
  guest_drain(*h->guest_, rdpmux::kControlChannel);

  if (options.catalog == CatalogMode::kDecodeOnWorker) {
    h->decoder_ = std::make_unique<rdpmux::CatalogDecoder>(
        [self](std::uint32_t, catalog::Result<catalog::Catalog> c) {
          if (!c) {
            self->catalog_.refused.fetch_add(1, std::memory_order_relaxed);
            return;
          }
          self->catalog_.decoded.fetch_add(1, std::memory_order_relaxed);
          self->apps_ = std::move(c->apps);  // this mode: only the decoder's thread writes apps_
          self->catalog_.apps.store(self->apps_.size(), std::memory_order_relaxed);
        });
  }
  return h;
}

Host::~Host() {
  decoder_.reset();
  if (display_) display_->shutdown();
  display_.reset();
  mux_.reset();
}

void Host::on_fragment(std::span<const std::byte> fragment) {
  catalog_.fragments.fetch_add(1, std::memory_order_relaxed);
  if (options_.catalog == CatalogMode::kAddOnUi) {
    auto r = reassembler_.add(fragment);
    if (!r) {
      catalog_.refused.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (!*r) return;
    catalog_.decoded.fetch_add(1, std::memory_order_relaxed);
    apps_ = std::move((*r)->apps);
    catalog_.apps.store(apps_.size(), std::memory_order_relaxed);
    return;
  }
  auto r = reassembler_.join(fragment);
  if (!r) {
    catalog_.refused.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!*r) return;
  catalog_.blobs_joined.fetch_add(1, std::memory_order_relaxed);
  decoder_->submit(std::move(**r));
  catalog_.worker_dropped.store(decoder_->replaced(), std::memory_order_relaxed);
}


std::expected<std::unique_ptr<rdpmux::Connection>, std::string> Host::open_connection() {
  std::atomic<bool> answered{false};
  std::thread guest([&] {
    const auto deadline = Clock::now() + 2s;
    while (Clock::now() < deadline) {
      auto m = guest_receive_control(*guest_, 100ms);
      if (!m || !std::holds_alternative<rdpmux::OpenMsg>(*m)) continue;
      const auto& open = std::get<rdpmux::OpenMsg>(*m);
      guest_try_send(*guest_, rdpmux::OpenedMsg{open.request_id, open.channel, 0, 0});
      guest_->channel(rdpmux::kControlChannel).notify_sent();
      answered = true;
      return;
    }
  });
  auto c = mux_->open(rdpmux::Target::tcp(3389), {.framed = false, .timeout = 2000ms});
  guest.join();
  if (!c) return std::unexpected("open: " + rdpmux::to_string(c.error()));
  if ((*c)->channel_id() != kConnectionChannel)
    return std::unexpected("open: channel " + std::to_string((*c)->channel_id()) + ", expected 1");
  return std::move(*c);
}

// ---- the UI loop -----------------------------------------------------------------------------

double TurnTimes::max_us() const { return us.empty() ? 0 : *std::max_element(us.begin(), us.end()); }

double TurnTimes::percentile_us(double p) const {
  if (us.empty()) return 0;
  std::vector<double> s = us;
  std::sort(s.begin(), s.end());
  return s[static_cast<std::size_t>(p * double(s.size() - 1))];
}

UiLoopResult run_ui_loop(Host& host, std::chrono::milliseconds duration) {
  UiLoopResult r;
  r.turns.us.reserve(1 << 20);
  viewer::RemoteDisplay& display = host.display();
  rdpmux::HostMux& mux = host.mux();
  const int control_fd = mux.control_wake_fd();  // -1 with the shared doorbell
  r.rss_before = read_rss();
  r.rss_peak = r.rss_before;
  const auto t_begin = Clock::now();
  const auto deadline = t_begin + duration;
  auto next_rss = t_begin + 50ms;
  bool more = false;
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline) break;
    if (now >= next_rss) {
      const Rss s = read_rss();
      r.rss_peak.total_kib = std::max(r.rss_peak.total_kib, s.total_kib);
      r.rss_peak.anon_kib = std::max(r.rss_peak.anon_kib, s.anon_kib);
      next_rss = now + 50ms;
    }
    // Instance::run: sleep only when nothing is left (display idle, control armed or absent).
    std::vector<pollfd> p;
    for (int fd : display.wake_fds()) p.push_back({fd, POLLIN, 0});
    const bool armed = control_fd >= 0 && mux.arm_control_wake();
    if (armed) p.push_back({control_fd, POLLIN, 0});
    const bool display_idle = display.prepare_sleep();
    const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
    const int timeout = !more && display_idle && (armed || control_fd < 0) ? static_cast<int>(std::min<long>(100, left_ms)) : 0;
    const int n = ::poll(p.data(), p.size(), timeout);
    if (n > 0) r.wakeups += 1;
    else if (timeout > 0) r.timeouts += 1;

    const auto t0 = Clock::now();
    display.dispatch();
    more = mux.poll();
    r.turns.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - t_begin).count();
  r.rss_after = read_rss();
  r.rss_peak.total_kib = std::max(r.rss_peak.total_kib, r.rss_after.total_kib);
  r.rss_peak.anon_kib = std::max(r.rss_peak.anon_kib, r.rss_after.anon_kib);
  return r;
}

}  // namespace vitrine::bench::hostile
