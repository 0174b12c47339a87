#include "rail_exec_tap.hpp"

#include <freerdp/svc.h>

#include <algorithm>
#include <string>
#include <utility>

#include "vitrine/base/utf8.hpp"

namespace vitrine::appserver::rdp {
namespace {

constexpr std::uint16_t kOrderExec = 0x0001;  // TS_RAIL_ORDER_EXEC
constexpr std::size_t kHeader = 4;            // orderType, orderLength
constexpr std::size_t kExecFixed = 8;         // flags, three lengths

std::uint16_t u16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | (b[at + 1] << 8));
}

// UTF-16LE to UTF-8, up to the first NUL (FreeRDP's client sends one; the spec does not);
// unpaired surrogates become U+FFFD.
std::string utf8_of(std::span<const std::uint8_t> utf16) {
  std::string out;
  for (std::size_t i = 0; i + 1 < utf16.size(); i += 2) {
    char32_t c = u16(utf16, i);
    if (c == 0) break;
    if (c >= 0xd800 && c < 0xdc00 && i + 3 < utf16.size() && u16(utf16, i + 2) >= 0xdc00 && u16(utf16, i + 2) < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + (u16(utf16, i + 2) - 0xdc00u);
      i += 2;
    } else if (c >= 0xd800 && c < 0xe000) {
      c = 0xfffd;
    }
    base::append_utf8(out, c);
  }
  return out;
}

}  // namespace

bool RailExecTap::on_chunk(std::span<const std::uint8_t> chunk, std::uint32_t flags, std::size_t total_size) {
  if ((flags & CHANNEL_FLAG_FIRST) != 0) {
    pdu_.clear();
    // The order type is the PDU's first field; a first chunk is never shorter (1600 bytes or
    // the whole PDU). An exec order too large to be valid is still an exec order: dropped.
    exec_ = chunk.size() >= 2 && u16(chunk, 0) == kOrderExec;
    skipping_ = !exec_ || total_size > kMaxPdu;
    if (exec_ && total_size > kMaxPdu) ++malformed_;
  }
  const bool forward = !exec_;
  if (!skipping_) {
    if (pdu_.size() + chunk.size() > kMaxPdu) {
      skipping_ = true;
      pdu_.clear();
    } else {
      pdu_.insert(pdu_.end(), chunk.begin(), chunk.end());
    }
  }
  if ((flags & CHANNEL_FLAG_LAST) == 0) return forward;
  if (!skipping_) (void)on_pdu(pdu_);
  pdu_.clear();
  skipping_ = false;
  exec_ = false;
  return forward;
}

bool RailExecTap::on_pdu(std::span<const std::uint8_t> pdu) {
  if (pdu.size() < kHeader || u16(pdu, 0) != kOrderExec) return true;
  const std::size_t length = std::min<std::size_t>(u16(pdu, 2), pdu.size());
  if (length < kHeader + kExecFixed) {
    ++malformed_;
    return false;
  }
  const auto body = pdu.subspan(kHeader, length - kHeader);
  const std::size_t exe = u16(body, 2), work = u16(body, 4), args = u16(body, 6);
  if (exe % 2 != 0 || work % 2 != 0 || args % 2 != 0 || exe > 520 || work > 520 || args > 16000 ||
      kExecFixed + exe + work + args > body.size()) {
    ++malformed_;
    return false;
  }
  RailExec e;
  e.flags = u16(body, 0);
  e.program = utf8_of(body.subspan(kExecFixed, exe));
  e.working_dir = utf8_of(body.subspan(kExecFixed + exe, work));
  e.arguments = utf8_of(body.subspan(kExecFixed + exe + work, args));
  if (queue_.size() == kMaxQueued) {
    ++dropped_;
    return true;
  }
  queue_.push_back(std::move(e));
  return true;
}

std::vector<RailExec> RailExecTap::take() { return std::exchange(queue_, {}); }

}  // namespace vitrine::appserver::rdp
