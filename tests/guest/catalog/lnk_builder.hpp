// Builds .lnk files byte by byte from MS-SHLLINK, for tests (no Windows guest needed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vitrine::test {

class LnkBuilder {
 public:
  std::uint32_t flags = 0;
  std::vector<std::vector<std::uint8_t>> id_items;  // ItemID data (size prefix added)
  std::string local_base_path;                       // LinkInfo, ANSI
  std::u16string local_base_path_unicode;            // LinkInfo, header size 0x24
  std::string net_name;                              // CommonNetworkRelativeLink
  std::string suffix;
  std::u16string name, relative_path, working_dir, arguments, icon_location;  // StringData
  std::string env_target_ansi;
  std::u16string env_target_unicode;
  bool unicode = true;

  std::vector<std::uint8_t> build() const {
    std::vector<std::uint8_t> out;
    std::uint32_t f = flags;
    if (!id_items.empty()) f |= 0x1;
    if (!local_base_path.empty() || !local_base_path_unicode.empty() || !net_name.empty()) f |= 0x2;
    if (!name.empty()) f |= 0x4;
    if (!relative_path.empty()) f |= 0x8;
    if (!working_dir.empty()) f |= 0x10;
    if (!arguments.empty()) f |= 0x20;
    if (!icon_location.empty()) f |= 0x40;
    if (unicode) f |= 0x80;
    u32(out, 0x4C);
    const std::uint8_t clsid[16] = {0x01, 0x14, 0x02, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46};
    out.insert(out.end(), clsid, clsid + 16);
    u32(out, f);
    u32(out, 0x20);             // FILE_ATTRIBUTE_ARCHIVE
    out.resize(out.size() + 24);  // times
    u32(out, 1234);             // FileSize
    u32(out, 3);                // IconIndex
    u32(out, 1);                // SW_SHOWNORMAL
    u16(out, 0);
    u16(out, 0);
    u32(out, 0);
    u32(out, 0);
    if (!id_items.empty()) {
      std::vector<std::uint8_t> list;
      for (const auto& item : id_items) {
        u16(list, static_cast<std::uint16_t>(item.size() + 2));
        list.insert(list.end(), item.begin(), item.end());
      }
      u16(list, 0);
      u16(out, static_cast<std::uint16_t>(list.size()));
      out.insert(out.end(), list.begin(), list.end());
    }
    if (f & 0x2) out_link_info(out);
    for (const auto* s : {&name, &relative_path, &working_dir, &arguments, &icon_location}) {
      if (s->empty()) continue;
      u16(out, static_cast<std::uint16_t>(s->size()));
      for (char16_t c : *s) {
        if (unicode) u16(out, static_cast<std::uint16_t>(c));
        else out.push_back(static_cast<std::uint8_t>(c));
      }
    }
    if (!env_target_ansi.empty() || !env_target_unicode.empty()) {
      std::size_t start = out.size();
      u32(out, 0x314);
      u32(out, 0xA0000001);
      std::vector<std::uint8_t> ansi(260), wide(520);
      std::copy(env_target_ansi.begin(), env_target_ansi.end(), ansi.begin());
      for (std::size_t i = 0; i < env_target_unicode.size(); ++i) {
        wide[2 * i] = static_cast<std::uint8_t>(env_target_unicode[i] & 0xFF);
        wide[2 * i + 1] = static_cast<std::uint8_t>(env_target_unicode[i] >> 8);
      }
      out.insert(out.end(), ansi.begin(), ansi.end());
      out.insert(out.end(), wide.begin(), wide.end());
      (void)start;
    }
    u32(out, 0);  // TerminalBlock
    return out;
  }

  static void u16(std::vector<std::uint8_t>& o, std::uint16_t v) {
    o.push_back(static_cast<std::uint8_t>(v));
    o.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  static void u32(std::vector<std::uint8_t>& o, std::uint32_t v) {
    u16(o, static_cast<std::uint16_t>(v));
    u16(o, static_cast<std::uint16_t>(v >> 16));
  }
  static void put32(std::vector<std::uint8_t>& o, std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) o[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
  }

 private:
  void out_link_info(std::vector<std::uint8_t>& out) const {
    const bool wide = !local_base_path_unicode.empty();
    const std::uint32_t header = wide ? 0x24 : 0x1C;
    std::vector<std::uint8_t> li(header, 0);
    put32(li, 4, header);
    std::uint32_t lflags = 0;
    // VolumeID (2.3.1): minimal 0x10 bytes + empty label.
    if (!local_base_path.empty() || wide) {
      lflags |= 1;
      put32(li, 12, static_cast<std::uint32_t>(li.size()));
      std::vector<std::uint8_t> vol(0x11, 0);
      put32(vol, 0, 0x11);
      put32(vol, 4, 3);  // DRIVE_FIXED
      put32(vol, 12, 0x10);
      li.insert(li.end(), vol.begin(), vol.end());
      put32(li, 16, static_cast<std::uint32_t>(li.size()));
      li.insert(li.end(), local_base_path.begin(), local_base_path.end());
      li.push_back(0);
    }
    if (!net_name.empty()) {
      lflags |= 2;
      put32(li, 20, static_cast<std::uint32_t>(li.size()));
      std::vector<std::uint8_t> cnrl(0x14, 0);
      put32(cnrl, 8, 0x14);
      cnrl.insert(cnrl.end(), net_name.begin(), net_name.end());
      cnrl.push_back(0);
      put32(cnrl, 0, static_cast<std::uint32_t>(cnrl.size()));
      li.insert(li.end(), cnrl.begin(), cnrl.end());
    }
    put32(li, 24, static_cast<std::uint32_t>(li.size()));
    li.insert(li.end(), suffix.begin(), suffix.end());
    li.push_back(0);
    if (wide) {
      put32(li, 0x1C, static_cast<std::uint32_t>(li.size()));
      for (char16_t c : local_base_path_unicode) u16(li, static_cast<std::uint16_t>(c));
      u16(li, 0);
      put32(li, 0x20, 0);
    }
    put32(li, 8, lflags);
    put32(li, 0, static_cast<std::uint32_t>(li.size()));
    out.insert(out.end(), li.begin(), li.end());
  }
};

}  // namespace vitrine::test
