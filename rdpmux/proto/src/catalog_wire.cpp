#include "vitrine/rdpmux/catalog_wire.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace vitrine::catalog {
namespace {

class Writer {
 public:
  void u16(std::uint16_t v) { put(&v, 2); }
  void u32(std::uint32_t v) { put(&v, 4); }
  void bytes(std::span<const std::byte> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void str(std::string_view s) { bytes(std::as_bytes(std::span(s.data(), s.size()))); }
  void patch_u32(std::size_t at, std::uint32_t v) { std::memcpy(out_.data() + at, &v, 4); }
  std::size_t size() const { return out_.size(); }
  std::vector<std::byte> take() { return std::move(out_); }

 private:
  void put(const void* p, std::size_t n) {  // hosts are little-endian (static_assert in rdpmux)
    auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::vector<std::byte> out_;
};

// Every read is bounds-checked; a failed read leaves the reader in the failed state.
class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) : in_(in) {}
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return in_.size() - pos_; }
  std::uint16_t u16() { std::uint16_t v = 0; get(&v, 2); return v; }
  std::uint32_t u32() { std::uint32_t v = 0; get(&v, 4); return v; }
  std::string str(std::size_t n) {
    if (!check(n)) return {};
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::vector<std::byte> blob(std::size_t n) {
    if (!check(n)) return {};
    std::vector<std::byte> b(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                             in_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return b;
  }

 private:
  bool check(std::size_t n) {
    if (!ok_ || left() < n) ok_ = false;
    return ok_;
  }
  void get(void* p, std::size_t n) {
    if (!check(n)) return;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

Result<void> check_text(std::string_view s, std::size_t limit, std::string_view field, bool required = false) {
  if (required && s.empty()) return fail(Errc::kMalformed, fmt::format("{} is empty", field));
  if (s.size() > limit) return fail(Errc::kTooLarge, fmt::format("{} is {} bytes, limit {}", field, s.size(), limit));
  if (s.find('\0') != std::string_view::npos) return fail(Errc::kMalformed, fmt::format("{} contains a NUL byte", field));
  if (!valid_utf8(s)) return fail(Errc::kMalformed, fmt::format("{} is not valid UTF-8", field));
  return {};
}

Result<void> check_id(std::string_view id, std::string_view field) {
  if (auto r = check_text(id, kMaxIdBytes, field, true); !r) return r;
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7F) return fail(Errc::kMalformed, fmt::format("{} contains a control character", field));
  return {};
}

Result<void> check_entry(const AppEntry& app, std::size_t index) {
  std::string where = fmt::format("entry {} ('{}')", index, app.id.substr(0, 64));
  if (auto r = check_id(app.id, where + " id"); !r) return r;
  if (auto r = check_text(app.name, kMaxNameBytes, where + " name", true); !r) return r;
  if (auto r = check_text(app.comment, kMaxTextBytes, where + " comment"); !r) return r;
  if (auto r = check_text(app.working_dir, kMaxTextBytes, where + " working dir"); !r) return r;
  if (auto r = check_text(app.icon_name, kMaxTextBytes, where + " icon name"); !r) return r;
  if (app.exec.empty()) return fail(Errc::kMalformed, where + " has no command");
  if (app.exec.size() > kMaxArgs)
    return fail(Errc::kTooLarge, fmt::format("{} has {} arguments, limit {}", where, app.exec.size(), kMaxArgs));
  for (const std::string& a : app.exec)
    if (auto r = check_text(a, kMaxTextBytes, where + " argument"); !r) return r;
  if (app.exec.front().empty()) return fail(Errc::kMalformed, where + " has an empty program");
  if (app.icon_png.size() > kMaxIconPngBytes)
    return fail(Errc::kTooLarge, fmt::format("{} icon is {} bytes, limit {}", where, app.icon_png.size(), kMaxIconPngBytes));
  return {};
}

Result<std::vector<std::string>> read_args(Reader& r, std::size_t argc, std::string_view where) {
  std::vector<std::string> args;
  args.reserve(argc);
  for (std::size_t i = 0; i < argc; ++i) {
    std::size_t len = r.u16();
    if (!r.ok()) return fail(Errc::kTruncated, fmt::format("{}: argument {} length past the end", where, i));
    if (len > kMaxTextBytes)
      return fail(Errc::kTooLarge, fmt::format("{}: argument {} is {} bytes, limit {}", where, i, len, kMaxTextBytes));
    args.push_back(r.str(len));
    if (!r.ok()) return fail(Errc::kTruncated, fmt::format("{}: argument {} past the end", where, i));
  }
  return args;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) { ++i; continue; }
    std::size_t len;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr std::uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Result<std::vector<std::byte>> encode_catalog(const Catalog& catalog) {
  if (catalog.apps.size() > kMaxApps)
    return fail(Errc::kTooLarge, fmt::format("{} applications, at most {}", catalog.apps.size(), kMaxApps));
  std::set<std::string_view> ids;
  Writer w;
  w.u32(kCatalogMagic);
  w.u16(kCatalogVersion);
  w.u16(0);
  w.u32(catalog.generation);
  w.u32(static_cast<std::uint32_t>(catalog.apps.size()));
  w.u32(0);  // body_size, patched below
  w.u32(0); w.u32(0); w.u32(0);
  for (std::size_t i = 0; i < catalog.apps.size(); ++i) {
    const AppEntry& a = catalog.apps[i];
    if (auto r = check_entry(a, i); !r) return std::unexpected(r.error());
    if (!ids.insert(a.id).second) return fail(Errc::kMalformed, fmt::format("duplicate id '{}'", a.id));
    w.u16(static_cast<std::uint16_t>(a.id.size()));
    w.u16(static_cast<std::uint16_t>(a.name.size()));
    w.u16(static_cast<std::uint16_t>(a.comment.size()));
    w.u16(static_cast<std::uint16_t>(a.exec.size()));
    w.u16(static_cast<std::uint16_t>(a.working_dir.size()));
    w.u16(static_cast<std::uint16_t>(a.icon_name.size()));
    w.u16(a.terminal ? 1 : 0);
    w.u16(0);
    w.u32(static_cast<std::uint32_t>(a.icon_png.size()));
    w.u32(0);
    w.str(a.id); w.str(a.name); w.str(a.comment); w.str(a.working_dir); w.str(a.icon_name);
    for (const std::string& arg : a.exec) {
      w.u16(static_cast<std::uint16_t>(arg.size()));
      w.str(arg);
    }
    w.bytes(a.icon_png);
    if (w.size() > kMaxCatalogBlobBytes)
      return fail(Errc::kTooLarge, fmt::format("catalogue exceeds {} bytes at entry {}", kMaxCatalogBlobBytes, i));
  }
  w.patch_u32(16, static_cast<std::uint32_t>(w.size() - kCatalogHeaderSize));
  return w.take();
}

Result<Catalog> decode_catalog(std::span<const std::byte> blob) {
  if (blob.size() > kMaxCatalogBlobBytes)
    return fail(Errc::kTooLarge, fmt::format("catalogue of {} bytes, limit {}", blob.size(), kMaxCatalogBlobBytes));
  Reader r(blob);
  std::uint32_t magic = r.u32();
  std::uint16_t version = r.u16();
  r.u16();
  Catalog c;
  c.generation = r.u32();
  std::uint32_t count = r.u32();
  std::uint32_t body = r.u32();
  r.u32(); r.u32(); r.u32();
  if (!r.ok()) return fail(Errc::kTruncated, fmt::format("catalogue of {} bytes has no complete header", blob.size()));
  if (magic != kCatalogMagic) return fail(Errc::kMalformed, fmt::format("catalogue magic 0x{:08X}", magic));
  if (version != kCatalogVersion)
    return fail(Errc::kUnsupported, fmt::format("catalogue version {}, this build reads {}", version, kCatalogVersion));
  if (body != r.left())
    return fail(Errc::kMalformed, fmt::format("body_size {} but {} bytes follow the header", body, r.left()));
  if (count > kMaxApps)
    return fail(Errc::kTooLarge, fmt::format("catalogue of {} applications, at most {}", count, kMaxApps));
  // Each entry needs at least its header: bounds the count before anything is reserved.
  if (count > body / kEntryHeaderSize)
    return fail(Errc::kMalformed, fmt::format("{} entries cannot fit in {} bytes", count, body));
  std::set<std::string> ids;
  c.apps.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string where = fmt::format("entry {} at offset {}", i, r.pos());
    std::size_t id_len = r.u16(), name_len = r.u16(), comment_len = r.u16(), argc = r.u16();
    std::size_t wd_len = r.u16(), icon_name_len = r.u16();
    std::uint16_t flags = r.u16();
    r.u16();
    std::size_t png_len = r.u32();
    r.u32();
    if (!r.ok()) return fail(Errc::kTruncated, where + ": header past the end");
    if (flags & ~1u) return fail(Errc::kMalformed, fmt::format("{}: unknown flags 0x{:X}", where, flags));
    if (id_len > kMaxIdBytes || name_len > kMaxNameBytes || comment_len > kMaxTextBytes || wd_len > kMaxTextBytes ||
        icon_name_len > kMaxTextBytes || argc > kMaxArgs || png_len > kMaxIconPngBytes)
      return fail(Errc::kTooLarge, fmt::format("{}: a length is above its limit (id {}, name {}, comment {}, "
                                               "working dir {}, icon name {}, argc {}, icon {})",
                                               where, id_len, name_len, comment_len, wd_len, icon_name_len, argc,
                                               png_len));
    AppEntry a;
    a.id = r.str(id_len);
    a.name = r.str(name_len);
    a.comment = r.str(comment_len);
    a.working_dir = r.str(wd_len);
    a.icon_name = r.str(icon_name_len);
    if (!r.ok()) return fail(Errc::kTruncated, where + ": strings past the end");
    auto args = read_args(r, argc, where);
    if (!args) return std::unexpected(args.error());
    a.exec = std::move(*args);
    a.icon_png = r.blob(png_len);
    if (!r.ok()) return fail(Errc::kTruncated, where + ": icon past the end");
    a.terminal = flags & 1u;
    if (auto ok = check_entry(a, i); !ok) return std::unexpected(ok.error());
    if (!ids.insert(a.id).second) return fail(Errc::kMalformed, fmt::format("{}: duplicate id '{}'", where, a.id));
    c.apps.push_back(std::move(a));
  }
  if (r.left() != 0) return fail(Errc::kMalformed, fmt::format("{} trailing bytes after the last entry", r.left()));
  return c;
}

std::vector<std::vector<std::byte>> fragment_catalog(std::span<const std::byte> blob, std::uint32_t generation,
                                                     std::size_t max_record) {
  std::vector<std::vector<std::byte>> out;
  max_record = std::min(max_record, kMaxFragmentRecordBytes);
  const std::size_t chunk = max_record > kFragmentHeaderSize ? max_record - kFragmentHeaderSize : 1;
  for (std::size_t off = 0; off < blob.size();) {
    std::size_t n = std::min(chunk, blob.size() - off);
    Writer w;
    w.u32(kFragmentMagic);
    w.u32(generation);
    w.u32(static_cast<std::uint32_t>(off));
    w.u32(static_cast<std::uint32_t>(blob.size()));
    w.u32(static_cast<std::uint32_t>(n));
    w.u32(0);
    w.bytes(blob.subspan(off, n));
    out.push_back(w.take());
    off += n;
  }
  return out;
}

std::vector<std::byte> CatalogReassembler::Blob::bytes() const {
  std::size_t size = 0;
  for (const auto& p : parts) size += p.size();
  std::vector<std::byte> out;
  out.reserve(size);
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void CatalogReassembler::reset() {
  parts_.clear();
  parts_.shrink_to_fit();
  received_ = 0;
  active_ = false;
  total_ = 0;
}

Result<std::optional<Catalog>> CatalogReassembler::add(std::span<const std::byte> fragment) {
  auto joined = join(fragment);
  if (!joined) return std::unexpected(joined.error());
  if (!*joined) return std::optional<Catalog>{};
  auto catalog = decode_blob(**joined);
  if (!catalog) return std::unexpected(catalog.error());
  return std::optional<Catalog>(std::move(*catalog));
}

Result<Catalog> CatalogReassembler::decode_blob(const Blob& blob) {
  auto catalog = decode_catalog(blob.bytes());
  if (!catalog) return std::unexpected(catalog.error());
  if (catalog->generation != blob.generation)
    return fail(Errc::kMalformed, fmt::format("catalogue generation {} inside fragments of generation {}",
                                              catalog->generation, blob.generation));
  return catalog;
}

Result<std::optional<CatalogReassembler::Blob>> CatalogReassembler::join(std::span<const std::byte> fragment) {
  Reader r(fragment);
  std::uint32_t magic = r.u32(), generation = r.u32(), offset = r.u32(), total = r.u32(), length = r.u32();
  r.u32();
  auto bad = [&](Errc code, std::string msg) {
    reset();
    return std::unexpected(Error{code, 0, "catalogue fragment: " + std::move(msg)});
  };
  if (!r.ok()) return bad(Errc::kTruncated, fmt::format("{} bytes, header is {}", fragment.size(), kFragmentHeaderSize));
  if (magic != kFragmentMagic) return bad(Errc::kMalformed, fmt::format("magic 0x{:08X}", magic));
  if (length != r.left()) return bad(Errc::kMalformed, fmt::format("length {} but {} bytes follow", length, r.left()));
  if (total > kMaxCatalogBlobBytes) return bad(Errc::kTooLarge, fmt::format("total size {}", total));
  if (offset == 0) {
    // Start of a (possibly newer) catalogue: whatever was pending is abandoned.
    reset();
    active_ = true;
    generation_ = generation;
    total_ = total;
  } else if (!active_ || generation != generation_ || total != total_ || offset != received_) {
    return bad(Errc::kMalformed, fmt::format("generation {} offset {} total {} does not continue generation {} at {}"
                                             " of {}", generation, offset, total, generation_, received_, total_));
  }
  if (length > total_ - received_)
    return bad(Errc::kMalformed, fmt::format("offset {} + length {} beyond total {}", offset, length, total_));
  auto payload = fragment.subspan(kFragmentHeaderSize);
  // Into parts of kPartBytes, each reserved once (no part is ever reallocated, and a guest that
  // sends one-byte fragments gets no more parts than one that sends full ones).
  while (!payload.empty()) {
    if (parts_.empty() || parts_.back().size() == kPartBytes) {
      parts_.emplace_back();
      parts_.back().reserve(std::min<std::size_t>(kPartBytes, total_ - received_));
    }
    auto& part = parts_.back();
    const std::size_t take = std::min(payload.size(), kPartBytes - part.size());
    part.insert(part.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(take));
    payload = payload.subspan(take);
    received_ += take;
  }
  if (received_ < total_) return std::optional<Blob>{};
  Blob done{generation_, std::move(parts_)};
  reset();
  return std::optional<Blob>(std::move(done));
}

}  // namespace vitrine::catalog
