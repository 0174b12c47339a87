#include "vm_session.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <charconv>
#include <deque>
#include <fstream>
#include <cstring>
#include <thread>

namespace vitrine::cli {

using namespace std::chrono_literals;

namespace {

// Reports a wait that lasts more than a second, then once per second.
class Progress {
 public:
  Progress(const VmSessionOptions& o, std::string what) : o_(o), what_(std::move(what)) {}
  void tick() {
    const auto s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_);
    if (s.count() >= 1 && s.count() != last_ && o_.progress) {
      last_ = s.count();
      o_.progress(what_ + " (" + std::to_string(s.count()) + " s)...");
    }
  }

 private:
  const VmSessionOptions& o_;
  std::string what_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  long last_ = 0;
};

}  // namespace

std::expected<rdpmux::Target, std::string> parse_rdp_target(std::string_view text) {
  if (text.starts_with("tcp:")) {
    unsigned port = 0;
    const auto digits = text.substr(4);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return std::unexpected("guest.rdp_target: bad port in \"" + std::string(text) + "\"");
    return rdpmux::Target::tcp(static_cast<std::uint16_t>(port));
  }
  if (text.starts_with("unix:/")) return rdpmux::Target::unix_socket(std::string(text.substr(5)));
  return std::unexpected("guest.rdp_target: \"" + std::string(text) + "\" is neither tcp:PORT nor unix:/PATH");
}

std::expected<std::unique_ptr<VmSession>, std::string> VmSession::start(const std::filesystem::path& config_file,
                                                                       const VmSessionOptions& options) {
  auto loaded = hv::load_vm_config(config_file);
  if (!loaded) return std::unexpected(config_file.string() + ": " + loaded.error().to_string());
  const hv::VmConfig& config = *loaded;
  std::unique_ptr<VmSession> s(new VmSession());
  s->config_ = config;
  auto target = parse_rdp_target(config.rdp_target);
  if (!target) return std::unexpected(target.error());
  s->target_ = *target;
  s->log_dir_ = options.log_dir;
  std::error_code ec;
  std::filesystem::create_directories(s->log_dir_, ec);
  if (ec) return std::unexpected("cannot create the log folder " + s->log_dir_.string() + ": " + ec.message());

  auto bus = hv::VmBus::create(config);
  if (!bus) return std::unexpected("bus: " + bus.error().message);
  s->bus_.emplace(std::move(*bus));
  auto fds = s->bus_->dup_fds();
  if (!fds) return std::unexpected("bus: " + fds.error().message);

  const auto vmm_log = s->log_dir_ / "vmm.log";
  ringbus::UniqueFd log_fd(::open(vmm_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!log_fd) return std::unexpected("cannot write " + vmm_log.string() + ": " + std::strerror(errno));
  hv::VmmLaunch launch;
  launch.vmm_path = options.vmm.string();
  launch.config = config_file;
  launch.extra_args = {"--log-dir", s->log_dir_.string()};
  if (!options.sandbox_init.empty()) {
    launch.extra_args.push_back("--sandbox-init");
    launch.extra_args.push_back(options.sandbox_init.string());
  }
  launch.stderr_fd = log_fd.get();
  if (options.progress) options.progress("starting the VM (" + std::string(hv::backend_name(config.backend)) + ")");
  auto vmm = hv::VmmClient::launch(launch, *fds);
  if (!vmm) return std::unexpected("cannot start " + options.vmm.string() + ": " + vmm.error().message);
  s->vmm_.emplace(std::move(*vmm));
  spdlog::debug("vitrine-vmm pid {}", s->vmm_->pid());

  const auto deadline = std::chrono::steady_clock::now() + options.boot_timeout;
  auto interrupted = [&] { return options.interrupted && options.interrupted(); };
  {
    Progress progress(options, "starting the VM");
    for (;;) {
      if (interrupted()) return std::unexpected(std::string("interrupted"));
      auto event = s->vmm_->next_event(200ms);
      if (!event)
        return std::unexpected("vitrine-vmm ended before the VM ran: " + event.error().message + " (see " +
                               vmm_log.string() + ")");
      if (*event) {
        spdlog::debug("vmm: {}", **event);
        s->note_event(**event);
        if ((*event)->starts_with("error ") || (*event)->starts_with("state stopped") ||
            (*event)->starts_with("state crashed"))
          return std::unexpected("the VM did not start: " + **event + " (logs in " + s->log_dir_.string() + ")");
        if ((*event)->starts_with("state running")) break;
      }
      if (std::chrono::steady_clock::now() > deadline)
        return std::unexpected("the VM did not report running within the boot timeout (logs in " +
                               s->log_dir_.string() + ")");
      progress.tick();
    }
  }

  std::vector<ringbus::UniqueFd> bells;
  for (int fd : {s->bus_->wake_guest().fd(), s->bus_->wake_host().fd()}) {
    auto d = hv::dup_fd(fd);
    if (!d) return std::unexpected("doorbell: " + d.error().message);
    bells.push_back(std::move(*d));
  }
  auto doorbells = rdpmux::BusDoorbells::from_fds(std::move(bells));
  if (!doorbells) return std::unexpected("doorbells: " + doorbells.error().message);
  auto mux = rdpmux::HostMux::create(s->bus_->bus(), std::move(*doorbells), options.mux);
  if (!mux) return std::unexpected("bus control channel: " + rdpmux::to_string(mux.error()));
  s->mux_ = std::move(*mux);

  Progress progress(options, "waiting for the guest agent");
  for (;;) {
    if (interrupted()) return std::unexpected(std::string("interrupted"));
    auto hello = s->mux_->wait_ready(250ms);
    if (hello) break;
    if (hello.error().code != rdpmux::Errc::kTimeout)
      return std::unexpected("guest agent: " + rdpmux::to_string(hello.error()));
    if (auto ended = s->poll_vm())
      return std::unexpected("the VM ended while booting: " + *ended + " (logs in " + s->log_dir_.string() + ")");
    if (std::chrono::steady_clock::now() > deadline)
      return std::unexpected("the guest agent (vitrine-guest) did not answer on the bus within the boot timeout (logs in " +
                             s->log_dir_.string() + ")");
    progress.tick();
  }
  return s;
}

rdpmux::Result<std::unique_ptr<rdpmux::Connection>> VmSession::open_rdp(std::chrono::milliseconds patience,
                                                                        const std::atomic<bool>* cancel) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  for (;;) {
    auto conn = mux_->open(target_, {.framed = true});
    if (conn || conn.error().code != rdpmux::Errc::kOpenFailed || std::chrono::steady_clock::now() > give_up ||
        (cancel != nullptr && cancel->load()))
      return conn;
    std::this_thread::sleep_for(100ms);
  }
}

std::optional<std::string> VmSession::poll_vm() {
  if (stopped_) return ended_;
  for (;;) {
    auto event = vmm_->next_event(0ms);
    if (!event) {
      stopped_ = true;
      ended_ = "vitrine-vmm exited: " + event.error().message;
      return ended_;
    }
    if (!*event) return std::nullopt;
    spdlog::debug("vmm: {}", **event);
    note_event(**event);
    if ((*event)->starts_with("state stopped") || (*event)->starts_with("state crashed")) {
      stopped_ = true;
      ended_ = **event;
      return ended_;
    }
    if ((*event)->starts_with("program ") && (*event)->find(" exited ") != std::string::npos)
      spdlog::info("guest: {}", (*event)->substr(8));
  }
}

void VmSession::note_event(const std::string& event) {
  // "log sandbox PATH" / "log serial PATH": the guest's own output (a program's exec error lands there).
  if (event.starts_with("log sandbox ") || (guest_log_.empty() && event.starts_with("log serial ")))
    guest_log_ = event.substr(event.find(' ', 4) + 1);
  if (!event.starts_with("program ")) return;
  const std::size_t name_end = event.find(' ', 8);
  if (name_end == std::string::npos) return;
  const std::string name = event.substr(8, name_end - 8);
  const std::string what = event.substr(name_end + 1);
  if (what == "gave-up") {
    failures_[name].last = "gave up restarting it";
  } else if (what.starts_with("exited ") && what != "exited exit 0") {
    auto& f = failures_[name];
    f.last = what.substr(7);
    ++f.count;
  }
}

std::string VmSession::guest_failures() {
  (void)poll_vm();
  if (failures_.empty()) return {};
  std::string out;
  for (const auto& [name, f] : failures_) {
    if (!out.empty()) out += "; ";
    out += "guest program " + name + " " + (f.last.starts_with("gave up") ? f.last : "exited (" + f.last + ")");
    if (f.count > 1) out += ", " + std::to_string(f.count) + " times";
  }
  // The last lines of the guest's log say why (an exec error, a missing library, a crash).
  std::ifstream in(guest_log_);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    tail.push_back(std::move(line));
    if (tail.size() > 3) tail.pop_front();
  }
  if (!tail.empty()) {
    out += "; the guest's log " + guest_log_.string() + " ends:";
    for (const auto& l : tail) out += "\n  " + l;
  }
  return out;
}

std::string VmSession::stop(std::chrono::milliseconds timeout) {
  mux_.reset();
  if (vmm_ && !stopped_) {
    auto status = vmm_->stop(timeout);
    stopped_ = true;
    ended_ = status ? "stopped" : "stop: " + status.error().message;
  }
  return ended_;
}

VmSession::~VmSession() { (void)stop(); }

}  // namespace vitrine::cli
