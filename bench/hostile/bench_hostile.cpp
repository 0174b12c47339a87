// bench_hostile: UI-thread latency and host memory while a hostile guest attacks (issue 17).
//
// Each benchmark is one attack (attacks.hpp) against a fresh Host (harness.hpp): the attack
// thread pushes for VITRINE_HOSTILE_SECONDS (default 3) while this thread runs the UI loop of
// `vitrine run` and times every turn (display.dispatch() + mux.poll(); the poll() sleep is not
// part of a turn). BM_QuietGuest, first and last, is the baseline: the same loop, same host, a
// guest that sends nothing. Counters (per attack):
//   ui_max_us, ui_p99_us, ui_p50_us   one UI turn, microseconds (steady_clock)
//   turns_per_s, ui_wakeups_per_s     UI turns, and poll() returns with a readable fd, per second
//   rss_anon_growth_kib               anonymous resident memory after - before the attack (the
//   rss_anon_peak_growth_kib          bus memfd's pages excluded: in a VM they are guest memory);
//   rss_growth_kib                    peak sampled every 50 ms; all resident pages
//   log_lines                         host log lines (base::log) during the attack
//   guest_records_per_s               what the attacker got into the rings
// plus what the attacked component counted, named as in its header (HostMuxCounters,
// ConnectionStats, SurfaceCounters, CompositorStats), also summarised in the label.
// After the run the program prints one table: attack, UI max / p99 against the baseline, RSS
// growth, host counters. Performance is measured here, never asserted.
#include <benchmark/benchmark.h>
#include <poll.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "attacks.hpp"
#include "harness.hpp"

namespace vitrine::bench::hostile {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds attack_duration() {
  const char* v = std::getenv("VITRINE_HOSTILE_SECONDS");
  const double s = v != nullptr ? std::atof(v) : 3.0;
  return std::chrono::milliseconds(static_cast<long>((s > 0 ? s : 3.0) * 1000));
}

// A connection's reader loop (ConnectionBridge's shape: peek, consume, or arm and sleep on the
// shared doorbell), with every peek_read() timed.
struct PumpResult {
  TurnTimes calls;
  std::uint64_t wakeups = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t bytes = 0;
};

void pump(rdpmux::Connection& conn, const std::atomic<bool>& stop, PumpResult& r) {
  r.calls.us.reserve(1 << 20);
  while (!stop.load(std::memory_order_relaxed)) {
    const auto t0 = Clock::now();
    auto span = conn.peek_read();
    r.calls.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!span) return;
    if (!span->empty()) {
      r.bytes += span->size();
      conn.consume(span->size());
      continue;
    }
    if (conn.eof()) return;
    if (conn.prepare_wait(true, false)) {  // records wait (a budget stop): no sleep
      conn.finish_wait();
      continue;
    }
    pollfd p{conn.wake_fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) r.wakeups += 1;
    else r.timeouts += 1;
    conn.finish_wait();  // drains the shared eventfd, passes the wake-up on if another reader waits
  }
}

using Attack = std::function<void(Host&, const std::atomic<bool>&, GuestCounters&)>;

struct Case {
  HostOptions host;
  bool connection = false;  // open channel 1 and run a reader on it (pump) beside the UI loop
  Attack attack;            // empty: a quiet guest
  // Sets the component's counters on `state`; value: the label (a summary of them).
  std::function<std::string(Host&, rdpmux::Connection*, const GuestCounters&, benchmark::State&)> counters;
};

std::string fmt_u(const char* name, std::uint64_t v) { return std::string(name) + "=" + std::to_string(v); }

void run_case(benchmark::State& state, const Case& spec) {
  for (auto _ : state) {
    auto host = Host::create(spec.host);
    if (!host) {
      state.SkipWithError(("no host: " + host.error()).c_str());
      return;
    }
    std::unique_ptr<rdpmux::Connection> conn;
    if (spec.connection) {
      auto c = (*host)->open_connection();
      if (!c) {
        state.SkipWithError(c.error().c_str());
        return;
      }
      conn = std::move(*c);
    }
    const std::uint64_t log0 = log_lines();
    std::atomic<bool> stop{false};
    GuestCounters guest;
    PumpResult pumped;
    std::thread reader;
    if (conn) reader = std::thread([&] { pump(*conn, stop, pumped); });
    std::thread attacker;
    if (spec.attack) attacker = std::thread([&] { spec.attack(**host, stop, guest); });

    const UiLoopResult r = run_ui_loop(**host, attack_duration());

    stop = true;
    // The window storm's attacker (FreeRDP's session thread in the product) may be waiting for
    // room in the display's bounded queue, which no UI turn empties now: release it.
    (*host)->display().shutdown();
    if (attacker.joinable()) attacker.join();
    if (reader.joinable()) reader.join();
    state.SetIterationTime(r.seconds);

    state.counters["ui_max_us"] = r.turns.max_us();
    state.counters["ui_p99_us"] = r.turns.percentile_us(0.99);
    state.counters["ui_p50_us"] = r.turns.percentile_us(0.50);
    state.counters["turns_per_s"] = double(r.turns.us.size()) / r.seconds;
    state.counters["ui_wakeups_per_s"] = double(r.wakeups) / r.seconds;
    state.counters["rss_growth_kib"] = double(r.rss_after.total_kib - r.rss_before.total_kib);
    state.counters["rss_anon_growth_kib"] = double(r.rss_after.anon_kib - r.rss_before.anon_kib);
    state.counters["rss_anon_peak_growth_kib"] = double(r.rss_peak.anon_kib - r.rss_before.anon_kib);
    state.counters["log_lines"] = double(log_lines() - log0);
    state.counters["guest_records_per_s"] = double(guest.records.load()) / r.seconds;
    if (conn) {
      state.counters["pump_max_us"] = pumped.calls.max_us();
      state.counters["pump_p99_us"] = pumped.calls.percentile_us(0.99);
      state.counters["pump_calls_per_s"] = double(pumped.calls.us.size()) / r.seconds;
      state.counters["pump_wakeups_per_s"] = double(pumped.wakeups) / r.seconds;
    }
    std::string label = spec.counters ? spec.counters(**host, conn.get(), guest, state) : std::string("quiet guest");
    state.SetLabel(label);
    if (conn) conn->close();
  }
}

// ---- per-attack counters of the host -----------------------------------------------------------

std::string mux_counters(Host& h, benchmark::State& state) {
  const auto& m = h.mux().counters();
  state.counters["protocol_errors"] = double(m.protocol_errors.load());
  state.counters["replies_dropped"] = double(m.replies_dropped.load());
  state.counters["budget_deferrals"] = double(m.budget_deferrals.load());
  state.counters["error_replies"] = double(m.error_replies.load());
  return fmt_u("protocol_errors", m.protocol_errors.load()) + " " + fmt_u("replies_dropped", m.replies_dropped.load()) +
         " " + fmt_u("budget_deferrals", m.budget_deferrals.load()) + " " + fmt_u("guest_error_replies", m.error_replies.load());
}

std::string catalog_counters(Host& h, const GuestCounters& g, benchmark::State& state) {
  const auto& m = h.mux().counters();
  const auto& c = h.catalog();
  state.counters["catalog_fragments"] = double(m.catalog_fragments.load());
  state.counters["catalogs_complete"] = double(m.catalogs_complete.load());
  state.counters["catalogs_abandoned"] = double(m.catalogs_abandoned.load());
  state.counters["catalogs_decoded"] = double(c.decoded.load());
  state.counters["catalogs_refused"] = double(c.refused.load());
  state.counters["apps_kept"] = double(c.apps.load());
  state.counters["budget_deferrals"] = double(m.budget_deferrals.load());
  state.counters["guest_catalogues_sent"] = double(g.rounds.load());
  std::string s = fmt_u("fragments", m.catalog_fragments.load()) + " " + fmt_u("complete", m.catalogs_complete.load()) +
                  " " + fmt_u("abandoned", m.catalogs_abandoned.load()) + " " + fmt_u("decoded", c.decoded.load()) +
                  " " + fmt_u("refused", c.refused.load()) + " " + fmt_u("apps_kept", c.apps.load()) + " " +
                  fmt_u("budget_deferrals", m.budget_deferrals.load());
  if (c.blobs_joined.load() != 0) s += " " + fmt_u("decoder_superseded", c.worker_dropped.load());
  if (g.errors.load() != 0) s += " GUEST_ENCODE_FAILED";
  return s;
}

void register_cases() {
  auto reg = [](const char* name, Case spec) {
    benchmark::RegisterBenchmark(name, [spec](benchmark::State& s) { run_case(s, spec); })
        ->Iterations(1)
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  };
  reg("BM_QuietGuest", {});
  reg("BM_PingFloodGuestNotReading",
      {.host = {}, .attack = ping_flood,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters&, benchmark::State& s) { return mux_counters(h, s); }});
  reg("BM_ControlGarbage",
      {.host = {}, .attack = control_garbage,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters&, benchmark::State& s) { return mux_counters(h, s); }});
  reg("BM_CatalogMinimal32MiB",
      {.host = {}, .attack = catalog_minimal_32mib,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
         return catalog_counters(h, g, s);
       }});
  reg("BM_CatalogRestartingFragments",
      {.host = {}, .attack = catalog_restarts,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
         return catalog_counters(h, g, s);
       }});
  reg("BM_CatalogFatMaxApps/decode_on_ui",
      {.host = {.catalog = CatalogMode::kAddOnUi, .doorbells = Doorbells::kPerChannel},
       .attack = catalog_fat,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
         return catalog_counters(h, g, s);
       }});
  reg("BM_CatalogFatMaxApps/decode_on_worker",
      {.host = {.catalog = CatalogMode::kDecodeOnWorker, .doorbells = Doorbells::kPerChannel},
       .attack = catalog_fat,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
         return catalog_counters(h, g, s);
       }});
  reg("BM_StampFlood",
      {.host = {}, .connection = true,
       .attack = stamp_flood,
       .counters = [](Host& h, rdpmux::Connection* c, const GuestCounters&, benchmark::State& s) {
         const auto& m = h.mux().counters();
         const auto& cs = c->stats();
         s.counters["bad_stamps"] = double(m.bad_stamps.load());
         s.counters["peek_budget_stops"] = double(cs.peek_budget_stops);
         s.counters["records_read"] = double(cs.records_read);
         return fmt_u("bad_stamps", m.bad_stamps.load()) + " " + fmt_u("peek_budget_stops", cs.peek_budget_stops) + " " +
                fmt_u("bytes_read", cs.bytes_read);
       }});
  auto surface_counters = [](Host& h, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
         const auto st = h.display().stats();
         const auto& sc = st.surface;
         s.counters["surface_faults"] = double(sc.faults);
         s.counters["surfaces_dropped"] = double(sc.dropped);
         s.counters["surface_ignored"] = double(sc.ignored);
         s.counters["surface_presents"] = double(sc.presents);
         s.counters["surface_budget_yields"] = double(sc.budget_yields);
         s.counters["surface_ring_faults"] = double(sc.ring_faults);
         s.counters["surface_uploads"] = double(st.surface_pump.uploads);
         s.counters["surface_mib_uploaded"] = double(st.surface_pump.bytes_uploaded) / (1 << 20);
         s.counters["surfaces_live"] = double(sc.surfaces);
         s.counters["guest_rounds"] = double(g.rounds.load());
         return fmt_u("faults", sc.faults) + " " + fmt_u("dropped", sc.dropped) + " " + fmt_u("ignored", sc.ignored) + " " +
                fmt_u("presents", sc.presents) + " " + fmt_u("uploads", st.surface_pump.uploads) + " " +
                fmt_u("budget_yields", sc.budget_yields) + " " + fmt_u("ring_faults", sc.ring_faults) + " " +
                fmt_u("releases_deferred", sc.releases_deferred) + " " + fmt_u("live", sc.surfaces);
  };
  reg("BM_SurfaceValidPresents", {.host = {}, .attack = surface_valid, .counters = surface_counters});
  reg("BM_SurfaceAbuse", {.host = {}, .attack = surface_abuse, .counters = surface_counters});
  reg("BM_WindowOrderStorm",
      {.host = {}, .attack = window_storm,
       .counters = [](Host& h, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
         const auto st = h.display().stats();
         s.counters["window_orders"] = double(g.records.load());
         s.counters["model_errors"] = double(g.errors.load());
         s.counters["event_backlog_max"] = double(g.backlog_max.load());
         s.counters["storm_throttled"] = double(g.throttled.load());
         s.counters["refused"] = double(st.refused);
         s.counters["over_budget"] = double(st.compositor.over_budget);
         s.counters["window_pixels"] = double(st.compositor.window_pixels);
         s.counters["window_pixel_budget"] = double(st.compositor.window_pixel_budget);
         s.counters["windows_parked"] = double(st.compositor.windows_parked);
         s.counters["retire_fences"] = double(st.compositor.retire_fences);
         s.counters["retiring_pixels"] = double(st.compositor.retiring_pixels);
         return fmt_u("orders", g.records.load()) + " " + fmt_u("model_errors", g.errors.load()) + " " +
                fmt_u("backlog_max", g.backlog_max.load()) + " " + fmt_u("throttled", g.throttled.load()) + " " +
                fmt_u("over_budget", st.compositor.over_budget) + " " + fmt_u("refused", st.refused) + " " +
                fmt_u("window_pixels", st.compositor.window_pixels) + "/" +
                std::to_string(st.compositor.window_pixel_budget) + " " + fmt_u("parked", st.compositor.windows_parked) +
                " " + fmt_u("retire_fences", st.compositor.retire_fences);
       }});
  auto doorbell_counters = [](Host&, rdpmux::Connection*, const GuestCounters& g, benchmark::State& s) {
    s.counters["guest_rings"] = double(g.rings.load());
    return fmt_u("guest_rings", g.rings.load());
  };
  const HostOptions vm{.catalog = CatalogMode::kAddOnUi, .doorbells = Doorbells::kShared};
  reg("BM_QuietGuest/shared_doorbell", {.host = vm, .connection = true, .attack = {}, .counters = {}});
  reg("BM_DoorbellRingsOnly", {.host = vm, .connection = true,
                               .attack = [](Host& h, const std::atomic<bool>& stop, GuestCounters& c) {
                                 doorbell_forgery(h, stop, c, false);
                               },
                               .counters = doorbell_counters});
  reg("BM_DoorbellForgery", {.host = vm, .connection = true,
                             .attack = [](Host& h, const std::atomic<bool>& stop, GuestCounters& c) {
                               doorbell_forgery(h, stop, c, true);
                             },
                             .counters = doorbell_counters});
  reg("BM_QuietGuest/again", {});
}

// ---- the summary -----------------------------------------------------------------------------

struct Row {
  std::map<std::string, double> counters;
  std::string label;
};

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  std::vector<std::pair<std::string, Row>> rows;
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      Row r;
      for (const auto& [name, counter] : run.counters) r.counters[name] = counter.value;
      r.label = run.report_label;
      rows.emplace_back(run.benchmark_name(), std::move(r));
    }
    ConsoleReporter::ReportRuns(runs);
  }
};

void print_summary(const CollectingReporter& rep) {
  // Each row against the quiet guest of its doorbell kind: the first BM_QuietGuest, or
  // BM_QuietGuest/shared_doorbell for the doorbell rows that follow it.
  const Row* first_quiet = nullptr;
  const Row* base = nullptr;
  auto get = [](const Row& r, const char* k) {
    auto it = r.counters.find(k);
    return it == r.counters.end() ? 0.0 : it->second;
  };
  std::printf("\nHostile guest: UI turn latency and host memory under attack (%.1f s per attack)\n",
              double(attack_duration().count()) / 1000);
  std::printf("| attack | UI turn max us (x quiet) | UI turn p99 us (x quiet) | turns/s | UI wake-ups/s | anon RSS growth KiB (peak) | host counters |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& [full_name, row] : rep.rows) {
    const std::string name = full_name.substr(0, full_name.find("/iterations:"));
    if (name.rfind("BM_QuietGuest", 0) == 0) {
      if (first_quiet == nullptr) first_quiet = &row;
      base = name.find("shared") != std::string::npos ? &row : first_quiet;
    }
    const double mx = get(row, "ui_max_us"), p99 = get(row, "ui_p99_us");
    const double bmx = base ? get(*base, "ui_max_us") : 0, bp99 = base ? get(*base, "ui_p99_us") : 0;
    std::string extra = row.label;
    if (row.counters.contains("pump_max_us"))
      extra += " | reader: peek_read max " + std::to_string(static_cast<long>(get(row, "pump_max_us"))) + " us, p99 " +
               std::to_string(static_cast<long>(get(row, "pump_p99_us"))) + " us, " +
               std::to_string(static_cast<long>(get(row, "pump_wakeups_per_s"))) + " wake-ups/s";
    std::printf("| %s | %.0f (%.1fx) | %.0f (%.1fx) | %.0f | %.1f | %+.0f (%+.0f) | %s; log_lines=%.0f |\n", name.c_str(), mx,
                bmx > 0 ? mx / bmx : 0.0, p99, bp99 > 0 ? p99 / bp99 : 0.0, get(row, "turns_per_s"),
                get(row, "ui_wakeups_per_s"), get(row, "rss_anon_growth_kib"), get(row, "rss_anon_peak_growth_kib"),
                extra.c_str(), get(row, "log_lines"));
  }
  std::fflush(stdout);
}

}  // namespace
}  // namespace vitrine::bench::hostile

int main(int argc, char** argv) {
  using namespace vitrine::bench::hostile;
  install_counting_log_sink();
  register_cases();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  print_summary(reporter);
  return 0;
}
