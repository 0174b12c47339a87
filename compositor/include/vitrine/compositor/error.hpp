// Errors of the compositor. Bad input from the layers above (sizes, ids, damage outside the
// framebuffer) is either clipped and counted (see CompositorStats) or refused with an Error;
// it never crashes and never produces a GL error.
#pragma once

#include <cstdint>
#include <string_view>

#include "vitrine/base/error.hpp"

namespace vitrine::compositor {

enum class Errc : std::uint8_t {
  kInvalidArgument,  // size, id or parameter rejected; message names the offending value
  kNotFound,         // no window with that id
  kAlreadyExists,    // a window with that id exists already
  kLimit,            // a cap was reached (window count, rectangle count, texture size)
  kEgl,              // EGL call failed (eglGetError() in Error::sys_errno)
  kGl,               // GL reported an error or lacks a required feature
  kX11,              // X server connection or request failed
  kIo,               // file I/O (PNG output); errno in Error::sys_errno
};

// code, sys_errno (eglGetError(), glGetError(), errno or the libspng code, depending on the
// code; 0 when none), message. The message names the failing call and, for EGL and GL, the
// error in words: to_string shows only the message.
using Error = base::Error<Errc>;

std::string_view errc_name(Errc code);
using base::fail;
using base::to_string;

template <typename T>
using Result = base::Result<T, Errc>;

}  // namespace vitrine::compositor
