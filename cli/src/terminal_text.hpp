// Guest strings (application names, ids, commands, window titles) printed to a terminal or a
// log: a name holding ESC [ ... or an OSC sequence would drive the user's terminal (retitle it,
// rewrite what is shown, on some terminals answer back). Control characters become visible
// escapes instead.
#pragma once

#include <string>
#include <string_view>

namespace vitrine::cli {

// C0 controls (\t and \n included: one guest string stays one line), DEL, the UTF-8 forms of
// the C1 controls (U+0080..U+009F, e.g. U+009B CSI) and bytes that are not UTF-8 become
// "\xNN"; a backslash becomes "\\" so the output is unambiguous. Everything else is unchanged.
std::string escape_for_terminal(std::string_view guest_text);

}  // namespace vitrine::cli
