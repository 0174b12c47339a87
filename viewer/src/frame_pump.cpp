#include "frame_pump.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "geometry.hpp"
#include "vitrine/base/clock.hpp"
#include "vitrine/base/log.hpp"

namespace vitrine::viewer {

namespace rh = rdpmux::host;
namespace comp = compositor;
using namespace session_event;

namespace {
constexpr std::size_t kFramebufferAlign = 64;  // cache line; DisplaySink asks for >= 16
}  // namespace

std::expected<std::unique_ptr<FramePump>, std::string> FramePump::create(comp::Compositor& compositor,
                                                                        StageClock& clock,
                                                                        std::chrono::milliseconds callback_timeout) {
  std::unique_ptr<FramePump> p(new FramePump(compositor, clock, callback_timeout));
  p->wake_ = ringbus::UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!p->wake_) return std::unexpected(std::string("eventfd: ") + std::strerror(errno));
  return p;
}

int FramePump::surface_wake_fd() const { return surface_receiver_ ? surface_receiver_->wake_fd() : -1; }

void FramePump::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    queue_.clear();
  }
  applied_cv_.notify_all();
  room_cv_.notify_all();
}

FramePumpStats FramePump::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::set<std::uint32_t> FramePump::surface_windows() const {
  std::lock_guard lock(mutex_);
  return surface_windows_;
}

// ---- session thread --------------------------------------------------------------------------

std::uint64_t FramePump::post_locked(Event event, std::unique_lock<std::mutex>& lock) {
  if (!shut_down_ && queue_.size() >= kMaxQueued) {
    ++stats_.posts_waited;
    room_cv_.wait(lock, [&] { return shut_down_ || queue_.size() < kMaxQueued; });
  }
  if (shut_down_) return 0;
  const std::uint64_t seq = ++posted_;
  queue_.emplace_back(seq, std::move(event));
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
    base::log_warn("display: cannot wake the UI thread: {}", std::strerror(errno));
  return seq;
}

void FramePump::post(Event event) {
  std::unique_lock lock(mutex_);
  (void)post_locked(std::move(event), lock);
}

void FramePump::post_and_wait(Event event) {
  std::unique_lock lock(mutex_);
  const std::uint64_t seq = post_locked(std::move(event), lock);
  if (seq == 0) return;
  if (!applied_cv_.wait_for(lock, callback_timeout_, [&] { return shut_down_ || applied_ >= seq; })) {
    ++stats_.callback_timeouts;
    base::log_warn("display: the UI thread did not apply a session event within {} ms; going on",
                   callback_timeout_.count());
  }
}

// Allocated here, on the session thread, so a busy UI thread cannot make FreeRDP wait or hand
// it a buffer that is about to be freed; the UI thread shares it from framebuffer_changed() on.
std::span<std::byte> FramePump::provide_framebuffer(std::uint32_t width, std::uint32_t height, std::uint32_t stride) {
  const std::size_t bytes = static_cast<std::size_t>(stride) * height;
  const std::size_t rounded = (bytes + kFramebufferAlign - 1) / kFramebufferAlign * kFramebufferAlign;
  session_fb_.reset();  // FreeRDP moves to the new buffer; the UI thread may still hold the old one
  if (rounded == 0) return {};
  void* p = std::aligned_alloc(kFramebufferAlign, rounded);
  if (p == nullptr) {
    base::log_warn("display: cannot allocate a {}x{} framebuffer; FreeRDP allocates it", width, height);
    return {};
  }
  std::memset(p, 0, rounded);
  session_fb_ = SharedPixels(static_cast<std::byte*>(p), [](std::byte* b) { std::free(b); });
  return {session_fb_.get(), bytes};
}

void FramePump::framebuffer_changed(const rh::FramebufferView& framebuffer) {
  (void)clock_.take_read();  // the connection handshake is not a paint's read time
  if (session_fb_ && framebuffer.pixels == session_fb_.get()) {
    post(FramebufferChanged{framebuffer, session_fb_});
  } else {
    // FreeRDP's own memory lives as FreeRDP decides: the UI thread must have moved to it
    // before the session goes on (and frees the previous one).
    post_and_wait(FramebufferChanged{framebuffer, nullptr});
  }
}

void FramePump::damaged(std::span<const rh::DesktopRect> rects) {
  const auto taken = clock_.take_read();
  post(Damage{{rects.begin(), rects.end()}, base::monotonic_ns(), taken.read_ns, taken.guest_receive_ns});
}

void FramePump::framebuffer_writes_begin() { fb_write_mutex_.lock(); }

void FramePump::framebuffer_writes_end() {
  fb_write_mutex_.unlock();
  // After the unlock: a UI thread that failed its try_lock either sees the lock free when it
  // looks again (present()) or set the flag before that look, and then this wakes it.
  if (upload_deferred_.exchange(false)) {
    const std::uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
      base::log_warn("display: cannot wake the UI thread: {}", std::strerror(errno));
  }
}

// ---- UI thread -------------------------------------------------------------------------------

void FramePump::drain_wake() {
  std::uint64_t count = 0;
  (void)::read(wake_.get(), &count, sizeof count);
}

FramePump::Batch FramePump::take_queued(std::size_t max) {
  Batch batch;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() <= max) {
      batch.swap(queue_);
    } else {
      for (std::size_t i = 0; i < max; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      const std::uint64_t one = 1;  // more is waiting: the UI loop must not sleep first
      if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
        base::log_warn("display: cannot wake the UI thread: {}", std::strerror(errno));
    }
  }
  room_cv_.notify_all();
  return batch;
}

void FramePump::put_back(Batch rest) {
  if (rest.empty()) return;
  {
    std::lock_guard lock(mutex_);
    ++stats_.turns_cut;
    if (shut_down_) return;
    // In front of what came since, in their order: the sequence numbers stay increasing.
    for (auto it = rest.rbegin(); it != rest.rend(); ++it) queue_.push_front(std::move(*it));
  }
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN)
    base::log_warn("display: cannot wake the UI thread: {}", std::strerror(errno));
}

void FramePump::applied(std::uint64_t last, std::size_t count) {
  {
    std::lock_guard lock(mutex_);
    applied_ = std::max(applied_, last);
    stats_.callbacks += count;
    stats_.compositor = compositor_.stats();
  }
  applied_cv_.notify_all();
}

void FramePump::adopt_framebuffer(FramebufferChanged& changed) {
  fb_ = changed.view;
  fb_owner_ = std::move(changed.owner);  // the previous buffer goes when the session let go too
}

void FramePump::damage_framebuffer() {
  compositor_.damage(comp::DesktopRect{0, 0, static_cast<std::int32_t>(fb_.width), static_cast<std::int32_t>(fb_.height)});
  need_present_ = true;
}

void FramePump::damage(std::span<const rh::DesktopRect> rects) {
  for (const auto& r : rects) compositor_.damage(to_comp(r));
  need_present_ = true;
  std::lock_guard lock(mutex_);
  ++stats_.paints;
}

comp::PixelSource FramePump::source() const {
  return {fb_.pixels, static_cast<std::int32_t>(fb_.width), static_cast<std::int32_t>(fb_.height), fb_.stride};
}

void FramePump::present() {
  need_present_ = false;
  const bool surfaces = surface_pump_ != nullptr;
  if (fb_.pixels == nullptr && !surfaces) return;
  const std::uint64_t start = base::monotonic_ns();
  // The framebuffer's damage is copied out only while FreeRDP cannot write it; when it is
  // writing, the windows are drawn from what was uploaded before and the upload waits for the
  // wake-up framebuffer_writes_end sends.
  bool deferred = false;
  if (fb_.pixels != nullptr && !compositor_.pending_damage().empty()) {
    std::unique_lock lock(fb_write_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) {
      upload_deferred_.store(true);
      lock.try_lock();  // it may have ended between the two looks (then nobody would wake us)
    }
    if (lock.owns_lock()) {
      upload_deferred_.store(false);
      if (auto up = compositor_.upload(source()); !up)
        base::log_warn("display: upload: {}", comp::to_string(up.error()));
    } else {
      deferred = true;
      need_present_ = true;
    }
  }
  auto r = compositor_.present();
  if (surfaces) clock_.surface_presented(start, surface_pump_->take_oldest());
  if (!deferred) clock_.presented(start);
  std::lock_guard lock(mutex_);
  ++stats_.presents;
  stats_.compositor = compositor_.stats();  // windows admitted since the last applied event
  if (deferred) ++stats_.uploads_deferred;
  if (!r) base::log_warn("display: present: {}", comp::to_string(r.error()));
}

// ---- surfaces (UI thread): SurfaceReceiver -> SurfacePump -> Compositor::upload_surface ------

std::expected<void, std::string> FramePump::enable_surfaces(ringbus::Bus& bus, std::function<void(std::uint32_t)> pass_on) {
  if (surface_receiver_) return {};
  auto pump = std::make_unique<SurfacePump>(compositor_);
  auto receiver = SurfaceReceiver::create(bus, *pump);
  if (!receiver) return std::unexpected(receiver.error());
  (*receiver)->set_pass_on(std::move(pass_on));
  pump->set_receiver(receiver->get());
  surface_pump_ = std::move(pump);
  surface_receiver_ = std::move(*receiver);
  std::lock_guard lock(mutex_);
  stats_.surfaces = true;
  return {};
}

bool FramePump::prepare_sleep() {
  if (!surface_receiver_) return true;
  return !surfaces_more_ && surface_receiver_->prepare_sleep();
}

bool FramePump::pump_surfaces() {
  if (!surface_receiver_) return false;
  // Drain the doorbell only when it rang: with one host doorbell for every channel, reading it
  // takes the wake-up from whoever else sleeps on it (woke() passes it on when it was theirs).
  if (const int fd = surface_receiver_->wake_fd(); fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) surface_receiver_->woke();
  }
  surfaces_more_ = surface_receiver_->poll();
  const bool uploaded = surface_pump_->take_dirty();
  if (uploaded) need_present_ = true;
  // Which windows paint from surfaces changes only with surfaces coming and going (receiver)
  // or windows coming and going (window_created/deleted): the set is copied only then, not on
  // every turn.
  const auto& c = surface_receiver_->counters();
  const std::uint64_t churn = c.creates + c.destroys + c.dropped + c.ring_faults;
  const bool windows_changed = std::exchange(surface_windows_stale_, false) || churn != surface_churn_;
  surface_churn_ = churn;
  std::lock_guard lock(mutex_);
  stats_.surface = c;
  stats_.surface_pump = surface_pump_->stats();
  if (windows_changed) surface_windows_ = surface_pump_->windows();
  return uploaded;
}

void FramePump::window_created(rh::WindowId id) {
  if (!surface_pump_) return;
  surface_pump_->window_created(id);
  surface_windows_stale_ = true;
}

void FramePump::window_deleted(rh::WindowId id) {
  if (!surface_pump_) return;
  surface_pump_->window_deleted(id);
  surface_windows_stale_ = true;
}

void FramePump::close_surfaces() {
  surface_receiver_.reset();
  surface_pump_.reset();
}

}  // namespace vitrine::viewer
