// One VM per benchmark program, booted by the first benchmark that asks for it and shared by the
// rest (a QEMU TCG boot takes tens of seconds), stopped at exit or by stop(): an idle TCG guest
// still costs host CPU, which the benchmarks after it would pay. `Guest` has a static create()
// returning std::expected<std::unique_ptr<Guest>, std::string>.
#pragma once

#include <memory>
#include <string>

namespace vitrine::bench {

template <class Guest>
struct SharedGuest {
  std::unique_ptr<Guest> guest;
  std::string error;  // why there is none

  // Boots the VM on the first call (again after stop()).
  static SharedGuest& get() {
    auto& s = slot();
    if (!s) {
      s = std::make_unique<SharedGuest>();
      auto g = Guest::create();
      if (g) s->guest = std::move(*g);
      else s->error = g.error();
    }
    return *s;
  }
  // Stops the VM if one runs; boots nothing.
  static void stop() { slot().reset(); }

 private:
  static std::unique_ptr<SharedGuest>& slot() {
    static std::unique_ptr<SharedGuest> s;
    return s;
  }
};

}  // namespace vitrine::bench
