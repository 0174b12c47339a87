// Shared by the headless tests: a compositor on HeadlessBackend and a random framebuffer.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <vector>

#include "vitrine/compositor/compositor.hpp"
#include "vitrine/compositor/headless_backend.hpp"
#include "vitrine/compositor/image.hpp"

namespace vitrine::compositor::testing {

// A framebuffer with padding at the end of each row, so that stride handling is exercised.
struct Framebuffer {
  std::int32_t width;
  std::int32_t height;
  std::size_t stride;
  std::vector<std::byte> bytes;
  Framebuffer(std::int32_t w, std::int32_t h, std::size_t pad = 16)
      : width(w), height(h), stride(static_cast<std::size_t>(w) * 4 + pad), bytes(stride * static_cast<std::size_t>(h)) {}
  PixelSource view() const { return {bytes.data(), width, height, stride}; }
  void randomize(std::mt19937& rng) {
    for (auto& b : bytes) b = std::byte{static_cast<std::uint8_t>(rng())};
  }
  void paint(const DesktopRect& r, std::mt19937& rng) {
    const DesktopRect c = r.intersect({0, 0, width, height});
    for (std::int32_t y = c.y; y < c.y + c.height; ++y)
      for (std::int32_t x = c.x; x < c.x + c.width; ++x)
        for (int k = 0; k < 4; ++k)
          bytes[static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * 4 + static_cast<std::size_t>(k)] =
              std::byte{static_cast<std::uint8_t>(rng())};
  }
};

inline void use_software_gl() {
  // Mesa llvmpipe: identical results with or without a GPU. A caller's own setting wins.
  setenv("LIBGL_ALWAYS_SOFTWARE", "1", 0);
}

struct Headless {
  HeadlessBackend* backend = nullptr;  // owned by compositor
  std::unique_ptr<Compositor> compositor;
};

// Returns an empty Headless (compositor == nullptr) with `why` set when EGL is unavailable.
inline Headless make_headless(const CompositorConfig& config, std::string& why) {
  use_software_gl();
  auto backend = HeadlessBackend::create();
  if (!backend) {
    why = to_string(backend.error());
    return {};
  }
  Headless h;
  h.backend = backend->get();
  auto c = Compositor::create(std::move(*backend), config);
  if (!c) {
    why = to_string(c.error());
    return {};
  }
  h.compositor = std::move(*c);
  return h;
}

}  // namespace vitrine::compositor::testing
