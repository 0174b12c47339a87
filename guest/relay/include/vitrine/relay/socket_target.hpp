// Platform part of opening a target: a stream socket and its address, from an Open message.
#pragma once

#include <sys/socket.h>

#include <string>

#include "vitrine/rdpmux/control_layout.hpp"
#include "vitrine/rdpmux/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::relay {

struct PreparedSocket {
  ringbus::UniqueFd fd;
  sockaddr_storage address{};
  socklen_t length = 0;
  std::string description;  // "127.0.0.1:3389" or the Unix path, for messages
};

// A close-on-exec stream socket for the Open's target (TCP with TCP_NODELAY: RDP is
// interactive). Validated Open messages only (decode_control checked them).
rdpmux::Result<PreparedSocket> prepare_socket(const rdpmux::OpenMsg& open);

}  // namespace vitrine::relay
