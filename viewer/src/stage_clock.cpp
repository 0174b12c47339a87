#include "stage_clock.hpp"

#include <algorithm>

#include "vitrine/base/clock.hpp"

namespace vitrine::viewer {

void StageClock::guest_stamp(const rdpmux::GuestStamp& stamp) {
  telemetry_.stage(perf::Stage::kGuestReceiveToCommit).record(stamp.guest_receive_to_commit_ns);
  telemetry_.stage(perf::Stage::kCommitToHostRead).record(stamp.commit_to_read_ns());
  read_clock_->on_guest_stamp(stamp.read_ns, stamp.receive_ns);
}

void StageClock::paint_applied(std::uint64_t posted_ns, std::uint64_t read_ns, std::uint64_t guest_receive_ns) {
  if (oldest_paint_ns_ == 0) {
    oldest_paint_ns_ = posted_ns;
    oldest_read_ns_ = read_ns;
    oldest_guest_receive_ns_ = guest_receive_ns;
  }
  if (read_ns != 0 && read_ns <= posted_ns)
    telemetry_.stage(perf::Stage::kHostReadToPaint).record(posted_ns - read_ns);
}

void StageClock::presented(std::uint64_t start_ns) {
  if (oldest_paint_ns_ == 0) return;
  const std::uint64_t end = base::monotonic_ns();
  if (oldest_guest_receive_ns_ == 0) oldest_guest_receive_ns_ = read_clock_->take_late(oldest_read_ns_);
  telemetry_.stage(perf::Stage::kPaintToUpload).record(start_ns - std::min(start_ns, oldest_paint_ns_));
  telemetry_.stage(perf::Stage::kUploadToPresent).record(end - start_ns);
  if (oldest_guest_receive_ns_ != 0 && oldest_guest_receive_ns_ <= end)
    telemetry_.stage(perf::Stage::kEndToEnd).record(end - oldest_guest_receive_ns_);
  oldest_paint_ns_ = oldest_read_ns_ = oldest_guest_receive_ns_ = 0;
}

void StageClock::surface_presented(std::uint64_t start_ns, const SurfacePump::Oldest& oldest) {
  if (oldest.read_ns == 0) return;
  const std::uint64_t end = base::monotonic_ns();
  telemetry_.stage(perf::Stage::kSurfaceReadToUpload).record(start_ns - std::min(start_ns, oldest.read_ns));
  telemetry_.stage(perf::Stage::kSurfaceUploadToPresent).record(end - start_ns);
  if (oldest.guest_damage_ns == 0 || !guest_clock_) return;
  const auto clock = guest_clock_();
  if (!clock) return;
  const std::uint64_t damage = clock->to_host(oldest.guest_damage_ns);
  if (damage == 0 || damage > oldest.read_ns) return;  // outside what the sync's error allows
  telemetry_.stage(perf::Stage::kSurfaceDamageToRead).record(oldest.read_ns - damage);
  telemetry_.stage(perf::Stage::kSurfaceEndToEnd).record(end - damage);
}

}  // namespace vitrine::viewer
