// RemoteDisplay's headless screenshots: one PNG per visible window plus windows.json, written
// once the windows have been quiet for a while (options.screenshot_quiet) or on request.

#include <cstdio>
#include <fstream>

#include "vitrine/base/log.hpp"
#include "vitrine/compositor/headless_backend.hpp"
#include "vitrine/compositor/image.hpp"
#include "vitrine/viewer/remote_display.hpp"

namespace vitrine::viewer {

namespace comp = compositor;

namespace {

// "xterm: ~/src" -> "xterm-src": file-name-safe and short.
std::string slug(const std::string& title) {
  std::string out;
  for (char c : title) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (ok) out += c;
    else if (!out.empty() && out.back() != '-') out += '-';
    if (out.size() >= 40) break;
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.empty() ? "window" : out;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

void RemoteDisplay::maybe_write_screenshots() {
  if (headless_ == nullptr || options_.screenshot_dir.empty() || !shots_dirty_) return;
  if (std::chrono::steady_clock::now() - last_change_ < options_.screenshot_quiet) return;
  shots_dirty_ = false;
  if (auto r = write_screenshots(options_.screenshot_dir); !r)
    base::log_warn("display: screenshots: {}", r.error());
}

std::expected<std::vector<std::filesystem::path>, std::string> RemoteDisplay::write_screenshots(
    const std::filesystem::path& dir) {
  if (headless_ == nullptr) return std::unexpected(std::string("screenshots are written in headless mode only"));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create " + dir.string() + ": " + ec.message());
  compositor_->finish();
  std::vector<std::filesystem::path> written;
  std::string index = "[\n";
  const auto list = windows();
  for (const auto& w : list) {
    if (!w.visible) continue;
    auto image = headless_->read_back(w.id);
    if (!image) continue;  // not presented yet
    const auto file = dir / ("window-" + std::to_string(w.id) + "-" + slug(w.title) + ".png");
    const auto tmp = file.string() + ".tmp";
    if (auto r = comp::write_png(*image, tmp); !r) return std::unexpected(comp::to_string(r.error()));
    std::filesystem::rename(tmp, file, ec);  // readers never see a half-written PNG
    if (ec) return std::unexpected("rename " + tmp + ": " + ec.message());
    written.push_back(file);
    if (index.size() > 2) index += ",\n";
    index += "  {\"id\": " + std::to_string(w.id) + ", \"title\": \"" + json_escape(w.title) +
             "\", \"x\": " + std::to_string(w.frame.x) + ", \"y\": " + std::to_string(w.frame.y) +
             ", \"width\": " + std::to_string(w.frame.width) + ", \"height\": " + std::to_string(w.frame.height) +
             ", \"file\": \"" + json_escape(file.filename().string()) + "\"}";
  }
  index += "\n]\n";
  const auto index_file = dir / "windows.json";
  {
    std::ofstream out(index_file.string() + ".tmp", std::ios::trunc);
    out << index;
    if (!out) return std::unexpected("cannot write " + index_file.string());
  }
  std::filesystem::rename(index_file.string() + ".tmp", index_file, ec);
  if (ec) return std::unexpected("rename " + index_file.string() + ": " + ec.message());
  screenshots_.fetch_add(written.size(), std::memory_order_relaxed);
  return written;
}

}  // namespace vitrine::viewer
