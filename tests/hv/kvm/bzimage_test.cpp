// bzImage parsing and the zero page: Debian's kernel (when the image cache has it), a
// synthetic minimal bzImage, a truncated file, a non-bzImage file.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "vitrine/hv/kvm/bzimage.hpp"
#include "vitrine/hv/kvm/layout.hpp"
#include "synthetic_bzimage.hpp"

namespace kvm = vitrine::hv::kvm;
namespace boot = vitrine::hv::kvm::boot;
namespace layout = vitrine::hv::kvm::layout;

namespace {

using vitrine::hv::kvm::test::put;
using vitrine::hv::kvm::test::get;
using vitrine::hv::kvm::test::synthetic_bzimage;

// Debian's kernel from the nested test's image cache or a dpkg -x tree, if one exists.
std::string find_debian_kernel() {
  for (const char* root : {HV_KVM_CACHE, "/boot"}) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if ((name.starts_with("vmlinuz-") && name.ends_with("-amd64")) || name == "vmlinuz") return it->path().string();
    }
  }
  return {};
}

std::vector<std::byte> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<std::byte> out(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace

TEST(BzImage, ParsesSyntheticImageFields) {
  auto img = synthetic_bzimage();
  auto k = kvm::parse_bzimage(img);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->version, 0x020f);
  EXPECT_EQ(k->setup_sects, 4);
  EXPECT_EQ(k->cmdline_size, 2047u);
  EXPECT_EQ(k->init_size, 0x800000u);
  EXPECT_TRUE(k->relocatable);
  EXPECT_EQ(k->kernel.size(), 65536u);
  EXPECT_EQ(k->kernel.data(), img.data() + 5 * 512);
  EXPECT_EQ(k->setup_header.size(), 0x26cu - boot::kSetupSects);
}

TEST(BzImage, ZeroSetupSectsMeansFour) {
  auto img = synthetic_bzimage();
  img[boot::kSetupSects] = std::byte{0};
  auto k = kvm::parse_bzimage(img);
  ASSERT_TRUE(k) << k.error().message;
  EXPECT_EQ(k->setup_sects, 4);
}

TEST(BzImage, RejectsTruncatedFiles) {
  auto img = synthetic_bzimage();
  auto tiny = kvm::parse_bzimage(std::span(img).first(100));
  ASSERT_FALSE(tiny);
  EXPECT_NE(tiny.error().message.find("truncated"), std::string::npos) << tiny.error().message;
  // Header intact, but the file ends inside the setup sectors.
  auto cut = kvm::parse_bzimage(std::span(img).first(1024));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("truncated"), std::string::npos) << cut.error().message;
  // The payload runs past the end of the file.
  auto short_payload = kvm::parse_bzimage(std::span(img).first(5 * 512 + 0x200));
  ASSERT_FALSE(short_payload);
  EXPECT_NE(short_payload.error().message.find("payload"), std::string::npos) << short_payload.error().message;
}

TEST(BzImage, RejectsNonBzImage) {
  std::vector<std::byte> elf(8192);
  std::memcpy(elf.data(), "\x7f" "ELF", 4);
  auto r = kvm::parse_bzimage(elf);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a bzImage"), std::string::npos) << r.error().message;
  auto img = synthetic_bzimage();
  put<std::uint32_t>(img, boot::kHeaderMagic, 0x12345678);
  auto no_hdrs = kvm::parse_bzimage(img);
  ASSERT_FALSE(no_hdrs);
  EXPECT_NE(no_hdrs.error().message.find("HdrS"), std::string::npos);
}

TEST(BzImage, RejectsOldProtocolAndNo64BitEntry) {
  auto img = synthetic_bzimage();
  put<std::uint16_t>(img, boot::kVersion, 0x0206);
  auto old = kvm::parse_bzimage(img);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("2.06"), std::string::npos) << old.error().message;
  img = synthetic_bzimage();
  put<std::uint16_t>(img, boot::kXloadflags, 0);
  auto no64 = kvm::parse_bzimage(img);
  ASSERT_FALSE(no64);
  EXPECT_NE(no64.error().message.find("64-bit"), std::string::npos);
}

TEST(BzImage, SetupSectorsPastTheEndAreRejected) {
  auto img = synthetic_bzimage();
  img[boot::kSetupSects] = std::byte{200};  // 100 KiB of setup in a 66 KiB file
  auto r = kvm::parse_bzimage(img);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("truncated"), std::string::npos);
}

TEST(BootParams, E820MapCoversRamAndSkipsTheLegacyHole) {
  const auto map = kvm::e820_map(256ull << 20);
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[0].addr, 0u);
  EXPECT_EQ(map[0].size, layout::kEbdaStart);
  EXPECT_EQ(map[0].type, boot::kE820Ram);
  EXPECT_EQ(map[1].type, boot::kE820Reserved);
  EXPECT_EQ(map[2].addr, layout::kHighRamStart);
  EXPECT_EQ(map[2].addr + map[2].size, 256ull << 20);
  for (std::size_t i = 1; i < map.size(); ++i) EXPECT_EQ(map[i - 1].addr + map[i - 1].size, map[i].addr);
}

TEST(BootParams, ZeroPageCarriesHeaderCmdlineInitrdAndE820) {
  auto img = synthetic_bzimage();
  auto k = kvm::parse_bzimage(img);
  ASSERT_TRUE(k);
  const std::uint64_t ram = 128ull << 20;
  auto initrd_at = kvm::place_initrd(*k, ram, 3 << 20);
  ASSERT_TRUE(initrd_at) << initrd_at.error().message;
  EXPECT_EQ(*initrd_at % 4096, 0u);
  EXPECT_LE(*initrd_at + (3 << 20), ram);
  EXPECT_GE(*initrd_at, layout::kKernelLoad + k->init_size);
  kvm::BootParamsSpec spec{layout::kCmdlineStart, 20, *initrd_at, 3 << 20, kvm::e820_map(ram)};
  auto zp = kvm::build_boot_params(*k, spec);
  ASSERT_TRUE(zp) << zp.error().message;
  std::span<const std::byte> z(*zp);
  ASSERT_EQ(z.size(), 4096u);
  EXPECT_EQ(get<std::uint32_t>(z, boot::kHeaderMagic), 0x53726448u);  // header copied
  EXPECT_EQ(get<std::uint16_t>(z, boot::kVersion), 0x020f);
  EXPECT_EQ(std::to_integer<std::uint8_t>(z[boot::kTypeOfLoader]), 0xff);
  EXPECT_NE(std::to_integer<std::uint8_t>(z[boot::kLoadflags]) & boot::kCanUseHeap, 0);
  EXPECT_EQ(get<std::uint32_t>(z, boot::kCmdLinePtr), layout::kCmdlineStart);
  EXPECT_EQ(get<std::uint32_t>(z, boot::kRamdiskImage), *initrd_at);
  EXPECT_EQ(get<std::uint32_t>(z, boot::kRamdiskSize), 3u << 20);
  const auto e820 = kvm::read_e820(z);
  ASSERT_EQ(e820.size(), 3u);
  EXPECT_EQ(e820[2].addr + e820[2].size, ram);
}

TEST(BootParams, InitrdThatDoesNotFitIsAnError) {
  auto img = synthetic_bzimage();
  auto k = kvm::parse_bzimage(img);
  ASSERT_TRUE(k);
  auto r = kvm::place_initrd(*k, 32ull << 20, 30ull << 20);  // collides with init_size
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more memory"), std::string::npos) << r.error().message;
  auto huge = kvm::place_initrd(*k, 32ull << 20, 64ull << 20);
  ASSERT_FALSE(huge);
}

TEST(BootParams, CommandLineLimits) {
  auto img = synthetic_bzimage();
  auto k = kvm::parse_bzimage(img);
  ASSERT_TRUE(k);
  EXPECT_TRUE(kvm::check_cmdline(*k, "console=ttyS0 quiet"));
  EXPECT_FALSE(kvm::check_cmdline(*k, std::string(2048, 'x')));
  EXPECT_FALSE(kvm::check_cmdline(*k, std::string_view("a\0b", 3)));
}

TEST(BootParams, DebianKernel) {
  const std::string path = find_debian_kernel();
  if (path.empty()) {
    GTEST_SKIP() << "no Debian kernel unpacked under " << HV_KVM_CACHE
                 << " or /boot (the nested test's image builder puts one there)";
  }
  const auto img = read_all(path);
  auto k = kvm::parse_bzimage(img);
  ASSERT_TRUE(k) << path << ": " << k.error().message;
  EXPECT_GE(k->version, 0x020c);
  EXPECT_TRUE(k->relocatable);
  EXPECT_NE(k->xloadflags & boot::kXlfKernel64, 0);
  EXPECT_GE(k->cmdline_size, 255u);
  EXPECT_GT(k->init_size, k->kernel.size());  // it decompresses into more than it occupies
  auto at = kvm::place_initrd(*k, 256ull << 20, 8ull << 20);
  ASSERT_TRUE(at) << at.error().message;
  kvm::BootParamsSpec spec{layout::kCmdlineStart, 13, *at, 8ull << 20, kvm::e820_map(256ull << 20)};
  auto zp = kvm::build_boot_params(*k, spec);
  ASSERT_TRUE(zp) << zp.error().message;
  EXPECT_EQ(kvm::read_e820(*zp).size(), 3u);
  // The copied header is byte-identical to the image's up to the loader-written fields (0x210).
  EXPECT_EQ(std::memcmp(zp->data() + boot::kSetupSects, img.data() + boot::kSetupSects, boot::kTypeOfLoader - boot::kSetupSects), 0);
  // Truncating Debian's kernel anywhere inside its payload is caught.
  auto cut = kvm::parse_bzimage(std::span(img).first(img.size() / 2));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message.find("truncated"), std::string::npos) << cut.error().message;
}
