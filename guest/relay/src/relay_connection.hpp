// Per-channel state of the relay (private to relay.cpp).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

#include "vitrine/rdpmux/pdu_framer.hpp"
#include "vitrine/relay/socket_target.hpp"
#include "vitrine/ringbus/channel.hpp"
#include "vitrine/ringbus/ring.hpp"

namespace vitrine::relay {

enum class ConnState : std::uint8_t {
  kIdle,        // free, or closed and Closed sent: h2g records are discarded
  kConnecting,  // connect queued
  kOpen,
  kClosing,     // waiting for queued operations to finish, then End (maybe) and Closed
};

struct RelayConnection {
  explicit RelayConnection(ringbus::Channel& ch) : channel(ch) {}

  ringbus::Channel& channel;
  ConnState state = ConnState::kIdle;
  bool used = false;             // opened at least once (idle discard only then)
  std::uint32_t generation = 0;  // bumped per connection: stale completions are ignored
  std::uint32_t request_id = 0;
  bool opened = false;           // Opened was sent
  PreparedSocket socket;
  int inflight = 0;              // engine operations not yet completed

  // socket -> g2h
  bool framed = false;
  rdpmux::PduFramer framer;
  ringbus::Claim claim{};        // open claim, receives land in it
  std::uint32_t filled = 0;      // bytes received into the claim
  std::uint32_t boundary = 0;    // end of the last whole PDU in the claim
  std::uint32_t claim_size = 0;
  std::uint32_t greedy = 0;      // framed: receive length at a boundary (0: header only)
  std::uint64_t receive_ns = 0;  // stamps: first receive completion into the open claim (0: none)
  bool recv_inflight = false;
  bool rx_eof = false;           // socket gave EOF: End record pending
  bool rx_done = false;          // End record committed
  bool blocked_full = false;     // g2h full: waiting for the host to release
  std::uint32_t blocked_need = 0;

  // h2g -> socket
  std::vector<iovec> iov;        // pointing into peeked h2g records
  std::vector<std::uint64_t> ends;  // ring position after each iov's record
  std::size_t iov_first = 0;
  msghdr msg{};
  bool send_inflight = false;
  bool tx_end_seen = false;
  std::uint64_t tx_end_position = 0;
  bool tx_done = false;          // host's End handled: SHUT_WR done

  // closing
  int error = 0;
  std::string text;
  bool send_end = false;         // commit End{error} before Closed
  bool cancel_queued = false;
  std::uint64_t bytes_to_host = 0;
  std::uint64_t bytes_from_host = 0;

  void reset_for_open() {
    state = ConnState::kConnecting;
    opened = false;
    used = true;
    ++generation;
    inflight = 0;
    framer.reset();
    claim = {};
    filled = boundary = 0;
    receive_ns = 0;
    recv_inflight = rx_eof = rx_done = blocked_full = false;
    blocked_need = 0;
    iov.clear();
    ends.clear();
    iov_first = 0;
    send_inflight = tx_end_seen = tx_done = false;
    tx_end_position = 0;
    error = 0;
    text.clear();
    send_end = false;
    cancel_queued = false;
    bytes_to_host = bytes_from_host = 0;
  }
};

}  // namespace vitrine::relay
