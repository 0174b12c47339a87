#include "update_writer.hpp"

#include <freerdp/update.h>

#include <vector>

namespace vitrine::appserver::rdp {
namespace {

// TS_BITMAP_DATA flags (MS-RDPBCGR 2.2.9.1.1.3.1.2.2); FreeRDP keeps its names private.
constexpr UINT32 kBitmapCompression = 0x0001;
constexpr UINT32 kNoBitmapCompressionHdr = 0x0400;

bool send_planar(rdpContext* context, const SurfaceEncoder& enc) {
  rdpUpdate* update = context->update;
  std::vector<BITMAP_DATA> batch;
  size_t batch_bytes = 0;
  const auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    BITMAP_UPDATE bu{};
    bu.count = bu.number = static_cast<UINT32>(batch.size());
    bu.rectangles = batch.data();
    const bool ok = update->BitmapUpdate(context, &bu);
    batch.clear();
    batch_bytes = 0;
    return ok;
  };
  for (const EncodedBitmap& b : enc.bitmaps()) {
    // Per-rectangle overhead: 18 bytes of TS_BITMAP_DATA header (+8 compression header).
    if (batch_bytes + b.length + 32 > enc.payload_budget() && !flush()) return false;
    BITMAP_DATA d{};
    d.destLeft = static_cast<UINT32>(b.dest.x);
    d.destTop = static_cast<UINT32>(b.dest.y);
    d.destRight = static_cast<UINT32>(b.dest.x + b.dest.width - 1);  // inclusive (2.2.9.1.1.3.1.2.2)
    d.destBottom = static_cast<UINT32>(b.dest.y + b.dest.height - 1);
    d.width = b.width;
    d.height = b.height;
    d.bitsPerPixel = 32;
    d.compressed = TRUE;
    d.flags = kBitmapCompression | kNoBitmapCompressionHdr;
    d.cbCompMainBodySize = static_cast<UINT32>(b.length);
    d.cbScanWidth = b.width * 4u;
    d.cbUncompressedSize = b.width * b.height * 4u;
    d.bitmapLength = static_cast<UINT32>(b.length);
    d.bitmapDataStream = const_cast<BYTE*>(enc.data() + b.offset);
    batch.push_back(d);
    batch_bytes += b.length + 32;
  }
  return flush();
}

bool send_surface_bits(rdpContext* context, const SurfaceEncoder& enc, uint16_t codec_id) {
  for (const EncodedBitmap& b : enc.bitmaps()) {
    SURFACE_BITS_COMMAND cmd{};
    cmd.cmdType = CMDTYPE_STREAM_SURFACE_BITS;
    cmd.destLeft = static_cast<UINT32>(b.dest.x);
    cmd.destTop = static_cast<UINT32>(b.dest.y);
    cmd.destRight = static_cast<UINT32>(b.dest.x + b.dest.width);  // exclusive (2.2.9.2.1)
    cmd.destBottom = static_cast<UINT32>(b.dest.y + b.dest.height);
    cmd.bmp.bpp = 32;
    cmd.bmp.codecID = codec_id;
    cmd.bmp.width = b.width;
    cmd.bmp.height = b.height;
    cmd.bmp.bitmapDataLength = static_cast<UINT32>(b.length);
    cmd.bmp.bitmapData = const_cast<BYTE*>(enc.data() + b.offset);
    cmd.skipCompression = TRUE;
    if (!context->update->SurfaceBits(context, &cmd)) return false;
  }
  return true;
}

}  // namespace

bool send_encoded(rdpContext* context, const SurfaceEncoder& encoder, uint16_t rfx_codec_id) {
  switch (encoder.codec()) {
    case Codec::kPlanar: return send_planar(context, encoder);
    case Codec::kRaw: return send_surface_bits(context, encoder, 0 /* RDP_CODEC_ID_NONE */);
    case Codec::kRemoteFx: return send_surface_bits(context, encoder, rfx_codec_id);
  }
  return false;
}

}  // namespace vitrine::appserver::rdp
