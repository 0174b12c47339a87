#include "instance_service.hpp"

#include <algorithm>
#include <cctype>

namespace vitrine::cli {

namespace {
bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}
std::string_view base_name(std::string_view path) {
  auto slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}
}  // namespace

const catalog::AppEntry* find_app(const std::vector<catalog::AppEntry>& apps, std::string_view query) {
  for (const auto& a : apps)
    if (a.id == query) return &a;
  for (const auto& a : apps)
    if (iequal(a.name, query)) return &a;
  for (const auto& a : apps)
    if (!a.exec.empty() && base_name(a.exec.front()) == query) return &a;
  return nullptr;
}

std::string published_list(const std::vector<catalog::AppEntry>& apps) {
  if (apps.empty()) return "(none)";
  std::string out;
  for (const auto& a : apps) {
    if (!out.empty()) out += ", ";
    out += a.id;
    if (a.name != a.id) out += " (" + a.name + ")";
  }
  return out;
}

}  // namespace vitrine::cli
