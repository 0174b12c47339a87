// RetiringPixels: drawables the compositor deleted that the GL driver may still hold.
//
// glDeleteRenderbuffers (or an X window's EGL surface, or a re-allocated size) frees nothing at
// once: Mesa keeps the storage referenced by every queued batch that used it until that batch
// ran. A guest that creates, clears and destroys windows faster than llvmpipe rasterises kept
// 180-350 MiB alive with a 12 MiB window budget (bench_hostile BM_WindowOrderStorm). So deleted
// pixels still count against the budget until a fence placed after their deletion signals; the
// check never blocks (glClientWaitSync with a zero timeout), and what waits is only the admission
// of new windows, which the compositor already parks when the budget is full.
#pragma once

#include <cstdint>
#include <deque>

namespace vitrine::compositor {

class RetiringPixels {
 public:
  RetiringPixels() = default;
  RetiringPixels(const RetiringPixels&) = delete;
  RetiringPixels& operator=(const RetiringPixels&) = delete;
  ~RetiringPixels();  // the compositor's context must be current

  // `pixels` of drawables were deleted just now (context current). Once `fence_after` pixels
  // wait without a fence, a fence goes in and the batch goes to the driver (glFlush, no wait).
  void freed(std::uint64_t pixels, std::uint64_t fence_after);
  // Drops the fenced frees the driver has finished with; fences what waits unfenced. Returns
  // whether anything retired. Context current; never blocks.
  bool retire();
  // Deleted pixels the driver may still hold (fenced or not).
  [[nodiscard]] std::uint64_t pixels() const { return pixels_; }
  [[nodiscard]] std::uint64_t fences() const { return fences_made_; }

 private:
  void fence();

  struct Fenced {
    void* sync;  // GLsync
    std::uint64_t pixels;
  };
  std::deque<Fenced> fenced_;  // oldest first: fences signal in order
  std::uint64_t unfenced_ = 0;
  std::uint64_t pixels_ = 0;
  std::uint64_t fences_made_ = 0;
};

}  // namespace vitrine::compositor
