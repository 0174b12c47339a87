#include "qemu_surface_guest.hpp"

#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "guest_image.hpp"
#include "surface_stamp_protocol.hpp"

#ifndef HV_APPSERVER
#error "HV_APPSERVER must name the vitrine-appserver binary"
#endif

namespace vitrine::hv::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace ss = surface_stamp;

constexpr const char* kXvfb = "/usr/bin/Xvfb";
constexpr const char* kXkbcomp = "/usr/bin/xkbcomp";
constexpr const char* kXkbData = "/usr/share/X11/xkb";
constexpr const char* kVmName = "surfaces";

// Every file of Xvfb's keymap data, at the path it has here. Symbolic links (rules/xorg ->
// evdev) become copies: the image builder copies files only.
std::vector<GuestProgram> xkb_files() {
  std::vector<GuestProgram> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(kXkbData, ec)) {
    if (e.is_regular_file(ec)) files.push_back({e.path(), e.path().string()});
  }
  // Xvfb writes its compiled keymap (.xkm) into /var/lib/xkb: the directory must exist.
  if (std::filesystem::is_regular_file("/var/lib/xkb/README.compiled", ec))
    files.push_back({"/var/lib/xkb/README.compiled", "/var/lib/xkb/README.compiled"});
  return files;
}

const GuestImage& image() {
  static const GuestImage img = [] {
    const std::string env = std::string("LD_LIBRARY_PATH=") + kGuestLibraryPath;
    const std::string port = std::to_string(QemuSurfaceGuest::kGuestPort);
    const std::string screen =
        std::to_string(ss::kDesktopWidth) + "x" + std::to_string(ss::kDesktopHeight) + "x24";
    // The relay first (in the background), so that it said hello before the appserver listens;
    // then Xvfb (no GLX: the image has no Mesa driver, and nothing here draws with GL) and the
    // application, which retries until Xvfb answers; the appserver last, once Xvfb's socket
    // exists (it does not retry), in front: the VM powers off if it ends. The init script
    // echoes this command inside double quotes, so it may hold no double quote itself.
    // WLOG_LEVEL=WARN: FreeRDP's INFO lines would go to the serial console, where every
    // character is a VM exit.
    // lo first: the image's init brings it up only with virtio-net, and the relay reaches the
    // appserver on 127.0.0.1.
    const std::string init =
        "ip link set lo up; " + env + " /bin/vitrine-guest --ivshmem --no-catalog & " +
        env + " " + kXvfb + " :0 -screen 0 " + screen +
        " -nolisten tcp -extension GLX +extension Composite +extension DAMAGE & " +
        env + " /bin/hv_surface_stamp_app :0 & "
        "i=0; while [ ! -e /tmp/.X11-unix/X0 ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done; " +
        env + " WLOG_LEVEL=WARN /bin/vitrine-appserver --display :0 --port " + port + " --ivshmem auto";
    return build_guest_image_with_libs(HV_IMAGE_CACHE,
                                       {{HV_APPSERVER, "/bin/vitrine-appserver"},
                                        {HV_GUEST_RELAY, "/bin/vitrine-guest"},
                                        {HV_SURFACE_STAMP_APP, "/bin/hv_surface_stamp_app"},
                                        {kXvfb, kXvfb},
                                        {kXkbcomp, kXkbcomp}},
                                       init, HV_IMAGE_CACHE "/surface-build-" + std::to_string(::getpid()) + ".log",
                                       xkb_files());
  }();
  return img;
}

std::vector<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string l = text.substr(start, end - start);
    if (l.find(needle) != std::string::npos) out.push_back(std::move(l));
    start = end + 1;
  }
  return out;
}

constexpr const char* kStatsNeedle = appserver::testing::kSurfaceCountersNeedle;

}  // namespace

std::expected<std::unique_ptr<QemuSurfaceGuest>, std::string> QemuSurfaceGuest::create() {
  if (!have_qemu()) return std::unexpected(std::string("qemu-system-x86_64 not installed"));
  for (const char* p : {kXvfb, kXkbcomp, kXkbData})
    if (::access(p, R_OK) != 0)
      return std::unexpected(std::string("no guest image: ") + p + " missing here (apt-get install xvfb)");
  if (!image()) return std::unexpected("no guest image: " + image().error);
  std::unique_ptr<QemuSurfaceGuest> g(new QemuSurfaceGuest());
  // 64 MiB bus (a power of two, as an ivshmem BAR is): 4 channels of 1 MiB rings and a 32 MiB
  // surface pool, room for a few buffers of every window of a small desktop (a 256x256 window's
  // buffer is 256 KiB). 1.5 GiB of RAM: the initramfs unpacks FreeRDP's libraries (FFmpeg's
  // codecs) and Xvfb's into RAM. TCG even where /dev/kvm exists, as the RDP QEMU cases.
  const std::string toml =
      std::string("name = \"") + kVmName + "\"\nbackend = \"qemu\"\n"
      "[bus]\nsize = 67108864\nchannels = 4\nring_size = 1048576\nsurface_pool = 33554432\n"
      "[guest]\nrdp_target = \"tcp:" + std::to_string(kGuestPort) + "\"\n"
      "[vm]\nkernel = \"" + image().kernel.string() + "\"\ninitramfs = \"" + image().initramfs.string() + "\"\n"
      "memory_mib = 1536\naccel = \"tcg\"\ncmdline = \"console=ttyS0 quiet panic=-1\"\n";
  const auto t0 = Clock::now();
  auto vm = VmmHarness::start(toml, HV_VMM_PATH);
  if (!vm) return std::unexpected("vitrine-vmm: " + ringbus::to_string(vm.error()));
  g->vm_ = std::move(*vm);
  // TCG boot, unpacking ~250 MB of initramfs, Xvfb's keymap compile, loading FreeRDP: tens of
  // seconds, more on a loaded machine.
  const auto deadline = t0 + 300s;
  for (;;) {
    const std::string text = g->serial();
    const auto ready = lines_with(text, ss::kReadyLine);
    if (!ready.empty() && text.find("vitrine-appserver listening on") != std::string::npos) {
      const std::string& l = ready.front();
      try {
        g->window_ = static_cast<std::uint32_t>(std::stoul(l.substr(l.find("0x")), nullptr, 16));
      } catch (const std::exception&) {
        return std::unexpected("cannot read the window id from '" + l + "'\n" + g->logs());
      }
      break;
    }
    if (auto up = g->vm_->alive(); !up)
      return std::unexpected("the VM stopped before the appserver listened: " + ringbus::to_string(up.error()) + "\n" +
                             g->logs());
    if (Clock::now() > deadline)
      return std::unexpected("the appserver or the application did not start within 300 s\n" + g->logs());
    std::this_thread::sleep_for(200ms);
  }
  g->boot_seconds_ = std::chrono::duration<double>(Clock::now() - t0).count();
  return g;
}

QemuSurfaceGuest::~QemuSurfaceGuest() { vm_.reset(); }  // stops vitrine-vmm (and QEMU with it)

std::string QemuSurfaceGuest::serial() const {
  return read_text(vm_->dir() / (std::string(kVmName) + "-serial.log"));
}

std::optional<bool> QemuSurfaceGuest::zero_copy_logged() const {
  const auto lines = lines_with(serial(), "surfaces: the host reads window surfaces");
  if (lines.empty()) return std::nullopt;
  return lines.back().find("zero-copy true") != std::string::npos;
}

std::size_t QemuSurfaceGuest::copies_lines() const { return lines_with(serial(), kStatsNeedle).size(); }

std::optional<QemuSurfaceGuest::Copies> QemuSurfaceGuest::last_copies() const {
  const auto lines = lines_with(serial(), kStatsNeedle);
  if (lines.empty()) return std::nullopt;
  return appserver::testing::parse_surface_counters(lines.back());
}

}  // namespace vitrine::hv::test
