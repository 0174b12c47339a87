#include "launcher_protocol.hpp"

#include <gtest/gtest.h>

namespace vitrine::cli {
namespace {

TEST(LauncherProtocol, LinesRoundTripWithEscapes) {
  std::vector<std::string> fields{"launch", "app\twith\ttabs", "new\nline", "back\\slash", ""};
  std::string line = encode_line(fields);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto back = decode_line(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, fields);
  EXPECT_FALSE(decode_line("bad\\q"));
  EXPECT_FALSE(decode_line("trailing\\"));
  EXPECT_FALSE(decode_line(std::string_view("nul\0x", 5)));
}

TEST(LauncherProtocol, Base64RoundTripAndRejectsGarbage) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x80", 3)}) {
    auto enc = base64_encode(s);
    auto dec = base64_decode(enc);
    ASSERT_TRUE(dec) << enc;
    EXPECT_EQ(*dec, s);
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!d"));
  EXPECT_FALSE(base64_decode("a=bc"));
  EXPECT_FALSE(base64_decode("ab=c"));
}

}  // namespace
}  // namespace vitrine::cli
