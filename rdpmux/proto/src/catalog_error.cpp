#include "vitrine/rdpmux/catalog_error.hpp"

#include <cstring>

namespace vitrine::catalog {

Error Error::sys(std::string what, int err) {
  what += ": ";
  what += std::strerror(err);
  return Error{Errc::kSystem, err, std::move(what)};
}

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kMalformed: return "malformed";
    case Errc::kTruncated: return "truncated";
    case Errc::kTooLarge: return "too large";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kNotFound: return "not found";
    case Errc::kSystem: return "system error";
  }
  return "unknown";
}

std::string to_string(const Error& error) {
  std::string out(errc_name(error.code));
  out += ": ";
  out += error.message;
  return out;
}

}  // namespace vitrine::catalog
