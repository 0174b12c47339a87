#include "instance_autostart.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "instance.hpp"
#include "instance_service.hpp"
#include "runtime_paths.hpp"

extern char** environ;

namespace vitrine::cli {
namespace {

constexpr const char* kFile = "start-command";
constexpr const char* kLog = "autostart.log";

std::string errno_text() { return std::strerror(errno); }

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

std::vector<std::string> start_command_of(std::span<const std::string> argv) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--duration") {
      ++i;  // and its value
      continue;
    }
    if (argv[i].starts_with("--duration=")) continue;
    out.push_back(argv[i]);
  }
  return out;
}

std::expected<void, std::string> record_start_command(const std::filesystem::path& state_dir) {
  const std::string raw = slurp("/proc/self/cmdline");
  std::vector<std::string> argv;
  for (std::size_t at = 0; at < raw.size();) {
    const std::size_t end = raw.find('\0', at);
    argv.push_back(raw.substr(at, end == std::string::npos ? std::string::npos : end - at));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  if (argv.empty()) return std::unexpected(std::string("cannot read /proc/self/cmdline"));
  // argv[0] as the kernel ran it may be relative to a directory we are not in later.
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) argv[0] = self.string();
  std::string data;
  for (const auto& a : start_command_of(argv)) data += a + '\0';
  std::filesystem::create_directories(state_dir, ec);
  const auto tmp = state_dir / (std::string(kFile) + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return std::unexpected("cannot write " + tmp.string() + ": " + errno_text());
  const bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), (state_dir / kFile).c_str()) != 0)
    return std::unexpected("cannot write " + (state_dir / kFile).string() + ": " + errno_text());
  return {};
}

std::expected<std::vector<std::string>, std::string> read_start_command(const std::filesystem::path& state_dir) {
  if (!std::filesystem::exists(state_dir / kFile))
    return std::unexpected("it was never started here (no " + (state_dir / kFile).string() + ")");
  const std::string raw = slurp(state_dir / kFile);
  std::vector<std::string> argv;
  std::string cur;
  for (char c : raw) {
    if (c == '\0') {
      argv.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (argv.empty()) return std::unexpected((state_dir / kFile).string() + " is empty");
  return argv;
}

std::expected<pid_t, std::string> start_recorded_instance(const std::filesystem::path& state_dir) {
  auto argv = read_start_command(state_dir);
  if (!argv) return std::unexpected(argv.error());
  std::vector<char*> cargv;
  for (auto& a : *argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const auto log = state_dir / kLog;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // Its own session: the instance outlives this command and its terminal.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return std::unexpected("cannot run " + (*argv)[0] + ": " + std::strerror(rc));
  return pid;
}

std::expected<LauncherReply, int> instance_request_starting(const GlobalOptions& globals,
                                                            const std::vector<std::string>& request,
                                                            std::chrono::seconds boot_timeout) {
  auto path = launcher_socket_path(globals.instance);
  if (!path) {
    spdlog::error("{}", path.error());
    return std::unexpected(kExitFailure);
  }
  auto first = launcher_request(*path, request);
  if (first) return std::move(*first);
  if (!first.error().no_instance) {
    spdlog::error("instance '{}': {}", globals.instance, first.error().message);
    return std::unexpected(kExitFailure);
  }
  const auto dir = state_dir(globals.instance);
  auto pid = start_recorded_instance(dir);
  if (!pid) {
    spdlog::error("no running Vitrine instance '{}', and it cannot be started for you: {}. Start it with "
                  "`vitrine run VM.toml` or `vitrine demo` once.",
                  globals.instance, pid.error());
    return std::unexpected(kExitNoInstance);
  }
  spdlog::info("starting instance '{}' (pid {}; its output goes to {})", globals.instance, *pid,
               (dir / kLog).string());
  // Up once it lists an application: the VM booted, RemoteApp connected, the catalogue came.
  const auto deadline = std::chrono::steady_clock::now() + boot_timeout;
  for (;;) {
    int status = 0;
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      spdlog::error("instance '{}' ended while starting (exit status {}); see {}", globals.instance,
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), (dir / kLog).string());
      return std::unexpected(kExitFailure);
    }
    auto apps = launcher_request(*path, {"apps"}, std::chrono::seconds(5));
    if (apps && apps->ok && !apps->data.empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      spdlog::error("instance '{}' did not publish applications within {} s; see {}", globals.instance,
                    boot_timeout.count(), (dir / kLog).string());
      return std::unexpected(kExitFailure);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The catalogue can come before the RemoteApp session is up: launches wait for that too.
  for (;;) {
    auto reply = instance_request(globals, request);
    if (!reply || reply->ok || reply->message != kStillStarting || std::chrono::steady_clock::now() > deadline)
      return reply;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace vitrine::cli
