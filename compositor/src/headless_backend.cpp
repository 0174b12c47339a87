#include "vitrine/compositor/headless_backend.hpp"

#include <epoxy/gl.h>

#include <cstring>
#include <string>

#include "egl_context.hpp"

namespace vitrine::compositor {

Result<std::unique_ptr<HeadlessBackend>> HeadlessBackend::create() {
  if (!epoxy_has_egl_extension(EGL_NO_DISPLAY, "EGL_MESA_platform_surfaceless")) {
    return fail(Errc::kEgl, "EGL client lacks EGL_MESA_platform_surfaceless (Mesa's libEGL needed)");
  }
  auto egl = EglContext::create(EGL_PLATFORM_SURFACELESS_MESA, nullptr, false);
  if (!egl) return std::unexpected(egl.error());
  std::unique_ptr<HeadlessBackend> b(new HeadlessBackend());
  b->egl_ = std::make_unique<EglContext>(std::move(*egl));
  if (!b->egl_->has_extension("EGL_KHR_surfaceless_context")) {
    // Without surfaceless contexts a context must be current with some surface: a 1x1 pbuffer.
    const EGLint attrs[] = {EGL_WIDTH, 1, EGL_HEIGHT, 1, EGL_NONE};
    EGLSurface s = eglCreatePbufferSurface(b->egl_->display(), b->egl_->config(), attrs);
    if (s == EGL_NO_SURFACE) return egl_fail("eglCreatePbufferSurface");
    b->pbuffer_ = s;
  }
  if (auto ok = b->make_current(); !ok) return std::unexpected(ok.error());
  return b;
}

HeadlessBackend::~HeadlessBackend() {
  if (!egl_) return;
  if (make_current()) {
    for (auto& [_, t] : targets_) release(t);
  }
  if (pbuffer_ != nullptr) {
    eglMakeCurrent(egl_->display(), EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    eglDestroySurface(egl_->display(), static_cast<EGLSurface>(pbuffer_));
  }
}

Result<void> HeadlessBackend::make_current() {
  return egl_->make_current(pbuffer_ != nullptr ? static_cast<EGLSurface>(pbuffer_) : EGL_NO_SURFACE);
}

Result<void> HeadlessBackend::allocate(Target& t, std::int32_t width, std::int32_t height) {
  GLint max_rb = 0;
  glGetIntegerv(GL_MAX_RENDERBUFFER_SIZE, &max_rb);
  if (width > max_rb || height > max_rb) {
    return fail(Errc::kLimit, "window " + std::to_string(width) + "x" + std::to_string(height) +
                                  " beyond GL_MAX_RENDERBUFFER_SIZE " + std::to_string(max_rb));
  }
  if (t.fbo == 0) glGenFramebuffers(1, &t.fbo);
  if (t.color == 0) glGenRenderbuffers(1, &t.color);
  glBindRenderbuffer(GL_RENDERBUFFER, t.color);
  glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
  glBindFramebuffer(GL_FRAMEBUFFER, t.fbo);
  glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, t.color);
  const GLenum status = glCheckFramebufferStatus(GL_FRAMEBUFFER);
  // A new window shows black until its first present.
  glClearColor(0.0f, 0.0f, 0.0f, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  if (status != GL_FRAMEBUFFER_COMPLETE) {
    return fail(Errc::kGl, "window framebuffer incomplete", static_cast<int>(status));
  }
  t.width = width;
  t.height = height;
  return {};
}

void HeadlessBackend::release(Target& t) {
  if (t.fbo != 0) glDeleteFramebuffers(1, &t.fbo);
  if (t.color != 0) glDeleteRenderbuffers(1, &t.color);
  t = Target{};
}

Result<void> HeadlessBackend::add_window(const Window& window) {
  Target t;
  if (auto ok = allocate(t, window.host.rect.width, window.host.rect.height); !ok) {
    release(t);
    return ok;
  }
  targets_[window.id] = t;
  return {};
}

void HeadlessBackend::remove_window(WindowId id) {
  auto it = targets_.find(id);
  if (it == targets_.end()) return;
  release(it->second);
  targets_.erase(it);
}

Result<void> HeadlessBackend::update_window(const Window& window, ChangeMask changes) {
  if ((changes & kChangeRect) == 0) return {};
  auto it = targets_.find(window.id);
  if (it == targets_.end()) return fail(Errc::kNotFound, "no target for window " + std::to_string(window.id));
  Target& t = it->second;
  if (t.width == window.host.rect.width && t.height == window.host.rect.height) return {};
  return allocate(t, window.host.rect.width, window.host.rect.height);
}

Result<void> HeadlessBackend::begin_frame(const Window& window) {
  auto it = targets_.find(window.id);
  if (it == targets_.end()) return fail(Errc::kNotFound, "no target for window " + std::to_string(window.id));
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, it->second.fbo);
  return {};
}

Result<void> HeadlessBackend::end_frame(const Window& window, bool last_in_frame) {
  glBindFramebuffer(GL_DRAW_FRAMEBUFFER, 0);
  // What a swap implies on screen: the frame's draws go to the driver now (no wait). Without
  // it llvmpipe starts them only at the next upload into a texture they read, and that
  // upload then pays for the previous frame's draw (bench_e2e saw 0.3-0.5 ms moved there).
  if (last_in_frame) glFlush();
  auto it = targets_.find(window.id);
  if (it != targets_.end()) ++it->second.frames;
  return {};
}

std::uint64_t HeadlessBackend::frames_of(WindowId id) const {
  auto it = targets_.find(id);
  return it == targets_.end() ? 0 : it->second.frames;
}

std::uint64_t HeadlessBackend::drawable_pixels() const {
  std::uint64_t sum = 0;
  for (const auto& [_, t] : targets_) sum += static_cast<std::uint64_t>(t.width) * static_cast<std::uint64_t>(t.height);
  return sum;
}

void HeadlessBackend::set_monitors(std::vector<Monitor> monitors) {
  monitors_ = std::move(monitors);
  monitors_changed_ = true;
}

Result<Image> HeadlessBackend::read_back(WindowId id) {
  auto it = targets_.find(id);
  if (it == targets_.end()) return fail(Errc::kNotFound, "no window " + std::to_string(id));
  if (auto ok = make_current(); !ok) return std::unexpected(ok.error());
  const Target& t = it->second;
  Image img = Image::blank(t.width, t.height);
  std::vector<std::byte> raw(img.pixels.size());
  glBindFramebuffer(GL_READ_FRAMEBUFFER, t.fbo);
  glReadBuffer(GL_COLOR_ATTACHMENT0);
  glPixelStorei(GL_PACK_ALIGNMENT, 4);
  glPixelStorei(GL_PACK_ROW_LENGTH, 0);
  glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
  glReadPixels(0, 0, t.width, t.height, GL_BGRA, GL_UNSIGNED_BYTE, raw.data());
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
  if (const GLenum e = glGetError(); e != GL_NO_ERROR) {
    return fail(Errc::kGl, "glReadPixels of window " + std::to_string(id), static_cast<int>(e));
  }
  // GL rows are bottom-up; images are top-down.
  for (std::int32_t y = 0; y < t.height; ++y) {
    std::memcpy(img.pixels.data() + static_cast<std::size_t>(y) * img.stride(),
                raw.data() + static_cast<std::size_t>(t.height - 1 - y) * img.stride(), img.stride());
  }
  return img;
}

}  // namespace vitrine::compositor
