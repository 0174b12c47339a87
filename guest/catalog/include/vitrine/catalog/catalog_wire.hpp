// Wire format of the catalogue and of launch requests, for the control channel (channel 0) of
// the bus. rdpmux/proto's control messages are fixed 128-byte structs; a catalogue with icons
// is megabytes, so it travels as a variable-length blob cut into fragments, one per record.
// Every decoder copies nothing it has not bounds-checked and validates every field: the guest
// is untrusted. All integers little-endian.
//
// Catalogue blob:
//   CatalogHeader  | magic "VCAT" u32 | version u16 | reserved u16 | generation u32 |
//   (32 bytes)     | entry_count u32 | body_size u32 | reserved u32 x3 |
//   Entry x count  | id_len u16 | name_len u16 | comment_len u16 | argc u16 |
//   (24 bytes +    | working_dir_len u16 | icon_name_len u16 | flags u16 | reserved u16 |
//    variable)     | icon_png_len u32 | reserved u32 |
//                  | id | name | comment | working_dir | icon_name | argc x {len u16, bytes} | icon_png |
// Fragment (one record):
//   | magic "VCFR" u32 | generation u32 | offset u32 | total_size u32 | length u32 | reserved u32 | bytes |
// LaunchRequest:  | request_id u32 | id_len u16 | argc u16 | id | argc x {len u16, bytes} |
// LaunchResult:   | request_id u32 | error i32 (0 = started, else errno) | guest_pid u32 |
//                 | text_len u16 | reserved u16 | text |
//
// Proposed control record types (to be added to rdpmux/proto's control_layout.hpp by its
// owner; they are not defined there yet): kMsgCatalogFragment = 32 (guest -> host),
// kMsgCatalogRequest = 33 (host -> guest, empty payload: "send the whole catalogue again"),
// kMsgLaunchRequest = 34 (host -> guest), kMsgLaunchResult = 35 (guest -> host).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vitrine/catalog/app_entry.hpp"
#include "vitrine/catalog/error.hpp"

namespace vitrine::catalog {

inline constexpr std::uint32_t kCatalogMagic = 0x54414356;   // "VCAT"
inline constexpr std::uint32_t kFragmentMagic = 0x52464356;  // "VCFR"
inline constexpr std::uint16_t kCatalogVersion = 1;
inline constexpr std::size_t kCatalogHeaderSize = 32;
inline constexpr std::size_t kEntryHeaderSize = 24;
inline constexpr std::size_t kFragmentHeaderSize = 24;

inline constexpr std::uint16_t kProposedMsgCatalogFragment = 32;
inline constexpr std::uint16_t kProposedMsgCatalogRequest = 33;
inline constexpr std::uint16_t kProposedMsgLaunchRequest = 34;
inline constexpr std::uint16_t kProposedMsgLaunchResult = 35;

// Field limits, checked on encode and decode.
inline constexpr std::size_t kMaxIdBytes = 255;
inline constexpr std::size_t kMaxNameBytes = 1024;
inline constexpr std::size_t kMaxTextBytes = 4096;    // comment, working dir, icon name, one arg
inline constexpr std::size_t kMaxArgs = 256;
inline constexpr std::size_t kMaxIconPngBytes = 256 * 1024;
inline constexpr std::size_t kMaxCatalogBlobBytes = 32u << 20;
inline constexpr std::size_t kMaxLaunchRequestBytes = 64 * 1024;

struct Catalog {
  std::uint32_t generation = 0;  // incremented by the guest on every change
  std::vector<AppEntry> apps;    // `source` is not carried (guest-local detail)
};

// Encodes a catalogue; kTooLarge / kMalformed when an entry breaks a limit (empty or duplicate
// id, invalid UTF-8, a NUL byte), so that the guest learns it before the host rejects it.
Result<std::vector<std::byte>> encode_catalog(const Catalog& catalog);
Result<Catalog> decode_catalog(std::span<const std::byte> blob);

// Cuts a blob into record payloads of at most `max_record` bytes (> kFragmentHeaderSize).
std::vector<std::vector<std::byte>> fragment_catalog(std::span<const std::byte> blob, std::uint32_t generation,
                                                     std::size_t max_record);

// Host side: joins fragments that arrive in order. A fragment of a new generation discards an
// incomplete older one. add() returns the decoded catalogue when the last fragment arrives,
// nullopt while incomplete, and an error (after which it is reset) on any inconsistency.
class CatalogReassembler {
 public:
  Result<std::optional<Catalog>> add(std::span<const std::byte> fragment);
  void reset();

 private:
  std::vector<std::byte> blob_;
  std::uint32_t generation_ = 0;
  std::uint32_t total_ = 0;
  bool active_ = false;
};

struct LaunchRequest {
  std::uint32_t request_id = 0;
  std::string app_id;
  std::vector<std::string> args;
  bool operator==(const LaunchRequest&) const = default;
};

struct LaunchResult {
  std::uint32_t request_id = 0;
  std::int32_t error = 0;  // 0: started; otherwise the guest's errno (ENOENT: unknown app)
  std::uint32_t guest_pid = 0;
  std::string text;        // what happened, for the user (<= kMaxTextBytes)
  bool operator==(const LaunchResult&) const = default;
};

Result<std::vector<std::byte>> encode_launch_request(const LaunchRequest& request);
Result<LaunchRequest> decode_launch_request(std::span<const std::byte> bytes);
Result<std::vector<std::byte>> encode_launch_result(const LaunchResult& result);
Result<LaunchResult> decode_launch_result(std::span<const std::byte> bytes);

// UTF-8 validity (no overlongs, no surrogates, <= U+10FFFF). Used for every string field.
bool valid_utf8(std::string_view s);

}  // namespace vitrine::catalog
