// Crash-safe file output (internal; used by every xmr writer and the model files).
//
// AtomicFileWriter writes to "<path>.tmp.<pid>" and, on Commit(), flushes, fsyncs, closes and
// renames it over `path`; so readers see either the old file or the complete new one. If the
// writer is destroyed without Commit(), or any step fails, the temporary file is removed.
// If `path` is a symlink to a regular file, the target is replaced (the link stays). Paths
// under /dev/ or /proc/, and existing non-regular files (FIFOs, devices), are written in place
// (opened for appending, no temporary, no rename). "/dev/stdout", "/dev/stderr", "/dev/fd/N"
// and "/proc/self/fd/N" are written through a duplicate of the process's own descriptor
// (1, 2, N), not by opening the path again: the output goes where that descriptor points, at
// its current offset, which it advances, so output written before (stdio buffers are flushed
// first) and after by the caller stays in order, also when stdout is a file redirected by '>'.
//
//   detail::AtomicFileWriter out(path);
//   out.Write(header.data(), header.size());
//   out.stream() << "rows " << n << '\n';   // std::ostream view of the same file
//   out.Commit();
//
// Errors: Error(kIoError) naming the path and strerror (e.g. "No space left on device") when
// the temporary cannot be created, a write, fsync, close or rename fails. Write errors are
// detected at the failing call (or at Commit for buffered bytes), never ignored.
// Thread safety: one writer per thread; distinct writers are independent, except that two
// writers for the same path in one process share the temporary name and must not overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace xmr {
namespace detail {

class AtomicFileWriter {
 public:
  /// Creates "<path>.tmp.<pid>" (truncating a stale one). @throws Error(kIoError).
  explicit AtomicFileWriter(const std::string& path);
  /// Removes the temporary file unless Commit() succeeded. Never throws.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes (buffered; large writes go straight to write(2)). @throws Error(kIoError).
  void Write(const void* data, std::size_t n);
  void Write(std::string_view s) { Write(s.data(), s.size()); }
  /// Direct access to the internal buffer for formatting without copies: returns a pointer
  /// to at least `n` writable bytes (n <= 64 KiB); call Advance(k) after writing k <= n bytes.
  char* Reserve(std::size_t n);
  void Advance(std::size_t k) { used_ += k; }

  /// An ostream appending to this file. Errors propagate as xmr::Error (badbit is in the
  /// stream's exception mask). Flushed by Commit().
  std::ostream& stream();

  /// Overwrites n bytes at `offset` (< bytes_written()) of the temporary file, e.g. a header
  /// whose checksum is known only at the end. Flushes the buffer first. Not available when
  /// writing in place to a device or FIFO. @throws Error(kIoError), Error(kInvalidArgument).
  void WriteAt(std::int64_t offset, const void* data, std::size_t n);

  /// Bytes appended so far (including buffered ones) = offset of the next byte in the file.
  std::int64_t bytes_written() const noexcept {
    return flushed_ + static_cast<std::int64_t>(used_);
  }

  /// Flushes, fsyncs, closes and renames over the final path (then fsyncs the directory,
  /// best effort). After Commit the writer accepts no more data. @throws Error(kIoError).
  void Commit();

  const std::string& path() const noexcept { return path_; }
  /// The temporary file ("" when writing in place to a device or FIFO).
  const std::string& temp_path() const noexcept { return temp_path_; }

 private:
  class StreamBuf;
  void Flush();
  void WriteUnbuffered(const char* data, std::size_t n);  // without draining stream()
  void WriteFd(const char* data, std::size_t n);
  [[noreturn]] void Fail(const char* op, int err);

  std::string path_;
  std::string target_;  // path_ with symlinks resolved: the file the rename replaces
  std::string temp_path_;
  int fd_ = -1;
  bool committed_ = false;
  std::unique_ptr<char[]> buf_;
  std::size_t used_ = 0;
  std::int64_t flushed_ = 0;
  std::unique_ptr<StreamBuf> streambuf_;
  std::unique_ptr<std::ostream> stream_;
};

/// Writes `contents` to `path` atomically (AtomicFileWriter + Commit).
void WriteFileAtomic(const std::string& path, std::string_view contents);

}  // namespace detail
}  // namespace xmr
