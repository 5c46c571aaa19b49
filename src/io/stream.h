// Buffered, decompressing input for every xmr reader (internal; other modules may use it).
//
//   InputStream  - bytes of a plain, gzip or xz file, decompressed on the fly. Compression is
//                  detected from the magic bytes (gzip 1f 8b, xz fd 37 7a 58 5a 00), never from
//                  the file name. Concatenated gzip members and xz streams are read in order.
//   BlockReader  - large blocks of whole lines (the unit the parallel text parsers work on),
//                  optionally decompressed ahead on a background thread.
//   LineReader   - one line at a time on top of BlockReader, for small readers (CLI, vocab).
//
// Errors: Error(kIoError) when the file cannot be opened or read ("<path>: <strerror>"),
// Error(kCorruption) when a compressed stream is damaged or truncated ("<path>: truncated xz
// stream ..."). A truncated compressed file therefore never reads as a silently shorter file.
// Thread safety: one object must be used by one thread at a time; distinct objects are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace xmr {
namespace detail {

enum class Compression { kNone, kGzip, kXz };

/// "none", "gzip" or "xz".
const char* CompressionName(Compression c) noexcept;

/// Compression of a file that starts with the `n` bytes at `head` (6 bytes suffice).
/// @throws Error(kNotSupported) "<path>: bzip2 files are not supported" for bzip2 / zstd.
Compression DetectCompression(const void* head, std::size_t n, const std::string& path);

/// Sequential reader of the decompressed bytes of a file. Move-only.
class InputStream {
 public:
  /// Opens `path` and sniffs its first bytes. bzip2 and zstd files are recognised and rejected
  /// with Error(kNotSupported). @throws Error(kIoError) if the file cannot be opened.
  explicit InputStream(const std::string& path);
  ~InputStream();
  InputStream(InputStream&&) noexcept;
  InputStream& operator=(InputStream&&) noexcept;
  InputStream(const InputStream&) = delete;
  InputStream& operator=(const InputStream&) = delete;

  /// Reads up to `n` decompressed bytes into `buf`; returns the count, 0 only at end of data.
  /// Large reads of plain files go straight from read(2) into `buf` (no extra copy).
  std::size_t Read(void* buf, std::size_t n);
  /// Reads exactly `n` bytes. @throws Error(kCorruption) "<path>: truncated file: <what> ..."
  /// when the data ends first.
  void ReadExact(void* buf, std::size_t n, const char* what);
  /// Copies up to `n` upcoming bytes into `buf` without consuming them; returns the count
  /// (smaller than n only near the end of data). Requires n <= 64.
  std::size_t Peek(void* buf, std::size_t n);
  /// True once Read has returned every byte.
  bool AtEnd();

  Compression compression() const noexcept;
  const std::string& path() const noexcept;
  /// Decompressed bytes consumed so far (excluding peeked bytes).
  std::int64_t position() const noexcept;
  /// Size of the file on disk (compressed size for gz/xz).
  std::int64_t file_size() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Reads all decompressed bytes of `path` into a string.
std::string ReadWholeFile(const std::string& path);

/// A run of whole lines: `text` ends just after a '\n', except for the last block of a file
/// whose final line has no terminator. `first_line` is the 1-based number of its first line,
/// `lines` the number of lines in it (a final unterminated non-empty fragment counts as one).
struct TextBlock {
  std::string text;
  std::int64_t first_line = 1;
  std::int64_t lines = 0;
};

struct BlockReaderOptions {
  /// Target block size; a line longer than this makes its block longer.
  std::size_t block_bytes = std::size_t{8} << 20;
  /// Decompress the next block on a background thread while the caller works on the current
  /// one. Auto (-1) does so for gz/xz input only; 0 never, 1 always.
  int prefetch = -1;
};

/// Splits a file into blocks of whole lines. Move-only.
class BlockReader {
 public:
  explicit BlockReader(const std::string& path, const BlockReaderOptions& opts = {});
  ~BlockReader();  // stops and joins the prefetch thread; never throws
  BlockReader(BlockReader&&) noexcept;
  BlockReader& operator=(BlockReader&&) noexcept;
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;

  /// Moves the next non-empty block into `*block` (its previous storage is reused when
  /// possible). Returns false at end of file. Errors of the background thread are rethrown here.
  bool Next(TextBlock* block);

  const std::string& path() const noexcept;
  Compression compression() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Line-at-a-time reader. Lines are returned without the '\n' and without one trailing '\r'
/// (so Windows files read like Unix ones). The final line need not end in '\n'; an empty
/// fragment after the last '\n' is not a line.
///
///   LineReader in(path);
///   std::string_view line;
///   while (in.Next(&line)) Parse(line, in.line_number());
class LineReader {
 public:
  explicit LineReader(const std::string& path, const BlockReaderOptions& opts = {});
  /// Sets `*line` to the next line, valid until the next call. Returns false at end of file.
  bool Next(std::string_view* line);
  /// 1-based number of the line last returned by Next (0 before the first call).
  std::int64_t line_number() const noexcept { return line_number_; }
  const std::string& path() const noexcept { return reader_.path(); }

 private:
  BlockReader reader_;
  TextBlock block_;
  std::size_t pos_ = 0;
  std::int64_t line_number_ = 0;
};

}  // namespace detail
}  // namespace xmr
