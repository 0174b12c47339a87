// bench_vm: what a VM costs Vitrine.
//   BM_StartToHello/direct    baseline: hv_bus_echo spawned as a plain child with the bus fds
//   BM_StartToHello/sandbox   vitrine-vmm start -> sandbox -> the guest's hello on the bus
//   BM_StartToHello/qemu_tcg  vitrine-vmm start -> QEMU TCG boot -> hello (ivshmem-doorbell)
//   each reports vmm_rss_kib (VmRSS of vitrine-vmm once the guest said hello) and the ratio
//   to the direct baseline.
//   BM_QemuTcgGuestToHost     one TCG VM with virtio-net user networking: guest -> host bytes/s
//   through the bus (records, host verifies each checksum) vs through virtio-net to a host TCP
//   socket, same run; reports both and bus_over_net.
//   BM_NestedKvmVsMicrovm     nested under QEMU TCG (-cpu max, kvm-amd in the TCG guest), one
//   run: the same kernel + initramfs booted by `vitrine-vmm --backend kvm` and by QEMU
//   -M microvm and by QEMU -M q35 (all with KVM inside the TCG guest): time to the guest's hello on the bus,
//   resident memory of the VMM (vitrine-vmm + vitrine-kvm vs QEMU) at hello, and inside the
//   inner guest the cost of a BAR0 Doorbell write (ioeventfd) vs a register write that exits
//   to vitrine-kvm's user space, and the ping/pong round trip with the doorbell vs polling.
//   Per VMM, where the boot went: <label>_to_init_ms (VMM start -> the inner /init's first
//   console line) and <label>_init_to_hello_ms.
//   Everything runs two levels down under TCG: absolute numbers are far slower than on real
//   KVM; only the ratios of this one run mean something. Left out under report.py --quick (a
//   run costs about 3-5 core-minutes); VITRINE_BENCH_NESTED=1 forces it, =0 leaves it out.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "guest_image.hpp"
#include "vitrine/hv/child_process.hpp"
#include "vmm_harness.hpp"

namespace {

using namespace std::chrono_literals;
using namespace vitrine;
using namespace vitrine::hv;
using Clock = std::chrono::steady_clock;

double g_direct_seconds = 0;  // baseline of this run, for the ratios

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  return -1;
}

test::GuestImage& image() {
  static test::GuestImage img =
      test::build_guest_image(HV_IMAGE_CACHE, "/bin/hv_bus_echo --ivshmem", HV_IMAGE_CACHE "/build-" + std::to_string(::getpid()) + ".log");
  return img;
}

std::string qemu_config(bool user_net) {
  return "name = \"bench\"\nbackend = \"qemu\"\n"
         "[bus]\nsize = 33554432\nchannels = 2\nring_size = 4194304\n"
         "[vm]\nkernel = \"" + image().kernel.string() + "\"\ninitramfs = \"" + image().initramfs.string() +
         "\"\nmemory_mib = 256\naccel = \"tcg\"\ncmdline = \"console=ttyS0 quiet panic=-1\"\n" +
         (user_net ? "user_net = true\n" : "");
}

const std::string kSandboxConfig =
    "name = \"bench\"\nbackend = \"sandbox\"\n[bus]\nsize = 4194304\nchannels = 2\nring_size = 262144\n"
    "[[sandbox.program]]\nname = \"echo\"\ncommand = [\"" HV_ECHO_PATH "\"]\n";

void BM_StartToHello_direct(benchmark::State& state) {
  VmConfig c;
  c.bus_size = 4u << 20;
  c.channels = 2;
  c.h2g_log2 = c.g2h_log2 = 18;
  double total = 0;
  for (auto _ : state) {
    auto bus = VmBus::create(c);
    auto fds = bus->dup_fds();
    const auto t0 = Clock::now();
    SpawnOptions o;
    o.argv = {HV_ECHO_PATH};
    o.fds = {{fds->region.get(), 3}, {fds->wake_guest.get(), 4}, {fds->wake_host.get(), 5}};
    o.env_add = {"VITRINE_BUS_FD=3", "VITRINE_WAKE_GUEST_FD=4", "VITRINE_WAKE_HOST_FD=5"};
    auto child = ChildProcess::spawn(o);
    echo::EchoHost host(bus->bus().channel(0));
    auto hello = host.wait_hello(10s, [&]() -> Result<void> {
      if (!child) return std::unexpected(child.error());
      auto st = child->try_wait();
      if (st && *st) return std::unexpected(Error{Errc::kPeerClosed, 0, "echo program exited: " + (*st)->to_string()});
      return {};
    });
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!child || !hello) {
      state.SkipWithError("direct spawn failed");
      return;
    }
    state.SetIterationTime(s);
    total += s;
  }
  g_direct_seconds = total / static_cast<double>(state.iterations());
}

void start_to_hello(benchmark::State& state, const std::string& toml, std::chrono::seconds timeout) {
  double total = 0;
  long rss = 0;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto h = test::VmmHarness::start(toml, HV_VMM_PATH);
    if (!h) {
      state.SkipWithError(ringbus::to_string(h.error()).c_str());
      return;
    }
    auto hello = (*h)->wait_hello(timeout);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!hello) {
      state.SkipWithError(("no hello: " + ringbus::to_string(hello.error()) + "\n" + (*h)->logs()).c_str());
      return;
    }
    state.SetIterationTime(s);
    total += s;
    rss = rss_kib((*h)->vmm().pid());
    (void)(*h)->host().quit();
  }
  const double mean = total / static_cast<double>(state.iterations());
  state.counters["vmm_rss_kib"] = static_cast<double>(rss);
  if (g_direct_seconds > 0) state.counters["x_direct"] = mean / g_direct_seconds;
}

void BM_StartToHello_sandbox(benchmark::State& state) { start_to_hello(state, kSandboxConfig, 10s); }

void BM_StartToHello_qemu_tcg(benchmark::State& state) {
  if (!image()) {
    state.SkipWithError(("no guest image: " + image().error).c_str());
    return;
  }
  start_to_hello(state, qemu_config(false), 90s);
}

// Accepts one connection and counts what arrives.
struct Sink {
  int listener = -1;
  std::uint16_t port = 0;
  std::atomic<std::uint64_t> bytes{0};
  std::thread thread;
  Sink() {
    listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::listen(listener, 1);
    socklen_t len = sizeof sa;
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
    thread = std::thread([this] {
      const int c = ::accept(listener, nullptr, nullptr);
      if (c < 0) return;
      std::vector<char> buf(1 << 16);
      ssize_t n;
      while ((n = ::recv(c, buf.data(), buf.size(), 0)) > 0) bytes += static_cast<std::uint64_t>(n);
      ::close(c);
    });
  }
  ~Sink() {
    ::shutdown(listener, SHUT_RDWR);
    thread.join();
    ::close(listener);
  }
};

void BM_QemuTcgGuestToHost(benchmark::State& state) {
  if (!image()) {
    state.SkipWithError(("no guest image: " + image().error).c_str());
    return;
  }
  const std::uint64_t bytes = static_cast<std::uint64_t>(state.range(0)) << 20;
  const std::uint32_t record = 64 * 1024;
  auto h = test::VmmHarness::start(qemu_config(true), HV_VMM_PATH);
  auto hello = h ? (*h)->wait_hello(90s) : Result<echo::Hello>(std::unexpected(h.error()));
  if (!hello) {
    state.SkipWithError(("VM did not say hello: " + ringbus::to_string(hello.error()) + (h ? "\n" + (*h)->logs() : "")).c_str());
    return;
  }
  auto& host = (*h)->host();
  double bus_s = 0, net_s = 0;
  for (auto _ : state) {
    auto t0 = Clock::now();
    auto gen = host.generate(bytes / record, record, 120s);
    const double this_bus = std::chrono::duration<double>(Clock::now() - t0).count();
    bus_s += this_bus;
    if (!gen) {
      state.SkipWithError(ringbus::to_string(gen.error()).c_str());
      return;
    }
    Sink sink;
    t0 = Clock::now();
    // QEMU's user network: the guest's 10.0.2.2 is the host's loopback.
    auto net = host.net_send(0x0a000202, sink.port, bytes, 120s);
    net_s += std::chrono::duration<double>(Clock::now() - t0).count();
    if (!net || net->error != 0 || net->bytes != bytes) {
      state.SkipWithError(net ? ("guest send failed, errno " + std::to_string(net->error)).c_str()
                              : ringbus::to_string(net.error()).c_str());
      return;
    }
    state.SetIterationTime(this_bus);
  }
  const double n = static_cast<double>(state.iterations());
  const double bus_bps = static_cast<double>(bytes) * n / bus_s;
  const double net_bps = static_cast<double>(bytes) * n / net_s;
  state.counters["bus_MBps"] = bus_bps / 1e6;
  state.counters["virtio_net_MBps"] = net_bps / 1e6;
  state.counters["bus_over_net"] = bus_bps / net_bps;
  (void)host.quit();
}

#ifdef HV_KVM_IMAGE_SCRIPT
// One "bench: LABEL key=value ..." line of the outer console; empty map when absent.
std::map<std::string, double> bench_line(const std::string& console, const std::string& label) {
  std::map<std::string, double> out;
  const auto at = console.find("bench: " + label + " ");
  if (at == std::string::npos) return out;
  std::istringstream line(console.substr(at, console.find('\n', at) - at));
  std::string word;
  while (line >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) out[word.substr(0, eq)] = std::atof(word.c_str() + eq + 1);
  }
  return out;
}

void BM_NestedKvmVsMicrovm(benchmark::State& state) {
  if (!test::have_qemu()) {
    state.SkipWithError("qemu-system-x86_64 not installed");
    return;
  }
  const std::string log_path = std::string(HV_KVM_CACHE) + "/bench-" + std::to_string(::getpid()) + ".log";
  const std::string cmd = std::string(HV_KVM_IMAGE_SCRIPT) + " --out " + HV_KVM_CACHE + " --vmm " + HV_KVM_VMM +
                          " --vmmd " + HV_KVM_VMMD + " --launcher " + HV_KVM_LAUNCHER + " --guest " + HV_KVM_GUEST +
                          " --bench > " + log_path + " 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    state.SkipWithError(("nested image builder failed, see " + log_path).c_str());
    return;
  }
  std::string image;
  {
    std::ifstream in(log_path);
    std::string line;
    while (std::getline(in, line))
      if (line.starts_with("IMAGE ")) image = line.substr(6);
  }
  std::map<std::string, double> kvm, microvm, q35;
  std::string console;
  for (auto _ : state) {
    const std::string console_path = log_path + ".console";
    // -smp 2: the outer guest runs the VMM's vCPU thread and the bus host side by side.
    const std::string qemu = "timeout 600 qemu-system-x86_64 -accel tcg -cpu max -m 1536 -smp 2 -nographic "
                             "-no-reboot -net none -kernel " + image + "/vmlinuz -initrd " + image +
                             "/outer.img -append 'console=ttyS0 quiet panic=-1' < /dev/null > " + console_path + " 2>&1";
    const auto t0 = Clock::now();
    const int rc = std::system(qemu.c_str());
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    console = test::read_text(console_path);
    if (rc != 0) {
      state.SkipWithError(("outer QEMU failed, console in " + console_path).c_str());
      return;
    }
    if (console.find("nested: NO-KVM") != std::string::npos) {
      state.SkipWithError("the QEMU TCG guest has no usable SVM (kvm-amd gave no /dev/kvm)");
      return;
    }
    kvm = bench_line(console, "kvm");
    microvm = bench_line(console, "microvm");
    q35 = bench_line(console, "q35");
    if (kvm["doorbell_ns"] > 0 && microvm["hello_ms"] > 0) ::unlink(console_path.c_str());
    else std::fprintf(stderr, "bench_vm: incomplete nested results; console kept in %s\n", console_path.c_str());
  }
  ::unlink(log_path.c_str());
  if (kvm.empty() || kvm["hello_ms"] <= 0) {
    state.SkipWithError(("no hello from the kvm backend; console:\n" + console.substr(console.size() > 4000 ? console.size() - 4000 : 0)).c_str());
    return;
  }
  state.counters["kvm_hello_ms"] = kvm["hello_ms"];
  state.counters["kvm_vmm_rss_kib"] = kvm["rss_kib"];
  state.counters["doorbell_exit_ns"] = kvm["doorbell_ns"];
  state.counters["user_mmio_exit_ns"] = kvm["user_mmio_ns"];
  state.counters["rtt_doorbell_ns"] = kvm["rtt_doorbell_ns"];
  state.counters["rtt_poll_ns"] = kvm["rtt_poll_ns"];
  if (kvm["user_mmio_ns"] > 0) state.counters["doorbell_over_user_exit"] = kvm["doorbell_ns"] / kvm["user_mmio_ns"];
  if (kvm["rtt_poll_ns"] > 0) state.counters["rtt_doorbell_over_poll"] = kvm["rtt_doorbell_ns"] / kvm["rtt_poll_ns"];
  if (!microvm.empty() && microvm["hello_ms"] > 0) {
    state.counters["microvm_hello_ms"] = microvm["hello_ms"];
    state.counters["microvm_rss_kib"] = microvm["rss_kib"];
    state.counters["hello_kvm_over_microvm"] = kvm["hello_ms"] / microvm["hello_ms"];
    if (microvm["rss_kib"] > 0) state.counters["rss_kvm_over_microvm"] = kvm["rss_kib"] / microvm["rss_kib"];
  }
  if (!q35.empty() && q35["hello_ms"] > 0) {
    state.counters["q35_hello_ms"] = q35["hello_ms"];
    state.counters["q35_rss_kib"] = q35["rss_kib"];
    state.counters["hello_kvm_over_q35"] = kvm["hello_ms"] / q35["hello_ms"];
    if (q35["rss_kib"] > 0) state.counters["rss_kvm_over_q35"] = kvm["rss_kib"] / q35["rss_kib"];
  }
  // Where each boot's time went, on the outer guest's clock: the VMM's start to the inner /init's
  // first console line (VMM, firmware, decompressor, kernel), then /init to the hello on the bus.
  for (auto* run : {&kvm, &microvm, &q35}) {
    auto& r = *run;
    if (r.empty() || r["hello_ms"] <= 0 || r["init_ms"] <= 0) continue;
    const std::string label = run == &kvm ? "kvm" : run == &microvm ? "microvm" : "q35";
    state.counters[label + "_to_init_ms"] = r["init_ms"];
    state.counters[label + "_init_to_hello_ms"] = r["hello_ms"] - r["init_ms"];
  }
  if (microvm.empty() || microvm["hello_ms"] <= 0) {
    std::fprintf(stderr, "bench_vm: QEMU microvm gave no hello; console tail:\n%s\n",
                 console.substr(console.size() > 3000 ? console.size() - 3000 : 0).c_str());
  }
}

// report.py --quick passes --benchmark_min_time=0.05: a nested run does not fit there.
bool nested_wanted(int argc, char** argv) {
  if (const char* env = std::getenv("VITRINE_BENCH_NESTED"); env != nullptr && *env != '\0') return env[0] == '1';
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.starts_with("--benchmark_min_time=") && std::atof(a.c_str() + 21) < 0.1) return false;
  }
  return true;
}
#endif

BENCHMARK(BM_StartToHello_direct)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StartToHello_sandbox)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StartToHello_qemu_tcg)->UseManualTime()->Iterations(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QemuTcgGuestToHost)->Arg(32)->UseManualTime()->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
#ifdef HV_KVM_IMAGE_SCRIPT
  if (nested_wanted(argc, argv)) {
    benchmark::RegisterBenchmark("BM_NestedKvmVsMicrovm", BM_NestedKvmVsMicrovm)
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond);
  } else {
    std::fprintf(stderr, "bench_vm: BM_NestedKvmVsMicrovm left out (quick mode; VITRINE_BENCH_NESTED=1 runs it)\n");
  }
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
