// hv/kvm reports errors with hv's codes (vitrine/hv/error.hpp), like every hv part: the same
// names inside hv::kvm, plus the two shorthands its sources use most.
#pragma once

#include <cerrno>
#include <string>

#include "vitrine/hv/error.hpp"

namespace vitrine::hv::kvm {

using hv::Errc;
using hv::Error;
using hv::Result;
using hv::invalid;

inline Error sys_error(std::string what) { return Error::sys(std::move(what), errno); }

}  // namespace vitrine::hv::kvm
