#include "vitrine/hv/kvm/console_log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <utility>

#include "vitrine/base/log.hpp"

namespace vitrine::hv::kvm {

namespace {

void append_hex(std::string& out, std::uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char text[4] = {'\\', 'x', kHex[b >> 4], kHex[b & 0x0f]};
  out.append(text, sizeof text);
}

// A held-back byte whose next byte did not complete a sequence: 0xC2 starts some other
// character and passes; a lone \r could overwrite the line on a terminal.
void append_held_alone(std::string& out, std::uint8_t held) {
  if (held == 0xc2) {
    out.push_back(static_cast<char>(held));
  } else {
    append_hex(out, held);
  }
}

// O_APPEND: after a fallback ftruncate (rotate()) the next write lands at offset 0, not past a hole.
// O_NOCTTY: a tty named as the log must not become our controlling terminal.
constexpr int kOpenFlags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOCTTY;
constexpr mode_t kMode = 0600;

}  // namespace

void ConsoleEscaper::put(std::uint8_t b, std::string& out) {
  if (held_ >= 0) {
    const auto h = static_cast<std::uint8_t>(std::exchange(held_, -1));
    if (h == '\r' && b == '\n') {
      out.append("\r\n");  // a line end as Linux's console writes it: harmless on a terminal
      return;
    }
    if (h == 0xc2 && b >= 0x80 && b <= 0x9f) {  // U+0080..U+009F: C1 controls (0x9b is CSI)
      append_hex(out, h);
      append_hex(out, b);
      return;
    }
    append_held_alone(out, h);
  }
  if (b == '\r' || b == 0xc2) {
    held_ = b;
  } else if ((b >= 0x20 && b != 0x7f) || b == '\n' || b == '\t') {
    out.push_back(static_cast<char>(b));
  } else {
    append_hex(out, b);
  }
}

void ConsoleEscaper::finish(std::string& out) {
  if (held_ < 0) return;
  append_held_alone(out, static_cast<std::uint8_t>(std::exchange(held_, -1)));
}

Result<ConsoleLog> ConsoleLog::open(const std::string& path, std::uint64_t max_bytes) {
  if (max_bytes < kMinMaxBytes) {
    return std::unexpected(invalid(fmt::format("console log cap {} bytes is below the minimum {}", max_bytes,
                                               kMinMaxBytes)));
  }
  ringbus::UniqueFd fd(::open(path.c_str(), kOpenFlags, kMode));
  if (!fd) return std::unexpected(sys_error("open console log " + path));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::unexpected(sys_error("fstat console log " + path));
  const bool regular = S_ISREG(st.st_mode);
  // The O_CREAT mode applies only to a new file (and through the umask): an existing log keeps
  // its old mode unless told. Never on a device or FIFO (chmod'ing /dev/null as root would hurt).
  if (regular && ::fchmod(fd.get(), kMode) != 0) return std::unexpected(sys_error("fchmod 0600 console log " + path));
  Files files;
  if (regular) {
    files.read = ringbus::UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!files.read) return std::unexpected(sys_error("open console log for reading " + path));
    // FILE.1 from an older run is emptied now; when it cannot be had (a directory there, no
    // permission) the log still rotates, in place, without an old file (said at rotation).
    const std::string old_path = path + ".1";
    files.old = ringbus::UniqueFd(::open(old_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, kMode));
    if (files.old) {
      if (::fstat(files.old.get(), &st) != 0 || !S_ISREG(st.st_mode) || ::fchmod(files.old.get(), kMode) != 0)
        files.old.reset();
    }
  }
  const int raw = fd.release();
  return ConsoleLog(raw, true, regular ? path : std::string(), regular ? max_bytes : 0, regular, std::move(files));
}

ConsoleLog ConsoleLog::borrow(int fd) {
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  return ConsoleLog(fd, false, std::string(), 0, regular);
}

ConsoleLog::ConsoleLog(int fd, bool owned, std::string path, std::uint64_t max_bytes, bool regular, Files files)
    : owned_(owned ? fd : -1),
      fd_(fd),
      path_(std::move(path)),
      old_path_(path_.empty() ? std::string() : path_ + ".1"),
      files_(std::move(files)),
      max_bytes_(max_bytes),
      regular_(regular) {
  buf_.reserve(kLineBytes + ConsoleEscaper::kMaxAppend);  // the only allocation: put() never grows it
}

ConsoleLog::ConsoleLog(ConsoleLog&& other) noexcept
    : owned_(std::move(other.owned_)),
      fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      old_path_(std::move(other.old_path_)),
      files_(std::move(other.files_)),
      max_bytes_(other.max_bytes_),
      regular_(other.regular_),
      file_bytes_(other.file_bytes_),
      buf_(std::move(other.buf_)),
      escaper_(std::exchange(other.escaper_, ConsoleEscaper{})),
      failing_(other.failing_),
      copy_warned_(other.copy_warned_),
      lines_written_(other.lines_written_),
      lines_dropped_(other.lines_dropped_),
      rotations_(other.rotations_) {
  other.path_.clear();
  other.old_path_.clear();
  other.buf_.clear();
}

ConsoleLog::~ConsoleLog() { flush(); }

void ConsoleLog::put(std::uint8_t byte) {
  escaper_.put(byte, buf_);
  if (byte == '\n' || buf_.size() >= kLineBytes) write_line();
}

void ConsoleLog::flush() {
  escaper_.finish(buf_);
  write_line();
}

void ConsoleLog::write_line() {
  if (buf_.empty()) return;
  bool ok = fd_ >= 0;
  if (ok && max_bytes_ != 0 && file_bytes_ + buf_.size() > max_bytes_) ok = rotate();
  if (ok) ok = ready_for_write();
  std::size_t off = 0;
  while (ok && off < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      note_failure("write", n < 0 ? errno : EIO);
      ok = false;
      break;
    }
    off += static_cast<std::size_t>(n);
  }
  file_bytes_ += off;
  if (ok) {
    ++lines_written_;
    failing_ = false;
  } else {
    ++lines_dropped_;  // never retried: the guest must not wait for the host's log
  }
  buf_.clear();
}

// FILE's contents into FILE.1 (emptied first), in the kernel where it can, else in 16 KiB
// pieces on the stack: rotation neither allocates nor opens anything.
bool ConsoleLog::keep_old_copy() {
  if (!files_.old || !files_.read) return false;
  if (::ftruncate(files_.old.get(), 0) != 0) return false;
  loff_t in = 0, out = 0;
  const std::uint64_t limit = max_bytes_ + kLineBytes + ConsoleEscaper::kMaxAppend;  // FILE never holds more
  while (static_cast<std::uint64_t>(in) < limit) {
    const ssize_t n = ::copy_file_range(files_.read.get(), &in, files_.old.get(), &out,
                                        static_cast<std::size_t>(limit - static_cast<std::uint64_t>(in)), 0);
    if (n == 0) return true;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return false;
    char piece[16 * 1024];
    for (;;) {
      const ssize_t r = ::pread(files_.read.get(), piece, sizeof piece, in);
      if (r == 0) return true;
      if (r < 0) return false;
      for (ssize_t done = 0; done < r;) {
        const ssize_t w = ::pwrite(files_.old.get(), piece + done, static_cast<std::size_t>(r - done), out);
        if (w <= 0) return false;
        done += w;
        out += w;
      }
      in += r;
    }
  }
  return true;
}

bool ConsoleLog::rotate() {
  if (!keep_old_copy() && !copy_warned_) {
    // No old file can be kept: start over in place, so that the cap still holds.
    copy_warned_ = true;
    base::log_warn("console log {}: cannot keep the old part in {}: {}; starting the log over in place at each "
                   "rotation",
                   path_, old_path_, files_.old ? std::strerror(errno) : "it could not be opened");
  }
  if (::ftruncate(fd_, 0) != 0) {
    note_failure("ftruncate", errno);
    return false;
  }
  file_bytes_ = 0;
  ++rotations_;
  return true;
}

bool ConsoleLog::ready_for_write() {
  if (regular_) return true;  // a regular file's write does not wait for a reader
  // A pipe, FIFO or terminal blocks when its reader lags: write only when a line fits now. A
  // line (<= kLineBytes + kMaxAppend < PIPE_BUF) is written whole once POLLOUT says there is room.
  // POLLERR (no reader left) is a drop too, without the write that would raise SIGPIPE.
  pollfd p{fd_, POLLOUT, 0};
  const int r = ::poll(&p, 1, 0);
  if (r == 1 && (p.revents & POLLOUT) != 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) == 0) return true;
  const int err = r < 0 ? errno : r == 0 ? EAGAIN : EPIPE;
  note_failure(r == 0 ? "write (reader not keeping up)" : "write (reader gone)", err);
  return false;
}

void ConsoleLog::note_failure(const char* what, int err) {
  // One warning per run of failures: the guest decides how many lines there are.
  if (failing_) return;
  failing_ = true;
  base::log_warn("console log {}: {} failed: {}; dropping guest console lines until a write succeeds",
                 path_.empty() ? fmt::format("fd {}", fd_) : path_, what, std::strerror(err));
}

}  // namespace vitrine::hv::kvm
