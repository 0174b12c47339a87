// vitrine-guest: the relay inside the guest. Wiring and argument parsing only.
//
//   vitrine-guest --bus-fd N [--doorbell-fds G,H0,H1,...]   inherited from the sandbox
//   vitrine-guest --handoff-fd S                             ringbus handoff over a Unix socket
//   vitrine-guest --bus-path /dev/shm/NAME [--doorbell-fds ...]
//   vitrine-guest --ivshmem [BDF] [--sysfs-root DIR]         in a VM (QEMU / vitrine-vmm)
//   options: --no-fixed-buffers
//            --apps-dir DIR (repeatable; a folder of .desktop files to publish; default: the
//            applications folders of $XDG_DATA_HOME and $XDG_DATA_DIRS), --no-catalog
//   vitrine-guest catalog [DIR...] [--start-menu DIR] [--watch]   what this guest publishes
//                                                                 (a diagnostic, no bus)
#include <signal.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "catalog_command.hpp"
#include "vitrine/catalog/desktop_scanner.hpp"
#include "vitrine/relay/bus_attach.hpp"
#include "vitrine/relay/catalog_feed.hpp"
#include "vitrine/relay/relay.hpp"
#include "vitrine/relay/uring_engine.hpp"
#include "vitrine/base/log.hpp"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: vitrine-guest (--bus-fd N | --handoff-fd S | --bus-path PATH | --ivshmem [BDF])\n"
               "                     [--doorbell-fds G,H0,...] [--sysfs-root DIR] [--no-fixed-buffers]\n"
               "                     [--apps-dir DIR]... [--no-catalog]\n"
               "  --apps-dir: publish the .desktop files below this absolute folder instead of the\n"
               "              applications folders of $XDG_DATA_HOME and $XDG_DATA_DIRS (repeatable,\n"
               "              the first wins on equal ids); icons: DIR/../icons, DIR/../pixmaps,\n"
               "              then the XDG data dirs'.\n"
               "  --no-catalog: publish no application catalogue.\n"
               "       vitrine-guest catalog --help: what this guest publishes (a diagnostic).\n");
}

int die(const std::string& what) {
  vitrine::base::log_error("{}", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vitrine;
  base::set_program_name("vitrine-guest");
  if (argc >= 2 && std::strcmp(argv[1], "catalog") == 0)
    return relay::run_catalog_command(std::span<char* const>(argv + 2, static_cast<std::size_t>(argc - 2)));
  int bus_fd = -1;
  int handoff_fd = -1;
  std::string bus_path;
  bool ivshmem = false;
  std::string bdf;
  std::string sysfs_root = "/sys";
  std::vector<int> doorbell_fds;
  relay::RelayOptions options;
  std::vector<std::filesystem::path> apps_dirs;
  bool publish_catalog = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    auto number = [&](int& out) {
      const char* v = value();
      if (!v) return false;
      auto list = relay::parse_fd_list(v);
      if (!list || list->size() != 1) return false;
      out = (*list)[0];
      return true;
    };
    if (a == "--bus-fd") {
      if (!number(bus_fd)) return usage(), 2;
    } else if (a == "--handoff-fd") {
      if (!number(handoff_fd)) return usage(), 2;
    } else if (a == "--bus-path") {
      const char* v = value();
      if (!v) return usage(), 2;
      bus_path = v;
    } else if (a == "--doorbell-fds") {
      const char* v = value();
      auto list = v ? relay::parse_fd_list(v) : std::unexpected(rdpmux::Error{rdpmux::Errc::kInvalidArgument, 0, "missing"});
      if (!list) return die(list.error().message);
      doorbell_fds = *list;
    } else if (a == "--ivshmem") {
      ivshmem = true;
      if (i + 1 < argc && argv[i + 1][0] != '-') bdf = argv[++i];
    } else if (a == "--sysfs-root") {
      const char* v = value();
      if (!v) return usage(), 2;
      sysfs_root = v;
    } else if (a == "--no-fixed-buffers") {
      options.register_memory = false;
    } else if (a == "--apps-dir") {
      const char* v = value();
      if (!v) return usage(), 2;
      const std::filesystem::path dir = std::filesystem::path(v).lexically_normal();
      if (!dir.is_absolute()) return die(std::string("--apps-dir ") + v + ": give an absolute path");
      apps_dirs.push_back(dir);    } else if (a == "--no-catalog") {
      publish_catalog = false;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      usage();
      return 2;
    }
  }
  if ((bus_fd >= 0) + (handoff_fd >= 0) + !bus_path.empty() + ivshmem != 1) return usage(), 2;

  rdpmux::Result<std::unique_ptr<relay::AttachedBus>> attached =
      bus_fd >= 0        ? relay::attach_inherited(bus_fd, doorbell_fds)
      : handoff_fd >= 0  ? relay::attach_handoff(handoff_fd, std::chrono::seconds(10))
      : !bus_path.empty() ? relay::attach_file(bus_path, doorbell_fds)
                          : relay::attach_ivshmem(sysfs_root, bdf);
  if (!attached) return die("attaching the bus: " + rdpmux::to_string(attached.error()));

  // SIGTERM / SIGINT end the loop cleanly (every connection closed, Closed sent).
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  ringbus::UniqueFd stop_fd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!stop_fd) return die(std::string("signalfd: ") + std::strerror(errno));
  // A relay writing to a socket whose peer vanished gets EPIPE, never a signal.
  ::signal(SIGPIPE, SIG_IGN);

  auto engine = relay::UringEngine::create();
  if (!engine) return die(rdpmux::to_string(engine.error()));
  auto r = relay::Relay::create((*attached)->bus, (*attached)->doorbells, **engine, options);
  if (!r) return die(rdpmux::to_string(r.error()));
  if (publish_catalog) {
    catalog::ScanOptions scan;
    scan.data_dirs = catalog::xdg_data_dirs_from_env();
    if (!apps_dirs.empty()) {
      // Icons of an XDG-shaped folder (DATA/applications) sit in DATA/icons: look there first.
      std::vector<std::filesystem::path> icon_dirs;
      for (const auto& d : apps_dirs) icon_dirs.push_back(d.parent_path());
      scan.data_dirs.insert(scan.data_dirs.begin(), icon_dirs.begin(), icon_dirs.end());
      scan.application_dirs = apps_dirs;
    }
    // A quarter of the control ring per record: replies always find room beside a fragment.
    const std::size_t ring_payload = (*attached)->bus.channel(rdpmux::kControlChannel).tx().max_payload();
    const std::size_t max_record = std::min<std::size_t>(rdpmux::kMaxCatalogFragmentBytes, ring_payload / 4);
    if (max_record <= sizeof(rdpmux::CatalogFragmentHeader) + 64) {
      base::log_warn("control ring too small for the catalogue ({} bytes): not published", ring_payload);
    } else if (auto feed = relay::CatalogFeed::start(std::move(scan), max_record); !feed) {
      base::log_warn("catalogue not published: {}", rdpmux::to_string(feed.error()));
    } else {
      (*r)->set_catalog(std::move(*feed));
    }
  }
  base::log_info("attached to {}, {} channels, {}, fixed buffers {}", (*attached)->description,
                 (*attached)->bus.channel_count(),
                 (*attached)->doorbells.host_ringer() ? "polling, ringing the host"
                 : (*attached)->doorbells.polling()   ? "polling"
                                                      : "eventfd doorbells",
                 (*r)->fixed_buffers() ? "on" : "off (" + (*engine)->register_error() + ")");
  std::atomic<bool> stop{false};
  auto run = (*r)->run(stop, stop_fd.get());
  if (!run) return die(rdpmux::to_string(run.error()));
  return 0;
}
