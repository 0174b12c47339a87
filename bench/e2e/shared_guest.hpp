// One VM per benchmark program, booted by the first benchmark that asks for it and shared by the
// rest (a QEMU TCG boot takes tens of seconds), stopped at exit. `Guest` has a static
// create() returning std::expected<std::unique_ptr<Guest>, std::string>.
#pragma once

#include <memory>
#include <string>

namespace vitrine::bench {

template <class Guest>
struct SharedGuest {
  std::unique_ptr<Guest> guest;
  std::string error;  // why there is none

  static SharedGuest& get() {
    static SharedGuest s = [] {
      SharedGuest r;
      auto g = Guest::create();
      if (g) r.guest = std::move(*g);
      else r.error = g.error();
      return r;
    }();
    return s;
  }
};

}  // namespace vitrine::bench
