// What the end-to-end tests of the `vitrine` binary share (demo_test, surface_storm_test): the
// binary run as a child with its own log and environment, the headless screenshot index it
// writes (windows.json + one PNG per window), the guest's own screenshots (guest_xshot) and the
// pixel-for-pixel comparison of the two, and a scratch folder the sandbox guest can see.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vitrine/catalog/png_image.hpp"

namespace vitrine::cli::e2e {

using namespace std::chrono_literals;

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

// `vitrine` with its output in a log file and an environment of the test's own.
class Vitrine {
 public:
  Vitrine(std::vector<std::string> args, const std::map<std::string, std::string>& env, std::filesystem::path log,
          std::string program = VITRINE_BIN)
      : log_(std::move(log)) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (const auto& [k, v] : env) {
        if (v.empty()) ::unsetenv(k.c_str());
        else ::setenv(k.c_str(), v.c_str(), 1);
      }
      std::vector<char*> argv{program.data()};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(program.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~Vitrine() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return false;
  }
  // Sends `sig` (0: none) and waits; value: the exit code, or -1 after the timeout.
  int finish(int sig, std::chrono::milliseconds timeout) {
    if (pid_ > 0 && sig != 0) ::kill(pid_, sig);
    if (!wait_until([&] { return !running(); }, timeout)) return -1;
    return code_;
  }
  std::string log() const { return read_file(log_); }
  // Host pids of the guest's programs and of vitrine-vmm, from the --verbose log.
  std::set<pid_t> pids() const {
    std::set<pid_t> out;
    const std::string text = log();
    static const std::regex re("(?:started pid|vitrine-vmm pid) ([0-9]+)");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
      out.insert(static_cast<pid_t>(std::stol((*it)[1])));
    return out;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int code_ = -1;
};

struct ShotWindow {
  std::uint32_t id = 0;
  std::string title;
  int x = 0, y = 0, width = 0, height = 0;
  std::string file;
};

// windows.json as RemoteDisplay writes it (one object per line).
inline std::vector<ShotWindow> read_index(const std::filesystem::path& dir) {
  std::vector<ShotWindow> out;
  std::istringstream in(read_file(dir / "windows.json"));
  static const std::regex re(
      R"re(\{"id": ([0-9]+), "title": "((?:[^"\\]|\\.)*)", "x": (-?[0-9]+), "y": (-?[0-9]+), "width": ([0-9]+), "height": ([0-9]+), "file": "([^"]+)"\})re");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, re)) continue;
    out.push_back({static_cast<std::uint32_t>(std::stoul(m[1])), m[2], std::stoi(m[3]), std::stoi(m[4]),
                   std::stoi(m[5]), std::stoi(m[6]), m[7]});
  }
  return out;
}

inline std::optional<catalog::RgbaImage> load_png(const std::filesystem::path& file) {
  const std::string bytes = read_file(file);
  if (bytes.empty()) return std::nullopt;
  auto img = catalog::decode_png(std::as_bytes(std::span(bytes.data(), bytes.size())), 8192);
  if (!img) return std::nullopt;
  return std::move(*img);
}

// The guest's screenshot files (guest_xshot's shot-<n>.png) with their numbers, newest first.
inline std::vector<std::pair<long, std::filesystem::path>> guest_shot_files(const std::filesystem::path& dir) {
  std::vector<std::pair<long, std::filesystem::path>> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.starts_with("shot-") && name.ends_with(".png"))
      files.emplace_back(std::stol(name.substr(5, name.size() - 9)), e.path());
  }
  std::sort(files.rbegin(), files.rend());
  return files;
}

// The guest's screenshots, newest first.
inline std::vector<catalog::RgbaImage> guest_shots(const std::filesystem::path& dir) {
  std::vector<catalog::RgbaImage> out;
  for (const auto& [n, f] : guest_shot_files(dir))
    if (auto img = load_png(f)) out.push_back(std::move(*img));
  return out;
}

// Number of pixels (RGB) of `window` (RGBA rows, window-sized) that differ from the guest's
// screen at (x, y).
inline std::size_t differing(const std::uint8_t* window, int width, int height, std::size_t stride, int bytes_rgb_order,
                      const catalog::RgbaImage& guest, int x, int y) {
  std::size_t diff = 0;
  for (int row = 0; row < height; ++row)
    for (int col = 0; col < width; ++col) {
      const int gx = x + col, gy = y + row;
      if (gx < 0 || gy < 0 || gx >= static_cast<int>(guest.width) || gy >= static_cast<int>(guest.height)) continue;
      const std::uint8_t* g = &guest.pixels[(static_cast<std::size_t>(gy) * guest.width + gx) * 4];
      const std::uint8_t* h = window + row * stride + static_cast<std::size_t>(col) * 4;
      const bool same = bytes_rgb_order == 0 ? (h[0] == g[0] && h[1] == g[1] && h[2] == g[2])   // RGBA
                                             : (h[2] == g[0] && h[1] == g[1] && h[0] == g[2]);  // BGRX
      if (!same) ++diff;
    }
  return diff;
}

// The host window must equal the guest's screen at its place in one of the guest's recent shots
// (xclock may tick between two shots).
inline ::testing::AssertionResult matches_guest(const std::string& what, const std::uint8_t* pixels, int width, int height,
                                         std::size_t stride, int order, const std::vector<catalog::RgbaImage>& shots,
                                         int x, int y) {
  if (shots.empty()) return ::testing::AssertionFailure() << "no guest screenshot to compare with";
  std::size_t best = SIZE_MAX;
  for (std::size_t i = 0; i < shots.size() && i < 6; ++i) {
    best = std::min(best, differing(pixels, width, height, stride, order, shots[i], x, y));
    if (best == 0) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << what << ": " << best << " of " << width * height
                                       << " pixels differ from the guest's own screen (best of " << shots.size()
                                       << " guest shots)";
}

// A scratch folder the guest can see too: the sandbox mounts its own /tmp, so it lives in
// /var/tmp (the guest writes its screenshots there; the state folder and the published
// applications live there as well).
class SharedDir {
 public:
  SharedDir() {
    std::string tmpl = "/var/tmp/vitrine-demo-test-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~SharedDir() {
    std::error_code ec;
    if (!path_.empty() && std::getenv("VITRINE_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(path_, ec);
  }
  SharedDir(const SharedDir&) = delete;
  SharedDir& operator=(const SharedDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace vitrine::cli::e2e
