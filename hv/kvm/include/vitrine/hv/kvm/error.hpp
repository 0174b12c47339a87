// hv/kvm reports errors the way every room does across boundaries: ringbus' Result/Error.
#pragma once

#include <cerrno>
#include <string>

#include "vitrine/ringbus/error.hpp"

namespace vitrine::hv::kvm {

using ringbus::Errc;
using ringbus::Error;
using ringbus::Result;

inline Error invalid(std::string message) { return Error{Errc::kInvalidArgument, 0, std::move(message)}; }
inline Error sys_error(std::string what) { return Error::sys(std::move(what), errno); }

}  // namespace vitrine::hv::kvm
