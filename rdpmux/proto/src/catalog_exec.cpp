#include "vitrine/rdpmux/catalog_exec.hpp"

#include <fmt/format.h>

namespace vitrine::catalog {

Result<std::vector<std::string>> split_exec(std::string_view exec) {
  std::vector<std::string> argv;
  std::string cur;
  bool have = false;  // an argument is open (also an empty quoted one)
  for (std::size_t i = 0; i < exec.size(); ++i) {
    char c = exec[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (have) argv.push_back(std::move(cur));
      cur.clear();
      have = false;
      continue;
    }
    have = true;
    if (c != '"') {
      cur += c;
      continue;
    }
    // Quoted: spec "The Exec key": inside double quotes, " ` $ \ must be backslash-escaped.
    std::size_t j = i + 1;
    for (;; ++j) {
      if (j >= exec.size())
        return fail(Errc::kMalformed, fmt::format("Exec: unterminated quote starting at offset {}", i));
      char q = exec[j];
      if (q == '"') break;
      if (q == '\\') {
        if (j + 1 >= exec.size())
          return fail(Errc::kMalformed, fmt::format("Exec: backslash at end of quoted argument (offset {})", j));
        char e = exec[j + 1];
        if (e != '"' && e != '`' && e != '$' && e != '\\')
          return fail(Errc::kMalformed,
                      fmt::format("Exec: '\\{}' at offset {} is not a valid escape inside quotes", e, j));
        cur += e;
        ++j;
      } else {
        cur += q;
      }
    }
    i = j;
  }
  if (have) argv.push_back(std::move(cur));
  if (argv.empty()) return fail(Errc::kMalformed, "Exec: empty command line");
  return argv;
}

Result<std::vector<std::string>> expand_exec(const std::vector<std::string>& argv, const ExecContext& context) {
  std::vector<std::string> out;
  bool takes_files = false;
  for (const std::string& arg : argv) {
    // A field code standing alone as an argument may expand to zero or several arguments.
    if (arg.size() == 2 && arg[0] == '%') {
      char code = arg[1];
      if (code == 'F' || code == 'U') {
        takes_files = true;
        out.insert(out.end(), context.args.begin(), context.args.end());
        continue;
      }
      if (code == 'f' || code == 'u') {
        takes_files = true;
        if (!context.args.empty()) out.push_back(context.args.front());
        continue;
      }
      if (code == 'i') {
        if (!context.icon.empty()) {
          out.emplace_back("--icon");
          out.push_back(context.icon);
        }
        continue;
      }
      // Removed codes and an unknown location leave no empty argument behind.
      if (std::string_view("dDnNvm").find(code) != std::string_view::npos) continue;
      if (code == 'k' && context.desktop_file.empty()) continue;
    }
    std::string cur;
    for (std::size_t i = 0; i < arg.size(); ++i) {
      if (arg[i] != '%') {
        cur += arg[i];
        continue;
      }
      if (i + 1 == arg.size()) return fail(Errc::kMalformed, fmt::format("Exec: '%' at end of argument '{}'", arg));
      char code = arg[++i];
      switch (code) {
        case '%': cur += '%'; break;
        case 'c': cur += context.name; break;
        case 'k': cur += context.desktop_file; break;
        case 'f': case 'u':
          takes_files = true;
          if (!context.args.empty()) cur += context.args.front();
          break;
        case 'd': case 'D': case 'n': case 'N': case 'v': case 'm': break;  // deprecated: removed
        case 'F': case 'U': case 'i':
          return fail(Errc::kMalformed, fmt::format("Exec: %{} must stand alone as an argument in '{}'", code, arg));
        default:
          return fail(Errc::kMalformed, fmt::format("Exec: unknown field code %{} in '{}'", code, arg));
      }
    }
    out.push_back(std::move(cur));
  }
  if (!takes_files) out.insert(out.end(), context.args.begin(), context.args.end());
  if (out.empty() || out.front().empty()) return fail(Errc::kMalformed, "Exec: expands to an empty command");
  return out;
}

std::string quote_exec_argument(std::string_view argument) {
  static constexpr std::string_view kReserved = " \t\n\"'\\><~|&;$*?#()`";
  std::string escaped_percent;
  for (char c : argument) {
    escaped_percent += c;
    if (c == '%') escaped_percent += '%';
  }
  bool needs_quotes = argument.empty() || argument.find_first_of(kReserved) != std::string_view::npos ||
                      argument.find('=') != std::string_view::npos;
  if (!needs_quotes) return escaped_percent;
  std::string out = "\"";
  for (char c : escaped_percent) {
    if (c == '"' || c == '`' || c == '$' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string escape_desktop_value(std::string_view value) {
  std::string out;
  for (char c : value) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return out;
}

Result<std::vector<std::string>> launch_argv(const AppEntry& app, const std::vector<std::string>& args) {
  if (app.exec.empty() || app.exec.front().empty())
    return fail(Errc::kMalformed, fmt::format("application '{}' has no command", app.id));
  auto argv = expand_exec(app.exec, ExecContext{args, app.icon_name, app.name, ""});
  if (!argv) return fail(argv.error().code, fmt::format("application '{}': {}", app.id, argv.error().message));
  // A line made only of field codes (Exec=%f with no file given) leaves nothing to run.
  if (argv->empty() || argv->front().empty())
    return fail(Errc::kMalformed, fmt::format("application '{}': the command is empty once field codes are expanded",
                                              app.id));
  if (app.terminal) argv->insert(argv->begin(), {kTerminalEmulator, "-e"});
  return argv;
}

}  // namespace vitrine::catalog
