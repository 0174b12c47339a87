// The RAIL static virtual channel ("rail", MS-RDPERP 2.2.2) of one session, over FreeRDP's
// rail server. FreeRDP reads client PDUs on its own thread and calls back there; this class
// copies each PDU into a RailEvent, queues it and wakes the session thread through an eventfd,
// so that all X11 work stays on the session thread. Sending is done from the session thread.
#pragma once

#include <freerdp/server/rail.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace vitrine::appserver::rdp {

// A Client Execute order, as RailExecTap read it from the channel (not from FreeRDP's parse).
struct RailExec {
  uint16_t flags = 0;
  std::string program, working_dir, arguments;
};
struct RailActivate {
  uint32_t window = 0;
  bool enabled = false;
};
struct RailSysCommand {
  uint32_t window = 0;
  uint16_t command = 0;
};
struct RailWindowMove {
  uint32_t window = 0;
  int16_t left = 0, top = 0, right = 0, bottom = 0;
};
struct RailGetAppId {
  uint32_t window = 0;
};
// Client Language Profile Information PDU (MS-RDPERP 2.2.2.2.3): the host switched its input
// language; `keyboard_layout` is the new KLID (0 when the client left it out).
struct RailLanguageProfile {
  uint32_t profile_type = 0;
  uint16_t language_id = 0;
  uint32_t keyboard_layout = 0;
};
struct RailOther {
  std::string what;  // PDUs we accept and only log (handshake, status, sysparam, sysmenu, ...)
};
using RailEvent = std::variant<RailExec, RailActivate, RailSysCommand, RailWindowMove, RailGetAppId, RailLanguageProfile,
                               RailOther>;

class RailChannel {
 public:
  // `vcm`: the session's virtual channel manager, once the client joined "rail".
  static std::unique_ptr<RailChannel> start(void* vcm, rdpContext* context);
  ~RailChannel();
  RailChannel(const RailChannel&) = delete;
  RailChannel& operator=(const RailChannel&) = delete;

  // Readable when events are queued.
  [[nodiscard]] int event_fd() const { return event_fd_; }
  std::vector<RailEvent> take_events();

  bool send_handshake();
  bool send_exec_result(uint16_t flags, uint16_t result, uint32_t raw, const std::string& exe_or_file);
  bool send_local_move_size(uint32_t window, bool start, uint16_t type, int16_t x, int16_t y);
  bool send_min_max_info(uint32_t window, int16_t max_w, int16_t max_h);
  bool send_app_id(uint32_t window, const std::string& app_id);

  // Called on FreeRDP's rail thread (public for the C callbacks).
  void push(RailEvent ev);

 private:
  RailChannel() = default;
  RailServerContext* ctx_ = nullptr;
  int event_fd_ = -1;
  std::mutex mu_;
  std::deque<RailEvent> queue_;  // guarded by mu_
  size_t dropped_ = 0;           // guarded by mu_: events over the queue bound (client flood)
};

}  // namespace vitrine::appserver::rdp
