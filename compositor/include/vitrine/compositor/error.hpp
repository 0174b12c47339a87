// Errors of the compositor. Bad input from the layers above (sizes, ids, damage outside the
// framebuffer) is either clipped and counted (see CompositorStats) or refused with an Error;
// it never crashes and never produces a GL error.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace vitrine::compositor {

enum class Errc : std::uint8_t {
  kInvalidArgument,  // size, id or parameter rejected; message names the offending value
  kNotFound,         // no window with that id
  kAlreadyExists,    // a window with that id exists already
  kLimit,            // a cap was reached (window count, rectangle count, texture size)
  kEgl,              // EGL call failed (eglGetError() in Error::detail)
  kGl,               // GL reported an error or lacks a required feature
  kX11,              // X server connection or request failed
  kIo,               // file I/O (PNG output); errno in Error::detail
};

struct Error {
  Errc code;
  std::string message;
  int detail = 0;  // eglGetError(), glGetError() or errno, depending on code
};

std::string_view errc_name(Errc code);
std::string to_string(const Error& error);

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message, int detail = 0) {
  return std::unexpected(Error{code, std::move(message), detail});
}

}  // namespace vitrine::compositor
