#include "keyboard_layouts.hpp"

#include <array>

namespace vitrine::appserver::input {
namespace {

struct Row {
  uint32_t klid;
  std::string_view layout, variant;
};

// First row of a KLID: what that KLID maps to on the guest. Later rows with the same KLID are
// XKB variants that the host may report and that Windows has no layout of its own for.
constexpr std::array kRows{
    Row{0x00000409, "us", ""},          Row{0x00020409, "us", "intl"},      Row{0x00010409, "us", "dvorak"},
    Row{0x00000809, "gb", ""},          Row{0x00001809, "ie", ""},          Row{0x00000407, "de", ""},
    Row{0x00000407, "de", "nodeadkeys"}, Row{0x00000c07, "at", ""},         Row{0x00000807, "ch", ""},
    Row{0x0000100c, "ch", "fr"},        Row{0x0000040c, "fr", ""},          Row{0x0000080c, "be", ""},
    Row{0x00000813, "be", ""},          Row{0x00001009, "ca", ""},          Row{0x00000c0c, "ca", ""},
    Row{0x0000040a, "es", ""},          Row{0x0000080a, "latam", ""},       Row{0x00000410, "it", ""},
    Row{0x0000041d, "se", ""},          Row{0x00000414, "no", ""},          Row{0x00000406, "dk", ""},
    Row{0x0000040b, "fi", ""},          Row{0x0000040f, "is", ""},          Row{0x00000816, "pt", ""},
    Row{0x00000416, "br", ""},          Row{0x00010416, "br", ""},          Row{0x00000413, "nl", ""},
    Row{0x00000415, "pl", ""},          Row{0x00010415, "pl", "qwertz"},    Row{0x00000405, "cz", ""},
    Row{0x00010405, "cz", "qwerty"},    Row{0x0000041b, "sk", ""},          Row{0x0000040e, "hu", ""},
    Row{0x00000424, "si", ""},          Row{0x0000041a, "hr", ""},          Row{0x00000418, "ro", ""},
    Row{0x00000425, "ee", ""},          Row{0x00000426, "lv", ""},          Row{0x00000427, "lt", ""},
    Row{0x00000419, "ru", ""},          Row{0x00000422, "ua", ""},          Row{0x00000408, "gr", ""},
    Row{0x0000041f, "tr", ""},          Row{0x0000040d, "il", ""},          Row{0x00000401, "ara", ""},
    Row{0x00000411, "jp", ""},          Row{0xe0010411, "jp", ""},          Row{0x00000412, "kr", ""},
};

// The first field of a comma list: the XKB group 1 layout.
std::string_view first_of_list(std::string_view s) { return s.substr(0, s.find(',')); }

}  // namespace

KlidLookup klid_to_xkb(uint32_t klid) {
  for (const Row& r : kRows) {
    if (r.klid == klid) return {{std::string(r.layout), std::string(r.variant)}, true};
  }
  // Another layout of a known language (German IBM 0x00010407 -> de).
  const uint32_t language = klid & 0xffff;
  for (const Row& r : kRows) {
    if (r.klid == language) return {{std::string(r.layout), std::string(r.variant)}, true};
  }
  return {{"us", ""}, false};
}

uint32_t xkb_to_klid(std::string_view layout, std::string_view variant) {
  for (const Row& r : kRows) {
    if (r.layout == layout && r.variant == variant) return r.klid;
  }
  for (const Row& r : kRows) {
    if (r.layout == layout && r.variant.empty()) return r.klid;
  }
  return 0;
}

XkbLayout parse_xkb_rules_names(std::string_view property) {
  std::array<std::string_view, 5> field{};
  size_t n = 0;
  while (n < field.size()) {
    const size_t end = property.find('\0');
    field[n++] = property.substr(0, end);
    if (end == std::string_view::npos) break;
    property.remove_prefix(end + 1);
  }
  if (n < 3) return {};
  return {std::string(first_of_list(field[2])), n > 3 ? std::string(first_of_list(field[3])) : std::string()};
}

}  // namespace vitrine::appserver::input
