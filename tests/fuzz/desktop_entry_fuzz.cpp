// fuzz-libs: vitrine_catalog fmt::fmt PkgConfig::FUZZ_SPNG
// fuzz-sources: cli/src/desktop_launchers.cpp cli/src/icon_reencode.cpp cli/src/terminal_text.cpp
// Host menu entries generated from guest catalogue entries (cli/src/desktop_launchers.*): any
// id, name, comment, categories and icon bytes give an entry that parses back as one desktop
// entry whose Exec is exactly `vitrine --instance I launch -- <id>` (no field of the guest can
// add a key, a line or an argument), a file id of only [A-Za-z0-9._-], and an icon that is
// either refused or re-encoded to a PNG that decodes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "desktop_launchers.hpp"
#include "icon_reencode.hpp"
#include "terminal_text.hpp"
#include "vitrine/catalog/desktop_entry.hpp"
#include "vitrine/catalog/png_image.hpp"

namespace {

struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  std::string text() {  // a length byte, then that many bytes
    if (n == 0) return {};
    const std::size_t len = *p % 96;
    ++p;
    --n;
    const std::size_t k = len < n ? len : n;
    std::string s(reinterpret_cast<const char*>(p), k);
    p += k;
    n -= k;
    return s;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vitrine;
  Reader in{data, size};
  catalog::AppEntry app;
  app.id = in.text();
  app.name = in.text();
  app.comment = in.text();
  app.exec = {in.text()};
  if (app.id.empty() || app.name.empty()) return 0;
  cli::LauncherInstallOptions options;
  options.data_home = "/nonexistent";
  options.instance = "fuzz";
  options.vitrine_binary = "/usr/bin/vitrine";

  for (unsigned char c : cli::launcher_file_id(app.id))
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-'))
      std::abort();
  const std::string text = cli::desktop_entry_text(app, options, "/icons/x.png");
  auto entry = catalog::parse_desktop_entry(text, "fuzz.desktop");
  if (entry) {
    auto argv = catalog::split_exec(entry->exec);
    if (!argv) std::abort();
    auto expanded = catalog::expand_exec(*argv, {});
    if (!expanded || expanded->size() != 6 || expanded->back() != app.id) std::abort();
  }
  // Whatever a guest name holds, printing it shows no control byte.
  for (unsigned char c : cli::escape_for_terminal(app.name))
    if (c < 0x20 || c == 0x7f) std::abort();

  // The rest of the input as an icon.
  std::vector<std::byte> icon(in.n);
  if (in.n != 0) std::memcpy(icon.data(), in.p, in.n);
  if (auto clean = cli::reencode_icon_png(icon, {.max_extent = 64, .max_png_bytes = 1 << 16})) {
    if (!catalog::decode_png(*clean)) std::abort();
  }
  return 0;
}
