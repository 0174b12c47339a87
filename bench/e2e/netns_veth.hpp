// NetnsVeth: a network namespace joined to the host by a veth pair, like a VM reached over its
// virtual NIC (the "guest network path" people use today to run RDP to a VM). The host end gets
// 10.<a>.<b>.1/30, the namespace end .2/30; a listener is created inside the namespace from a
// helper thread (setns affects one thread; the socket stays in the namespace it was made in).
//
// Needs root (CAP_NET_ADMIN) and iproute2's `ip`; create() says why when it cannot. Names carry
// the process id so that concurrent runs do not collide; the destructor deletes the namespace,
// which removes the veth pair with it.
#pragma once

#include <cstdint>
#include <expected>
#include <string>

#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::bench {

class NetnsVeth {
 public:
  static std::expected<NetnsVeth, std::string> create();
  NetnsVeth(NetnsVeth&& other) noexcept;
  NetnsVeth& operator=(NetnsVeth&&) = delete;
  ~NetnsVeth();

  // A TCP listener on the namespace's address (port chosen by the kernel).
  std::expected<ringbus::UniqueFd, std::string> listen_inside(std::uint16_t& port) const;
  // The namespace end's IPv4 address as text ("10.a.b.2").
  const std::string& inside_address() const { return inside_; }

 private:
  NetnsVeth() = default;
  std::string name_;
  std::string inside_;
  bool owned_ = false;
};

}  // namespace vitrine::bench
