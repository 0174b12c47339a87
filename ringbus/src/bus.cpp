#include "vitrine/ringbus/bus.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
// xxh3 compiled into this file (header-only mode): ringbus then has no shared-library
// dependency, so guest programs that link it can be fully static (initramfs images).
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vitrine::ringbus {
namespace {

constexpr std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) & ~(a - 1); }

std::uint64_t header_checksum(RegionHeader header) {
  header.checksum = 0;
  return XXH3_64bits(&header, sizeof header);
}

Error bad(std::string msg) { return Error{Errc::kBadHeader, 0, std::move(msg)}; }

Result<std::byte*> map_shared(int fd, std::size_t size) {
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return std::unexpected(Error::sys("mmap of bus region", errno));
  return static_cast<std::byte*>(p);
}

}  // namespace

BusConfig BusConfig::uniform(std::uint32_t count, std::uint32_t h2g_log2, std::uint32_t g2h_log2) {
  BusConfig c;
  c.channels.assign(count, ChannelConfig{h2g_log2, g2h_log2});
  return c;
}

Result<std::uint64_t> region_size_for(const BusConfig& config) {
  if (config.channels.empty() || config.channels.size() > kMaxChannels)
    return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                 "channel count " + std::to_string(config.channels.size()) +
                                     " outside 1.." + std::to_string(kMaxChannels)});
  std::uint64_t off = align_up(sizeof(RegionHeader) + config.channels.size() * sizeof(ChannelDesc),
                               kRegionAlign);
  for (std::size_t i = 0; i < config.channels.size(); ++i) {
    for (auto log2 : {config.channels[i].h2g_log2, config.channels[i].g2h_log2}) {
      if (log2 < kMinRingLog2 || log2 > kMaxRingLog2)
        return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                     "channel " + std::to_string(i) + ": ring size 2^" +
                                         std::to_string(log2) + " outside 2^" +
                                         std::to_string(kMinRingLog2) + "..2^" +
                                         std::to_string(kMaxRingLog2)});
      off += align_up(kRingDataOffset + (std::uint64_t{1} << log2), kRegionAlign);
    }
  }
  if (config.surface_pool_bytes != 0) {
    if (config.channels.size() < 2)
      return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                   "a surface pool needs a channel of its own besides channel 0 (control)"});
    if (config.surface_pool_bytes > (std::uint64_t{1} << 40))
      return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                   "surface pool of " + std::to_string(config.surface_pool_bytes) + " bytes (at most 1 TiB)"});
    off += align_up(config.surface_pool_bytes, kRegionAlign);
  }
  return off;
}

Result<BusLayout> validate_region(const std::byte* base, std::size_t size) {
  if (size < sizeof(RegionHeader))
    return std::unexpected(bad("region of " + std::to_string(size) + " bytes is smaller than its header"));
  RegionHeader h;
  std::memcpy(&h, base, sizeof h);  // one copy; every check below uses it
  if (h.magic != kMagic) return std::unexpected(bad("bad magic (not a Vitrine bus)"));
  if (h.layout_version != kLayoutVersion)
    return std::unexpected(bad("layout version " + std::to_string(h.layout_version) +
                               ", this build speaks " + std::to_string(kLayoutVersion)));
  if (h.checksum != header_checksum(h)) return std::unexpected(bad("header checksum mismatch"));
  if (h.header_size != sizeof(RegionHeader) || h.channel_desc_size != sizeof(ChannelDesc))
    return std::unexpected(bad("header or channel descriptor size mismatch"));
  if (h.region_size > size || h.region_size % kRegionAlign != 0)
    return std::unexpected(bad("region size " + std::to_string(h.region_size) + " exceeds the mapping (" +
                               std::to_string(size) + ") or is not page aligned"));
  if ((h.features & ~kKnownFeatures) != 0)
    return std::unexpected(bad("unknown feature bits " + std::to_string(h.features & ~kKnownFeatures)));
  if (h.channel_count == 0 || h.channel_count > kMaxChannels)
    return std::unexpected(bad("channel count " + std::to_string(h.channel_count) + " out of range"));
  // Bounds as subtractions from region_size, never as offset + size: an offset near 2^64 would
  // wrap that sum back under region_size (it once passed with the table "ending" at 8, and the
  // copy below read from before the mapping). count <= kMaxChannels keeps the product small.
  const std::uint64_t table_bytes = std::uint64_t{h.channel_count} * sizeof(ChannelDesc);
  if (h.channel_table_offset < sizeof(RegionHeader) || h.channel_table_offset % 8 != 0 ||
      h.channel_table_offset > h.region_size || table_bytes > h.region_size - h.channel_table_offset)
    return std::unexpected(bad("channel table outside the region"));
  const std::uint64_t table_end = h.channel_table_offset + table_bytes;

  BusLayout layout{h.region_size, h.features, {}};
  layout.channels.resize(h.channel_count);
  std::memcpy(layout.channels.data(), base + h.channel_table_offset,
              h.channel_count * sizeof(ChannelDesc));
  struct Range { std::uint64_t begin, end; };
  std::vector<Range> ranges{{0, align_up(table_end, 64)}};
  for (std::uint32_t i = 0; i < h.channel_count; ++i) {
    const ChannelDesc& d = layout.channels[i];
    if (d.channel_id != i) return std::unexpected(bad("channel " + std::to_string(i) + ": wrong id"));
    for (auto [offset, log2] : {std::pair{d.h2g_offset, d.h2g_log2}, std::pair{d.g2h_offset, d.g2h_log2}}) {
      if (log2 < kMinRingLog2 || log2 > kMaxRingLog2)
        return std::unexpected(bad("channel " + std::to_string(i) + ": ring size 2^" + std::to_string(log2)));
      // log2 <= kMaxRingLog2 (checked above): the shift and ring_bytes cannot overflow.
      const std::uint64_t ring_bytes = kRingDataOffset + (std::uint64_t{1} << log2);
      if (offset % 128 != 0 || offset > h.region_size || ring_bytes > h.region_size - offset)
        return std::unexpected(bad("channel " + std::to_string(i) + ": ring outside the region"));
      const std::uint64_t end = offset + ring_bytes;
      ranges.push_back({offset, end});
    }
  }
  if (h.surface_pool_size != 0) {
    if (h.surface_channel == 0 || h.surface_channel >= h.channel_count)
      return std::unexpected(bad("surface channel " + std::to_string(h.surface_channel) + " out of range"));
    if (h.surface_pool_offset % kRegionAlign != 0 || h.surface_pool_size % kRegionAlign != 0 ||
        h.surface_pool_offset > h.region_size || h.surface_pool_size > h.region_size - h.surface_pool_offset)
      return std::unexpected(bad("surface pool outside the region or not page aligned"));
    ranges.push_back({h.surface_pool_offset, h.surface_pool_offset + h.surface_pool_size});
    layout.surface_pool_offset = h.surface_pool_offset;
    layout.surface_pool_size = h.surface_pool_size;
    layout.surface_channel = h.surface_channel;
  } else if (h.surface_pool_offset != 0 || h.surface_channel != 0) {
    return std::unexpected(bad("surface channel or offset without a surface pool"));
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end) return std::unexpected(bad("rings or surface pool overlap"));
  return layout;
}

void Bus::format(std::byte* base, const BusConfig& config, std::uint64_t size) {
  std::memset(base, 0, align_up(sizeof(RegionHeader) + config.channels.size() * sizeof(ChannelDesc), kRegionAlign));
  RegionHeader h{};
  h.magic = kMagic;
  h.layout_version = kLayoutVersion;
  h.header_size = sizeof(RegionHeader);
  h.region_size = size;
  h.channel_count = static_cast<std::uint32_t>(config.channels.size());
  h.features = kFeatureWakeupSuppression;
  h.channel_table_offset = sizeof(RegionHeader);
  h.channel_desc_size = sizeof(ChannelDesc);
  std::uint64_t off = align_up(sizeof(RegionHeader) + config.channels.size() * sizeof(ChannelDesc), kRegionAlign);
  for (std::uint32_t i = 0; i < h.channel_count; ++i) {
    ChannelDesc d{};
    d.channel_id = i;
    d.h2g_log2 = config.channels[i].h2g_log2;
    d.g2h_log2 = config.channels[i].g2h_log2;
    d.h2g_offset = off;
    off += align_up(kRingDataOffset + (std::uint64_t{1} << d.h2g_log2), kRegionAlign);
    d.g2h_offset = off;
    off += align_up(kRingDataOffset + (std::uint64_t{1} << d.g2h_log2), kRegionAlign);
    // A fresh memfd is zero; a reused file is not: zero every control block.
    std::memset(base + d.h2g_offset, 0, sizeof(RingControl));
    std::memset(base + d.g2h_offset, 0, sizeof(RingControl));
    std::memcpy(base + h.channel_table_offset + i * sizeof(ChannelDesc), &d, sizeof d);
  }
  if (config.surface_pool_bytes != 0) {
    h.surface_pool_offset = off;
    h.surface_pool_size = align_up(config.surface_pool_bytes, kRegionAlign);
    h.surface_channel = h.channel_count - 1;
  }
  h.checksum = header_checksum(h);
  std::memcpy(base, &h, sizeof h);
}

Result<Bus> Bus::create(const BusConfig& config) {
  auto size = region_size_for(config);
  if (!size) return std::unexpected(size.error());
  UniqueFd fd(::memfd_create(config.name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return std::unexpected(Error::sys("memfd_create", errno));
  if (::ftruncate(fd.get(), static_cast<off_t>(*size)) != 0)
    return std::unexpected(Error::sys("ftruncate of bus memfd", errno));
  // A peer that shrank the memfd would turn our accesses into SIGBUS: forbid it.
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return std::unexpected(Error::sys("sealing bus memfd", errno));
  auto base = map_shared(fd.get(), *size);
  if (!base) return std::unexpected(base.error());
  format(*base, config, *size);
  return from_mapping(*base, *size, true, std::move(fd), Side::kHost);
}

Result<Bus> Bus::create_at_path(const std::string& path, const BusConfig& config) {
  auto size = region_size_for(config);
  if (!size) return std::unexpected(size.error());
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return std::unexpected(Error::sys("open " + path, errno));
  if (::ftruncate(fd.get(), static_cast<off_t>(*size)) != 0)
    return std::unexpected(Error::sys("ftruncate " + path, errno));
  auto base = map_shared(fd.get(), *size);
  if (!base) return std::unexpected(base.error());
  format(*base, config, *size);
  return from_mapping(*base, *size, true, std::move(fd), Side::kHost);
}

Result<Bus> Bus::attach_fd(UniqueFd fd, Side side) {
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return std::unexpected(Error::sys("fstat of bus fd", errno));
  if (st.st_size < static_cast<off_t>(sizeof(RegionHeader)))
    return std::unexpected(bad("bus file of " + std::to_string(st.st_size) + " bytes has no header"));
  const auto size = static_cast<std::size_t>(st.st_size);
  auto base = map_shared(fd.get(), size);
  if (!base) return std::unexpected(base.error());
  return from_mapping(*base, size, true, std::move(fd), side);
}

Result<Bus> Bus::attach_path(const std::string& path, Side side) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return std::unexpected(Error::sys("open " + path, errno));
  return attach_fd(std::move(fd), side);
}

Result<Bus> Bus::attach_mapping(void* base, std::size_t size, Side side) {
  return from_mapping(static_cast<std::byte*>(base), size, false, UniqueFd(), side);
}

Result<Bus> Bus::from_mapping(std::byte* base, std::size_t size, bool owns_mapping, UniqueFd fd, Side side) {
  Bus bus;
  bus.base_ = base;
  bus.size_ = size;
  bus.owns_mapping_ = owns_mapping;
  bus.fd_ = std::move(fd);
  bus.side_ = side;
  auto layout = validate_region(base, size);
  if (!layout) return std::unexpected(layout.error());  // ~Bus unmaps
  bus.layout_ = std::move(*layout);
  for (const ChannelDesc& d : bus.layout_.channels) {
    bus.channels_.push_back(std::make_unique<Channel>(
        d.channel_id, side, reinterpret_cast<RingControl*>(base + d.h2g_offset), d.h2g_log2,
        reinterpret_cast<RingControl*>(base + d.g2h_offset), d.g2h_log2));
  }
  return bus;
}

Result<std::span<std::byte>> Bus::surface_bytes(std::uint64_t offset, std::uint64_t bytes) const {
  const std::uint64_t pool = layout_.surface_pool_size;
  if (pool == 0 || offset > pool || bytes > pool - offset)
    return std::unexpected(Error{Errc::kInvalidArgument, 0,
                                 "surface bytes [" + std::to_string(offset) + ", +" + std::to_string(bytes) +
                                     ") outside the pool of " + std::to_string(pool)});
  return std::span<std::byte>(base_ + layout_.surface_pool_offset + offset, static_cast<std::size_t>(bytes));
}

Bus::Bus(Bus&& o) noexcept
    : side_(o.side_),
      base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      owns_mapping_(std::exchange(o.owns_mapping_, false)),
      fd_(std::move(o.fd_)),
      layout_(std::move(o.layout_)),
      channels_(std::move(o.channels_)) {}

Bus& Bus::operator=(Bus&& o) noexcept {
  if (this != &o) {
    this->~Bus();
    new (this) Bus(std::move(o));
  }
  return *this;
}

Bus::~Bus() {
  channels_.clear();
  if (owns_mapping_ && base_) ::munmap(base_, size_);
}

}  // namespace vitrine::ringbus
