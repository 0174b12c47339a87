#include "vmm.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string_view>

#include "vitrine/base/log.hpp"
#include "vitrine/hv/kvm_backend.hpp"
#include "vitrine/hv/qemu_backend.hpp"
#include "vitrine/hv/sandbox_backend.hpp"
#include "vitrine/hv/vm_config.hpp"
#include "vitrine/hv/vmm_lockdown.hpp"
#include "vitrine/ringbus/bus.hpp"
#include "vitrine/ringbus/handoff.hpp"

namespace vitrine::hv {
namespace {

// The vmm log: every line timestamped (wall clock), "HH:MM:SS.mmm vitrine-vmm[name] level: text",
// one write() per line through base's default sink.
void timestamped_sink(base::LogLevel level, std::string_view message) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::localtime_r(&ts.tv_sec, &t);
  char stamp[48];  // "HH:MM:SS.mmm " needs 14; room for what the compiler cannot rule out
  std::snprintf(stamp, sizeof stamp, "%02d:%02d:%02d.%03ld ", t.tm_hour, t.tm_min, t.tm_sec,
                ts.tv_nsec / 1000000);
  // The default sink prefixes the program name: put the time in front of it by hand.
  const std::string line = std::string(stamp) + std::string(base::program_name()) + " " +
                           std::string(base::level_name(level)) + ": " + std::string(message) + "\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
}

class Vmm {
 public:
  Vmm(int control, const std::string& name) : control_(control) {
    base::set_program_name("vitrine-vmm[" + name + "]");
    base::set_log_sink(&timestamped_sink);
  }

  // Every event goes to the parent and, timestamped, to our stderr (the vmm log).
  void emit(const std::string& line) {
    base::log_info("{}", line);
    if (control_ >= 0) (void)::send(control_, line.data(), line.size(), MSG_NOSIGNAL);
  }

  int control() const { return control_; }

 private:
  int control_;
};

std::filesystem::path default_log_dir(const std::string& name) {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0')
    return std::filesystem::path(xdg) / "vitrine" / name;
  return std::filesystem::path("/tmp") / ("vitrine-" + std::to_string(::getuid())) / name;
}

// --backend NAME: the config's [vm] or [sandbox] part must suit the new backend.
std::expected<VmConfig, ConfigError> override_backend(std::expected<VmConfig, ConfigError> config,
                                                      const std::string& name) {
  if (!config || name.empty()) return config;
  const std::pair<const char*, BackendKind> known[] = {
      {"sandbox", BackendKind::kSandbox}, {"qemu", BackendKind::kQemu}, {"kvm", BackendKind::kKvm}};
  for (auto [n, kind] : known) {
    if (name != n) continue;
    if (kind == BackendKind::kSandbox && config->programs.empty())
      return std::unexpected(ConfigError{"backend", "--backend sandbox needs [[sandbox.program]] entries"});
    if (kind != BackendKind::kSandbox && (config->kernel.empty() || config->initramfs.empty()))
      return std::unexpected(ConfigError{"backend", "--backend " + name + " needs vm.kernel and vm.initramfs"});
    config->backend = kind;
    return config;
  }
  return std::unexpected(ConfigError{"backend", "--backend \"" + name + "\" is unknown (sandbox, qemu or kvm)"});
}

}  // namespace

int check_config(const std::filesystem::path& path, const std::string& backend_override) {
  auto config = override_backend(load_vm_config(path), backend_override);
  if (!config) {
    base::log_error("{}: {}", path.string(), config.error().to_string());
    return 2;
  }
  std::printf("%s: ok (%s backend, bus %llu bytes, %u channels)\n", path.c_str(),
              std::string(backend_name(config->backend)).c_str(),
              static_cast<unsigned long long>(config->bus_size), config->channels);
  return 0;
}

int run_vmm(const VmmOptions& options) {
  // The VM must not outlive vitrine: SIGTERM when our parent dies (handled below like "stop").
  const pid_t parent = ::getppid();
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) return 1;
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ringbus::UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));

  ringbus::UniqueFd control(options.control_fd);
  // The bus from vitrine first (region fd, then wake_guest and wake_host), even when the config
  // is bad: closing an AF_UNIX socket with unread data resets the connection, and the parent
  // would lose our error line.
  auto handoff = ringbus::receive_handoff(control.get(), std::chrono::seconds(30));
  auto config = override_backend(load_vm_config(options.config_path), options.backend);
  Vmm vmm(control.get(), config ? config->name : "?");
  if (!handoff) {
    vmm.emit("error handoff: " + to_string(handoff.error()));
    return 2;
  }
  if (!config) {
    vmm.emit("error " + config.error().to_string());
    return 2;
  }
  if (handoff->doorbells.size() != 2) {
    vmm.emit("error handoff: expected 2 doorbell fds (wake_guest, wake_host), got " +
             std::to_string(handoff->doorbells.size()));
    return 2;
  }
  {
    // Validate the region before any guest sees it (a private mapping, dropped right away).
    auto dup = dup_fd(handoff->region.get());
    if (!dup) {
      vmm.emit("error handoff: " + to_string(dup.error()));
      return 2;
    }
    auto bus = ringbus::Bus::attach_fd(std::move(*dup), ringbus::Side::kHost);
    if (!bus) {
      vmm.emit("error bus: " + to_string(bus.error()));
      return 2;
    }
  }
  BusFds fds;
  fds.region = std::move(handoff->region);
  fds.region_size = handoff->region_size;
  // rdpmux::BusDoorbells wire order: guest first, then the (one, shared) host doorbell.
  fds.wake_guest = std::move(handoff->doorbells[0]);
  fds.wake_host = std::move(handoff->doorbells[1]);

  const std::filesystem::path log_dir =
      !options.log_dir.empty() ? options.log_dir : !config->log_dir.empty() ? config->log_dir : default_log_dir(config->name);
  bool crashed = false;
  auto emit = [&vmm, &crashed](const std::string& line) {
    if (line.starts_with("state crashed")) crashed = true;
    vmm.emit(line);
  };
  std::unique_ptr<VmBackend> backend;
  switch (config->backend) {
    case BackendKind::kSandbox:
      backend = std::make_unique<SandboxBackend>(*config, SandboxOptions{options.sandbox_init, log_dir}, emit);
      break;
    case BackendKind::kQemu:
      backend = std::make_unique<QemuBackend>(*config, QemuOptions{log_dir}, emit);
      break;
    case BackendKind::kKvm:
      backend = std::make_unique<KvmBackend>(*config, KvmOptions{log_dir, options.kvm_program, "/dev/kvm"}, emit);
      break;
  }
  if (auto r = backend->start(std::move(fds)); !r) {
    vmm.emit("state crashed start failed: " + to_string(r.error()));
    backend->stop(std::chrono::milliseconds(500));
    return 1;
  }
  // The VM's processes are spawned: from here on the vmm only watches, relays and restarts.
  if (options.lock_down) {
    if (auto r = lock_down_vmm(); !r) {
      vmm.emit("state crashed lock-down failed: " + to_string(r.error()));
      backend->stop(std::chrono::milliseconds(500));
      return 1;
    }
    vmm.emit("info locked down: no_new_privs, seccomp deny-list");
  }

  auto finish = [&](const char* why) {
    vmm.emit(std::string("info stopping: ") + why);
    backend->stop(std::chrono::seconds(5));
  };
  for (;;) {
    pollfd p[3] = {{control.get(), POLLIN, 0}, {backend->poll_fd(), POLLIN, 0}, {sfd.get(), POLLIN, 0}};
    if (::poll(p, 3, 1000) < 0 && errno != EINTR) {
      finish("poll failed");
      return 1;
    }
    if (p[2].revents != 0) {
      finish("signal");
      return 0;
    }
    if (p[0].revents != 0) {
      char buf[256];
      const ssize_t n = ::recv(control.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        finish("control socket closed");
        return 0;
      }
      if (n > 0) {
        const std::string cmd(buf, static_cast<std::size_t>(n));
        if (cmd == "stop") {
          finish("asked to stop");
          return 0;
        }
        vmm.emit("error command: unknown \"" + cmd + "\" (known: stop)");
      }
    }
    if (p[1].revents != 0) {
      if (auto r = backend->on_ready(); !r) vmm.emit("info backend: " + to_string(r.error()));
    }
    if (backend->finished()) break;
  }
  // The VM ended by itself; the backend said how.
  return crashed ? 1 : 0;
}

}  // namespace vitrine::hv
