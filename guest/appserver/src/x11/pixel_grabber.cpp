#include "pixel_grabber.hpp"

#include <X11/Xutil.h>
#include <sys/ipc.h>
#include <sys/shm.h>

namespace vitrine::appserver::x11 {

std::expected<std::unique_ptr<PixelGrabber>, std::string> PixelGrabber::create(XDisplay& display,
                                                                             bool use_shm) {
  std::unique_ptr<PixelGrabber> g(new PixelGrabber(display));
  Display* dpy = display.get();
  const int depth = DefaultDepth(dpy, DefaultScreen(dpy));
  if (depth != 24 && depth != 32)
    return std::unexpected("X screen depth " + std::to_string(depth) + " unsupported (need 24 or 32)");
  if (use_shm && display.has_shm()) {
    g->shm_size_ = size_t(display.screen_width()) * size_t(display.screen_height()) * 4;
    g->shm_.shmid = shmget(IPC_PRIVATE, g->shm_size_, IPC_CREAT | 0600);
    if (g->shm_.shmid >= 0) {
      g->shm_.shmaddr = static_cast<char*>(shmat(g->shm_.shmid, nullptr, 0));
      g->shm_.readOnly = False;
      if (g->shm_.shmaddr != reinterpret_cast<char*>(-1) && XShmAttach(dpy, &g->shm_)) {
        XSync(dpy, False);
        g->shm_attached_ = true;
      }
      // Mark for removal now: the segment lives while attached and cannot leak if we crash.
      shmctl(g->shm_.shmid, IPC_RMID, nullptr);
      if (!g->shm_attached_ && g->shm_.shmaddr != reinterpret_cast<char*>(-1)) shmdt(g->shm_.shmaddr);
    }
  }
  return g;
}

PixelGrabber::~PixelGrabber() {
  if (plain_) XDestroyImage(plain_);
  if (shm_attached_) {
    XShmDetach(display_.get(), &shm_);
    XSync(display_.get(), False);
    shmdt(shm_.shmaddr);
  }
}

std::expected<ImageView, std::string> PixelGrabber::grab_screen(const Rect& r) {
  return grab(display_.root(), r);
}

std::expected<ImageView, std::string> PixelGrabber::grab_window(Window w, const Rect& r) {
  return grab(w, r);
}

std::expected<ImageView, std::string> PixelGrabber::grab(Drawable d, const Rect& r) {
  if (r.empty()) return std::unexpected("empty rectangle");
  Display* dpy = display_.get();
  const int screen = DefaultScreen(dpy);
  const auto w = static_cast<unsigned>(r.width);
  const auto h = static_cast<unsigned>(r.height);
  if (shm_attached_ && size_t{w} * h * 4 <= shm_size_) {
    // The XImage is only a header over our segment; its data pointer is ours, so detach it
    // before XDestroyImage frees the header.
    XImage* img = XShmCreateImage(dpy, DefaultVisual(dpy, screen), DefaultDepth(dpy, screen),
                                  ZPixmap, shm_.shmaddr, &shm_, w, h);
    if (!img) return std::unexpected("XShmCreateImage failed");
    const bool ok = XShmGetImage(dpy, d, img, r.x, r.y, AllPlanes);
    const ImageView view{reinterpret_cast<const uint8_t*>(shm_.shmaddr), img->bytes_per_line,
                         r.width, r.height};
    const int bpp = img->bits_per_pixel;
    img->data = nullptr;
    XDestroyImage(img);
    if (!ok) return std::unexpected("XShmGetImage failed (drawable gone or area off-screen)");
    if (bpp != 32) return std::unexpected("unsupported pixel size");
    return view;
  }
  if (plain_) {
    XDestroyImage(plain_);
    plain_ = nullptr;
  }
  plain_ = XGetImage(dpy, d, r.x, r.y, w, h, AllPlanes, ZPixmap);
  if (!plain_) return std::unexpected("XGetImage failed (drawable gone or area off-screen)");
  if (plain_->bits_per_pixel != 32) return std::unexpected("unsupported pixel size");
  return ImageView{reinterpret_cast<const uint8_t*>(plain_->data), plain_->bytes_per_line, r.width,
                   r.height};
}

}  // namespace vitrine::appserver::x11
