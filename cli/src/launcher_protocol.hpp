// The launcher socket's protocol (the role of XP Mode's named pipe between vmsal and the VM
// process). One request per connection, one line; the reply is zero or more data lines and a
// final "ok" or "error" line. Fields are separated by TAB; TAB, LF and backslash inside a field
// are written \t, \n, \\. Lines are UTF-8 and at most kMaxRequestBytes (requests) /
// kMaxReplyLineBytes (replies, which may carry a base64 icon).
//
//   request                          reply
//   ping                             ok <version>
//   apps                             app <id> <name> <command> <icon-png-base64> ... ok <n>
//   launch <app> [args...]           ok <what started> | error unknown-app <published list>
//   launch-notify <startup-id> <app> [args...]   the same, with an XDG startup id (startup_notify.hpp)
//   stats                            stat <name> <value> ... ok <n>
//   anything else / malformed        error <code> <message>
//
// Error codes: malformed, unknown-command, unknown-app, launch-failed, forbidden, too-long,
// unavailable.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <expected>

namespace vitrine::cli {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
inline constexpr std::size_t kMaxReplyLineBytes = 1024 * 1024;
inline constexpr std::string_view kLauncherProtocolVersion = "vitrine-launcher/1";

// Joins fields into one line (with the trailing '\n').
std::string encode_line(const std::vector<std::string>& fields);
// Splits one line (without its '\n'); error text on a bad escape or a NUL byte.
std::expected<std::vector<std::string>, std::string> decode_line(std::string_view line);

std::string base64_encode(std::string_view bytes);
std::expected<std::string, std::string> base64_decode(std::string_view text);

}  // namespace vitrine::cli
