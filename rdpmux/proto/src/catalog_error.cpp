#include "vitrine/rdpmux/catalog_error.hpp"

namespace vitrine::catalog {

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

}  // namespace vitrine::catalog
