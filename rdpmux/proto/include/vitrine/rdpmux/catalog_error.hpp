// Errors of the application catalogue: its wire format and Exec lines (rdpmux/proto) and the
// guest's scanners (desktop entries, icons, .lnk shortcuts: guest/catalog), one set of codes
// for both. Bad input from the guest's files or from the bus is an ordinary error with a
// message that names the file, the field and the offending value; nothing here aborts on input.
//
// Namespace vitrine::catalog (not rdpmux): the catalogue's types kept their names when the wire
// format moved here from guest/catalog.
#pragma once

#include <cstdint>
#include <string_view>

#include "vitrine/base/error.hpp"

namespace vitrine::catalog {

enum class Errc : std::uint8_t {
  kMalformed,    // syntax or field value invalid
  kTruncated,    // input ends before a structure it announces
  kTooLarge,     // a size or count above the documented limit
  kUnsupported,  // valid input this build does not handle (SVG icons, unknown versions)
  kNotFound,     // a file, icon or application that does not exist
  kSystem,       // a system call failed (errno in sys_errno)
};

// The fields (code, sys_errno, message), Error::sys, fail and to_string come from base.
using Error = base::Error<Errc>;

std::string_view errc_name(Errc code);
using base::fail;
using base::to_string;

template <typename T>
using Result = base::Result<T, Errc>;

}  // namespace vitrine::catalog
