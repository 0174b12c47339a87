#include "instance.hpp"

#include "instance_autostart.hpp"

#include <poll.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <future>

#include "launcher_server.hpp"
#include "terminal_text.hpp"
#include "runtime_paths.hpp"
#include "vitrine/rdpmux/catalog_exec.hpp"
#include "vitrine/rdpmux/host/remote_session.hpp"

namespace vitrine::cli {

using namespace std::chrono_literals;
namespace rh = rdpmux::host;

namespace {

// The appserver (and Windows' RemoteApp) split arguments shell-like: quote what needs it.
std::string quote_arg(const std::string& arg) {
  if (!arg.empty() && arg.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;#~") == std::string::npos) return arg;
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string join_args(const std::vector<std::string>& argv, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < argv.size(); ++i) {
    if (!out.empty()) out += ' ';
    out += quote_arg(argv[i]);
  }
  return out;
}

// A JSON string literal: counter values carry window titles, which may hold anything.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        else out += c;
    }
  }
  return out + "\"";
}

std::string human_bytes(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  else if (bytes >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1ull << 20));
  else if (bytes >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

}  // namespace

std::filesystem::path state_dir(const std::string& instance) {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  std::filesystem::path base;
  if (xdg != nullptr && xdg[0] == '/') base = xdg;
  else if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/')
    base = std::filesystem::path(home) / ".local" / "state";
  else base = std::filesystem::temp_directory_path() / ("vitrine-state-" + std::to_string(::getuid()));
  return base / "vitrine" / instance;
}

Instance::Instance(const InstanceOptions& options, ShutdownSignal& signal) : options_(options), signal_(signal) {}

std::expected<std::unique_ptr<Instance>, std::string> Instance::start(const InstanceOptions& options,
                                                                     ShutdownSignal& signal) {
  std::unique_ptr<Instance> self(new Instance(options, signal));
  Instance& in = *self;

  // The launcher socket first: a second instance of the same name must fail before it boots a VM.
  auto socket = launcher_socket_path(options.instance);
  if (!socket) return std::unexpected(socket.error());
  auto launcher = LauncherServer::start({.socket_path = *socket}, in);
  if (!launcher) return std::unexpected(launcher.error());
  in.launcher_ = std::move(*launcher);
  // What `vitrine launch` runs when this instance is down (instance_autostart.hpp).
  if (auto recorded = record_start_command(options.state_dir); !recorded)
    spdlog::warn("menu entries will not start this instance on demand: {}", recorded.error());

  VmSessionOptions vm;
  vm.vmm = options.bin_dir / "vitrine-vmm";
  if (std::filesystem::exists(options.bin_dir / "vitrine-sandbox-init"))
    vm.sandbox_init = options.bin_dir / "vitrine-sandbox-init";
  vm.log_dir = options.state_dir / "logs";
  vm.progress = [](std::string_view line) { spdlog::info("{}", line); };
  vm.interrupted = [&in] {
    if (in.signal_.poll_signal() != 0) in.interrupted_ = true;
    return in.interrupted_.load();
  };
  vm.mux.on_catalog_fragment = [&in](std::span<const std::byte> fragment) { in.on_catalog_fragment(fragment); };
  // The guest's part of each frame's latency (kFeatureTimestamps): to the display's telemetry.
  vm.mux.on_stamp = [&in](const rdpmux::GuestStamp& stamp) {
    if (viewer::RemoteDisplay* d = in.stamp_sink_.load(std::memory_order_acquire)) d->guest_stamp(stamp);
  };
  auto session = VmSession::start(options.config_file, vm);
  if (!session) return std::unexpected(session.error());
  in.vm_ = std::move(*session);
  spdlog::info("VM \"{}\" is running; its logs are in {}", in.vm_->config().name, in.vm_->log_dir().string());
  // The guest's clock in ours, for the stamps; poll() in run() keeps it fresh.
  if (auto clock = in.vm_->mux().sync_clock(1s, 8); clock)
    spdlog::info("guest clock: offset {} us +- {} us", clock->offset_ns / 1000, clock->uncertainty_ns / 1000);
  else
    spdlog::warn("guest clock unknown ({}): latency stages before the host's read are not measured",
                 rdpmux::to_string(clock.error()));
  // No request_catalog() here: the guest agent sends its catalogue right after HelloReply.

  viewer::RemoteDisplayOptions display;
  display.headless = options.headless;
  display.x_display = options.x_display;
  display.screenshot_dir = options.screenshot_dir;
  display.max_window_pixels = options.max_window_pixels;
  // The VM's label ([display] in its config): border colour and title prefix on every window.
  const hv::DisplayLabel& label = in.vm_->config().display;
  display.label = {.title_prefix = label.title_prefix, .rgb = label.label_rgb, .border_px = label.border_px};
  auto d = viewer::RemoteDisplay::create(display);
  if (!d) return std::unexpected(d.error());
  if (!options.headless) {
    const char* env_display = std::getenv("DISPLAY");
    const std::string host_display = !options.x_display.empty() ? options.x_display
                                     : env_display != nullptr   ? std::string(env_display)
                                                                : std::string();
    in.keyboard_watch_ = KeyboardLayoutWatch::open(host_display);
    in.startup_ = StartupNotify::open(host_display);
  }
  in.display_ = std::move(*d);
  in.stamp_sink_.store(in.display_.get(), std::memory_order_release);
  if (options.surfaces && in.vm_->bus().has_surface_pool()) {
    rdpmux::HostMux& mux = in.vm_->mux();
    auto enabled = in.display_->enable_surfaces(
        in.vm_->bus(), [&mux](std::uint32_t channel) { mux.pass_on_shared_wakeup(channel); },
        [&mux] { return mux.clock_estimate(); });
    if (enabled)
      spdlog::info("window pixels: shared-memory surfaces ({} MiB pool) where the guest publishes them, RDP otherwise",
                   in.vm_->bus().surface_pool_size() >> 20);
    else
      spdlog::warn("window pixels over RDP only: {}", enabled.error());
  } else {
    spdlog::info("window pixels over RDP{}", options.surfaces ? " (the VM's bus has no surface pool)" : " (--no-surfaces)");
  }

  rh::RemoteSessionConfig config;
  config.client.security = options.security;
  config.client.vm_name = in.vm_->config().name;
  config.client.pin_dir = options.state_dir / "pins";
  config.client.remote_app = true;
  config.client.program = options.start_apps.empty() ? std::string() : options.start_apps.front();
  config.client.width = options.width;
  config.client.height = options.height;
  config.tap = in.display_->bridge_tap();  // kHostReadToPaint
  config.on_reconnect = [](int attempt, const rh::Error& why) {
    spdlog::warn("the guest's RDP server went away ({}); reconnecting through the bus (attempt {})", rh::to_string(why),
                 attempt);
  };
  VmSession& vm_session = *in.vm_;
  auto opener = [&vm_session, &in]() { return vm_session.open_rdp(30s, &in.interrupted_); };

  // The session's thread calls the display while connecting, and the display applies those calls
  // on this (UI) thread: start it on a helper thread and keep dispatching until it is up.
  spdlog::info("connecting RemoteApp through the bus");
  auto pending = std::async(std::launch::async, [&] {
    return rh::RemoteSession::start(opener, config, *in.display_, *in.display_);
  });
  const auto connect_deadline = std::chrono::steady_clock::now() + 60s;
  auto fds = in.display_->wake_fds();
  while (pending.wait_for(0ms) != std::future_status::ready) {
    std::vector<pollfd> p;
    for (int fd : fds) p.push_back({fd, POLLIN, 0});
    (void)::poll(p.data(), p.size(), 50);
    in.display_->dispatch();
    if (std::chrono::steady_clock::now() > connect_deadline) in.display_->shutdown();  // unblocks the session
  }
  auto remote = pending.get();
  if (remote && std::chrono::steady_clock::now() > connect_deadline) {
    (*remote)->stop();
    return std::unexpected("RemoteApp connection through the bus took longer than 60 s (guest logs in " +
                           in.vm_->log_dir().string() + ")");
  }
  if (!remote) {
    in.display_->shutdown();
    // "Connection refused" alone hides the cause: say which guest program failed and how.
    const std::string failures = in.vm_->guest_failures();
    return std::unexpected("RemoteApp connection through the bus failed: " + rh::to_string(remote.error()) +
                           (failures.empty() ? "" : "; " + failures) + " (guest logs in " +
                           in.vm_->log_dir().string() + ")");
  }
  in.session_ = std::move(*remote);
  in.input_ = std::make_unique<viewer::GuestInputOf<rh::RemoteSession>>(*in.session_);
  in.display_->set_guest_input(in.input_.get());
  in.ready_.store(true, std::memory_order_release);
  spdlog::info("connected; launcher socket {}", in.launcher_->path().string());
  in.starter_ = std::thread([&in] { in.start_remaining_apps(); });
  return self;
}

void Instance::start_remaining_apps() {
  for (std::size_t i = 1; i < options_.start_apps.size() && !interrupted_; ++i) {
    const std::string& program = options_.start_apps[i];
    if (auto r = session_->exec({program, {}, {}}, 30s); !r)
      spdlog::warn("could not open {}: {}", program, rh::to_string(r.error()));
  }
}

int Instance::run() {
  const auto deadline = options_.duration.count() > 0 ? started_at_ + options_.duration
                                                      : std::chrono::steady_clock::time_point::max();
  int exit_code = 0;
  const int control_fd = vm_->mux().control_wake_fd();
  bool more = false;  // HostMux::poll() stopped at its budget: look again without sleeping
  for (;;) {
    std::vector<pollfd> p{{signal_.fd(), POLLIN, 0}};
    for (int fd : display_->wake_fds()) p.push_back({fd, POLLIN, 0});
    if (keyboard_watch_) p.push_back({keyboard_watch_->fd(), POLLIN, 0});
    // Sleep on the control channel only once its waiting flag is set (else the guest would not
    // ring); false means messages are already pending: do not sleep at all.
    const bool armed = control_fd >= 0 && vm_->mux().arm_control_wake();
    if (armed) p.push_back({control_fd, POLLIN, 0});
    const bool display_idle = display_->prepare_sleep();  // surface records waiting: no sleep
    (void)::poll(p.data(), p.size(), !more && display_idle && (armed || control_fd < 0) ? 100 : 0);
    if (signal_.poll_signal() != 0 || interrupted_) {
      spdlog::info("stopping (interrupted)");
      exit_code = 130;
      break;
    }
    display_->dispatch();
    if (keyboard_watch_ && keyboard_watch_->changed()) {
      spdlog::info("the host's keyboard layout changed: telling the guest");
      session_->keyboard_layout_changed(0);  // 0: RdpClient reads the new one
    }
    const std::uint64_t created = display_->top_level_windows_created();
    end_startups(launch_clock_.windows_created(created, std::chrono::steady_clock::now()), created != windows_seen_);
    windows_seen_ = created;
    more = vm_->mux().poll();  // control messages: the catalogue, Closed, ErrorReply (a budget per call)
    if (auto ended = vm_->poll_vm()) {
      spdlog::error("the VM ended: {} (logs in {})", *ended, vm_->log_dir().string());
      exit_code = 1;
      break;
    }
    if (!session_->running()) {
      const auto why = session_->error();
      spdlog::error("the RemoteApp session ended: {}", why ? rh::to_string(*why) : std::string("closed"));
      exit_code = 1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::info("stopping (--duration {} s elapsed)", options_.duration.count());
      break;
    }
  }
  if (display_->headless() && !options_.screenshot_dir.empty()) {
    display_->dispatch();
    if (auto shots = display_->write_screenshots(options_.screenshot_dir); shots)
      spdlog::info("wrote {} window screenshot(s) and windows.json to {}", shots->size(),
                   options_.screenshot_dir.string());
    else
      spdlog::warn("screenshots: {}", shots.error());
  }
  if (!options_.telemetry_json.empty()) {
    std::string json = "{\"telemetry\": " + display_->telemetry().to_json() + ",\n \"launch\": {\"click_to_window\": " +
                       launch_clock_.warm().to_json() + ", \"cold_to_first_window_ns\": ";
    const auto cold = launch_clock_.cold();
    json += cold ? std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(*cold).count()) : "null";
    json += "},\n \"counters\": {";
    bool first = true;
    for (const auto& [name, value] : stats()) {
      json += std::string(first ? "" : ", ") + json_string(name) + ": " + json_string(value);
      first = false;
    }
    json += "}}\n";
    std::ofstream out(options_.telemetry_json, std::ios::trunc);
    out << json;
    if (out) spdlog::info("telemetry written to {}", options_.telemetry_json.string());
    else spdlog::warn("cannot write telemetry to {}", options_.telemetry_json.string());
  }
  shutdown();
  return exit_code;
}

void Instance::shutdown() {
  interrupted_ = true;
  launcher_.reset();  // no launch request may reach a session that is going away
  if (display_) display_->shutdown();  // the session thread must not wait for this thread now
  if (starter_.joinable()) starter_.join();
  if (session_) session_->stop();
  session_.reset();
  stamp_sink_.store(nullptr, std::memory_order_release);  // no bridge thread is left to call it
  if (vm_) {
    const auto how = vm_->stop();
    spdlog::info("VM {}", how);
  }
  vm_.reset();
  decoder_.reset();  // no fragment can come now; a decode in progress finishes before apps_ goes
}

Instance::~Instance() { shutdown(); }

void Instance::on_catalog_fragment(std::span<const std::byte> fragment) {
  std::optional<catalog::CatalogReassembler::Blob> complete;
  {
    std::lock_guard lock(catalog_mutex_);
    auto r = reassembler_.join(fragment);
    if (!r) {
      ++catalog_errors_;
      spdlog::warn("the guest sent a bad catalogue fragment: {}", escape_for_terminal(r.error().message));
      return;
    }
    if (!*r) return;
    complete = std::move(**r);
    if (!decoder_)
      decoder_ = std::make_unique<rdpmux::CatalogDecoder>(
          [this](std::uint32_t generation, catalog::Result<catalog::Catalog> decoded) {
            on_catalog_decoded(generation, std::move(decoded));
          });
  }
  decoder_->submit(std::move(*complete));
}

void Instance::on_catalog_decoded(std::uint32_t generation, catalog::Result<catalog::Catalog> decoded) {
  std::lock_guard lock(catalog_mutex_);
  if (!decoded) {
    ++catalog_errors_;
    spdlog::warn("the guest sent a bad catalogue (generation {}): {}", generation,
                 escape_for_terminal(decoded.error().message));
    return;
  }
  catalog_generation_ = decoded->generation;
  apps_ = std::move(decoded->apps);
  // The ids are the guest's text: escaped, and the list shortened, for the log.
  std::string names;
  for (std::size_t i = 0; i < apps_.size() && i < 32; ++i) names += (names.empty() ? "" : ", ") + escape_for_terminal(apps_[i].id);
  if (apps_.size() > 32) names += fmt::format(" and {} more", apps_.size() - 32);
  spdlog::info("the guest publishes {} application(s): {}", apps_.size(), names.empty() ? "(none)" : names);
}

void Instance::end_startups(const LaunchClock::Ended& ended, bool windows_came) {
  std::vector<std::uint64_t> fresh;  // X windows of the guest's windows new since the last look
  if (windows_came) {
    std::set<std::uint32_t> now;
    for (const auto& w : display_->windows()) {
      now.insert(w.id);
      if (!window_ids_.contains(w.id) && w.x11_window != 0) fresh.push_back(w.x11_window);
    }
    window_ids_ = std::move(now);
  }
  if (!startup_) return;
  for (std::size_t i = 0; i < ended.with_window.size(); ++i) {
    if (i < fresh.size()) startup_->tag_window(fresh[i], ended.with_window[i]);
    startup_->end(ended.with_window[i]);
  }
  for (const auto& id : ended.without_window) startup_->end(id);
}

std::vector<catalog::AppEntry> Instance::apps() {
  std::lock_guard lock(catalog_mutex_);
  return apps_;
}

std::expected<std::string, std::string> Instance::launch(const catalog::AppEntry& app,
                                                         const std::vector<std::string>& args,
                                                         const std::string& startup_id) {
  auto argv = catalog::launch_argv(app, args);
  if (!argv) return std::unexpected("cannot build the command of " + app.id + ": " + argv.error().message);
  if (argv->empty()) return std::unexpected(app.id + " has an empty command");
  if (!ready_.load(std::memory_order_acquire) || !session_)
    return std::unexpected(std::string(kStillStarting));
  launch_clock_.launch_requested(std::chrono::steady_clock::now(), startup_id);
  auto r = session_->exec({argv->front(), join_args(*argv, 1), app.working_dir}, 30s);
  if (!r) return std::unexpected(rh::to_string(r.error()));
  ++launches_;
  return "started " + app.name + " (" + argv->front() + ")";
}

std::vector<std::pair<std::string, std::string>> Instance::stats() {
  std::vector<std::pair<std::string, std::string>> out;
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_at_);
  out.emplace_back("uptime", std::to_string(uptime.count()) + " s");
  if (!ready_.load(std::memory_order_acquire)) {
    out.emplace_back("state", "starting");
    return out;
  }
  if (vm_) {
    const auto& c = vm_->mux().counters();
    out.emplace_back("bus.channels_free", std::to_string(vm_->mux().free_channels()) + "/" +
                                              std::to_string(vm_->mux().channel_count()));
    out.emplace_back("bus.opens", std::to_string(c.opens.load()));
    out.emplace_back("bus.protocol_errors", std::to_string(c.protocol_errors.load()));
    if (auto rtt = vm_->mux().ping(500ms); rtt)
      out.emplace_back("bus.control_rtt", std::to_string(rtt->count() / 1000) + " us");
    if (auto clock = vm_->mux().clock_estimate(); clock)
      out.emplace_back("bus.guest_clock", "offset " + std::to_string(clock->offset_ns / 1000) + " us +- " +
                                              std::to_string(clock->uncertainty_ns / 1000) + " us (" +
                                              std::to_string(clock->samples) + " samples)");
    out.emplace_back("bus.stamps", std::to_string(c.stamps.load()) + " (unsynced " +
                                       std::to_string(c.stamps_unsynced.load()) + ", bad " +
                                       std::to_string(c.bad_stamps.load()) + ")");
    if (auto relay = vm_->mux().stats(500ms); relay) {
      out.emplace_back("relay.open_connections", std::to_string(relay->open_connections));
      out.emplace_back("relay.bytes_to_host", human_bytes(relay->bytes_to_host));
      out.emplace_back("relay.bytes_from_host", human_bytes(relay->bytes_from_host));
      out.emplace_back("relay.records_to_host", std::to_string(relay->records_to_host));
      out.emplace_back("relay.bytes_copied", human_bytes(relay->bytes_copied));
      out.emplace_back("relay.backpressure_events", std::to_string(relay->backpressure_events));
    }
  }
  if (session_) {
    const auto s = session_->stats();
    out.emplace_back("rdp.paints", std::to_string(s.paints));
    out.emplace_back("rdp.damage_rects", std::to_string(s.damage_rects));
    out.emplace_back("rdp.reconnects", std::to_string(session_->reconnects()));
    out.emplace_back("rdp.bytes_from_guest", human_bytes(session_->bytes_from_guest()));
    out.emplace_back("rdp.bytes_to_guest", human_bytes(session_->bytes_to_guest()));
  }
  if (display_) {
    const auto d = display_->stats();
    out.emplace_back("display.windows", std::to_string(display_->windows().size()));
    out.emplace_back("display.presents", std::to_string(d.presents));
    out.emplace_back("display.bytes_damaged", human_bytes(d.compositor.bytes_damaged));
    out.emplace_back("display.bytes_uploaded", human_bytes(d.compositor.bytes_uploaded));
    out.emplace_back("display.input_events", std::to_string(d.input_events));
    out.emplace_back("display.activations", std::to_string(d.activations) + " focused, " +
                                                std::to_string(d.activations_refused) + " refused (no host input)");
    out.emplace_back("display.callback_timeouts", std::to_string(d.callback_timeouts));
    const auto& c = d.compositor;
    out.emplace_back("display.window_pixels", std::to_string(c.window_pixels) + " of " +
                                                  (c.window_pixel_budget == 0 ? std::string("unlimited")
                                                                              : std::to_string(c.window_pixel_budget)) +
                                                  " px budget (" + std::to_string(c.retiring_pixels) +
                                                  " px of closed windows still held by the GL driver)");
    out.emplace_back("display.windows_over_budget", std::to_string(c.windows_parked) + " not shown, " +
                                                        std::to_string(c.over_budget) + " refused since start");
    // Which path carries each window's pixels: "surface" (bus pool, no encode) or "rdp".
    std::map<std::uint32_t, std::string> titles;
    for (const auto& w : display_->windows()) titles[w.id] = w.title;
    for (const auto& [id, path] : display_->pixel_paths())
      out.emplace_back("window." + std::to_string(id) + ".pixels", path + " \"" + titles[id] + "\"");
    out.emplace_back("surface.enabled", d.surfaces ? "yes" : "no (RDP pixels only)");
    if (d.surfaces) {
      const auto& sc = d.surface;
      out.emplace_back("surface.surfaces", std::to_string(sc.surfaces) + " (" + std::to_string(sc.creates) +
                                               " created, " + std::to_string(sc.resizes) + " resized, " +
                                               std::to_string(sc.destroys) + " destroyed)");
      out.emplace_back("surface.presents", std::to_string(sc.presents) + " (" + std::to_string(sc.rects) + " rects, " +
                                               human_bytes(sc.bytes_presented) + ")");
      out.emplace_back("surface.uploads", std::to_string(d.surface_pump.uploads) + " (" +
                                              human_bytes(d.surface_pump.bytes_uploaded) + ", " +
                                              std::to_string(d.surface_pump.upload_failures) + " failed)");
      out.emplace_back("surface.faults", std::to_string(sc.faults) + " records refused, " + std::to_string(sc.dropped) +
                                             " surfaces dropped, " + std::to_string(sc.ring_faults) + " ring resets");
      out.emplace_back("surface.refreshes", std::to_string(d.surface_pump.refreshes) + " (" +
                                                std::to_string(d.surface_pump.early_presents) + " early presents)");
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(perf::Stage::kCount); ++i) {
      const auto stage = static_cast<perf::Stage>(i);
      const auto& h = display_->telemetry().stage(stage);
      if (h.count() == 0) continue;
      const bool per_record = stage == perf::Stage::kGuestReceiveToCommit || stage == perf::Stage::kCommitToHostRead;
      out.emplace_back(std::string("latency.") + perf::stage_name(stage),
                       "p50 " + std::to_string(h.percentile(0.5) / 1000) + " us, p99 " +
                           std::to_string(h.percentile(0.99) / 1000) + " us, max " + std::to_string(h.max() / 1000) +
                           " us (" + std::to_string(h.count()) + (per_record ? " records)" : " paints)"));
    }
  }
  {
    std::lock_guard lock(catalog_mutex_);
    out.emplace_back("catalog.apps", std::to_string(apps_.size()));
    out.emplace_back("catalog.generation", std::to_string(catalog_generation_));
    out.emplace_back("catalog.errors", std::to_string(catalog_errors_));
  }
  out.emplace_back("launches", std::to_string(launches_.load()));
  // Request on the launcher socket -> the next application window on the host.
  out.emplace_back("launch.click_to_window", launch_clock_.warm_summary());
  out.emplace_back("launch.cold_to_first_window", launch_clock_.cold_summary());
  return out;
}

}  // namespace vitrine::cli
