// hv/kvm logs through ringbus' sink (one line on stderr by default; the embedding process plugs
// its own logger in with ringbus::set_log_sink).
#pragma once

#include <string_view>

#include "vitrine/ringbus/log.hpp"

namespace vitrine::hv::kvm {

inline void log_info(std::string_view m) { ringbus::log(ringbus::LogLevel::kInfo, m); }
inline void log_warn(std::string_view m) { ringbus::log(ringbus::LogLevel::kWarn, m); }
inline void log_error(std::string_view m) { ringbus::log(ringbus::LogLevel::kError, m); }

}  // namespace vitrine::hv::kvm
