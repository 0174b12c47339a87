#include "vitrine/catalog/desktop_entry.hpp"

#include <fmt/format.h>

namespace vitrine::catalog {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Spec "Possible value types": string values know \s \n \t \r \\ (and \; inside lists).
Result<std::string> unescape(std::string_view value, bool list, std::string_view where) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 1 == value.size()) return fail(Errc::kMalformed, fmt::format("{}: trailing backslash", where));
    char e = value[++i];
    switch (e) {
      case 's': out += ' '; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '\\': out += '\\'; break;
      case ';':
        // Only meaningful in lists; kept escaped so that split_list() does not cut there.
        if (list) out += "\\;";
        else out += ';';
        break;
      default:
        // Unknown escapes are kept verbatim: some real files write "\$" meaning Exec's escape.
        out += '\\';
        out += e;
    }
  }
  return out;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == ';') {
      cur += ';';
      ++i;
    } else if (value[i] == ';') {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += value[i];
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Result<bool> parse_bool(std::string_view v, std::string_view where) {
  if (v == "true") return true;
  if (v == "false") return false;
  // Pre-1.0 files wrote 0/1; the validator rejects them but launchers accept them.
  if (v == "1") return true;
  if (v == "0") return false;
  return fail(Errc::kMalformed, fmt::format("{}: boolean must be true or false, got '{}'", where, v));
}

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<DesktopEntry> parse_desktop_entry(std::string_view text, std::string_view origin) {
  if (text.size() > kMaxDesktopFileBytes)
    return fail(Errc::kTooLarge, fmt::format("{}: {} bytes, limit {}", origin, text.size(), kMaxDesktopFileBytes));
  DesktopEntry entry;
  bool in_main = false;
  bool seen_main = false;
  std::size_t line_no = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    std::string where = fmt::format("{}:{}", origin, line_no);
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (t.front() == '[') {
      if (t.back() != ']') return fail(Errc::kMalformed, fmt::format("{}: group header without ']'", where));
      std::string_view group = t.substr(1, t.size() - 2);
      if (group == "Desktop Entry") {
        if (seen_main) return fail(Errc::kMalformed, fmt::format("{}: second [Desktop Entry] group", where));
        seen_main = true;
        in_main = true;
      } else {
        if (!seen_main)
          return fail(Errc::kMalformed, fmt::format("{}: group [{}] before [Desktop Entry]", where, group));
        in_main = false;
      }
      continue;
    }
    std::size_t eq = t.find('=');
    if (eq == std::string_view::npos)
      return fail(Errc::kMalformed, fmt::format("{}: expected 'Key=Value', got '{}'", where, t));
    if (!seen_main) return fail(Errc::kMalformed, fmt::format("{}: key before [Desktop Entry]", where));
    if (!in_main) continue;
    std::string_view key = trim(t.substr(0, eq));
    std::string_view raw = trim(t.substr(eq + 1));
    std::string_view base = key.substr(0, key.find('['));
    if (!valid_key(base)) return fail(Errc::kMalformed, fmt::format("{}: invalid key '{}'", where, key));
    if (base.size() != key.size()) continue;  // localised variant

    bool is_list = key == "Categories" || key == "OnlyShowIn" || key == "NotShowIn";
    auto value = unescape(raw, is_list, where);
    if (!value) return std::unexpected(value.error());
    std::string& v = *value;
    if (key == "Type") entry.type = v;
    else if (key == "Name") entry.name = v;
    else if (key == "GenericName") entry.generic_name = v;
    else if (key == "Comment") entry.comment = v;
    else if (key == "Exec") entry.exec = v;
    else if (key == "TryExec") entry.try_exec = v;
    else if (key == "Icon") entry.icon = v;
    else if (key == "Path") entry.path = v;
    else if (key == "Categories") entry.categories = split_list(v);
    else if (key == "OnlyShowIn") entry.only_show_in = split_list(v);
    else if (key == "NotShowIn") entry.not_show_in = split_list(v);
    else if (key == "NoDisplay" || key == "Hidden" || key == "Terminal") {
      auto b = parse_bool(v, where);
      if (!b) return std::unexpected(b.error());
      (key == "NoDisplay" ? entry.no_display : key == "Hidden" ? entry.hidden : entry.terminal) = *b;
    }
  }
  if (!seen_main) return fail(Errc::kMalformed, fmt::format("{}: no [Desktop Entry] group", origin));
  return entry;
}

}  // namespace vitrine::catalog
