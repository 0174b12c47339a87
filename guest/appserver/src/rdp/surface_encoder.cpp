#include "surface_encoder.hpp"

#include <freerdp/codec/color.h>
#include <winpr/stream.h>

#include <algorithm>
#include <cstring>

namespace vitrine::appserver::rdp {
namespace {

constexpr int32_t kTile = 64;
// Room for the fast-path, update and bitmap headers inside one multifragment PDU.
constexpr size_t kHeaderReserve = 1024;

}  // namespace

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::kPlanar: return "planar";
    case Codec::kRaw: return "raw";
    case Codec::kRemoteFx: return "remotefx";
  }
  return "?";
}

std::optional<Codec> parse_codec(std::string_view name) {
  if (name == "planar") return Codec::kPlanar;
  if (name == "raw") return Codec::kRaw;
  if (name == "remotefx" || name == "rfx") return Codec::kRemoteFx;
  return std::nullopt;
}

std::expected<std::unique_ptr<SurfaceEncoder>, std::string> SurfaceEncoder::create(
    Codec codec, const Rect& desktop, size_t max_payload) {
  if (max_payload < kHeaderReserve + size_t{kTile} * kTile * 4 + 64)
    return std::unexpected("client's multifragment limit is too small for one 64x64 tile");
  if (desktop.empty() || desktop.width > 8192 || desktop.height > 8192)
    return std::unexpected("desktop size out of range");
  std::unique_ptr<SurfaceEncoder> e(new SurfaceEncoder(codec, desktop, max_payload - kHeaderReserve));
  switch (codec) {
    case Codec::kPlanar:
      e->planar_ = freerdp_bitmap_planar_context_new(PLANAR_FORMAT_HEADER_NA | PLANAR_FORMAT_HEADER_RLE,
                                                     kTile, kTile);
      if (!e->planar_) return std::unexpected("planar encoder init failed");
      break;
    case Codec::kRemoteFx:
      e->rfx_ = rfx_context_new(TRUE);
      if (!e->rfx_) return std::unexpected("RemoteFX encoder init failed");
      rfx_context_set_pixel_format(e->rfx_, PIXEL_FORMAT_BGRX32);
      if (!rfx_context_reset(e->rfx_, static_cast<UINT32>(desktop.width),
                             static_cast<UINT32>(desktop.height)))
        return std::unexpected("RemoteFX encoder reset failed");
      e->rfx_stream_ = Stream_New(nullptr, max_payload);
      if (!e->rfx_stream_) return std::unexpected("out of memory");
      break;
    case Codec::kRaw:
      break;
  }
  return e;
}

SurfaceEncoder::SurfaceEncoder(Codec codec, const Rect& desktop, size_t budget)
    : codec_(codec), desktop_(desktop), budget_(budget) {
  buffer_.resize(1 << 20);
}

SurfaceEncoder::~SurfaceEncoder() {
  if (planar_) freerdp_bitmap_planar_context_free(planar_);
  if (rfx_) rfx_context_free(rfx_);
  if (rfx_stream_) Stream_Free(rfx_stream_, TRUE);
}

void SurfaceEncoder::clear() {
  used_ = 0;
  bitmaps_.clear();
}

uint8_t* SurfaceEncoder::reserve(size_t n) {
  if (used_ + n > buffer_.size()) buffer_.resize(std::max(buffer_.size() * 2, used_ + n));
  return buffer_.data() + used_;
}

bool SurfaceEncoder::encode(const x11::ImageView& image, const Rect& dest) {
  if (dest.empty() || image.width != dest.width || image.height != dest.height || !image.data)
    return false;
  if (dest.intersect(desktop_) != dest) return false;
  switch (codec_) {
    case Codec::kPlanar: return encode_planar(image, dest);
    case Codec::kRaw: return encode_raw(image, dest);
    case Codec::kRemoteFx: return encode_rfx(image, dest);
  }
  return false;
}

bool SurfaceEncoder::encode_planar(const x11::ImageView& image, const Rect& dest) {
  for (const Rect& t : split_into_tiles(dest, kTile)) {
    // The session aligns damage to 4-pixel columns (legacy bitmap width rule), so every tile
    // but none of the rows needs padding here.
    const uint8_t* src = image.data + size_t(t.y - dest.y) * size_t(image.stride) +
                         size_t(t.x - dest.x) * 4;
    const size_t cap = size_t(t.width) * size_t(t.height) * 4 + 64;
    uint8_t* out = reserve(cap);
    UINT32 size = static_cast<UINT32>(cap);
    const BYTE* r = freerdp_bitmap_compress_planar(planar_, src, PIXEL_FORMAT_BGRX32,
                                                   static_cast<UINT32>(t.width),
                                                   static_cast<UINT32>(t.height),
                                                   static_cast<UINT32>(image.stride), out, &size);
    if (!r || size == 0 || size > cap) return false;
    bitmaps_.push_back({t, static_cast<uint16_t>(t.width), static_cast<uint16_t>(t.height), used_, size});
    used_ += size;
  }
  return true;
}

bool SurfaceEncoder::encode_raw(const x11::ImageView& image, const Rect& dest) {
  // Rows per command so that one command stays within the budget.
  const size_t row_bytes = size_t(dest.width) * 4;
  if (row_bytes > budget_) {
    // Split into column bands first: a single row wider than the budget.
    const int32_t band = static_cast<int32_t>(budget_ / 4 / 64 * 64);
    for (int32_t x = dest.x; x < dest.x + dest.width; x += band) {
      const Rect sub{x, dest.y, std::min(band, dest.x + dest.width - x), dest.height};
      x11::ImageView v = image;
      v.data = image.data + size_t(x - dest.x) * 4;
      v.width = sub.width;
      if (!encode_raw(v, sub)) return false;
    }
    return true;
  }
  const int32_t rows = static_cast<int32_t>(std::max<size_t>(1, budget_ / row_bytes));
  for (int32_t y = dest.y; y < dest.y + dest.height; y += rows) {
    const int32_t h = std::min(rows, dest.y + dest.height - y);
    uint8_t* out = reserve(row_bytes * size_t(h));
    // Bottom-up rows (MS-RDPBCGR 2.2.9.1.1.3.1.2.2: bitmap data is bottom-up, like a DIB).
    for (int32_t r = 0; r < h; ++r) {
      const uint8_t* src = image.data + size_t(y - dest.y + (h - 1 - r)) * size_t(image.stride);
      std::memcpy(out + size_t(r) * row_bytes, src, row_bytes);
    }
    bitmaps_.push_back({{dest.x, y, dest.width, h}, static_cast<uint16_t>(dest.width),
                        static_cast<uint16_t>(h), used_, row_bytes * size_t(h)});
    used_ += row_bytes * size_t(h);
  }
  return true;
}

bool SurfaceEncoder::encode_rfx(const x11::ImageView& image, const Rect& dest) {
  // Chunks of 4x4 RemoteFX tiles: each rfx_encode_message call holds a bounded number of
  // pooled tiles, and a large damage area starts reaching the wire after its first chunk.
  // (In a process that links mimalloc, link vitrine::winpr_aligned_malloc too: without it every
  // rfx_encode_message fails, see cmake/winpr_aligned_malloc.cpp.)
  constexpr int32_t kChunk = 256;
  if (dest.width > kChunk || dest.height > kChunk) {
    for (const Rect& c : split_into_tiles(dest, kChunk)) {
      x11::ImageView v = image;
      v.data = image.data + size_t(c.y - dest.y) * size_t(image.stride) + size_t(c.x - dest.x) * 4;
      v.width = c.width;
      v.height = c.height;
      if (!encode_rfx(v, c)) return false;
    }
    return true;
  }
  const RFX_RECT rect{0, 0, static_cast<UINT16>(dest.width), static_cast<UINT16>(dest.height)};
  size_t count = 0;
  RFX_MESSAGE* messages = rfx_encode_messages_ex(
      rfx_, &rect, 1, image.data, static_cast<UINT32>(dest.width), static_cast<UINT32>(dest.height),
      static_cast<UINT32>(image.stride), &count, budget_);
  if (!messages) return false;
  RFX_RECT* shared_rects = count > 0 ? messages[0].rects : nullptr;
  bool ok = true;
  for (size_t i = 0; i < count; ++i) {
    Stream_SetPosition(rfx_stream_, 0);
    if (ok && rfx_write_message(rfx_, rfx_stream_, &messages[i])) {
      const size_t n = Stream_GetPosition(rfx_stream_);
      std::memcpy(reserve(n), Stream_Buffer(rfx_stream_), n);
      bitmaps_.push_back({dest, static_cast<uint16_t>(dest.width), static_cast<uint16_t>(dest.height),
                          used_, n});
      used_ += n;
    } else {
      ok = false;
    }
    rfx_message_free(rfx_, &messages[i]);
  }
  // The split messages share one rects array and are allocated as one block.
  free(shared_rects);
  free(messages);
  return ok;
}

}  // namespace vitrine::appserver::rdp
