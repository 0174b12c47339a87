// Runs inside the inner guest of the nested KVM test (statically linked, in its initramfs):
// finds the ivshmem device vitrine-kvm exposes (1af4:1110) in sysfs, maps BAR2, attaches the
// bus as the guest, sends checksummed records to the host test two levels up, checks its ack.
// Prints "nested-guest: OK ..." and exits 0 on success; a line naming the failure otherwise.
// With --bench (bench_vm): hello, then the measurements of nested_guest_bench.cpp instead.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "nested_guest_bench.hpp"
#include "nested_protocol.hpp"
#include "vitrine/ringbus/bus.hpp"

namespace nested = vitrine::hv::kvm::nested;
using namespace std::chrono_literals;

namespace {
std::string read_line(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  const bool bench = argc > 1 && std::strcmp(argv[1], "--bench") == 0;
  std::string device;
  for (const auto& e : std::filesystem::directory_iterator("/sys/bus/pci/devices")) {
    if (read_line(e.path() / "vendor") == "0x1af4" && read_line(e.path() / "device") == "0x1110") {
      device = e.path();
      break;
    }
  }
  if (device.empty()) {
    std::puts("nested-guest: FAIL no ivshmem device (1af4:1110) in /sys/bus/pci/devices");
    return 1;
  }
  // Memory decoding on: a BAR that the kernel (not firmware) assigned stays disabled until a
  // driver enables the device, and QEMU maps BAR2 only then (microvm's PCIe bus); sysfs
  // "enable" is how a user-space driver asks. vitrine-kvm maps BAR2 regardless.
  if (FILE* en = std::fopen((device + "/enable").c_str(), "w")) {
    std::fputs("1", en);
    std::fclose(en);
  }
  const int fd = ::open((device + "/resource2").c_str(), O_RDWR | O_SYNC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    std::printf("nested-guest: FAIL open %s/resource2: %s\n", device.c_str(), std::strerror(errno));
    return 1;
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    std::printf("nested-guest: FAIL mmap resource2 (%zu bytes): %s\n", size, std::strerror(errno));
    return 1;
  }
  std::printf("nested-guest: %s BAR2 %zu bytes mapped\n", device.c_str(), size);
  std::fflush(stdout);
  // The host formats the region before QEMU starts; wait briefly in case it is still zero.
  auto bus = vitrine::ringbus::Bus::attach_mapping(base, size, vitrine::ringbus::Side::kGuest);
  for (int i = 0; !bus && i < 100; ++i) {
    std::this_thread::sleep_for(50ms);
    bus = vitrine::ringbus::Bus::attach_mapping(base, size, vitrine::ringbus::Side::kGuest);
  }
  if (!bus) {
    std::printf("nested-guest: FAIL attach bus: %s\n", vitrine::ringbus::to_string(bus.error()).c_str());
    return 1;
  }
  auto& ch = bus->channel(0);
  {
    const std::uint32_t hello[2] = {static_cast<std::uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN)), 0};
    auto sent = ch.try_send(nested::kHello, std::as_bytes(std::span(hello)));
    if (!sent || !*sent) {
      std::puts("nested-guest: FAIL send hello");
      return 1;
    }
    std::printf("nested-guest: hello sent, %u cpus online\n", hello[0]);
    std::fflush(stdout);
  }
  if (bench) return nested::run_guest_bench(ch, device);
  std::vector<std::byte> rec;
  std::vector<std::uint64_t> sums;
  for (std::uint32_t seq = 0; seq < nested::kRecords; ++seq) {
    const std::uint32_t len = nested::payload_length(seq);
    rec.assign(8 + len + 8, std::byte{0});
    std::memcpy(rec.data(), &seq, 4);
    std::memcpy(rec.data() + 4, &len, 4);
    for (std::uint32_t i = 0; i < len; ++i) rec[8 + i] = std::byte{nested::payload_byte(seq, i)};
    const std::uint64_t sum = XXH3_64bits(rec.data() + 8, len);
    std::memcpy(rec.data() + 8 + len, &sum, 8);
    sums.push_back(sum);
    for (;;) {
      auto sent = ch.try_send(nested::kData, rec);
      if (!sent) {
        std::printf("nested-guest: FAIL send: %s\n", vitrine::ringbus::to_string(sent.error()).c_str());
        return 1;
      }
      if (*sent) break;
      std::this_thread::sleep_for(1ms);  // ring full: the host drains it
    }
  }
  const std::uint64_t expect = XXH3_64bits(sums.data(), sums.size() * 8);
  std::printf("nested-guest: sent %u records\n", nested::kRecords);
  std::fflush(stdout);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    bool done = false;
    int rc = 1;
    auto n = ch.rx().read([&](const vitrine::ringbus::RecordView& r) {
      if (r.type != nested::kAck || r.payload.size() != 16) return;
      std::uint32_t ok = 0, bad = 0;
      std::uint64_t all = 0;
      std::memcpy(&ok, r.payload.data(), 4);
      std::memcpy(&bad, r.payload.data() + 4, 4);
      std::memcpy(&all, r.payload.data() + 8, 8);
      done = true;
      if (ok == nested::kRecords && bad == 0 && all == expect) {
        std::printf("nested-guest: OK host verified %u records, checksum %016llx\n", ok,
                    static_cast<unsigned long long>(all));
        rc = 0;
      } else {
        std::printf("nested-guest: FAIL ack ok=%u bad=%u checksum %016llx expected %016llx\n", ok, bad,
                    static_cast<unsigned long long>(all), static_cast<unsigned long long>(expect));
      }
    });
    if (!n) {
      std::printf("nested-guest: FAIL read: %s\n", vitrine::ringbus::to_string(n.error()).c_str());
      return 1;
    }
    if (done) return rc;
    std::this_thread::sleep_for(2ms);
  }
  std::puts("nested-guest: FAIL no ack from the host within 120 s");
  return 1;
}
