// Wire format of the application catalogue, sent on the control channel (channel 0) of the bus
// as rdpmux CatalogFragment records (kMsgCatalogFragment, control_layout.hpp, which also owns
// the fragment header and the size limits). A catalogue with icons is megabytes, so it travels
// as one variable-length blob cut into fragments, one per record. Every decoder copies nothing
// it has not bounds-checked and validates every field: the guest is untrusted. All integers
// little-endian.
//
// Catalogue blob:
//   CatalogHeader  | magic "VCAT" u32 | version u16 | reserved u16 | generation u32 |
//   (32 bytes)     | entry_count u32 | body_size u32 | reserved u32 x3 |
//   Entry x count  | id_len u16 | name_len u16 | comment_len u16 | argc u16 |
//   (24 bytes +    | working_dir_len u16 | icon_name_len u16 | flags u16 | reserved u16 |
//    variable)     | icon_png_len u32 | reserved u32 |
//                  | id | name | comment | working_dir | icon_name | argc x {len u16, bytes} | icon_png |
//   flags: bit 0 = Terminal=true.
// Fragment (one record): rdpmux::CatalogFragmentHeader (24 bytes) | bytes of the blob.
//
// Launching is not part of this format: the host starts an application with a RemoteApp exec
// in the RDP session, using launch_argv() (catalog_exec.hpp) on a decoded entry.
//
// Both sides use this file: the guest's publisher (guest/catalog) encodes and fragments, the
// host's CatalogReassembler joins and decodes. Namespace vitrine::catalog, as before the move.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vitrine/rdpmux/catalog_entry.hpp"
#include "vitrine/rdpmux/catalog_error.hpp"
#include "vitrine/rdpmux/control_layout.hpp"

namespace vitrine::catalog {

inline constexpr std::uint32_t kCatalogMagic = 0x54414356;   // "VCAT"
inline constexpr std::uint32_t kFragmentMagic = rdpmux::kCatalogFragmentMagic;  // "VCFR"
inline constexpr std::uint16_t kCatalogVersion = 1;
inline constexpr std::size_t kCatalogHeaderSize = 32;
inline constexpr std::size_t kEntryHeaderSize = 24;
inline constexpr std::size_t kFragmentHeaderSize = sizeof(rdpmux::CatalogFragmentHeader);
// The largest fragment record (header included) the host accepts.
inline constexpr std::size_t kMaxFragmentRecordBytes = rdpmux::kMaxCatalogFragmentBytes;

// Field limits, checked on encode and decode.
inline constexpr std::size_t kMaxIdBytes = 255;
inline constexpr std::size_t kMaxNameBytes = 1024;
inline constexpr std::size_t kMaxTextBytes = 4096;    // comment, working dir, icon name, one arg
inline constexpr std::size_t kMaxArgs = 256;
inline constexpr std::size_t kMaxIconPngBytes = 256 * 1024;
// Applications in one catalogue. 32 MiB of minimal entries would otherwise be about a million
// AppEntry objects (menus, `vitrine apps`, launcher files): far past any real Start Menu.
inline constexpr std::size_t kMaxApps = 4096;
inline constexpr std::size_t kMaxCatalogBlobBytes = rdpmux::kMaxCatalogBytes;

struct Catalog {
  std::uint32_t generation = 0;  // incremented by the guest on every change
  std::vector<AppEntry> apps;    // `source` is not carried (guest-local detail)
};

// Encodes a catalogue; kTooLarge / kMalformed when an entry breaks a limit (empty or duplicate
// id, invalid UTF-8, a NUL byte), so that the guest learns it before the host rejects it.
Result<std::vector<std::byte>> encode_catalog(const Catalog& catalog);
Result<Catalog> decode_catalog(std::span<const std::byte> blob);

// Cuts a blob into record payloads of at most `max_record` bytes (kFragmentHeaderSize <
// max_record <= kMaxFragmentRecordBytes; larger values are clamped). An empty blob gives none.
std::vector<std::vector<std::byte>> fragment_catalog(std::span<const std::byte> blob, std::uint32_t generation,
                                                     std::size_t max_record);

// Host side: joins fragments that arrive in order. A fragment of a new generation discards an
// incomplete older one. add() returns the decoded catalogue when the last fragment arrives,
// nullopt while incomplete, and an error (after which it is reset) on any inconsistency.
class CatalogReassembler {
 public:
  // A whole catalogue, joined but not yet decoded: the fragments' bytes in parts of 64 KiB. Joining never copies the catalogue so far again: one
  // contiguous buffer would be reallocated and copied as it grows (16 MiB at once on the way to
  // 32 MiB: tens of milliseconds on the UI thread, found by bench_hostile).
  struct Blob {
    std::uint32_t generation = 0;
    std::vector<std::vector<std::byte>> parts;
    std::vector<std::byte> bytes() const;  // the parts in one buffer (the decoder's thread)
  };
  // Joins only (a copy of the fragment's bytes): the blob once the last fragment arrived.
  // decode_blob() then does the expensive part, on a thread of the caller's choice (the host
  // joins on its UI thread, which must not spend time on up to kMaxApps entries).
  Result<std::optional<Blob>> join(std::span<const std::byte> fragment);
  static Result<Catalog> decode_blob(const Blob& blob);
  // join() and decode_blob() in one call.
  Result<std::optional<Catalog>> add(std::span<const std::byte> fragment);
  void reset();

 private:
  static constexpr std::size_t kPartBytes = 64 * 1024;
  std::vector<std::vector<std::byte>> parts_;
  std::size_t received_ = 0;  // bytes in parts_
  std::uint32_t generation_ = 0;
  std::uint32_t total_ = 0;
  bool active_ = false;
};

// UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF). Used for every string field.
bool valid_utf8(std::string_view s);

}  // namespace vitrine::catalog
