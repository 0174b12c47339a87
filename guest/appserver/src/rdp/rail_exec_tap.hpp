// RailExecTap: the Client Execute orders (MS-RDPERP 2.2.2.3.1) of a session, read from the
// "rail" channel's raw data.
//
// FreeRDP 2.11's rail server cannot be trusted with them (channels/rail/server/rail_main.c,
// rail_read_exec_order): it converts all three strings into RemoteApplicationProgram, so with
// arguments the "program" it hands over is the argument string (`vitrine launch xterm -title
// hello` ran "-title hello": RAIL_EXEC_E_FILE_NOT_FOUND), and it refuses any string whose UTF-8
// form is longer than its UTF-16 one (any non-ASCII path or argument). So Session hooks the
// peer's ReceiveChannelData, where the channel's chunks pass before FreeRDP's channel queue,
// takes exec orders from here, and keeps them from FreeRDP altogether: a Client Execute it fails
// to parse ends its rail thread's message loop ("rail_server_handle_messages failed"), after which
// no RAIL order of the session (activate, language profile, ...) was handled any more.
// Session thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rail_channel.hpp"

namespace vitrine::appserver::rdp {

class RailExecTap {
 public:
  // One chunk of the client's "rail" channel data with its CHANNEL_FLAG_FIRST /
  // CHANNEL_FLAG_LAST flags and the whole PDU's size (MS-RDPBCGR 2.2.6.1.1). Returns whether the
  // chunk goes on to FreeRDP: false for every chunk of an exec order.
  bool on_chunk(std::span<const std::uint8_t> chunk, std::uint32_t flags, std::size_t total_size);
  // One whole rail PDU (header included): an exec order is queued, anything else ignored. False
  // for a malformed exec order (counted, dropped). Public for tests.
  bool on_pdu(std::span<const std::uint8_t> pdu);
  // The exec orders received since the last call, oldest first.
  std::vector<RailExec> take();

  [[nodiscard]] std::uint64_t malformed() const { return malformed_; }
  [[nodiscard]] std::uint64_t dropped() const { return dropped_; }

  static constexpr std::size_t kMaxQueued = 32;  // between two session-loop turns
  static constexpr std::size_t kMaxPdu = 4 + 8 + 520 + 520 + 16000;

 private:
  std::vector<std::uint8_t> pdu_;  // the PDU being reassembled
  bool skipping_ = false;          // larger than any exec order: ignored until its last chunk
  bool exec_ = false;              // the PDU being received is an exec order (kept from FreeRDP)
  std::vector<RailExec> queue_;
  std::uint64_t malformed_ = 0;
  std::uint64_t dropped_ = 0;  // over kMaxQueued in one turn: a flooding client
};

}  // namespace vitrine::appserver::rdp
