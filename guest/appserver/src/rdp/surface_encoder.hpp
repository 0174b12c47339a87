// Turns captured desktop pixels into RDP bitmap payloads, independent of any connection (the
// benchmark drives it with no peer at all). Codecs, all from FreeRDP's codec library:
//   kPlanar   RDP 6.0 planar (MS-RDPEGDI 2.2.2.5.1), lossless; sent as Bitmap Updates
//             (MS-RDPBCGR 2.2.9.1.1.3.1.2) in 64x64 tiles. Default.
//   kRaw      uncompressed 32 bpp, bottom-up rows; sent as Surface Bits with codec id 0
//             (MS-RDPBCGR 2.2.9.2.1). Lossless, no encode work, 4 bytes per pixel on the wire.
//   kRemoteFx RemoteFX (MS-RDPRFX), lossy; Surface Bits with the client's RemoteFX codec id.
// Every payload is sized to stay under the client's MultifragMaxRequestSize.
#pragma once

#include <freerdp/codec/planar.h>
#include <freerdp/codec/rfx.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../geometry.hpp"
#include "../x11/pixel_grabber.hpp"

namespace vitrine::appserver::rdp {

enum class Codec : uint8_t { kPlanar, kRaw, kRemoteFx };

[[nodiscard]] std::string_view codec_name(Codec c);
[[nodiscard]] std::optional<Codec> parse_codec(std::string_view name);

// One bitmap or surface command's payload.
struct EncodedBitmap {
  Rect dest;              // desktop rectangle the client paints
  uint16_t width = 0;     // encoded image size (planar tiles may be wider than dest: padding)
  uint16_t height = 0;
  size_t offset = 0;      // into data()
  size_t length = 0;
};

class SurfaceEncoder {
 public:
  // `desktop`: the session's desktop; `max_payload`: the client's MultifragMaxRequestSize.
  static std::expected<std::unique_ptr<SurfaceEncoder>, std::string> create(Codec codec,
                                                                            const Rect& desktop,
                                                                            size_t max_payload);
  ~SurfaceEncoder();
  SurfaceEncoder(const SurfaceEncoder&) = delete;
  SurfaceEncoder& operator=(const SurfaceEncoder&) = delete;

  [[nodiscard]] Codec codec() const { return codec_; }
  // `image` holds exactly the pixels of desktop rectangle `dest` (BGRX32). Appends payloads.
  bool encode(const x11::ImageView& image, const Rect& dest);
  [[nodiscard]] std::span<const EncodedBitmap> bitmaps() const { return bitmaps_; }
  [[nodiscard]] const uint8_t* data() const { return buffer_.data(); }
  [[nodiscard]] size_t bytes() const { return used_; }
  void clear();
  // The byte budget for one PDU's payload (headers reserved).
  [[nodiscard]] size_t payload_budget() const { return budget_; }

 private:
  SurfaceEncoder(Codec codec, const Rect& desktop, size_t budget);
  uint8_t* reserve(size_t n);
  bool encode_planar(const x11::ImageView& image, const Rect& dest);
  bool encode_raw(const x11::ImageView& image, const Rect& dest);
  bool encode_rfx(const x11::ImageView& image, const Rect& dest);

  Codec codec_;
  Rect desktop_;
  size_t budget_;
  BITMAP_PLANAR_CONTEXT* planar_ = nullptr;
  RFX_CONTEXT* rfx_ = nullptr;
  wStream* rfx_stream_ = nullptr;
  std::vector<uint8_t> buffer_;
  size_t used_ = 0;
  std::vector<EncodedBitmap> bitmaps_;
};

}  // namespace vitrine::appserver::rdp
