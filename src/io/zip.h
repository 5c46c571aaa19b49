// Minimal zip container support for .npz files (internal; the model module may use it).
//
// Reading: stored (method 0) and deflate (method 8) entries, zip64 end records and extra
// fields, CRC-32 verified for every entry read to the end. Writing: stored or deflate entries,
// zip64 records where an entry, offset or the central directory passes 4 GiB (or always, with
// force_zip64, for tests). Timestamps are fixed at 1980-01-01 00:00, as numpy writes them, so
// output is byte-for-byte reproducible.
// Errors: Error(kCorruption) "<path>: <entry>: <what>" for damaged or truncated archives,
// Error(kNotSupported) for encrypted entries, other methods or multi-disk archives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/atomic_file.h"

namespace xmr {
namespace detail {

/// CRC-32 (the zip/gzip polynomial) of `n` bytes, continuing from `crc` (start with 0).
std::uint32_t Crc32(std::uint32_t crc, const void* data, std::size_t n);

/// Random-access view of a file's bytes. Plain files are read with pread(2); gzip/xz files are
/// decompressed into memory first. Shared (copyable, cheap) and thread-safe for reading.
class ByteSource {
 public:
  /// @throws Error(kIoError) if the file cannot be opened or read.
  static ByteSource Open(const std::string& path);
  /// An in-memory source (e.g. for tests).
  static ByteSource FromString(std::string bytes, std::string name);

  std::int64_t size() const;
  const std::string& path() const;
  /// Reads bytes [offset, offset + n). @throws Error(kCorruption) "<path>: truncated file:
  /// <what> ..." if that range passes the end of the file.
  void ReadAt(std::int64_t offset, void* buf, std::size_t n, const char* what) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  ///< 0 = stored, 8 = deflate
  std::uint16_t flags = 0;
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
};

/// Reads the uncompressed bytes of one entry, in order.
class ZipEntryReader {
 public:
  /// Reads exactly `n` bytes. @throws Error(kCorruption) if the entry ends first or its
  /// compressed data is damaged.
  void Read(void* buf, std::size_t n);
  /// Uncompressed bytes not yet read.
  std::uint64_t remaining() const { return remaining_; }
  /// Checks that the entry was read completely (no trailing bytes) and that its CRC-32
  /// matches. @throws Error(kCorruption).
  void Finish();
  /// "<path>: <entry name>", for messages.
  const std::string& where() const { return where_; }

  ZipEntryReader(ZipEntryReader&&) noexcept;
  ~ZipEntryReader();

 private:
  friend class ZipReader;
  struct Inflater;
  ZipEntryReader(ByteSource src, const ZipEntry& e, std::uint64_t data_offset);

  ByteSource src_;
  ZipEntry entry_;
  std::string where_;
  std::uint64_t in_pos_ = 0;  // next compressed byte in the file
  std::uint64_t in_left_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint32_t crc_ = 0;
  std::unique_ptr<Inflater> inflater_;
};

/// Parses the central directory of an archive.
class ZipReader {
 public:
  /// @throws Error(kIoError) if unreadable, Error(kCorruption) if not a valid zip archive.
  explicit ZipReader(const std::string& path);
  explicit ZipReader(ByteSource src);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  /// The entry called `name`, or nullptr.
  const ZipEntry* Find(std::string_view name) const;
  /// Starts reading an entry of this archive.
  ZipEntryReader Open(const ZipEntry& e) const;
  const std::string& path() const { return src_.path(); }

 private:
  void ParseDirectory();
  ByteSource src_;
  std::vector<ZipEntry> entries_;
};

/// Appends entries to a file being written; Finish() writes the central directory.
class ZipWriter {
 public:
  explicit ZipWriter(AtomicFileWriter* out, bool force_zip64 = false);
  /// Adds an entry whose content is the concatenation of `parts`; `compress` deflates it
  /// (level 6, raw deflate as zip requires). Names must be ASCII.
  void Add(const std::string& name, const std::vector<std::string_view>& parts, bool compress);
  /// Writes the central directory and end records. No Add() after this.
  void Finish();

 private:
  struct Record {
    std::string name;
    std::uint16_t method;
    std::uint32_t crc;
    std::uint64_t csize, usize, offset;
  };
  AtomicFileWriter* out_;
  bool force_zip64_;
  bool finished_ = false;
  std::vector<Record> records_;
};

}  // namespace detail
}  // namespace xmr
