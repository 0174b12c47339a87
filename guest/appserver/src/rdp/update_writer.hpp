// Sends a SurfaceEncoder's payloads to one client: planar tiles batched into Bitmap Updates,
// raw and RemoteFX payloads as Surface Bits, each PDU within the client's multifragment limit.
#pragma once

#include <freerdp/freerdp.h>

#include "surface_encoder.hpp"

namespace vitrine::appserver::rdp {

// Returns false when the connection failed while sending (the session then ends).
bool send_encoded(rdpContext* context, const SurfaceEncoder& encoder, uint16_t rfx_codec_id);

}  // namespace vitrine::appserver::rdp
