#include "retiring_pixels.hpp"

#include <epoxy/gl.h>

namespace vitrine::compositor {
namespace {

GLsync as_sync(void* p) { return static_cast<GLsync>(p); }

}  // namespace

RetiringPixels::~RetiringPixels() {
  for (const Fenced& f : fenced_) glDeleteSync(as_sync(f.sync));
}

void RetiringPixels::freed(std::uint64_t pixels, std::uint64_t fence_after) {
  unfenced_ += pixels;
  pixels_ += pixels;
  if (unfenced_ >= fence_after) fence();
}

void RetiringPixels::fence() {
  GLsync sync = glFenceSync(GL_SYNC_GPU_COMMANDS_COMPLETE, 0);
  if (sync == nullptr) {
    // No fence (out of memory in the driver): wait for the batch instead, once. Correct, and
    // never the case with Mesa in practice.
    glFinish();
    pixels_ -= unfenced_;
    unfenced_ = 0;
    return;
  }
  glFlush();  // a fence in an unsubmitted batch would never signal
  fenced_.push_back({sync, unfenced_});
  unfenced_ = 0;
  ++fences_made_;
}

bool RetiringPixels::retire() {
  bool retired = false;
  while (!fenced_.empty()) {
    const GLenum r = glClientWaitSync(as_sync(fenced_.front().sync), 0, 0);
    if (r != GL_ALREADY_SIGNALED && r != GL_CONDITION_SATISFIED && r != GL_WAIT_FAILED) break;
    // GL_WAIT_FAILED: the fence is unusable; the storage it guarded is freed when the driver
    // runs the batch anyway, so the accounting lets go rather than park windows forever.
    glDeleteSync(as_sync(fenced_.front().sync));
    pixels_ -= fenced_.front().pixels;
    fenced_.pop_front();
    retired = true;
  }
  if (unfenced_ > 0) fence();
  return retired;
}

}  // namespace vitrine::compositor
