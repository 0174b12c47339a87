#include "keyboard_layout_detect.hpp"

#include <X11/Xatom.h>
#include <X11/Xlib.h>

#include <array>

#include "vitrine/base/log.hpp"

namespace vitrine::rdpmux::host {
namespace {

struct Row {
  std::string_view layout, variant;
  std::uint32_t klid;
};

// XKB layout (and variant) -> the Windows layout a user of that keyboard would pick. Variants
// Windows has no layout for are left out: they fall back to their layout's row.
constexpr std::array kRows{
    Row{"us", "", 0x00000409},       Row{"us", "intl", 0x00020409},   Row{"us", "dvorak", 0x00010409},
    Row{"gb", "", 0x00000809},       Row{"ie", "", 0x00001809},       Row{"de", "", 0x00000407},
    Row{"at", "", 0x00000c07},       Row{"ch", "", 0x00000807},       Row{"ch", "fr", 0x0000100c},
    Row{"fr", "", 0x0000040c},       Row{"be", "", 0x0000080c},       Row{"ca", "", 0x00001009},
    Row{"es", "", 0x0000040a},       Row{"latam", "", 0x0000080a},    Row{"it", "", 0x00000410},
    Row{"se", "", 0x0000041d},       Row{"no", "", 0x00000414},       Row{"dk", "", 0x00000406},
    Row{"fi", "", 0x0000040b},       Row{"is", "", 0x0000040f},       Row{"pt", "", 0x00000816},
    Row{"br", "", 0x00000416},       Row{"nl", "", 0x00000413},       Row{"pl", "", 0x00000415},
    Row{"pl", "qwertz", 0x00010415}, Row{"cz", "", 0x00000405},       Row{"cz", "qwerty", 0x00010405},
    Row{"sk", "", 0x0000041b},       Row{"hu", "", 0x0000040e},       Row{"si", "", 0x00000424},
    Row{"hr", "", 0x0000041a},       Row{"ro", "", 0x00000418},       Row{"ee", "", 0x00000425},
    Row{"lv", "", 0x00000426},       Row{"lt", "", 0x00000427},       Row{"ru", "", 0x00000419},
    Row{"ua", "", 0x00000422},       Row{"gr", "", 0x00000408},       Row{"tr", "", 0x0000041f},
    Row{"il", "", 0x0000040d},       Row{"ara", "", 0x00000401},      Row{"jp", "", 0x00000411},
    Row{"kr", "", 0x00000412},
};

std::string_view group1(std::string_view list) { return list.substr(0, list.find(',')); }

}  // namespace

XkbLayoutName parse_xkb_rules_names(std::string_view property) {
  std::array<std::string_view, 5> field{};
  std::size_t n = 0;
  while (n < field.size()) {
    const std::size_t end = property.find('\0');
    field[n++] = property.substr(0, end);
    if (end == std::string_view::npos) break;
    property.remove_prefix(end + 1);
  }
  if (n < 3) return {};
  return {std::string(group1(field[2])), n > 3 ? std::string(group1(field[3])) : std::string()};
}

std::uint32_t klid_for_xkb(std::string_view layout, std::string_view variant) {
  for (const Row& r : kRows) {
    if (r.layout == layout && r.variant == variant) return r.klid;
  }
  for (const Row& r : kRows) {
    if (r.layout == layout && r.variant.empty()) return r.klid;
  }
  return 0;
}

std::uint32_t detect_host_keyboard_layout(const std::string& display) {
  Display* dpy = XOpenDisplay(display.empty() ? nullptr : display.c_str());
  if (!dpy) {
    base::log_info("keyboard layout: no host X server to ask; sending US English (0x409)");
    return kKlidUsEnglish;
  }
  XkbLayoutName name;
  Atom type = 0;
  int format = 0;
  unsigned long count = 0, after = 0;
  unsigned char* data = nullptr;
  const Atom names = XInternAtom(dpy, "_XKB_RULES_NAMES", True);
  if (names != 0 && XGetWindowProperty(dpy, DefaultRootWindow(dpy), names, 0, 1024, False, XA_STRING, &type, &format,
                                       &count, &after, &data) == Success &&
      data != nullptr && format == 8) {
    name = parse_xkb_rules_names(std::string_view(reinterpret_cast<const char*>(data), count));
  }
  if (data) XFree(data);
  XCloseDisplay(dpy);
  const std::uint32_t klid = klid_for_xkb(name.layout, name.variant);
  if (klid == 0) {
    base::log_info("keyboard layout: host XKB layout '{}' variant '{}' has no Windows layout in the table; "
                   "sending US English (0x409)",
                   name.layout, name.variant);
    return kKlidUsEnglish;
  }
  return klid;
}

}  // namespace vitrine::rdpmux::host
