#include "vitrine/catalog/png_image.hpp"

#include <gtest/gtest.h>

namespace vitrine::catalog {
namespace {

TEST(PngImage, EncodeDecodeRoundTripIsExact) {
  RgbaImage img{7, 5, {}};
  for (std::uint32_t i = 0; i < 7 * 5 * 4; ++i) img.pixels.push_back(static_cast<std::uint8_t>(i * 37));
  auto png = encode_png(img);
  ASSERT_TRUE(png) << png.error().message;
  auto back = decode_png(*png);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->width, 7u);
  EXPECT_EQ(back->height, 5u);
  EXPECT_EQ(back->pixels, img.pixels);
}

TEST(PngImage, RejectsGarbageTruncationAndOversize) {
  std::vector<std::byte> junk(64, std::byte{0x41});
  EXPECT_FALSE(decode_png(junk));
  RgbaImage img{40, 30, std::vector<std::uint8_t>(40 * 30 * 4, 200)};
  auto png = encode_png(img);
  ASSERT_TRUE(png);
  // (A file cut inside IEND still holds the whole image: spng stops after the image data.)
  for (std::size_t n : {std::size_t{0}, std::size_t{8}, std::size_t{20}, png->size() / 2}) {
    auto r = decode_png(std::span(*png).first(n));
    EXPECT_FALSE(r) << "prefix " << n;
  }
  auto big = decode_png(*png, 16);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::kTooLarge);
  EXPECT_FALSE(encode_png(RgbaImage{2, 2, std::vector<std::uint8_t>(3)}));
  EXPECT_FALSE(encode_png(RgbaImage{}));
}

}  // namespace
}  // namespace vitrine::catalog
