#include "launcher.hpp"

#include <freerdp/rail.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace vitrine::appserver {
namespace {

// A path with a slash is used as given; a bare name is searched on $PATH.
std::string resolve_program(const std::string& name, int& err) {
  const auto executable = [&](const std::string& p) {
    struct stat st{};
    if (::stat(p.c_str(), &st) != 0) {
      err = errno;
      return false;
    }
    if (!S_ISREG(st.st_mode) || ::access(p.c_str(), X_OK) != 0) {
      err = EACCES;
      return false;
    }
    return true;
  };
  err = ENOENT;
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return executable(name) ? name : std::string{};
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    std::string dir = dirs.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (std::string candidate = dir + "/" + name; executable(candidate)) return candidate;
    start = end + 1;
  }
  err = ENOENT;
  return {};
}

}  // namespace

bool split_arguments(const std::string& s, std::vector<std::string>& out) {
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote == '\'') {
      if (c == '\'') quote = 0; else cur += c;
      continue;
    }
    if (c == '\\' && i + 1 < s.size() && (quote == 0 || s[i + 1] == '"' || s[i + 1] == '\\')) {
      cur += s[++i];
      in_word = true;
      continue;
    }
    if (quote == '"') {
      if (c == '"') quote = 0; else cur += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote != 0) return false;
  if (in_word) out.push_back(std::move(cur));
  return true;
}

Launcher::Launcher(std::map<std::string, std::string> aliases, std::string display)
    : aliases_(std::move(aliases)), display_(std::move(display)) {}

Launcher::~Launcher() { reap(); }

ExecOutcome Launcher::launch(const ExecRequest& request) {
  ExecOutcome out;
  std::vector<std::string> argv;
  std::string program = request.program;
  if (program.starts_with("||")) {
    const std::string alias = program.substr(2);
    if (auto it = aliases_.find(alias); it != aliases_.end()) {
      if (!split_arguments(it->second, argv) || argv.empty()) {
        out.rail_result = RAIL_EXEC_E_FAIL;
        out.message = "alias '" + alias + "' has an unusable command line";
        return out;
      }
      program = argv.front();
      argv.erase(argv.begin());
    } else {
      program = alias;
    }
  }
  std::vector<std::string> extra;
  if (!split_arguments(request.arguments, extra)) {
    out.rail_result = RAIL_EXEC_E_DECODE_FAILED;
    out.message = "arguments have an unbalanced quote: " + request.arguments;
    return out;
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  int err = 0;
  const std::string resolved = resolve_program(program, err);
  if (resolved.empty()) {
    out.rail_result = RAIL_EXEC_E_FILE_NOT_FOUND;
    out.raw_result = static_cast<uint32_t>(err);
    out.message = "program '" + program + "' not found or not executable: " + std::strerror(err);
    return out;
  }
  if (!request.working_dir.empty()) {
    struct stat st{};
    if (::stat(request.working_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      out.rail_result = RAIL_EXEC_E_FAIL;
      out.raw_result = ENOTDIR;
      out.message = "working directory '" + request.working_dir + "' does not exist";
      return out;
    }
  }

  std::vector<char*> cargv;
  std::string arg0 = resolved;
  cargv.push_back(arg0.data());
  for (std::string& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env_store;
  std::vector<char*> cenv;
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "DISPLAY=", 8) != 0) cenv.push_back(*e);
  }
  env_store.push_back("DISPLAY=" + display_);
  cenv.push_back(env_store.back().data());
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);
  // Own session: the child survives the appserver and never receives its terminal signals.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  if (!request.working_dir.empty())
    posix_spawn_file_actions_addchdir_np(&actions, request.working_dir.c_str());
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, resolved.c_str(), &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    out.rail_result = rc == ENOENT ? RAIL_EXEC_E_FILE_NOT_FOUND : RAIL_EXEC_E_FAIL;
    out.raw_result = static_cast<uint32_t>(rc);
    out.message = "cannot start '" + resolved + "': " + std::strerror(rc);
    return out;
  }
  children_.push_back(pid);
  out.rail_result = RAIL_EXEC_S_OK;
  out.pid = pid;
  out.message = "started '" + resolved + "' as pid " + std::to_string(pid);
  return out;
}

void Launcher::reap() {
  std::erase_if(children_, [](pid_t pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) != 0;  // exited (pid) or not ours any more (-1)
  });
}

}  // namespace vitrine::appserver
