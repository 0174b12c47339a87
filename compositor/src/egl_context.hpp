// Private: the EGL display, config and OpenGL 3.3 core context both backends share.
#pragma once

#include <epoxy/egl.h>

#include <string>

#include "vitrine/compositor/error.hpp"

namespace vitrine::compositor {

std::string egl_error_string(EGLint error);

inline std::unexpected<Error> egl_fail(std::string what) {
  const EGLint e = eglGetError();
  return fail(Errc::kEgl, what + ": " + egl_error_string(e), e);
}

class EglContext {
 public:
  // platform: EGL_PLATFORM_X11_KHR with the Display*, or EGL_PLATFORM_SURFACELESS_MESA with
  // nullptr. `window_surfaces` asks for a config usable with window surfaces.
  static Result<EglContext> create(EGLenum platform, void* native_display, bool window_surfaces);

  EglContext(EglContext&& other) noexcept;
  EglContext& operator=(EglContext&&) = delete;
  EglContext(const EglContext&) = delete;
  ~EglContext();

  [[nodiscard]] EGLDisplay display() const { return display_; }
  [[nodiscard]] EGLConfig config() const { return config_; }
  [[nodiscard]] EGLContext context() const { return context_; }
  [[nodiscard]] bool has_extension(const char* name) const;

  Result<void> make_current(EGLSurface surface) const;

 private:
  EglContext() = default;
  EGLDisplay display_ = EGL_NO_DISPLAY;
  EGLConfig config_ = nullptr;
  EGLContext context_ = EGL_NO_CONTEXT;
  bool terminate_ = false;
};

}  // namespace vitrine::compositor
