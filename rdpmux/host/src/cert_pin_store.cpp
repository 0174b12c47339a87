#include "vitrine/rdpmux/host/cert_pin_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <winpr/crypto.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::rdpmux::host {
namespace {

bool plain_name(std::string_view vm) {
  if (vm.empty() || vm.size() > 128 || vm.front() == '.') return false;
  return std::all_of(vm.begin(), vm.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

constexpr std::string_view kPinPrefix = "sha256 ";
constexpr std::size_t kPinLine = kPinPrefix.size() + 64;  // + '\n'

// The pin stored at `path`: nullopt when there is none (ENOENT), an error when something else
// is there. O_NOFOLLOW: a symlink at the pin path (dangling, a loop, or one aimed elsewhere) is
// refused, never followed; a pin is a regular file this store wrote. O_NONBLOCK: a FIFO planted
// there cannot hang the connect (fstat then refuses it).
Result<std::optional<std::string>> read_pin(const std::filesystem::path& path) {
  ringbus::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) return std::nullopt;
    if (err == ELOOP)
      return fail(Errc::kConfig, "certificate pin file " + path.string() +
                                     " is a symbolic link or lies under a loop of them; a pin must be a regular "
                                     "file (delete it to pin again)");
    return fail(Errc::kSystem, "cannot read certificate pin file " + path.string() + ": " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(Errc::kConfig, "certificate pin file " + path.string() + " is not a regular file");
  std::array<char, kPinLine + 1> buf{};
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  const std::string_view text(buf.data(), got);
  const std::string_view line = text.substr(0, text.find('\n'));
  if (line.size() != kPinLine || !line.starts_with(kPinPrefix))
    return fail(Errc::kConfig, "certificate pin file " + path.string() + " is unreadable or malformed");
  return std::string(line.substr(kPinPrefix.size()));
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
  auto pin = read_pin(pin_path(vm));
  if (!pin) return std::nullopt;
  return *pin;
}

Result<CertPinStore::Verdict> CertPinStore::verify(std::string_view vm,
                                                   std::span<const std::uint8_t> certificate) const {
  if (!plain_name(vm)) return fail(Errc::kConfig, "VM name '" + std::string(vm) + "' is not a plain name");
  const std::string seen = fingerprint(certificate);
  if (seen.empty()) return fail(Errc::kSystem, "SHA-256 of the server certificate failed");
  const auto path = pin_path(vm);
  // Two rounds at most. EEXIST from the O_EXCL create means a concurrent connection pinned
  // between our read and our create: read its pin once more. Anything still in the way after that
  // is refused. (This used to recurse on EEXIST: a dangling symlink at the pin path, which
  // exists() calls absent and O_EXCL calls present, recursed until the stack ran out.)
  for (int round = 0; round < 2; ++round) {
    auto pin = read_pin(path);
    if (!pin) return std::unexpected(pin.error());
    if (*pin) {
      if (**pin == seen) return Verdict::kMatches;
      return fail(Errc::kCertificateChanged,
                  "the RDP server of VM '" + std::string(vm) + "' presented a different TLS certificate (sha256 " +
                      seen + ") than the one pinned on first use (sha256 " + **pin +
                      "); refusing to connect. If the guest's certificate was changed on purpose, delete " +
                      path.string());
    }
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return fail(Errc::kSystem, "cannot create " + dir_.string() + ": " + ec.message());
    // O_EXCL: two connections pinning at once cannot overwrite each other's pin (and it never
    // follows a symlink; O_NOFOLLOW says so for the reader).
    ringbus::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
      if (errno == EEXIST) continue;
      return fail(Errc::kSystem, "cannot write " + path.string() + ": " + std::strerror(errno));
    }
    const std::string line = std::string(kPinPrefix) + seen + "\n";
    if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      return fail(Errc::kSystem, "cannot write " + path.string());
    return Verdict::kPinnedNow;
  }
  return fail(Errc::kSystem, "certificate pin file " + path.string() +
                                 " keeps appearing and vanishing (another process replaces it); refusing to connect");
}

}  // namespace vitrine::rdpmux::host
