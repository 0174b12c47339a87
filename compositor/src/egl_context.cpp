#include "egl_context.hpp"

#include <epoxy/gl.h>

#include <utility>

namespace vitrine::compositor {

std::string egl_error_string(EGLint error) {
  switch (error) {
    case EGL_SUCCESS: return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
    case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
    case EGL_BAD_CURRENT_SURFACE: return "EGL_BAD_CURRENT_SURFACE";
    case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
    case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
    case EGL_BAD_NATIVE_PIXMAP: return "EGL_BAD_NATIVE_PIXMAP";
    case EGL_BAD_NATIVE_WINDOW: return "EGL_BAD_NATIVE_WINDOW";
    case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
    case EGL_BAD_SURFACE: return "EGL_BAD_SURFACE";
    case EGL_CONTEXT_LOST: return "EGL_CONTEXT_LOST";
    default: return "EGL error " + std::to_string(error);
  }
}

Result<EglContext> EglContext::create(EGLenum platform, void* native_display, bool window_surfaces) {
  if (!epoxy_has_egl_extension(EGL_NO_DISPLAY, "EGL_EXT_platform_base") &&
      epoxy_egl_version(EGL_NO_DISPLAY) < 15) {
    return fail(Errc::kEgl, "EGL client lacks EGL_EXT_platform_base");
  }
  EglContext c;
  c.terminate_ = platform != EGL_PLATFORM_SURFACELESS_MESA;
  c.display_ = eglGetPlatformDisplayEXT(platform, native_display, nullptr);
  if (c.display_ == EGL_NO_DISPLAY) return egl_fail("eglGetPlatformDisplay");
  EGLint major = 0, minor = 0;
  if (!eglInitialize(c.display_, &major, &minor)) {
    c.display_ = EGL_NO_DISPLAY;
    return egl_fail("eglInitialize");
  }
  if (!eglBindAPI(EGL_OPENGL_API)) return egl_fail("eglBindAPI(EGL_OPENGL_API)");

  const EGLint surface_type = window_surfaces ? EGL_WINDOW_BIT : EGL_PBUFFER_BIT;
  const EGLint config_attrs[] = {EGL_SURFACE_TYPE, surface_type, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                                 EGL_BLUE_SIZE, 8, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT, EGL_NONE};
  EGLint n = 0;
  if (!eglChooseConfig(c.display_, config_attrs, &c.config_, 1, &n) || n < 1) {
    if (window_surfaces) return egl_fail("eglChooseConfig (window, RGB888, OpenGL)");
    // Surfaceless displays may offer no pbuffer config; a context without config works
    // there (EGL_KHR_no_config_context) since we render into FBOs only.
    c.config_ = EGL_NO_CONFIG_KHR;
  }
  const EGLint context_attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                                  EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
                                  EGL_NONE};
  c.context_ = eglCreateContext(c.display_, c.config_, EGL_NO_CONTEXT, context_attrs);
  if (c.context_ == EGL_NO_CONTEXT) return egl_fail("eglCreateContext (OpenGL 3.3 core)");
  return c;
}

EglContext::EglContext(EglContext&& other) noexcept
    : display_(std::exchange(other.display_, EGL_NO_DISPLAY)),
      config_(std::exchange(other.config_, nullptr)),
      context_(std::exchange(other.context_, EGL_NO_CONTEXT)),
      terminate_(other.terminate_) {}

EglContext::~EglContext() {
  if (display_ == EGL_NO_DISPLAY) return;
  eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
  if (context_ != EGL_NO_CONTEXT) eglDestroyContext(display_, context_);
  // EGL hands out one display per (platform, native display): the surfaceless display is
  // shared by every headless backend of the process, so terminating it would break the
  // others. An X11 display belongs to exactly one backend and its Display* is closed after
  // this; terminate it so that a later Display* at the same address gets a fresh EGLDisplay.
  if (terminate_) eglTerminate(display_);
}

bool EglContext::has_extension(const char* name) const {
  return epoxy_has_egl_extension(display_, name);
}

Result<void> EglContext::make_current(EGLSurface surface) const {
  if (!eglMakeCurrent(display_, surface, surface, context_)) return egl_fail("eglMakeCurrent");
  return {};
}

}  // namespace vitrine::compositor
