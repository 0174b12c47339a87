#include "rail_bench_driver.hpp"

#include <vector>

#include "rail_bench_protocol.hpp"

namespace vitrine::testing {

using namespace std::chrono_literals;
namespace bp = bench_protocol;

std::unique_ptr<RailBenchDriver> RailBenchDriver::start(int fd, std::chrono::milliseconds ready_timeout) {
  std::unique_ptr<RailBenchDriver> d(new RailBenchDriver());
  d->server_ = RailTestServer::start(fd);
  d->thread_ = std::thread([raw = d.get(), ready_timeout] { raw->run(ready_timeout); });
  return d;
}

RailBenchDriver::~RailBenchDriver() {
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

bool RailBenchDriver::paint(std::uint32_t stamp) {
  if (!bp::paint_stamp(*server_, stamp)) return false;
  paints_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void RailBenchDriver::run(std::chrono::milliseconds ready_timeout) {
  // Release: finished() readers see everything this thread did before it.
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag.store(true, std::memory_order_release); }
  } done{finished_};
  if (!server_->wait_ready(ready_timeout)) return;
  // The ready mark: the stamp pixel alone (the client's framebuffer is 1024x768).
  constexpr auto kStampAt = static_cast<std::int32_t>(bp::kSide) - 1;
  if (!server_->paint(kStampAt, kStampAt, 1, 1, [](std::int32_t, std::int32_t) { return 0xFF000000u | bp::kReadyStamp; }))
    return;
  paints_.fetch_add(1, std::memory_order_relaxed);
  std::size_t seen = 0;
  std::vector<ReceivedInput> fresh;
  while (!stop_.load(std::memory_order_relaxed) && !server_->ended()) {
    // The predicate runs under the server's lock: copy only what is new since the last round.
    const bool any = server_->wait_input(
        [&](const std::vector<ReceivedInput>& all) {
          if (all.size() <= seen) return false;
          fresh.assign(all.begin() + static_cast<std::ptrdiff_t>(seen), all.end());
          seen = all.size();
          return true;
        },
        200ms);
    if (!any) continue;
    for (const ReceivedInput& in : fresh) {
      if (in.kind != ReceivedInput::Kind::kMouse) continue;
      if (in.y < bp::kTriggerTop) {
        if (!paint(bp::probe_stamp(in.x, in.y))) return;
        continue;
      }
      const std::uint32_t batch = bp::batch_index(in.x, in.y);
      for (int i = 0; i < bp::kBatch; ++i)
        if (!paint(bp::batch_stamp(batch, i))) return;
    }
  }
}

}  // namespace vitrine::testing
