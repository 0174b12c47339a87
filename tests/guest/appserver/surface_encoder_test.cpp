#include <gtest/gtest.h>  // before X11 headers: Xlib's None/Bool macros break gtest

#include "rdp/surface_encoder.hpp"

#include <freerdp/codec/color.h>
#include <freerdp/codec/planar.h>
#include <freerdp/codec/region.h>
#include <freerdp/codec/rfx.h>

#include <cstdlib>
#include <cstring>
#include <random>

namespace vitrine::appserver::rdp {
namespace {

// A desktop-like test image: flat areas, text-like strokes, a gradient and noise.
std::vector<uint8_t> test_image(int w, int h, int stride) {
  std::vector<uint8_t> img(size_t(stride) * size_t(h));
  std::mt19937 rng(7);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = &img[size_t(y) * size_t(stride) + size_t(x) * 4];
      uint32_t v = 0xf0f0f0;
      if (x < w / 3) v = ((x / 3 + y / 5) % 7 == 0) ? 0x000000 : 0xffffff;
      else if (x < 2 * w / 3) v = uint32_t(x * 255 / w) << 16 | uint32_t(y * 255 / h) << 8 | 0x40;
      else v = rng() & 0xffffff;
      p[0] = uint8_t(v);
      p[1] = uint8_t(v >> 8);
      p[2] = uint8_t(v >> 16);
      p[3] = 0xff;
    }
  }
  return img;
}

struct Fixture {
  int w = 200, h = 130, stride = 200 * 4 + 32;
  std::vector<uint8_t> pixels = test_image(w, h, stride);
  x11::ImageView view{pixels.data(), stride, w, h};
  Rect dest{40, 20, w, h};
  Rect desktop{0, 0, 1024, 768};
  uint32_t src(int x, int y) const {
    const uint8_t* p = &pixels[size_t(y) * size_t(stride) + size_t(x) * 4];
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16;
  }
};

TEST(SurfaceEncoder, PlanarIsLosslessAndTiledWithinTheBudget) {
  Fixture f;
  auto enc = SurfaceEncoder::create(Codec::kPlanar, f.desktop, 65535);
  ASSERT_TRUE(enc) << enc.error();
  ASSERT_TRUE((*enc)->encode(f.view, f.dest));
  BITMAP_PLANAR_CONTEXT* dec = freerdp_bitmap_planar_context_new(0, 64, 64);
  ASSERT_NE(dec, nullptr);
  int64_t covered = 0;
  for (const EncodedBitmap& b : (*enc)->bitmaps()) {
    EXPECT_LE(b.length, (*enc)->payload_budget());
    std::vector<uint8_t> out(size_t(b.width) * b.height * 4);
    // The client decodes with vFlip (gdi_Bitmap_Decompress): planar planes are bottom-up.
    ASSERT_TRUE(planar_decompress(dec, (*enc)->data() + b.offset, uint32_t(b.length), b.width, b.height, out.data(),
                                  PIXEL_FORMAT_BGRX32, 0, 0, 0, b.width, b.height, TRUE));
    for (int y = 0; y < b.dest.height; ++y) {
      for (int x = 0; x < b.dest.width; ++x) {
        const uint8_t* p = &out[(size_t(y) * b.width + size_t(x)) * 4];
        const uint32_t got = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16;
        ASSERT_EQ(got, f.src(b.dest.x - f.dest.x + x, b.dest.y - f.dest.y + y)) << "at " << x << "," << y;
      }
    }
    covered += b.dest.area();
  }
  EXPECT_EQ(covered, f.dest.area());
  freerdp_bitmap_planar_context_free(dec);
}

TEST(SurfaceEncoder, RawIsBottomUpAndSplitByTheBudget) {
  Fixture f;
  const size_t limit = 64 * 64 * 4 + 2048;  // small client limit forces several commands
  auto enc = SurfaceEncoder::create(Codec::kRaw, f.desktop, limit);
  ASSERT_TRUE(enc) << enc.error();
  ASSERT_TRUE((*enc)->encode(f.view, f.dest));
  ASSERT_GT((*enc)->bitmaps().size(), 1u);
  int64_t covered = 0;
  for (const EncodedBitmap& b : (*enc)->bitmaps()) {
    EXPECT_LE(b.length + 1024, limit);
    ASSERT_EQ(b.length, size_t(b.width) * b.height * 4);
    for (int y = 0; y < b.height; ++y) {
      const uint8_t* row = (*enc)->data() + b.offset + size_t(b.height - 1 - y) * b.width * 4;
      for (int x = 0; x < b.width; ++x) {
        const uint32_t got = uint32_t(row[x * 4]) | uint32_t(row[x * 4 + 1]) << 8 | uint32_t(row[x * 4 + 2]) << 16;
        ASSERT_EQ(got, f.src(b.dest.x - f.dest.x + x, b.dest.y - f.dest.y + y));
      }
    }
    covered += b.dest.area();
  }
  EXPECT_EQ(covered, f.dest.area());
}

TEST(SurfaceEncoder, RemoteFxDecodesCloseToTheSource) {
  Fixture f;
  auto enc = SurfaceEncoder::create(Codec::kRemoteFx, f.desktop, 65535);
  ASSERT_TRUE(enc) << enc.error();
  ASSERT_TRUE((*enc)->encode(f.view, f.dest));
  ASSERT_FALSE((*enc)->bitmaps().empty());
  RFX_CONTEXT* dec = rfx_context_new(FALSE);
  ASSERT_NE(dec, nullptr);
  rfx_context_set_pixel_format(dec, PIXEL_FORMAT_BGRX32);
  std::vector<uint8_t> screen(1024 * 768 * 4, 0);
  for (const EncodedBitmap& b : (*enc)->bitmaps()) {
    EXPECT_LE(b.length, (*enc)->payload_budget() + 1024);
    REGION16 region;
    region16_init(&region);
    ASSERT_TRUE(rfx_process_message(dec, (*enc)->data() + b.offset, uint32_t(b.length), uint32_t(b.dest.x),
                                    uint32_t(b.dest.y), screen.data(), PIXEL_FORMAT_BGRX32, 1024 * 4, 768, &region));
    region16_uninit(&region);
  }
  // Lossy: compare the flat left third (white/black strokes) loosely, channel by channel.
  int64_t error = 0;
  int64_t n = 0;
  for (int y = 0; y < f.h; ++y) {
    for (int x = 0; x < f.w / 3; ++x) {
      const uint8_t* p = &screen[(size_t(f.dest.y + y) * 1024 + size_t(f.dest.x + x)) * 4];
      const uint32_t s = f.src(x, y);
      error += std::abs(int(p[1]) - int((s >> 8) & 0xff));
      ++n;
    }
  }
  EXPECT_LT(double(error) / double(n), 24.0);
  rfx_context_free(dec);
}

TEST(SurfaceEncoder, RemoteFxEncodesAFullDesktopRepeatedly) {
  const int w = 1024, h = 768;
  std::vector<uint8_t> px = test_image(w, h, w * 4);
  auto enc = SurfaceEncoder::create(Codec::kRemoteFx, {0, 0, w, h}, 65535);
  ASSERT_TRUE(enc);
  for (int i = 0; i < 3; ++i) {
    (*enc)->clear();
    ASSERT_TRUE((*enc)->encode({px.data(), w * 4, w, h}, {0, 0, w, h})) << "round " << i;
    EXPECT_GT((*enc)->bitmaps().size(), 1u);
  }
}

TEST(SurfaceEncoder, RejectsRectanglesOutsideTheDesktopOrMismatchedImages) {
  Fixture f;
  auto enc = SurfaceEncoder::create(Codec::kPlanar, {0, 0, 100, 100}, 65535);
  ASSERT_TRUE(enc);
  EXPECT_FALSE((*enc)->encode(f.view, f.dest));  // 200 wide at x=40 does not fit 100
  x11::ImageView small = f.view;
  small.width = 10;
  EXPECT_FALSE((*enc)->encode(small, {0, 0, 20, 20}));
}

TEST(SurfaceEncoder, RefusesAClientLimitBelowOneTile) {
  EXPECT_FALSE(SurfaceEncoder::create(Codec::kRaw, {0, 0, 640, 480}, 4096));
  EXPECT_FALSE(SurfaceEncoder::create(Codec::kPlanar, {0, 0, 0, 0}, 65535));
}

TEST(Codec, NamesRoundTrip) {
  for (Codec c : {Codec::kPlanar, Codec::kRaw, Codec::kRemoteFx}) EXPECT_EQ(parse_codec(codec_name(c)), c);
  EXPECT_FALSE(parse_codec("h264"));
}

}  // namespace
}  // namespace vitrine::appserver::rdp
