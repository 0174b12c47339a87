// Handing a bus to another process: the region's fd and the doorbell eventfds travel over a
// Unix socket (SCM_RIGHTS) with a small versioned message, so that vitrine can give the bus to
// vitrine-vmm and vitrine-vmm to the guest programs of the sandbox.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "vitrine/ringbus/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::ringbus {

inline constexpr std::uint64_t kHandoffMagic = 0x46464f444e414856ull;  // "VHANDOFF"
inline constexpr std::uint32_t kMaxHandoffFds = 64;

// Wire message (little-endian, fixed width); the fds ride along as ancillary data.
struct HandoffMessage {
  std::uint64_t magic;
  std::uint32_t layout_version;  // of the bus region (layout.hpp)
  std::uint32_t fd_count;        // region fd first, then doorbells
  std::uint64_t region_size;
  std::uint32_t doorbell_kind;   // 0 eventfd, others defined by hv/
  std::uint32_t reserved;
};
static_assert(sizeof(HandoffMessage) == 32);

struct Handoff {
  UniqueFd region;
  std::vector<UniqueFd> doorbells;
  std::uint64_t region_size = 0;
  std::uint32_t doorbell_kind = 0;
};

// Sends the region fd and doorbell fds. Blocking; retries on EINTR.
Result<void> send_handoff(int socket, int region_fd, std::uint64_t region_size,
                          std::span<const int> doorbell_fds, std::uint32_t doorbell_kind = 0);
// Receives one handoff; rejects a wrong magic or layout version (closing every received fd).
Result<Handoff> receive_handoff(int socket, std::chrono::milliseconds timeout);

}  // namespace vitrine::ringbus
