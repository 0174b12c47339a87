// Reads the ICCCM / EWMH properties of one window. Each function tolerates a window that
// vanished meanwhile (the X error is counted, the result is empty) and bounds every length an
// application put into a property: applications are not trusted to be well-formed.
#pragma once

#include <X11/Xlib.h>

#include <optional>
#include <string>

#include "window_info.hpp"
#include "x_display.hpp"

namespace vitrine::appserver::x11 {

// _NET_WM_NAME (UTF-8), else WM_NAME converted to UTF-8. Capped at 1024 bytes.
std::string read_title(const XDisplay& d, Window w);
// The _NET_WM_ICON image whose size is closest to `preferred` pixels square (at most 256).
std::optional<WindowIcon> read_icon(const XDisplay& d, Window w, uint32_t preferred);
Window read_transient_for(const XDisplay& d, Window w);
// Kind from _NET_WM_WINDOW_TYPE, override-redirect and transient-for.
WindowKind read_kind(const XDisplay& d, Window w, bool override_redirect, Window owner);
std::string read_app_id(const XDisplay& d, Window w);
bool read_supports_delete(const XDisplay& d, Window w);

}  // namespace vitrine::appserver::x11
