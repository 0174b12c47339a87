#include "vitrine/hv/kvm/kvm_vm.hpp"

#include <cpuid.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <memory>

#include "vitrine/hv/kvm/acpi.hpp"
#include "vitrine/hv/kvm/acpi_pm.hpp"
#include "vitrine/hv/kvm/bzimage.hpp"
#include "vitrine/hv/kvm/layout.hpp"
#include "vitrine/hv/kvm/legacy_devices.hpp"
#include "vitrine/base/log.hpp"
#include "vitrine/hv/kvm/pci.hpp"
#include "vitrine/hv/kvm/x86_boot.hpp"

namespace vitrine::hv::kvm {
namespace {

// struct kvm_cpuid2 ends in __DECLARE_FLEX_ARRAY, which in C++ puts an empty struct (1 byte
// for g++) before the array: sizeof is 12 and `entries` sits at offset 12, where the kernel
// (C) has both at 8. So <linux/kvm.h>'s KVM_GET_SUPPORTED_CPUID / KVM_SET_CPUID2 encode the
// wrong size in C++ (the kernel answers EINVAL), and `kvm_cpuid2::entries` is 4 bytes off the
// kernel's entries: every field read or written through it lands in the wrong place. Both
// ioctls therefore use the kernel's size and CpuidTable, the C layout spelled out.
constexpr unsigned long kGetSupportedCpuid = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, 8);
constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, 8);
static_assert(kGetSupportedCpuid == 0xc008ae05 && kSetCpuid2 == 0x4008ae90);
// KVM_MAX_CPUID_ENTRIES is 256; KVM_GET_SUPPORTED_CPUID wants room for that many (fewer: E2BIG).
constexpr unsigned kMaxCpuidEntries = 256;
struct CpuidTable {
  std::uint32_t nent;
  std::uint32_t padding;
  kvm_cpuid_entry2 entries[kMaxCpuidEntries];
};
static_assert(offsetof(CpuidTable, entries) == 8 && sizeof(kvm_cpuid_entry2) == 40);

constexpr std::uint32_t kRamSlot = 0;
constexpr std::uint32_t kBusSlot = 1;

Result<std::vector<std::byte>> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return std::unexpected(Error::sys(fmt::format("open {} {}", what, path), errno));
  std::vector<std::byte> out(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()))) {
    return std::unexpected(Error::sys(fmt::format("read {} {}", what, path), errno));
  }
  return out;
}

template <typename... A>
Result<int> kvm_ioctl(int fd, unsigned long request, const char* name, A... arg) {
  const int r = ::ioctl(fd, request, arg...);
  if (r < 0) return std::unexpected(sys_error(name));
  return r;
}

// Pulses a GSI of the in-kernel irqchip (edge).
class KvmIrqLine final : public IrqLine {
 public:
  KvmIrqLine(int vm_fd, std::uint32_t gsi) : vm_fd_(vm_fd), gsi_(gsi) {}
  void trigger() override {
    kvm_irq_level level{};
    level.irq = gsi_;
    level.level = 1;
    ::ioctl(vm_fd_, KVM_IRQ_LINE, &level);
    level.level = 0;
    ::ioctl(vm_fd_, KVM_IRQ_LINE, &level);
  }

 private:
  int vm_fd_;
  std::uint32_t gsi_;
};

// Port 0x80: POST codes and Linux's io_delay writes. Swallowed without a warning.
class PostPort final : public BusDevice {
 public:
  void read(std::uint64_t, std::span<std::uint8_t> d) override { std::memset(d.data(), 0, d.size()); }
  void write(std::uint64_t, std::span<const std::uint8_t>) override {}
  std::string name() const override { return "post-port"; }
};

// The executing CPU's CPUID leaves (basic and extended ranges, with sub-leaves), as
// kvm_cpuid_entry2 records; returns the count written.
std::uint32_t host_cpuid(std::span<kvm_cpuid_entry2> out) {
  std::uint32_t n = 0;
  auto add = [&](std::uint32_t fn, std::uint32_t idx, bool indexed) -> kvm_cpuid_entry2* {
    if (n >= out.size()) return nullptr;
    kvm_cpuid_entry2& e = out[n++];
    e = {};
    e.function = fn;
    e.index = idx;
    e.flags = indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
    __cpuid_count(fn, idx, e.eax, e.ebx, e.ecx, e.edx);
    return &e;
  };
  for (std::uint32_t base : {0u, 0x80000000u}) {
    std::uint32_t a = 0, b = 0, c = 0, d = 0;
    __cpuid(base, a, b, c, d);
    const std::uint32_t max = std::min(a, base + 0x1fu);
    for (std::uint32_t fn = base; fn <= max; ++fn) {
      const bool indexed = fn == 4 || fn == 7 || fn == 0xb || fn == 0xd || fn == 0x1f || fn == 0x8000001d;
      if (!indexed) {
        kvm_cpuid_entry2* e = add(fn, 0, false);
        if (e == nullptr) return n;
        if (fn == 1) {
          e->ecx &= ~(1u << 5);  // no VMX
          e->ecx |= 1u << 31;    // hypervisor present
        }
        if (fn == 0x80000001) e->ecx &= ~(1u << 2);  // no SVM
        if (fn == 0x8000000a) e->eax = e->ebx = e->ecx = e->edx = 0;
        // KVM_SET_CPUID2 rejects linear-address widths other than 48 and 57 (kvm_check_cpuid).
        if (fn == 0x80000008 && ((e->eax >> 8) & 0xff) != 57) e->eax = (e->eax & ~0xff00u) | (48u << 8);
        continue;
      }
      for (std::uint32_t idx = 0; idx < 64; ++idx) {
        std::uint32_t ea = 0, eb = 0, ec = 0, ed = 0;
        __cpuid_count(fn, idx, ea, eb, ec, ed);
        // Sub-leaf ends: cache type 0 (4, 0x8000001d), level type 0 (0xb, 0x1f), beyond 7.0's
        // max (7), or an empty xsave component (0xd from 2 on).
        if (idx > 0 && ((fn == 4 || fn == 0x8000001d) && (ea & 0x1f) == 0)) break;
        if (idx > 0 && (fn == 0xb || fn == 0x1f) && (ec & 0xff00) == 0) break;
        if (fn == 7 && idx > 1) break;
        if (fn == 0xd && idx >= 2 && ea == 0) continue;
        if (add(fn, idx, true) == nullptr) return n;
      }
    }
  }
  return n;
}

}  // namespace

const char* vm_end_name(VmEnd end) {
  switch (end) {
    case VmEnd::kPowerOff: return "power-off";
    case VmEnd::kReset: return "reset";
    case VmEnd::kTripleFault: return "triple-fault";
    case VmEnd::kGuestError: return "guest-error";
    case VmEnd::kStopped: return "stopped";
    case VmEnd::kHostError: return "host-error";
    case VmEnd::kNoProgress: return "no-progress";
  }
  return "?";
}

Result<std::unique_ptr<KvmVm>> KvmVm::create(const KvmVmConfig& config) {
  if (config.ram_bytes < layout::kMinRamBytes || config.ram_bytes > layout::kMaxRamEnd ||
      (config.ram_bytes & 0xfffff) != 0) {
    return std::unexpected(invalid(fmt::format("memory: {} bytes; must be a whole number of MiB in [{} MiB, {} MiB]",
                                               config.ram_bytes, layout::kMinRamBytes >> 20, layout::kMaxRamEnd >> 20)));
  }
  if (config.vcpus == 0 || config.vcpus > layout::kMaxVcpus) {
    return std::unexpected(invalid(fmt::format("vcpus: {}; must be 1..{}", config.vcpus, layout::kMaxVcpus)));
  }
  ringbus::UniqueFd kvm(::open(config.kvm_device.c_str(), O_RDWR | O_CLOEXEC));
  if (!kvm) return std::unexpected(sys_error("open " + config.kvm_device));
  auto version = kvm_ioctl(kvm.get(), KVM_GET_API_VERSION, "KVM_GET_API_VERSION", 0);
  if (!version) return std::unexpected(version.error());
  if (*version != KVM_API_VERSION) {
    return std::unexpected(invalid(fmt::format("KVM API version {} (expected {})", *version, KVM_API_VERSION)));
  }
  for (auto [cap, name] : {std::pair{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"}, {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
                           {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"}, {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
                           {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"}}) {
    if (::ioctl(kvm.get(), KVM_CHECK_EXTENSION, cap) <= 0) {
      return std::unexpected(invalid(fmt::format("KVM lacks {}", name)));
    }
  }
  auto vm_fd = kvm_ioctl(kvm.get(), KVM_CREATE_VM, "KVM_CREATE_VM", 0);
  if (!vm_fd) return std::unexpected(vm_fd.error());
  ringbus::UniqueFd vm(*vm_fd);
  auto ram = GuestMemory::create(config.ram_bytes);
  if (!ram) return std::unexpected(ram.error());
  std::unique_ptr<KvmVm> self(new KvmVm(std::move(kvm), std::move(vm), std::move(*ram)));
  // KVM_SET_TSS_ADDR: Intel needs 3 pages for real-mode emulation; harmless elsewhere.
  if (auto r = kvm_ioctl(self->vm_.get(), KVM_SET_TSS_ADDR, "KVM_SET_TSS_ADDR",
                         static_cast<unsigned long>(layout::kKvmTssStart));
      !r) {
    return std::unexpected(r.error());
  }
  if (auto r = self->setup_irqchip(); !r) return std::unexpected(r.error());
  if (auto r = self->map_memory(kRamSlot, 0, self->ram_.size(), self->ram_.bytes().data()); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = self->load_kernel(config); !r) return std::unexpected(r.error());
  if (auto r = self->setup_devices(config); !r) return std::unexpected(r.error());
  if (auto r = self->create_vcpus(config.vcpus); !r) return std::unexpected(r.error());
  return self;
}

KvmVm::~KvmVm() {
  for (auto& v : vcpus_) v->stop();
  vcpus_.clear();
}

Result<void> KvmVm::setup_irqchip() {
  // The irqchip (PIC, IOAPIC, local APICs) before any vCPU exists; then the PIT with a dummy
  // speaker port so that port 0x61 (used by Linux's PIT calibration) is handled in the kernel.
  if (auto r = kvm_ioctl(vm_.get(), KVM_CREATE_IRQCHIP, "KVM_CREATE_IRQCHIP", 0); !r) return std::unexpected(r.error());
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;
  if (auto r = kvm_ioctl(vm_.get(), KVM_CREATE_PIT2, "KVM_CREATE_PIT2", &pit); !r) return std::unexpected(r.error());
  return {};
}

Result<void> KvmVm::map_memory(std::uint32_t slot, std::uint64_t gpa, std::uint64_t size, void* host) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = gpa;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<std::uint64_t>(host);
  if (::ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return std::unexpected(sys_error(fmt::format("KVM_SET_USER_MEMORY_REGION slot {} at {:#x}+{:#x}", slot, gpa, size)));
  }
  return {};
}

Result<void> KvmVm::unmap_memory(std::uint32_t slot) {
  kvm_userspace_memory_region region{};
  region.slot = slot;  // memory_size 0 deletes the slot
  if (::ioctl(vm_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0) {
    return std::unexpected(sys_error(fmt::format("KVM_SET_USER_MEMORY_REGION delete slot {}", slot)));
  }
  return {};
}

Result<void> KvmVm::set_mmio_eventfd(std::uint64_t gpa, int fd, bool assign) {
  kvm_ioeventfd io{};
  io.addr = gpa;
  io.len = 4;
  io.fd = fd;
  io.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN;
  if (::ioctl(vm_.get(), KVM_IOEVENTFD, &io) < 0) {
    return std::unexpected(sys_error(fmt::format("KVM_IOEVENTFD at {:#x}", gpa)));
  }
  return {};
}

Result<void> KvmVm::load_kernel(const KvmVmConfig& config) {
  auto image = read_file(config.kernel_path, "kernel");
  if (!image) return std::unexpected(image.error());
  auto kernel = parse_bzimage(*image);
  if (!kernel) return std::unexpected(invalid(config.kernel_path + ": " + kernel.error().message));
  if (auto r = check_cmdline(*kernel, config.cmdline); !r) return r;
  const std::uint64_t kernel_end = layout::kKernelLoad + std::max<std::uint64_t>(kernel->init_size, kernel->kernel.size());
  if (kernel_end > ram_.size()) {
    return std::unexpected(invalid(fmt::format("kernel needs RAM up to {:#x}; the VM has {:#x}", kernel_end, ram_.size())));
  }
  if (auto r = ram_.write(layout::kKernelLoad, kernel->kernel); !r) return r;
  BootParamsSpec spec;
  spec.cmdline_addr = layout::kCmdlineStart;
  spec.cmdline_bytes = static_cast<std::uint32_t>(config.cmdline.size());
  std::vector<std::byte> cmd(config.cmdline.size() + 1);
  std::memcpy(cmd.data(), config.cmdline.data(), config.cmdline.size());
  if (auto r = ram_.write(layout::kCmdlineStart, cmd); !r) return r;
  if (!config.initrd_path.empty()) {
    auto initrd = read_file(config.initrd_path, "initramfs");
    if (!initrd) return std::unexpected(initrd.error());
    auto at = place_initrd(*kernel, ram_.size(), initrd->size());
    if (!at) return std::unexpected(at.error());
    if (auto r = ram_.write(*at, *initrd); !r) return r;
    spec.initrd_addr = *at;
    spec.initrd_size = initrd->size();
  }
  spec.e820 = e820_map(ram_.size());
  if (config.acpi) {
    acpi::AcpiSpec a;
    a.vcpus = config.vcpus;
    a.pci_mmio32_start = layout::kPciMmio32Start;
    a.pci_mmio32_end = layout::kPciMmio32End;
    a.pci_mmio64_start = layout::kPciMmio64Start;
    a.pci_mmio64_end = layout::kPciMmio64Start + layout::kMaxBusBytes;
    auto rsdp = acpi::write_acpi_tables(ram_.bytes(), a);
    if (!rsdp) return std::unexpected(rsdp.error());
    spec.acpi_rsdp_addr = *rsdp;
  }
  auto zero_page = build_boot_params(*kernel, spec);
  if (!zero_page) return std::unexpected(zero_page.error());
  if (auto r = ram_.write(layout::kZeroPage, *zero_page); !r) return r;
  if (auto r = write_boot_tables(ram_.bytes()); !r) return r;
  if (auto r = write_mp_table(ram_.bytes(), config.vcpus, layout::kPciSlotIvshmem, layout::kGsiIvshmem); !r) return r;
  entry_ = layout::kKernelLoad + layout::kKernel64EntryOffset;
  return {};
}

Result<void> KvmVm::setup_devices(const KvmVmConfig& config) {
  com1_irq_ = std::make_unique<KvmIrqLine>(vm_.get(), layout::kGsiCom1);
  // Console bytes count as progress for the watchdog (run()).
  uart_ = std::make_shared<Uart8250>(
      [this, console = config.console](std::uint8_t b) {
        console_bytes_.fetch_add(1, std::memory_order_relaxed);
        if (console) console(b);
      },
      com1_irq_.get());
  progress_timeout_ = config.progress_timeout;
  if (auto r = pio_.insert(uart_, layout::kPortCom1, 8); !r) return r;
  if (auto r = pio_.insert(std::make_shared<CmosRtc>(), layout::kPortCmosIndex, 2); !r) return r;
  auto i8042 = std::make_shared<I8042>([this] { end(VmEnd::kReset, "guest reset through the i8042 controller"); });
  // One range 0x60..0x64 so that the device sees offsets 0 (data) and 4 (command/status);
  // 0x61 (PIT speaker) never reaches it, the in-kernel PIT answers that port.
  if (auto r = pio_.insert(i8042, layout::kPortI8042Data, layout::kPortI8042Command - layout::kPortI8042Data + 1); !r) {
    return r;
  }
  if (auto r = pio_.insert(std::make_shared<PostPort>(), 0x80, 1); !r) return r;
  if (config.acpi) {
    auto pm = std::make_shared<AcpiPmDevice>([this] { end(VmEnd::kPowerOff, "guest powered off through ACPI (S5)"); });
    if (auto r = pio_.insert(pm, layout::kPortAcpiPm1aEvt, AcpiPmDevice::kBytes); !r) return r;
  }
  auto bridge = std::make_shared<PciHostBridge>();
  if (auto r = pio_.insert(bridge, layout::kPortPciConfig, 8); !r) return r;
  if (config.bus_memory.empty()) return {};
  if (config.bus_memory.size() > layout::kMaxBusBytes) {
    return std::unexpected(invalid(fmt::format("bus of {} bytes exceeds {}", config.bus_memory.size(), layout::kMaxBusBytes)));
  }
  auto dev = IvshmemDevice::create(config.bus_memory, layout::kIvshmemBar0, layout::kPciMmio64Start,
                                   static_cast<std::uint8_t>(layout::kGsiIvshmem), config.doorbell_to_host_fd, kBusSlot,
                                   mmio_, *this);
  if (!dev) return std::unexpected(dev.error());
  ivshmem_ = *dev;
  if (auto r = ivshmem_->activate(); !r) return r;
  if (auto r = bridge->attach(layout::kPciSlotIvshmem, ivshmem_); !r) return r;
  if (config.doorbell_to_guest_fd >= 0) {
    kvm_irqfd irqfd{};
    irqfd.fd = static_cast<std::uint32_t>(config.doorbell_to_guest_fd);
    irqfd.gsi = layout::kGsiIvshmem;
    if (auto r = kvm_ioctl(vm_.get(), KVM_IRQFD, "KVM_IRQFD", &irqfd); !r) return std::unexpected(r.error());
  }
  return {};
}

Result<void> KvmVm::create_vcpus(unsigned count) {
  auto run_size = kvm_ioctl(kvm_.get(), KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE", 0);
  if (!run_size) return std::unexpected(run_size.error());
  for (unsigned i = 0; i < count; ++i) {
    auto fd = kvm_ioctl(vm_.get(), KVM_CREATE_VCPU, "KVM_CREATE_VCPU", static_cast<unsigned long>(i));
    if (!fd) return std::unexpected(fd.error());
    auto vcpu = Vcpu::create(i, ringbus::UniqueFd(*fd), static_cast<std::size_t>(*run_size));
    if (!vcpu) return std::unexpected(vcpu.error());
    if (auto r = setup_vcpu(**vcpu, count, entry_); !r) return r;
    vcpus_.push_back(std::move(*vcpu));
  }
  return {};
}

Result<void> KvmVm::setup_vcpu(Vcpu& vcpu, unsigned count, std::uint64_t entry) {
  const int fd = vcpu.fd();
  // CPUID: what KVM supports (including its paravirtual leaves 0x40000000/1: kvm-clock and
  // friends, all handled in the kernel), with this vCPU's APIC id (leaf 1 EBX[31:24], leaf 0xb
  // EDX), the logical processor count and the hypervisor bit.
  auto table = std::make_unique<CpuidTable>();
  CpuidTable* cpuid = table.get();
  cpuid->nent = kMaxCpuidEntries;
  if (::ioctl(kvm_.get(), kGetSupportedCpuid, cpuid) < 0) {
    // Fall back to the CPU's own CPUID, without the virtualization extensions, marked as a
    // hypervisor (an older KVM, or a nested one that refuses the ioctl).
    if (vcpu.index() == 0) {
      base::log_warn("kvm: KVM_GET_SUPPORTED_CPUID failed ({}); passing the host CPUID through",
                     std::strerror(errno));
    }
    cpuid->nent = host_cpuid(std::span(cpuid->entries));
  }
  for (std::uint32_t i = 0; i < cpuid->nent; ++i) {
    kvm_cpuid_entry2& e = cpuid->entries[i];
    if (e.function == 1) {
      e.ebx = (e.ebx & 0x0000ffffu) | (vcpu.index() << 24) | (std::min(count, 255u) << 16);
      if (count > 1) e.edx |= 1u << 28;  // HTT: the count field is valid
      // Hypervisor present (KVM_GET_SUPPORTED_CPUID leaves it clear; VMMs set it). Linux reads
      // KVM's 0x40000000 leaves only then: without it the guest had no kvm-clock, and two levels
      // under TCG its TSC calibration failed, leaving refined-jiffies (4 ms steps) as its clock.
      e.ecx |= 1u << 31;
    } else if (e.function == 0xb || e.function == 0x1f) {
      e.edx = vcpu.index();
    }
  }
  if (::ioctl(fd, kSetCpuid2, cpuid) < 0) {
    // The guest then runs with KVM's default (empty) CPUID, which is logged; a guest that
    // cannot cope ends by the rules above.
    base::log_warn("kvm: vCPU {}: KVM_SET_CPUID2 with {} entries failed ({}); guest sees KVM's default CPUID",
                   vcpu.index(), cpuid->nent, std::strerror(errno));
  }

  // Local APIC: LINT0 = ExtINT (the PIC), LINT1 = NMI, as a BIOS leaves them (Intel SDM 10.5.1).
  kvm_lapic_state lapic{};
  if (auto r = kvm_ioctl(fd, KVM_GET_LAPIC, "KVM_GET_LAPIC", &lapic); !r) return std::unexpected(r.error());
  auto set_lvt = [&](std::size_t off, std::uint32_t mode) {
    std::uint32_t v = 0;
    std::memcpy(&v, &lapic.regs[off], 4);
    v = (v & ~0x700u) | (mode << 8);
    std::memcpy(&lapic.regs[off], &v, 4);
  };
  set_lvt(0x350, 7);  // LVT LINT0: ExtINT
  set_lvt(0x360, 4);  // LVT LINT1: NMI
  if (auto r = kvm_ioctl(fd, KVM_SET_LAPIC, "KVM_SET_LAPIC", &lapic); !r) return std::unexpected(r.error());

  if (vcpu.index() != 0) return {};  // APs wait for INIT/SIPI from the BSP in the kernel's LAPIC
  kvm_sregs sregs{};
  if (auto r = kvm_ioctl(fd, KVM_GET_SREGS, "KVM_GET_SREGS", &sregs); !r) return std::unexpected(r.error());
  setup_long_mode_sregs(sregs);
  if (auto r = kvm_ioctl(fd, KVM_SET_SREGS, "KVM_SET_SREGS", &sregs); !r) return std::unexpected(r.error());
  kvm_regs regs = boot_regs(entry);
  if (auto r = kvm_ioctl(fd, KVM_SET_REGS, "KVM_SET_REGS", &regs); !r) return std::unexpected(r.error());
  kvm_fpu fpu{};
  fpu.fcw = 0x37f;     // x87 default control word (FNINIT)
  fpu.mxcsr = 0x1f80;  // SSE default: all exceptions masked
  if (auto r = kvm_ioctl(fd, KVM_SET_FPU, "KVM_SET_FPU", &fpu); !r) return std::unexpected(r.error());
  return {};
}

void KvmVm::end(VmEnd why, std::string detail) {
  std::lock_guard g(end_lock_);
  if (ended_) return;  // the first reason wins
  base::log_info("kvm: VM ends: {}: {}", vm_end_name(why), detail);
  ended_ = VmResult{why, std::move(detail), 0, 0};
  ended_cv_.notify_all();
}

void KvmVm::stop() { end(VmEnd::kStopped, "stop requested"); }

Vcpu::Verdict KvmVm::handle_exit(unsigned index, const VcpuExit& exit) {
  exits_.fetch_add(1, std::memory_order_relaxed);
  using V = Vcpu::Verdict;
  return std::visit(
      [&](const auto& e) -> V {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, ExitIoIn>) {
          pio_.read(e.port, e.data);
          return V::kContinue;
        } else if constexpr (std::is_same_v<T, ExitIoOut>) {
          pio_.write(e.port, e.data);
          return V::kContinue;
        } else if constexpr (std::is_same_v<T, ExitMmioRead>) {
          mmio_.read(e.addr, e.data);
          return V::kContinue;
        } else if constexpr (std::is_same_v<T, ExitMmioWrite>) {
          mmio_.write(e.addr, e.data);
          return V::kContinue;
        } else if constexpr (std::is_same_v<T, ExitHlt>) {
          return V::kContinue;  // with the in-kernel LAPIC, HLT waits in the kernel; nothing to do
        } else if constexpr (std::is_same_v<T, ExitShutdown>) {
          end(VmEnd::kTripleFault, fmt::format("vCPU {}: triple fault (KVM_EXIT_SHUTDOWN)", index));
          return V::kStop;
        } else if constexpr (std::is_same_v<T, ExitSystemEvent>) {
          if (e.type == KVM_SYSTEM_EVENT_RESET) {
            end(VmEnd::kReset, fmt::format("vCPU {}: system reset event", index));
          } else if (e.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
            end(VmEnd::kPowerOff, fmt::format("vCPU {}: system shutdown event", index));
          } else {
            end(VmEnd::kGuestError, fmt::format("vCPU {}: system event {}", index, e.type));
          }
          return V::kStop;
        } else if constexpr (std::is_same_v<T, ExitFailEntry>) {
          end(VmEnd::kGuestError, fmt::format("vCPU {}: VM entry failed, hardware reason {:#x}", index, e.hardware_reason));
          return V::kStop;
        } else if constexpr (std::is_same_v<T, ExitInternalError>) {
          end(VmEnd::kGuestError, fmt::format("vCPU {}: KVM internal error, suberror {}", index, e.suberror));
          return V::kStop;
        } else if constexpr (std::is_same_v<T, ExitUnsupported>) {
          const std::uint64_t n = unsupported_.fetch_add(1, std::memory_order_relaxed) + 1;
          if (n <= 16 || (n & 4095) == 0)
            base::log_warn("kvm: vCPU {}: unhandled exit ({}), continuing", index, e.what);
          return V::kContinue;
        } else {
          return V::kContinue;  // ExitInterrupted: the vCPU thread looks at its requests
        }
      },
      exit);
}

VmResult KvmVm::run() {
  for (auto& v : vcpus_) {
    auto r = v->start([this](unsigned i, const VcpuExit& e) { return handle_exit(i, e); },
                      [this](unsigned i, const std::string& failure) {
                        if (!failure.empty()) end(VmEnd::kHostError, fmt::format("vCPU {}: {}", i, failure));
                      });
    if (!r) {
      end(VmEnd::kHostError, r.error().message);
      break;
    }
  }
  if (progress_timeout_.count() > 0) {
    // Relaxed loads: the counters only ever grow, and any value above zero is the answer.
    std::unique_lock g(end_lock_);
    const bool moved = ended_cv_.wait_for(g, progress_timeout_, [&] {
      return ended_.has_value() || exits_.load(std::memory_order_relaxed) > 0 ||
             console_bytes_.load(std::memory_order_relaxed) > 0;
    });
    g.unlock();
    if (!moved)
      end(VmEnd::kNoProgress,
          fmt::format("no exit to user space and no console byte within {} ms of start: this KVM does not run the "
                      "guest (a paravirtual or broken nested /dev/kvm?); use the qemu backend with accel = \"tcg\"",
                      progress_timeout_.count()));
  }
  VmResult result;
  {
    std::unique_lock g(end_lock_);
    ended_cv_.wait(g, [&] { return ended_.has_value(); });
    result = *ended_;
  }
  for (auto& v : vcpus_) v->stop();
  result.exits = exits_.load(std::memory_order_relaxed);
  result.unknown_accesses = pio_.unknown_accesses() + mmio_.unknown_accesses();
  return result;
}

}  // namespace vitrine::hv::kvm
