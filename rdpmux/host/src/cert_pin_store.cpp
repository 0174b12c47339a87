#include "vitrine/rdpmux/host/cert_pin_store.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <winpr/crypto.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace vitrine::rdpmux::host {
namespace {

bool plain_name(std::string_view vm) {
  if (vm.empty() || vm.size() > 128 || vm.front() == '.') return false;
  return std::all_of(vm.begin(), vm.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

}  // namespace

std::string CertPinStore::fingerprint(std::span<const std::uint8_t> certificate) {
  std::array<BYTE, 32> digest{};
  if (!winpr_Digest(WINPR_MD_SHA256, certificate.data(), certificate.size(), digest.data(), digest.size()))
    return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (BYTE b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

std::filesystem::path CertPinStore::pin_path(std::string_view vm) const {
  return dir_ / (std::string(vm) + ".pin");
}

std::optional<std::string> CertPinStore::pinned(std::string_view vm) const {
  if (!plain_name(vm)) return std::nullopt;
  std::ifstream in(pin_path(vm));
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  if (line.rfind("sha256 ", 0) != 0 || line.size() != 7 + 64) return std::nullopt;
  return line.substr(7);
}

Result<CertPinStore::Verdict> CertPinStore::verify(std::string_view vm,
                                                   std::span<const std::uint8_t> certificate) const {
  if (!plain_name(vm)) return fail(Errc::kConfig, "VM name '" + std::string(vm) + "' is not a plain name");
  const std::string seen = fingerprint(certificate);
  if (seen.empty()) return fail(Errc::kSystem, "SHA-256 of the server certificate failed");
  const auto path = pin_path(vm);
  if (std::filesystem::exists(path)) {
    auto pin = pinned(vm);
    if (!pin) return fail(Errc::kConfig, "certificate pin file " + path.string() + " is unreadable or malformed");
    if (*pin == seen) return Verdict::kMatches;
    return fail(Errc::kCertificateChanged,
                "the RDP server of VM '" + std::string(vm) + "' presented a different TLS certificate (sha256 " +
                    seen + ") than the one pinned on first use (sha256 " + *pin +
                    "); refusing to connect. If the guest's certificate was changed on purpose, delete " +
                    path.string());
  }
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return fail(Errc::kSystem, "cannot create " + dir_.string() + ": " + ec.message());
  // O_EXCL: two connections pinning at once cannot overwrite each other's pin.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return verify(vm, certificate);
    return fail(Errc::kSystem, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  const std::string line = "sha256 " + seen + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) return fail(Errc::kSystem, "cannot write " + path.string());
  return Verdict::kPinnedNow;
}

}  // namespace vitrine::rdpmux::host
