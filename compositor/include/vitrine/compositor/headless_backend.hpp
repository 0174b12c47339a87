// Off-screen backend: EGL on Mesa's surfaceless platform (llvmpipe without a GPU; any Mesa
// driver with one). Each window renders into its own framebuffer object; read_back() returns
// what the window shows. Used by tests, bench_compositor and screenshots.
#pragma once

#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "vitrine/compositor/backend.hpp"
#include "vitrine/compositor/image.hpp"

namespace vitrine::compositor {

class EglContext;

class HeadlessBackend final : public Backend {
 public:
  static Result<std::unique_ptr<HeadlessBackend>> create();
  ~HeadlessBackend() override;

  [[nodiscard]] std::string_view name() const override { return "headless-egl"; }
  Result<void> make_current() override;
  Result<void> add_window(const Window& window) override;
  void remove_window(WindowId id) override;
  Result<void> update_window(const Window& window, ChangeMask changes) override;
  void restack(std::span<const WindowId> bottom_to_top) override { (void)bottom_to_top; }
  Result<void> begin_frame(const Window& window) override;
  Result<void> end_frame(const Window& window, bool last_in_frame) override;

  // What the window shows after its last present (window coordinates, BGRA, alpha 0xff
  // inside its visible region). Errc::kNotFound for an unknown id.
  Result<Image> read_back(WindowId id);
  // Off-screen there are no monitors unless a test says which (the compositor picks them up at
  // its next present(); before Compositor::create, at once).
  void set_monitors(std::vector<Monitor> monitors);
  [[nodiscard]] std::vector<Monitor> monitors() const override { return monitors_; }
  bool take_monitors_changed() override { return std::exchange(monitors_changed_, false); }
  // Number of frames presented for a window (tests check that undamaged windows are skipped).
  [[nodiscard]] std::uint64_t frames_of(WindowId id) const;
  // The renderbuffers that exist now and their pixels (width x height, summed): what the windows
  // cost in host memory (tests check the compositor's pixel budget against it).
  [[nodiscard]] std::size_t drawables() const { return targets_.size(); }
  [[nodiscard]] std::uint64_t drawable_pixels() const;

 private:
  struct Target {
    std::uint32_t fbo = 0;
    std::uint32_t color = 0;  // renderbuffer
    std::int32_t width = 0;
    std::int32_t height = 0;
    std::uint64_t frames = 0;
  };
  HeadlessBackend() = default;
  Result<void> allocate(Target& t, std::int32_t width, std::int32_t height);
  void release(Target& t);

  std::unique_ptr<EglContext> egl_;
  void* pbuffer_ = nullptr;  // EGLSurface when surfaceless contexts are unsupported
  std::unordered_map<WindowId, Target> targets_;
  std::vector<Monitor> monitors_;
  bool monitors_changed_ = false;
};

}  // namespace vitrine::compositor
