#include "support/host_side.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::appserver::testing {

using namespace std::chrono_literals;
namespace host = rdpmux::host;

void HostObserver::window_created(const WindowState& s) {
  {
    std::lock_guard lock(mutex_);
    windows_[s.id] = s;
    ++created_;
  }
  cv_.notify_all();
}

void HostObserver::window_changed(const WindowState& s, std::uint32_t) {
  {
    std::lock_guard lock(mutex_);
    windows_[s.id] = s;
  }
  cv_.notify_all();
}

void HostObserver::window_deleted(WindowId id) {
  {
    std::lock_guard lock(mutex_);
    windows_.erase(id);
  }
  cv_.notify_all();
}

void HostObserver::framebuffer_changed(const host::FramebufferView& fb) {
  {
    std::lock_guard lock(mutex_);
    width_ = fb.width;
    height_ = fb.height;
    desktop_.assign(std::size_t(fb.width) * fb.height, 0);
  }
  cv_.notify_all();
}

void HostObserver::damaged(const host::FramebufferView& fb, std::span<const host::DesktopRect> rects) {
  {
    // The framebuffer changes only on this (the session) thread: copy the damaged rectangles
    // now, so the test thread never reads pixels FreeRDP is writing.
    std::lock_guard lock(mutex_);
    if (fb.width != width_ || fb.height != height_) return;
    for (const host::DesktopRect& r : rects) {
      for (std::uint32_t y = 0; y < r.height; ++y) {
        const std::size_t row = std::size_t(r.y) + y;
        if (r.x < 0 || r.y < 0 || row >= height_ || std::size_t(r.x) + r.width > width_) continue;
        const std::byte* src = fb.pixels + row * fb.stride + std::size_t(r.x) * 4;
        std::uint32_t* dst = desktop_.data() + row * width_ + std::size_t(r.x);
        for (std::uint32_t x = 0; x < r.width; ++x) {
          std::uint32_t v;
          std::memcpy(&v, src + std::size_t(x) * 4, 4);  // BGRX bytes = 0xXXRRGGBB little-endian
          dst[x] = v & 0x00FFFFFFu;
        }
      }
    }
  }
  cv_.notify_all();
}

bool HostObserver::wait(const std::function<bool(const HostObserver&)>& done, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [&] { return done(*this); });
}

std::optional<HostObserver::WindowState> HostObserver::window(WindowId id) const {
  std::lock_guard lock(mutex_);
  const auto it = windows_.find(id);
  if (it == windows_.end()) return std::nullopt;
  return it->second;
}

std::map<HostObserver::WindowId, HostObserver::WindowState> HostObserver::windows() const {
  std::lock_guard lock(mutex_);
  return windows_;
}

std::uint64_t HostObserver::windows_created() const {
  std::lock_guard lock(mutex_);
  return created_;
}

std::vector<std::uint32_t> HostObserver::pixels(int x, int y, int w, int h) const {
  std::lock_guard lock(mutex_);
  std::vector<std::uint32_t> out;
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || std::uint32_t(x + w) > width_ || std::uint32_t(y + h) > height_) return out;
  out.reserve(std::size_t(w) * std::size_t(h));
  for (int row = y; row < y + h; ++row) {
    const std::uint32_t* src = desktop_.data() + std::size_t(row) * width_ + std::size_t(x);
    out.insert(out.end(), src, src + w);
  }
  return out;
}

host::Result<std::unique_ptr<host::RdpClient>> start_rail_client(int fd, const std::string& program,
                                                                 HostObserver& observer, std::uint32_t width,
                                                                 std::uint32_t height) {
  host::ClientConfig config;
  config.security = host::Security::kRdp;  // the appserver's link: loopback or the bus
  config.remote_app = true;
  config.program = program;
  config.width = width;
  config.height = height;
  config.keyboard_layout = 0x409;  // the tests type US scancodes, whatever the machine's own layout
  return host::RdpClient::start(std::move(config), ringbus::UniqueFd(fd), observer, observer);
}

std::optional<AppServer> start_appserver(const std::string& binary, const std::string& display,
                                         const std::filesystem::path& home, const std::filesystem::path& log,
                                         const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {binary, "--display", display, "--port", "0", "--verbose"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  ChildOptions o;
  o.env = {{"DISPLAY", display}, {"SHELL", "/bin/sh"}, {"HOME", home.string()}};
  o.capture_stdout = true;
  o.stderr_path = log.string();
  AppServer s{ChildProcess(argv, o), 0};
  const auto line = s.process.read_line_starting("vitrine-appserver listening on", 10s);
  if (!line) return std::nullopt;
  s.port = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
  return s;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::vector<KeyStroke> keystrokes_for(const std::string& text) {
  // Scancode set 1 (MS-RDPBCGR 2.2.8.1.1.3.1.1.1 carries set-1 codes), US layout.
  static const char* const kRow1 = "1234567890";  // 0x02..0x0B
  static const char* const kRowQ = "qwertyuiop";  // 0x10..0x19
  static const char* const kRowA = "asdfghjkl";   // 0x1E..0x26
  static const char* const kRowZ = "zxcvbnm";     // 0x2C..0x32
  std::vector<KeyStroke> out;
  for (const char typed : text) {
    // Capitals: the lower-case key with shift.
    const bool upper = typed >= 'A' && typed <= 'Z';
    const char c = upper ? static_cast<char>(typed - 'A' + 'a') : typed;
    auto in_row = [&](const char* row, std::uint8_t first) -> std::optional<std::uint8_t> {
      const char* p = std::strchr(row, c);
      if (!p || c == '\0') return std::nullopt;
      return static_cast<std::uint8_t>(first + (p - row));
    };
    std::optional<std::uint8_t> code;
    bool shift = upper;
    if (!(code = in_row(kRow1, 0x02)) && !(code = in_row(kRowQ, 0x10)) && !(code = in_row(kRowA, 0x1E)) &&
        !(code = in_row(kRowZ, 0x2C))) {
      switch (c) {
        case ' ': code = 0x39; break;
        case '-': code = 0x0C; break;
        case '_': code = 0x0C; shift = true; break;
        case '.': code = 0x34; break;
        case '>': code = 0x34; shift = true; break;
        case '/': code = 0x35; break;
        case '\n': code = 0x1C; break;
        default: break;
      }
    }
    if (code) out.push_back({{*code, false}, shift});
  }
  return out;
}

bool type_text(host::RdpClient& client, const std::string& text) {
  constexpr host::Scancode kShift{0x2A, false};
  const std::vector<KeyStroke> keys = keystrokes_for(text);
  if (keys.size() != text.size()) return false;  // a character the table cannot type
  for (const KeyStroke& k : keys) {
    if (k.shift) client.key(kShift, true);
    client.key(k.code, true);
    client.key(k.code, false);
    if (k.shift) client.key(kShift, false);
  }
  return true;
}

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace vitrine::appserver::testing
