// Where a connection goes inside the guest.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "vitrine/rdpmux/control_layout.hpp"

namespace vitrine::rdpmux {

struct Target {
  std::uint16_t kind = kTargetTcpLoopback;  // kTarget*
  std::uint16_t port = 0;                   // TCP: port on the guest's 127.0.0.1
  std::string path;                         // Unix: socket path inside the guest

  static Target tcp(std::uint16_t port) { return Target{kTargetTcpLoopback, port, {}}; }
  static Target unix_socket(std::string path) { return Target{kTargetUnixPath, 0, std::move(path)}; }
};

struct OpenOptions {
  // Frame guest->host bytes at RDP PDU boundaries (TPKT, fast-path, TLS records): every record
  // then holds whole PDUs. Leave off for streams that are not RDP.
  bool framed = false;
  std::chrono::milliseconds timeout{5000};
};

}  // namespace vitrine::rdpmux
