#include "vitrine/hv/sandbox_backend.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "vitrine/hv/sandbox_protocol.hpp"

namespace vitrine::hv {
namespace {


std::string default_init_path() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path() / "vitrine-sandbox-init").string();
}

ino_t pid_ns_of(pid_t pid) {
  struct stat st{};
  if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &st) != 0) return 0;
  return st.st_ino;
}

Result<void> write_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(Error::sys("open " + path, errno));
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int e = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) return std::unexpected(Error::sys("write " + path, e));
  return {};
}

Result<void> epoll_add(int ep, int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) return std::unexpected(Error::sys("epoll_ctl", errno));
  return {};
}

}  // namespace

pid_t host_pid_in_namespace(ino_t pid_ns, pid_t ns_pid) {
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return -1;
  pid_t found = -1;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid <= 0 || pid_ns_of(pid) != pid_ns) continue;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (!line.starts_with("NSpid:")) continue;
      std::istringstream fields(line.substr(6));
      long v = 0, last = -1;
      while (fields >> v) last = v;
      if (last == ns_pid) found = pid;
      break;
    }
    if (found > 0) break;
  }
  ::closedir(d);
  return found;
}

int processes_in_namespace(ino_t pid_ns) {
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return -1;
  int count = 0;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid > 0 && pid_ns_of(pid) == pid_ns) ++count;
  }
  ::closedir(d);
  return count;
}

SandboxBackend::SandboxBackend(VmConfig config, SandboxOptions options, EmitFn emit)
    : config_(std::move(config)), options_(std::move(options)), emit_(std::move(emit)) {
  if (options_.init_path.empty()) options_.init_path = default_init_path();
}

SandboxBackend::~SandboxBackend() {
  if (init_.running()) stop(std::chrono::milliseconds(500));
}

pid_t SandboxBackend::program_pid(const std::string& name) const {
  auto it = programs_.find(name);
  return it == programs_.end() ? -1 : it->second;
}

Result<void> SandboxBackend::start(BusFds fds) {
  if (init_.running()) return std::unexpected(Error{Errc::kInvalidArgument, 0, "sandbox already started"});
  emit_("state starting");
  std::error_code ec;
  std::filesystem::create_directories(options_.log_dir, ec);
  const std::string log_path = (options_.log_dir / (config_.name + "-sandbox.log")).string();
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return std::unexpected(Error::sys("open " + log_path, errno));
  emit_("log sandbox " + log_path);

  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) != 0) return std::unexpected(Error::sys("pipe2", errno));
  report_.reset(pipefd[0]);
  UniqueFd report_write(pipefd[1]);
  // The write end blocks in init (a full pipe must not lose lines).
  ::fcntl(report_write.get(), F_SETFL, 0);

  SpawnOptions o;
  o.argv = {options_.init_path, "--hostname", config_.hostname};
  for (const auto& p : config_.programs) {
    o.argv.insert(o.argv.end(), {"--program", p.name, std::string(restart_name(p.restart)),
                                 std::to_string(p.command.size())});
    o.argv.insert(o.argv.end(), p.command.begin(), p.command.end());
  }
  o.fds = {{report_write.get(), sandbox::kInitReportFd},
           {fds.region.get(), sandbox::kInitBusFd},
           {fds.wake_guest.get(), sandbox::kInitWakeGuestFd},
           {fds.wake_host.get(), sandbox::kInitWakeHostFd}};
  o.stdout_fd = log.get();
  o.stderr_fd = log.get();
  o.parent_death_signal = SIGKILL;
  o.clone_flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS;
  const bool rootless = ::geteuid() != 0;
  if (rootless) o.clone_flags |= CLONE_NEWUSER;
  o.hold_until_released = true;
  auto child = ChildProcess::spawn(o);
  if (!child) return std::unexpected(child.error());
  init_ = std::move(*child);
  if (rootless) {
    // Map the caller to root inside: enough for mounts, hostname and loopback in namespaces
    // owned by this user namespace, and nothing on the host.
    const std::string base = "/proc/" + std::to_string(init_.pid());
    auto r = write_file(base + "/setgroups", "deny");
    if (r) r = write_file(base + "/uid_map", "0 " + std::to_string(::geteuid()) + " 1");
    if (r) r = write_file(base + "/gid_map", "0 " + std::to_string(::getegid()) + " 1");
    if (!r) {
      init_.terminate(std::chrono::milliseconds(0));
      return std::unexpected(r.error());
    }
  }
  pid_ns_ = pid_ns_of(init_.pid());
  if (auto r = init_.release(); !r) return r;

  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return std::unexpected(Error::sys("epoll_create1", errno));
  if (auto r = epoll_add(epoll_.get(), report_.get()); !r) return r;
  if (auto r = epoll_add(epoll_.get(), init_.pidfd()); !r) return r;
  emit_("info sandbox init pid " + std::to_string(init_.pid()) + (rootless ? " (user namespace)" : ""));
  emit_("state running");
  return {};
}

Result<void> SandboxBackend::on_ready() {
  char buf[4096];
  for (;;) {
    const ssize_t n = report_ ? ::read(report_.get(), buf, sizeof buf) : 0;
    if (n > 0) {
      report_buffer_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0 && report_) {
      epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, report_.get(), nullptr);
      report_.reset();
    }
    break;
  }
  std::size_t nl;
  while ((nl = report_buffer_.find('\n')) != std::string::npos) {
    handle_report_line(report_buffer_.substr(0, nl));
    report_buffer_.erase(0, nl + 1);
  }
  if (init_.running()) {
    auto st = init_.try_wait();
    if (st && *st) handle_init_exit();
  }
  return {};
}

void SandboxBackend::handle_report_line(const std::string& line) {
  std::istringstream in(line);
  std::string what, name;
  in >> what >> name;
  if (what == "started") {
    pid_t ns_pid = -1;
    in >> ns_pid;
    const pid_t host = host_pid_in_namespace(pid_ns_, ns_pid);
    programs_[name] = host;
    // -1: it is already gone (an exited line follows).
    emit_("program " + name + " started pid " + std::to_string(host));
  } else if (what == "exited") {
    std::string rest;
    std::getline(in, rest);
    programs_.erase(name);
    emit_("program " + name + " exited" + rest);
  } else if (what == "gave-up") {
    emit_("program " + name + " gave-up");
  }
}

void SandboxBackend::handle_init_exit() {
  if (finished_) return;
  // Drain what init said before it went.
  if (report_) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(report_.get(), buf, sizeof buf)) > 0) report_buffer_.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = report_buffer_.find('\n')) != std::string::npos) {
      handle_report_line(report_buffer_.substr(0, nl));
      report_buffer_.erase(0, nl + 1);
    }
  }
  finished_ = true;
  const ExitStatus st = *init_.status();
  if (stopping_) emit_("state stopped requested");
  else if (st.clean()) emit_("state stopped all guest programs ended");
  else emit_("state crashed sandbox init " + st.to_string());
}

void SandboxBackend::stop(std::chrono::milliseconds grace) {
  if (finished_ || !init_.running()) return;
  stopping_ = true;
  // init forwards SIGTERM to the namespace and exits within its own 2 s; SIGKILL after grace.
  // The kernel drops signals to a namespace's init that has no handler yet (it may be just
  // starting), so SIGTERM is repeated until init takes it.
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    (void)init_.signal(SIGTERM);
    auto st = init_.wait_for(std::chrono::milliseconds(100));
    if (st && *st) break;
  }
  init_.terminate(std::chrono::milliseconds(0));
  handle_init_exit();
}

}  // namespace vitrine::hv
