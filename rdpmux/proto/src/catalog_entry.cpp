#include "vitrine/rdpmux/catalog_entry.hpp"

namespace vitrine::catalog {

std::string command_line(const AppEntry& app) {
  std::string out;
  for (const std::string& arg : app.exec) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace vitrine::catalog
