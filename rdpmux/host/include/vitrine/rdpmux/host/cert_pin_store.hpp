// CertPinStore: trust on first use for the guest's TLS certificate, one pin per VM.
//
// The first TLS connection to a VM stores the SHA-256 of the server certificate (PEM text as
// FreeRDP hands it over) in <dir>/<vm>.pin; later connections must present the same
// certificate, otherwise the connection is refused with Errc::kCertificateChanged and a message
// that names the file to delete if the change was intended. FreeRDP's own known_hosts store
// is not used: over the bus the "host" is "|" and the "port" an fd number, which name nothing.
//
// A pin is a regular file this store wrote: a symbolic link at the pin path (dangling, a loop,
// or aimed elsewhere), a FIFO or a directory there is refused with an error naming the file,
// never followed; a loop of symlinks above it fails the same way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "vitrine/rdpmux/host/error.hpp"

namespace vitrine::rdpmux::host {

class CertPinStore {
 public:
  enum class Verdict : std::uint8_t { kPinnedNow, kMatches };

  explicit CertPinStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Checks `certificate` against the pin of `vm` (pins it on first use). `vm` must be a plain
  // name: letters, digits, '.', '_', '-', not starting with '.'.
  Result<Verdict> verify(std::string_view vm, std::span<const std::uint8_t> certificate) const;
  // The pinned fingerprint (lower-case hex SHA-256); nullopt when there is none or the pin file
  // is refused (see above; verify() says why).
  std::optional<std::string> pinned(std::string_view vm) const;
  std::filesystem::path pin_path(std::string_view vm) const;

  static std::string fingerprint(std::span<const std::uint8_t> certificate);

 private:
  std::filesystem::path dir_;
};

}  // namespace vitrine::rdpmux::host
