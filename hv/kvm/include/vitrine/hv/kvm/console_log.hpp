// The guest's console as text on the host: a log file (capped and rotated) or stdout.
//
// What the guest writes is hostile input. ConsoleLog
// - escapes it (ConsoleEscaper): every C0 control byte except \t and \n (and a \r directly
//   before \n: Linux's console writes CRLF), DEL, and the UTF-8 encodings of the C1 controls
//   (C2 80..C2 9F, e.g. U+009B CSI) become `\xNN` text, so printing the log with cat cannot
//   drive the reader's terminal. Other bytes, `\` included, pass unchanged: the log is for
//   reading, not for recovering the exact bytes;
// - buffers at most one line, written with one write() per line or per kLineBytes: memory stays
//   bounded whatever the guest sends;
// - creates the file 0600 (an existing file is truncated and chmod'ed 0600 too) and caps it at
//   max_bytes: the line that would pass the cap first moves FILE's contents to FILE.1
//   (replacing what FILE.1 held) and starts FILE over, so the two never hold more than
//   2 * max_bytes. Both files are opened once, in open(): rotating copies in the kernel
//   (copy_file_range) and truncates instead of renaming and reopening by name, because
//   vitrine-kvm's jail leaves no path to open and its seccomp filter no openat or rename;
// - never stalls the guest: a line that cannot be written at once (write error, disk full, a
//   pipe or terminal whose reader is not reading) is dropped and counted.
// Rotation and chmod apply to regular files only: `--console-log /dev/tty` or a FIFO is written
// to as it is, never renamed or chmod'ed.
//
// Threads: one at a time (vitrine-kvm calls put() from the UART's sink, which the UART
// serialises, and flush() after the VM ended).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vitrine/hv/kvm/error.hpp"
#include "vitrine/ringbus/unique_fd.hpp"

namespace vitrine::hv::kvm {

// Turns guest console bytes into printable text (see above). Holds back at most one byte (a \r
// or a 0xC2 whose meaning depends on the next byte) across calls: a pure state machine that
// tests and fuzzers feed directly.
class ConsoleEscaper {
 public:
  // Appends the text for `byte` (and for a byte held back before it) to `out`: at most 8 chars.
  void put(std::uint8_t byte, std::string& out);
  // Appends the held-back byte, if any, as it stands alone (at the end of the output).
  void finish(std::string& out);

  static constexpr std::size_t kMaxAppend = 8;

 private:
  int held_ = -1;  // a held-back byte, -1 when none
};

class ConsoleLog {
 public:
  static constexpr std::uint64_t kDefaultMaxBytes = std::uint64_t{16} << 20;
  // A cap must hold several whole lines, or rotation could not keep a file under it.
  static constexpr std::uint64_t kMinMaxBytes = 4096;
  // Escaped text buffered before a write without waiting for \n.
  static constexpr std::size_t kLineBytes = 512;

  // Creates or truncates `path` (mode 0600) and writes there, rotating at `max_bytes` (>=
  // kMinMaxBytes). Errors: invalid argument for a cap too small; the open or fstat error.
  static Result<ConsoleLog> open(const std::string& path, std::uint64_t max_bytes = kDefaultMaxBytes);
  // Writes to an fd it does not own and never closes (stdout); no cap, no rotation.
  static ConsoleLog borrow(int fd);

  ConsoleLog(ConsoleLog&& other) noexcept;  // `other` is left writing nowhere
  ConsoleLog& operator=(ConsoleLog&&) = delete;
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;
  ~ConsoleLog();  // flush()

  // One byte of the guest's console output.
  void put(std::uint8_t byte);
  // Writes what is buffered, a partial last line included.
  void flush();

  std::uint64_t lines_written() const { return lines_written_; }
  std::uint64_t lines_dropped() const { return lines_dropped_; }
  std::uint64_t rotations() const { return rotations_; }

 private:
  struct Files {
    ringbus::UniqueFd read;  // FILE again, readable: the source of the copy into FILE.1
    ringbus::UniqueFd old;   // FILE.1; -1 when it could not be opened (rotation then starts over)
  };
  ConsoleLog(int fd, bool owned, std::string path, std::uint64_t max_bytes, bool regular, Files files = {});
  void write_line();
  bool rotate();
  bool keep_old_copy();
  bool ready_for_write();
  void note_failure(const char* what, int err);

  ringbus::UniqueFd owned_;  // empty when borrowed
  int fd_ = -1;
  std::string path_;          // empty when borrowed or not a regular file: never reopened
  std::string old_path_;      // path_ + ".1", for messages
  Files files_;
  std::uint64_t max_bytes_ = 0;  // 0: no cap
  bool regular_ = false;      // a regular file: writes never block, rotation allowed
  std::uint64_t file_bytes_ = 0;  // bytes in the current file
  std::string buf_;
  ConsoleEscaper escaper_;
  bool failing_ = false;      // the last write failed: log the next failure only after a success
  bool copy_warned_ = false;  // a copy that fails once fails at every rotation: say it once
  std::uint64_t lines_written_ = 0, lines_dropped_ = 0, rotations_ = 0;
};

}  // namespace vitrine::hv::kvm
