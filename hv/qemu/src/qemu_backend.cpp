#include "vitrine/hv/qemu_backend.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "vitrine/hv/kvm_probe.hpp"
#include "vitrine/hv/qemu_command.hpp"

namespace vitrine::hv {
namespace {


constexpr int kRegionFdInQemu = 3;

Result<void> epoll_add(int ep, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return std::unexpected(Error::sys("epoll_ctl", errno));
  return {};
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace

QemuBackend::QemuBackend(VmConfig config, QemuOptions options, EmitFn emit)
    : config_(std::move(config)), options_(std::move(options)), emit_(std::move(emit)) {}

QemuBackend::~QemuBackend() {
  if (qemu_.running()) stop(std::chrono::milliseconds(500));
  server_.reset();
  std::error_code ec;
  if (!socket_dir_.empty()) std::filesystem::remove_all(socket_dir_, ec);
}

Result<void> QemuBackend::start(BusFds fds) {
  emit_("state starting");
  fds_ = std::move(fds);
  // An ivshmem BAR is a power of two; VmBus::create sizes the memfd so.
  if (!std::has_single_bit(fds_.region_size))
    return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                 "bus region of " + std::to_string(fds_.region_size) +
                                     " bytes: ivshmem needs a power of two (bus.size)"});
  std::error_code ec;
  std::filesystem::create_directories(options_.log_dir, ec);
  serial_log_ = (options_.log_dir / (config_.name + "-serial.log")).string();
  qemu_log_ = (options_.log_dir / (config_.name + "-qemu.log")).string();
  ::truncate(serial_log_.c_str(), 0);
  ::truncate(qemu_log_.c_str(), 0);
  emit_("log serial " + serial_log_);
  emit_("log qemu " + qemu_log_);

  std::string why;
  switch (config_.accel) {
    case Accel::kKvm: {
      const KvmProbeResult probe = probe_kvm();
      if (!probe.usable())
        return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                     "vm.accel = \"kvm\" but " + probe.reason + " [kvm probe, " + probe.source +
                                         "]; use accel = \"auto\" or \"tcg\""});
      paths_.kvm = true;
      break;
    }
    case Accel::kTcg:
      why = "vm.accel = tcg";
      break;
    case Accel::kAuto: {
      const KvmProbeResult probe = probe_kvm();
      paths_.kvm = probe.usable();
      why = probe.reason;
      break;
    }
  }
  emit_(paths_.kvm ? "info accel kvm" : "info accel tcg (" + why + ")");
  paths_.serial_log = serial_log_;
  paths_.region_size = fds_.region_size;
  paths_.region_fd_in_child = kRegionFdInQemu;

  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return std::unexpected(Error::sys("epoll_create1", errno));
  if (config_.doorbell == DoorbellMode::kIvshmemDoorbell) {
    // A private directory: the socket path stays short (sun_path) and nobody else can connect.
    char tmpl[] = "/tmp/vitrine-ivshmem-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return std::unexpected(Error::sys("mkdtemp", errno));
    socket_dir_ = tmpl;
    paths_.ivshmem_socket = (socket_dir_ / "ivshmem.sock").string();
    auto server = IvshmemServer::listen(paths_.ivshmem_socket, fds_.region.get(), {fds_.wake_host.get()},
                                        {fds_.wake_guest.get()});
    if (!server) return std::unexpected(server.error());
    server_.emplace(std::move(*server));
    if (auto r = epoll_add(epoll_.get(), server_->listen_fd()); !r) return r;
  }

  if (auto r = spawn_qemu(); !r) return r;
  emit_("state running");
  return {};
}

Result<void> QemuBackend::spawn_qemu() {
  UniqueFd log(::open(qemu_log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return std::unexpected(Error::sys("open " + qemu_log_, errno));
  SpawnOptions o;
  o.argv = qemu_command(config_, paths_);
  o.clear_env = true;
  o.env_keep = {"PATH"};  // nothing else of the user's session reaches the emulator
  if (config_.doorbell == DoorbellMode::kIvshmemPlain) o.fds = {{fds_.region.get(), kRegionFdInQemu}};
  o.stdout_fd = log.get();
  o.stderr_fd = log.get();
  o.parent_death_signal = SIGKILL;
  {
    const std::string cmd = join(o.argv) + "\n";
    (void)!::write(log.get(), cmd.data(), cmd.size());
  }
  auto child = ChildProcess::spawn(o);
  if (!child) return std::unexpected(child.error());
  qemu_ = std::move(*child);
  qemu_started_ = std::chrono::steady_clock::now();
  if (auto r = epoll_add(epoll_.get(), qemu_.pidfd()); !r) return r;
  emit_("info qemu pid " + std::to_string(qemu_.pid()));
  return {};
}

Result<void> QemuBackend::on_ready() {
  epoll_event events[8];
  const int n = ::epoll_wait(epoll_.get(), events, 8, 0);
  if (n < 0) return errno == EINTR ? Result<void>() : std::unexpected(Error::sys("epoll_wait", errno));
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == qemu_.pidfd()) {
      handle_exit();
    } else if (server_ && fd == server_->listen_fd()) {
      auto client = server_->accept_client();
      if (!client) {
        emit_("info ivshmem server: " + to_string(client.error()));
        continue;
      }
      (void)epoll_add(epoll_.get(), *client);
      emit_("info ivshmem client connected (" + std::to_string(server_->client_count()) + " connected)");
    } else if (server_) {
      // Clients never send: readable means gone.
      ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
      server_->disconnect(fd);
    }
  }
  return {};
}

std::string QemuBackend::last_qemu_log_line() const {
  std::ifstream in(qemu_log_);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

void QemuBackend::handle_exit() {
  if (finished_) return;
  auto st = qemu_.try_wait();
  if (!st || !*st) return;
  const ExitStatus status = **st;
  // QEMU that dies in its first seconds under KVM (an MSR the host refuses, a KVM that the probe
  // passed but QEMU cannot use) gets one more chance under TCG when the config let us choose.
  const auto lived = std::chrono::steady_clock::now() - qemu_started_;
  if (paths_.kvm && config_.accel == Accel::kAuto && !stopping_ && !status.clean() && lived < kKvmGraceToFallBack) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, qemu_.pidfd(), nullptr);
    const std::string why = last_qemu_log_line();
    paths_.kvm = false;
    emit_("info accel tcg (qemu under kvm died after " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(lived).count()) + " ms, " +
          status.to_string() + ": " + why + ")");
    ::truncate(serial_log_.c_str(), 0);
    if (auto r = spawn_qemu(); r) return;
    else emit_("info qemu restart under tcg failed: " + to_string(r.error()));
  }
  finished_ = true;
  if (stopping_) emit_("state stopped requested");
  else if (status.clean()) emit_("state stopped guest powered off");
  else emit_("state crashed qemu " + status.to_string() + ": " + last_qemu_log_line());
}

void QemuBackend::stop(std::chrono::milliseconds grace) {
  if (finished_ || !qemu_.running()) return;
  stopping_ = true;
  // QEMU ends cleanly on SIGTERM (the guest gets no say: a Vitrine guest keeps no state).
  qemu_.terminate(grace);
  handle_exit();
}

}  // namespace vitrine::hv
