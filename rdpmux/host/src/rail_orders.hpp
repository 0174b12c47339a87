// Translation of FreeRDP's RAIL window-order structures (already parsed by FreeRDP from the
// wire, MS-RDPERP 2.2.1.3) into the neutral WindowModel input, with the checks FreeRDP leaves
// to its caller: string encoding, icon buffer sizes against the declared geometry.
#pragma once

#include <freerdp/freerdp.h>
#include <freerdp/window.h>

#include "vitrine/rdpmux/host/error.hpp"
#include "vitrine/rdpmux/host/window_model.hpp"

namespace vitrine::rdpmux::host::rail {

// UTF-16LE RAIL_UNICODE_STRING -> UTF-8. Unpaired surrogates become U+FFFD.
Result<std::string> to_utf8(const RAIL_UNICODE_STRING& text);
Result<WindowOrder> to_window_order(const WINDOW_ORDER_INFO& info, const WINDOW_STATE_ORDER& state);
// ICON_INFO (DIB color bits + 1-bpp AND mask, bottom-up) -> straight BGRA, top-down.
Result<Icon> decode_icon(const ICON_INFO& icon, const WindowModelLimits& limits);
Result<NotifyIconOrder> to_notify_icon_order(const WINDOW_ORDER_INFO& info,
                                             const NOTIFY_ICON_STATE_ORDER& state,
                                             const WindowModelLimits& limits);

}  // namespace vitrine::rdpmux::host::rail
