#include "vitrine/catalog/start_menu_scanner.hpp"

#include <algorithm>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "vitrine/catalog/lnk_parser.hpp"

namespace vitrine::catalog {
namespace fs = std::filesystem;

ScanResult scan_start_menu(const fs::path& programs_dir) {
  ScanResult result;
  std::error_code ec;
  fs::recursive_directory_iterator it(programs_dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) {
    result.skipped.push_back(fmt::format("{}: {}", programs_dir.string(), ec.message()));
    return result;
  }
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      result.skipped.push_back(fmt::format("{}: {}", programs_dir.string(), ec.message()));
      break;
    }
    if (it.depth() > 8) {
      it.disable_recursion_pending();
      continue;
    }
    const fs::path& p = it->path();
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext != ".lnk" || !it->is_regular_file(ec)) continue;
    if (result.apps.size() >= kMaxCatalogEntries) {
      result.skipped.push_back(fmt::format("{}: catalogue limit of {} entries reached", p.string(), kMaxCatalogEntries));
      continue;
    }
    auto size = fs::file_size(p, ec);
    if (ec || size > kMaxLnkBytes) {
      result.skipped.push_back(fmt::format("{}: {}", p.string(), ec ? ec.message() : "larger than 1 MiB"));
      continue;
    }
    std::vector<std::byte> bytes(size);
    std::ifstream in(p, std::ios::binary);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::size_t>(in.gcount()) != size) {
      result.skipped.push_back(fmt::format("{}: short read", p.string()));
      continue;
    }
    auto link = parse_shell_link(bytes);
    if (!link) {
      result.skipped.push_back(fmt::format("{}: {}", p.string(), to_string(link.error())));
      continue;
    }
    std::string target = link->target();
    if (target.empty()) {
      result.skipped.push_back(fmt::format("{}: no file-system target (shell namespace item)", p.string()));
      continue;
    }
    AppEntry app;
    fs::path rel = fs::relative(p, programs_dir, ec);
    rel.replace_extension();
    app.id = rel.string();
    std::replace(app.id.begin(), app.id.end(), '/', '-');
    app.name = p.stem().string();
    app.comment = link->name;
    app.exec.push_back(std::move(target));
    if (!link->arguments.empty()) app.exec.push_back(link->arguments);
    app.working_dir = link->working_dir;
    app.icon_name = link->icon_location;
    app.source = p.string();
    result.apps.push_back(std::move(app));
  }
  std::sort(result.apps.begin(), result.apps.end(), [](const AppEntry& a, const AppEntry& b) { return a.id < b.id; });
  return result;
}

}  // namespace vitrine::catalog
