// Can a recorded RDP connection be replayed into a fresh client? Only when nothing in the
// server's bytes depends on secrets the client draws anew each time, i.e. when the session used
// standard RDP security with no encryption: Vitrine's setting on the private bus (Security::kRdp
// against the local relay negotiates ENCRYPTION_METHOD_NONE). A TLS or CredSSP session's
// records are sealed with keys of that one handshake; an encrypted standard-security session
// derives its keys from the client random. Neither can be fed to another client.
//
// check_replayable() reads the server's first two PDUs (they arrive before any client input
// matters): the X.224 Connection Confirm (MS-RDPBCGR 2.2.1.2, its RDP_NEG_RSP names the selected
// protocol) and the MCS Connect Response whose GCC user data holds the Server Security Data
// (TS_UD_SC_SEC1, MS-RDPBCGR 2.2.1.4.3: encryptionMethod, encryptionLevel).
#pragma once

#include <cstddef>
#include <expected>
#include <span>
#include <string>

namespace vitrine::cli {

// `server_bytes`: the start of the server -> client stream (at least both PDUs; 64 KiB is plenty).
// Error: why the stream cannot be replayed, for the user.
std::expected<void, std::string> check_replayable(std::span<const std::byte> server_bytes);

}  // namespace vitrine::cli
