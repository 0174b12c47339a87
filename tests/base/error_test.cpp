// base::Error: the template every room instantiates with its own codes.
#include "vitrine/base/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

namespace vitrine::test_room {

enum class Errc : std::uint8_t { kSystem, kMalformed };
std::string_view errc_name(Errc code) { return code == Errc::kSystem ? "system error" : "malformed"; }
using Error = base::Error<Errc>;
template <typename T>
using Result = base::Result<T, Errc>;
using base::fail;
using base::to_string;

// A room without kSystem: Error::sys is not offered (checked at compile time below).
enum class NoSysErrc : std::uint8_t { kOnly };
std::string_view errc_name(NoSysErrc) { return "only"; }

Result<int> parse(bool ok) {
  if (!ok) return fail(Errc::kMalformed, "length 7 < 8");
  return 42;
}

namespace {

template <typename E>
concept HasSys = requires { E::sys(std::string(), 0); };
static_assert(HasSys<Error>);
static_assert(!HasSys<base::Error<NoSysErrc>>);

TEST(BaseError, shouldCarryCodeErrnoAndMessageInAggregateOrder) {
  const Error e{Errc::kMalformed, 0, "bad"};
  EXPECT_EQ(e.code, Errc::kMalformed);
  EXPECT_EQ(e.sys_errno, 0);
  EXPECT_EQ(e.message, "bad");
}

TEST(BaseError, sysShouldAppendStrerrorAndKeepErrno) {
  const Error e = Error::sys("open /x", ENOENT);
  EXPECT_EQ(e.code, Errc::kSystem);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_EQ(e.message, std::string("open /x: ") + std::strerror(ENOENT));
}

TEST(BaseError, toStringShouldUseTheRoomsNameAndOmitAnEmptyMessage) {
  EXPECT_EQ(to_string(Error{Errc::kMalformed, 0, "length 7 < 8"}), "malformed: length 7 < 8");
  EXPECT_EQ(to_string(Error{Errc::kMalformed, 0, ""}), "malformed");
  EXPECT_EQ(base::to_string(base::Error<NoSysErrc>{NoSysErrc::kOnly, 0, "x"}), "only: x");
}

TEST(BaseError, failShouldMakeAnUnexpectedForResult) {
  auto r = parse(false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kMalformed);
  EXPECT_EQ(r.error().message, "length 7 < 8");
  auto ok = parse(true);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 42);
}

}  // namespace
}  // namespace vitrine::test_room
