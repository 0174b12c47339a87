#include "vitrine/compositor/error.hpp"

namespace vitrine::compositor {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNotFound: return "not found";
    case Errc::kAlreadyExists: return "already exists";
    case Errc::kLimit: return "limit reached";
    case Errc::kEgl: return "EGL error";
    case Errc::kGl: return "GL error";
    case Errc::kX11: return "X11 error";
    case Errc::kIo: return "I/O error";
  }
  return "unknown";
}

}  // namespace vitrine::compositor
