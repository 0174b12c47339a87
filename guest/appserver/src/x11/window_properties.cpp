#include "window_properties.hpp"

#include <X11/Xatom.h>
#include <X11/Xutil.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace vitrine::appserver::x11 {
namespace {

constexpr size_t kMaxTitleBytes = 1024;

// RAII for XGetWindowProperty's buffer.
struct Property {
  Atom type = None;
  int format = 0;
  unsigned long count = 0;
  unsigned char* data = nullptr;
  ~Property() {
    if (data) XFree(data);
  }
  bool read(Display* dpy, Window w, Atom name, Atom req_type, long max_longs) {
    unsigned long after = 0;
    return XGetWindowProperty(dpy, w, name, 0, max_longs, False, req_type, &type, &format,
                              &count, &after, &data) == Success &&
           data != nullptr;
  }
};

std::string cap(std::string s) {
  if (s.size() > kMaxTitleBytes) s.resize(kMaxTitleBytes);
  return s;
}

}  // namespace

std::string read_title(const XDisplay& d, Window w) {
  Display* dpy = d.get();
  {
    Property p;
    if (p.read(dpy, w, d.atoms().net_wm_name, d.atoms().utf8_string, kMaxTitleBytes / 4) &&
        p.format == 8)
      return cap(std::string(reinterpret_cast<const char*>(p.data), p.count));
  }
  XTextProperty text{};
  if (!XGetWMName(dpy, w, &text) || !text.value) return {};
  std::string out;
  char** list = nullptr;
  int n = 0;
  if (Xutf8TextPropertyToTextList(dpy, &text, &list, &n) >= Success && list) {
    if (n > 0 && list[0]) out = list[0];
    XFreeStringList(list);
  }
  XFree(text.value);
  return cap(std::move(out));
}

std::optional<WindowIcon> read_icon(const XDisplay& d, Window w, uint32_t preferred) {
  Property p;
  // 1 Mi longs: a 512x512 icon fits; anything larger is not worth shipping.
  if (!p.read(d.get(), w, d.atoms().net_wm_icon, XA_CARDINAL, 1L << 20) || p.format != 32)
    return std::nullopt;
  // Format-32 properties arrive as an array of C long, one 32-bit value each.
  const auto* v = reinterpret_cast<const unsigned long*>(p.data);
  const unsigned long n = p.count;
  unsigned long best = n;
  uint64_t best_score = std::numeric_limits<uint64_t>::max();
  for (unsigned long i = 0; i + 2 <= n;) {
    const unsigned long iw = v[i] & 0xffffffffUL;
    const unsigned long ih = v[i + 1] & 0xffffffffUL;
    if (iw == 0 || ih == 0 || iw > 4096 || ih > 4096 || iw * ih > n - i - 2) break;
    if (iw <= 256 && ih <= 256) {
      const uint64_t score =
          static_cast<uint64_t>(std::abs(static_cast<long>(iw) - static_cast<long>(preferred))) * 2 +
          (iw > preferred ? 1 : 0);
      if (score < best_score) {
        best_score = score;
        best = i;
      }
    }
    i += 2 + iw * ih;
  }
  if (best == n) return std::nullopt;
  WindowIcon icon;
  icon.width = static_cast<uint32_t>(v[best]);
  icon.height = static_cast<uint32_t>(v[best + 1]);
  icon.argb.resize(size_t{icon.width} * icon.height);
  for (size_t k = 0; k < icon.argb.size(); ++k)
    icon.argb[k] = static_cast<uint32_t>(v[best + 2 + k] & 0xffffffffUL);
  return icon;
}

Window read_transient_for(const XDisplay& d, Window w) {
  Window owner = 0;
  if (!XGetTransientForHint(d.get(), w, &owner)) return 0;
  return owner;
}

WindowKind read_kind(const XDisplay& d, Window w, bool override_redirect, Window owner) {
  const Atoms& a = d.atoms();
  Property p;
  if (p.read(d.get(), w, a.net_wm_window_type, XA_ATOM, 16) && p.format == 32) {
    const auto* types = reinterpret_cast<const unsigned long*>(p.data);
    for (unsigned long i = 0; i < p.count; ++i) {
      const Atom t = types[i];
      if (t == a.net_wm_window_type_menu || t == a.net_wm_window_type_dropdown_menu ||
          t == a.net_wm_window_type_popup_menu || t == a.net_wm_window_type_tooltip ||
          t == a.net_wm_window_type_combo || t == a.net_wm_window_type_notification ||
          t == a.net_wm_window_type_splash)
        return WindowKind::kPopup;
      if (t == a.net_wm_window_type_dialog) return WindowKind::kDialog;
      if (t == a.net_wm_window_type_utility) return WindowKind::kUtility;
      if (t == a.net_wm_window_type_normal) break;
    }
  }
  if (override_redirect) return WindowKind::kPopup;
  return owner != 0 ? WindowKind::kDialog : WindowKind::kNormal;
}

std::string read_app_id(const XDisplay& d, Window w) {
  XClassHint hint{};
  if (!XGetClassHint(d.get(), w, &hint)) return {};
  std::string out = hint.res_class ? hint.res_class : "";
  if (hint.res_name) XFree(hint.res_name);
  if (hint.res_class) XFree(hint.res_class);
  return cap(std::move(out));
}

bool read_supports_delete(const XDisplay& d, Window w) {
  Atom* protocols = nullptr;
  int n = 0;
  if (!XGetWMProtocols(d.get(), w, &protocols, &n) || !protocols) return false;
  const bool found = std::find(protocols, protocols + n, d.atoms().wm_delete_window) != protocols + n;
  XFree(protocols);
  return found;
}

}  // namespace vitrine::appserver::x11
