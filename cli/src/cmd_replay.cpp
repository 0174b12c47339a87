// `vitrine replay FILE`: plays a recording made by `vitrine record` through a fresh FreeRDP
// client and the headless compositor, without the VM (replay_player.hpp), and reports how fast
// the host pipeline took it. Also registers `vitrine record` (add_record_replay_commands).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <thread>

#include "exit_codes.hpp"
#include "replay_commands.hpp"
#include "replay_player.hpp"
#include "shutdown_signal.hpp"

namespace vitrine::cli {

namespace {

struct ReplayArgs {
  std::string file;
  bool realtime = false;
  std::string screenshot_dir;
  std::int64_t channel = -1;
  std::uint32_t width = 1024;
  std::uint32_t height = 768;
  int timeout = 120;
};

int run_replay(const ReplayArgs& args) {
  ShutdownSignal signal;  // before the client's thread starts, so that it inherits the mask
  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  // Ctrl-C: the player checks `stop` in its loop; this thread only turns the signal into it.
  std::thread watcher([&] {
    while (!done.load()) {
      if (signal.poll_signal() != 0) stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  ReplayOptions o;
  o.recording = args.file;
  o.pacing = args.realtime ? perf::Pacing::kRealTime : perf::Pacing::kFullSpeed;
  if (args.channel >= 0) o.channel = static_cast<std::uint32_t>(args.channel);
  if (!args.screenshot_dir.empty()) o.screenshot_dir = std::filesystem::absolute(args.screenshot_dir);
  o.width = args.width;
  o.height = args.height;
  o.timeout = std::chrono::seconds(args.timeout);
  o.stop = &stop;
  auto r = replay_session(o);
  done = true;
  watcher.join();
  if (!r) {
    if (stop.load()) return kExitInterrupted;
    spdlog::error("replay of {}: {}", args.file, r.error());
    return kExitFailure;
  }
  const double total = std::chrono::duration<double>(r->elapsed).count();
  const double fed = std::chrono::duration<double>(r->feed.feed_time).count();
  fmt::print("replayed {} ({}): bus channel {}, {} server chunks, {} bytes fed in {:.3f} s ({:.1f} MB/s); {:.3f} s "
             "in all with client and display start\n",
             args.file, args.realtime ? "real time" : "full speed", r->feed.channel, r->feed.entries_fed,
             r->feed.bytes_fed, fed, fed > 0 ? static_cast<double>(r->feed.bytes_fed) / fed / 1e6 : 0.0, total);
  fmt::print("display: {} paints, {} presents, {} windows at the end\n", r->paints, r->presents, r->windows);
  for (const auto& p : r->screenshots) fmt::print("screenshot {}\n", p.string());
  if (r->client_error) spdlog::debug("client session ended: {}", *r->client_error);
  return kExitOk;
}

}  // namespace

void add_replay_command(CLI::App& app, GlobalOptions& /*globals*/, int& exit_code) {
  auto args = std::make_shared<ReplayArgs>();
  auto* cmd = app.add_subcommand(
      "replay",
      "Play a recording of `vitrine record` through the host pipeline (FreeRDP client, headless compositor) "
      "without the VM; write PNG screenshots of the windows at the end");
  cmd->add_option("file", args->file, "The recording")->required();
  cmd->add_flag("--realtime", args->realtime, "Keep the recorded gaps between PDUs (default: full speed)");
  cmd->add_option("--screenshot-dir", args->screenshot_dir, "Write one PNG per window and windows.json here");
  cmd->add_option("--channel", args->channel, "Bus channel to replay (default: the first connection)");
  cmd->add_option("--width", args->width, "Desktop width the client asks for")->capture_default_str();
  cmd->add_option("--height", args->height, "Desktop height the client asks for")->capture_default_str();
  cmd->add_option("--timeout", args->timeout, "Give up after this many seconds")->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = run_replay(*args); });
}

void add_record_replay_commands(CLI::App& app, GlobalOptions& globals, int& exit_code) {
  add_record_command(app, globals, exit_code);
  add_replay_command(app, globals, exit_code);
}

}  // namespace vitrine::cli
