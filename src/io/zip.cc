// Zip container, written from the PKWARE APPNOTE layout: local headers, central directory,
// end-of-central-directory record, zip64 extensions (extra field id 0x0001, zip64 end record
// and locator).
#include "io/zip.h"

#include <fcntl.h>     // for open
#include <sys/stat.h>  // for fstat
#include <unistd.h>    // for pread, close
#include <zlib.h>      // for crc32_z, inflate, deflate

#include <algorithm>
#include <cerrno>
#include <cstdio>  // for snprintf
#include <cstring>

#include "io/stream.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kEnd64Sig = 0x06064b50;
constexpr std::uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr std::uint32_t kMax32 = 0xffffffffu;
constexpr std::uint16_t kMax16 = 0xffffu;
constexpr std::uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01
constexpr std::size_t kInflateChunk = std::size_t{256} << 10;
constexpr std::size_t kMaxIoCall = std::size_t{1} << 30;
// Deflate's largest expansion: a 258-byte match per 2 bits (zlib FAQ).
constexpr std::uint64_t kMaxDeflateRatio = 1032;

std::uint16_t Get16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::uint32_t Get32(const unsigned char* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}
std::uint64_t Get64(const unsigned char* p) {
  return static_cast<std::uint64_t>(Get32(p)) | static_cast<std::uint64_t>(Get32(p + 4)) << 32;
}
void Put16(std::string* s, std::uint16_t v) {
  s->push_back(static_cast<char>(v & 0xff));
  s->push_back(static_cast<char>(v >> 8));
}
void Put32(std::string* s, std::uint32_t v) {
  Put16(s, static_cast<std::uint16_t>(v & 0xffff));
  Put16(s, static_cast<std::uint16_t>(v >> 16));
}
void Put64(std::string* s, std::uint64_t v) {
  Put32(s, static_cast<std::uint32_t>(v & kMax32));
  Put32(s, static_cast<std::uint32_t>(v >> 32));
}

[[noreturn]] void Corrupt(const std::string& msg) { throw Error(ErrorCode::kCorruption, msg); }

}  // namespace

std::uint32_t Crc32(std::uint32_t crc, const void* data, std::size_t n) {
  if (n == 0) return crc;  // zlib returns 0 for a null buffer, whatever crc was
  return static_cast<std::uint32_t>(
      crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(n)));
}

// ----- ByteSource ----------------------------------------------------------------------------

struct ByteSource::Impl {
  std::string path;
  int fd = -1;
  std::string mem;  // used when fd < 0
  std::int64_t size = 0;
  ~Impl() {
    if (fd >= 0) ::close(fd);
  }
};

ByteSource ByteSource::Open(const std::string& path) {
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  impl->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (impl->fd < 0) {
    throw Error(ErrorCode::kIoError, path + ": open failed: " + std::strerror(errno));
  }
  struct stat st;
  if (::fstat(impl->fd, &st) != 0) {
    throw Error(ErrorCode::kIoError, path + ": stat failed: " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw Error(ErrorCode::kIoError, path + ": is a directory");
  impl->size = static_cast<std::int64_t>(st.st_size);
  unsigned char head[6] = {};
  const std::size_t n = static_cast<std::size_t>(std::min<std::int64_t>(impl->size, 6));
  if (::pread(impl->fd, head, n, 0) != static_cast<ssize_t>(n)) {
    throw Error(ErrorCode::kIoError, path + ": read failed: " + std::strerror(errno));
  }
  if (DetectCompression(head, n, path) != Compression::kNone) {
    ::close(impl->fd);
    impl->fd = -1;
    impl->mem = ReadWholeFile(path);
    impl->size = static_cast<std::int64_t>(impl->mem.size());
  }
  ByteSource s;
  s.impl_ = std::move(impl);
  return s;
}

ByteSource ByteSource::FromString(std::string bytes, std::string name) {
  auto impl = std::make_shared<Impl>();
  impl->path = std::move(name);
  impl->mem = std::move(bytes);
  impl->size = static_cast<std::int64_t>(impl->mem.size());
  ByteSource s;
  s.impl_ = std::move(impl);
  return s;
}

std::int64_t ByteSource::size() const { return impl_->size; }
const std::string& ByteSource::path() const { return impl_->path; }

void ByteSource::ReadAt(std::int64_t offset, void* buf, std::size_t n, const char* what) const {
  const Impl& s = *impl_;
  if (offset < 0 || offset > s.size || static_cast<std::uint64_t>(s.size - offset) < n) {
    Corrupt(s.path + ": truncated file: " + what + " needs bytes [" + std::to_string(offset) +
            ", " + std::to_string(offset + static_cast<std::int64_t>(n)) + ") of a " +
            std::to_string(s.size) + "-byte file");
  }
  if (n == 0) return;  // buf may be null (an empty vector's data())
  if (s.fd < 0) {
    std::memcpy(buf, s.mem.data() + offset, n);
    return;
  }
  auto* out = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t k = ::pread(s.fd, out, std::min(n, kMaxIoCall), offset);
    if (k < 0) {
      if (errno == EINTR) continue;
      throw Error(ErrorCode::kIoError, s.path + ": read failed: " + std::strerror(errno));
    }
    if (k == 0) Corrupt(s.path + ": file shrank while reading (" + what + ")");
    out += k;
    offset += k;
    n -= static_cast<std::size_t>(k);
  }
}

// ----- reading -------------------------------------------------------------------------------

struct ZipEntryReader::Inflater {
  z_stream zs{};
  std::vector<unsigned char> in;  // compressed bytes: kInflateChunk, or less for a small entry
  bool ended = false;
  explicit Inflater(std::uint64_t compressed_size)
      : in(static_cast<std::size_t>(std::min<std::uint64_t>(compressed_size, kInflateChunk))) {
    // Negative window bits: raw deflate data, no zlib header (zip stores it that way).
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
      throw Error(ErrorCode::kOutOfMemory, "cannot initialise zlib inflate");
    }
  }
  ~Inflater() { inflateEnd(&zs); }
};

ZipEntryReader::ZipEntryReader(ByteSource src, const ZipEntry& e, std::uint64_t data_offset)
    : src_(std::move(src)),
      entry_(e),
      where_(src_.path() + ": " + e.name),
      in_pos_(data_offset),
      in_left_(e.compressed_size),
      remaining_(e.uncompressed_size) {
  if (e.method == 8) inflater_ = std::make_unique<Inflater>(e.compressed_size);
}

ZipEntryReader::ZipEntryReader(ZipEntryReader&&) noexcept = default;
ZipEntryReader::~ZipEntryReader() = default;

void ZipEntryReader::Read(void* buf, std::size_t n) {
  if (n > remaining_) {
    Corrupt(where_ + ": entry too short: " + std::to_string(n) + " more bytes needed, " +
            std::to_string(remaining_) + " left");
  }
  auto* out = static_cast<unsigned char*>(buf);
  if (!inflater_) {
    src_.ReadAt(static_cast<std::int64_t>(in_pos_), out, n, where_.c_str());
    in_pos_ += n;
    in_left_ -= n;
  } else {
    z_stream& zs = inflater_->zs;
    std::size_t done = 0;
    while (done < n) {
      if (zs.avail_in == 0 && in_left_ > 0) {
        const std::size_t k =
            static_cast<std::size_t>(std::min<std::uint64_t>(in_left_, inflater_->in.size()));
        src_.ReadAt(static_cast<std::int64_t>(in_pos_), inflater_->in.data(), k, where_.c_str());
        in_pos_ += k;
        in_left_ -= k;
        zs.next_in = inflater_->in.data();
        zs.avail_in = static_cast<uInt>(k);
      }
      zs.next_out = out + done;
      zs.avail_out = static_cast<uInt>(std::min(n - done, kMaxIoCall));
      const uInt before_out = zs.avail_out;
      const uInt before_in = zs.avail_in;
      const int ret = inflate(&zs, Z_NO_FLUSH);
      done += before_out - zs.avail_out;
      if (ret == Z_STREAM_END) {
        inflater_->ended = true;
        if (done < n) {
          Corrupt(where_ + ": deflate data ends after " +
                  std::to_string(entry_.uncompressed_size - remaining_ + done) +
                  " bytes, the directory says " + std::to_string(entry_.uncompressed_size));
        }
        break;
      }
      if (ret == Z_OK || ret == Z_BUF_ERROR) {
        if (zs.avail_in == before_in && zs.avail_out == before_out && in_left_ == 0) {
          Corrupt(where_ + ": truncated deflate data");
        }
        continue;
      }
      Corrupt(where_ + ": corrupt deflate data (" + (zs.msg ? zs.msg : "zlib error") + ")");
    }
  }
  crc_ = Crc32(crc_, out, n);
  remaining_ -= n;
}

void ZipEntryReader::Finish() {
  if (remaining_ != 0) {
    Corrupt(where_ + ": " + std::to_string(remaining_) + " unexpected trailing bytes in entry");
  }
  if (inflater_ && !inflater_->ended) {
    // The deflate stream must end exactly here.
    unsigned char extra;
    z_stream& zs = inflater_->zs;
    while (true) {
      if (zs.avail_in == 0 && in_left_ > 0) {
        const std::size_t k =
            static_cast<std::size_t>(std::min<std::uint64_t>(in_left_, inflater_->in.size()));
        src_.ReadAt(static_cast<std::int64_t>(in_pos_), inflater_->in.data(), k, where_.c_str());
        in_pos_ += k;
        in_left_ -= k;
        zs.next_in = inflater_->in.data();
        zs.avail_in = static_cast<uInt>(k);
      }
      zs.next_out = &extra;
      zs.avail_out = 1;
      const uInt before_in = zs.avail_in;
      const int ret = inflate(&zs, Z_NO_FLUSH);
      if (zs.avail_out == 0) Corrupt(where_ + ": more data than the declared size");
      if (ret == Z_STREAM_END) break;
      if ((ret == Z_OK || ret == Z_BUF_ERROR) && (zs.avail_in != before_in || in_left_ > 0)) {
        continue;
      }
      if (ret == Z_OK || ret == Z_BUF_ERROR) Corrupt(where_ + ": truncated deflate data");
      Corrupt(where_ + ": corrupt deflate data (" + (zs.msg ? zs.msg : "zlib error") + ")");
    }
    inflater_->ended = true;
  }
  if (crc_ != entry_.crc32) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "CRC-32 mismatch (directory %08x, data %08x)", entry_.crc32,
                  crc_);
    Corrupt(where_ + ": " + buf);
  }
}

ZipReader::ZipReader(const std::string& path) : src_(ByteSource::Open(path)) { ParseDirectory(); }
ZipReader::ZipReader(ByteSource src) : src_(std::move(src)) { ParseDirectory(); }

void ZipReader::ParseDirectory() {
  const std::string& path = src_.path();
  const std::int64_t size = src_.size();
  if (size < 22) {
    Corrupt(path + ": not a zip archive (" + std::to_string(size) + " bytes)");
  }
  // The end record is the last 22 bytes plus a comment of up to 65535 bytes.
  const std::int64_t tail_len = std::min<std::int64_t>(size, 22 + 65535);
  std::vector<unsigned char> tail(static_cast<std::size_t>(tail_len));
  src_.ReadAt(size - tail_len, tail.data(), tail.size(), "end of central directory");
  std::int64_t at = -1;
  for (std::int64_t i = tail_len - 22; i >= 0; --i) {
    const unsigned char* p = tail.data() + i;
    if (Get32(p) == kEndSig && i + 22 + Get16(p + 20) <= tail_len) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    Corrupt(path + ": not a zip archive, or truncated (no end-of-central-directory record)");
  }
  const unsigned char* eocd = tail.data() + at;
  const std::int64_t eocd_offset = size - tail_len + at;
  std::uint64_t n_entries = Get16(eocd + 10);
  std::uint64_t cd_size = Get32(eocd + 12);
  std::uint64_t cd_offset = Get32(eocd + 16);
  std::int64_t cd_limit = eocd_offset;
  bool zip64 = false;
  if (eocd_offset >= 20) {
    unsigned char loc[20];
    src_.ReadAt(eocd_offset - 20, loc, 20, "zip64 end locator");
    if (Get32(loc) == kEnd64LocatorSig) {
      zip64 = true;
      const std::uint64_t rec_offset = Get64(loc + 8);
      if (rec_offset > static_cast<std::uint64_t>(eocd_offset - 20)) {
        Corrupt(path + ": zip64 end record offset out of range");
      }
      unsigned char rec[56];
      src_.ReadAt(static_cast<std::int64_t>(rec_offset), rec, 56, "zip64 end record");
      if (Get32(rec) != kEnd64Sig) Corrupt(path + ": bad zip64 end record signature");
      if (Get32(rec + 16) != 0 || Get32(rec + 20) != 0) {
        throw Error(ErrorCode::kNotSupported, path + ": multi-disk zip archives not supported");
      }
      n_entries = Get64(rec + 32);
      cd_size = Get64(rec + 40);
      cd_offset = Get64(rec + 48);
      cd_limit = static_cast<std::int64_t>(rec_offset);
    }
  }
  if (!zip64 && (Get16(eocd + 4) != 0 || Get16(eocd + 6) != 0)) {
    throw Error(ErrorCode::kNotSupported, path + ": multi-disk zip archives not supported");
  }
  if (cd_offset > static_cast<std::uint64_t>(cd_limit) ||
      cd_size > static_cast<std::uint64_t>(cd_limit) - cd_offset) {
    Corrupt(path + ": central directory [" + std::to_string(cd_offset) + ", +" +
            std::to_string(cd_size) + ") out of range (truncated or damaged archive)");
  }
  std::vector<unsigned char> cd(static_cast<std::size_t>(cd_size));
  src_.ReadAt(static_cast<std::int64_t>(cd_offset), cd.data(), cd.size(), "central directory");
  std::size_t pos = 0;
  for (std::uint64_t k = 0; k < n_entries; ++k) {
    if (pos + 46 > cd.size() || Get32(cd.data() + pos) != kCentralSig) {
      Corrupt(path + ": bad central directory entry " + std::to_string(k));
    }
    const unsigned char* h = cd.data() + pos;
    ZipEntry e;
    e.flags = Get16(h + 8);
    e.method = Get16(h + 10);
    e.crc32 = Get32(h + 16);
    e.compressed_size = Get32(h + 20);
    e.uncompressed_size = Get32(h + 24);
    const std::size_t name_len = Get16(h + 28);
    const std::size_t extra_len = Get16(h + 30);
    const std::size_t comment_len = Get16(h + 32);
    std::uint32_t disk = Get16(h + 34);
    e.local_header_offset = Get32(h + 42);
    if (pos + 46 + name_len + extra_len + comment_len > cd.size()) {
      Corrupt(path + ": central directory entry " + std::to_string(k) + " overruns the directory");
    }
    e.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
    // zip64 extended information: 8-byte values for exactly the fields that hold 0xffffffff.
    const unsigned char* x = h + 46 + name_len;
    const unsigned char* x_end = x + extra_len;
    while (x + 4 <= x_end) {
      const std::uint16_t id = Get16(x);
      const std::uint16_t len = Get16(x + 2);
      const unsigned char* f = x + 4;
      const unsigned char* f_end = f + len;
      if (f_end > x_end) Corrupt(path + ": " + e.name + ": bad extra field");
      if (id == 0x0001) {
        auto take64 = [&](std::uint64_t* v) {
          if (f + 8 > f_end) Corrupt(path + ": " + e.name + ": short zip64 extra field");
          *v = Get64(f);
          f += 8;
        };
        if (e.uncompressed_size == kMax32) take64(&e.uncompressed_size);
        if (e.compressed_size == kMax32) take64(&e.compressed_size);
        if (e.local_header_offset == kMax32) take64(&e.local_header_offset);
        if (disk == kMax16 && f + 4 <= f_end) disk = Get32(f);
      }
      x = f_end;
    }
    if (disk != 0) {
      throw Error(ErrorCode::kNotSupported, path + ": multi-disk zip archives not supported");
    }
    if (e.local_header_offset > cd_offset) {
      Corrupt(path + ": " + e.name + ": local header offset out of range");
    }
    entries_.push_back(std::move(e));
    pos += 46 + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipReader::Find(std::string_view name) const {
  for (const ZipEntry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

ZipEntryReader ZipReader::Open(const ZipEntry& e) const {
  const std::string where = src_.path() + ": " + e.name;
  if (e.flags & 1) throw Error(ErrorCode::kNotSupported, where + ": encrypted zip entry");
  if (e.method != 0 && e.method != 8) {
    throw Error(ErrorCode::kNotSupported, where + ": unsupported zip compression method " +
                                              std::to_string(e.method) +
                                              " (only stored and deflate)");
  }
  if (e.method == 0 && e.compressed_size != e.uncompressed_size) {
    Corrupt(where + ": stored entry with compressed size != uncompressed size");
  }
  // Readers size their arrays by the declared size: it must be one the data can hold (deflate
  // expands at most 1032:1), not gigabytes promised by a few bytes.
  if (e.method == 8 && e.uncompressed_size / kMaxDeflateRatio > e.compressed_size) {
    Corrupt(where + ": the directory declares " + std::to_string(e.uncompressed_size) +
            " bytes for " + std::to_string(e.compressed_size) +
            " bytes of deflate data, more than deflate can expand to (1032:1)");
  }
  unsigned char h[30];
  src_.ReadAt(static_cast<std::int64_t>(e.local_header_offset), h, 30, where.c_str());
  if (Get32(h) != kLocalSig) Corrupt(where + ": bad local header signature");
  const std::uint64_t data = e.local_header_offset + 30 + Get16(h + 26) + Get16(h + 28);
  if (data > static_cast<std::uint64_t>(src_.size()) ||
      e.compressed_size > static_cast<std::uint64_t>(src_.size()) - data) {
    Corrupt(where + ": truncated file: entry data [" + std::to_string(data) + ", +" +
            std::to_string(e.compressed_size) + ") passes the end of the " +
            std::to_string(src_.size()) + "-byte file");
  }
  return ZipEntryReader(src_, e, data);
}

// ----- writing -------------------------------------------------------------------------------

ZipWriter::ZipWriter(AtomicFileWriter* out, bool force_zip64)
    : out_(out), force_zip64_(force_zip64) {}

void ZipWriter::Add(const std::string& name, const std::vector<std::string_view>& parts,
                    bool compress) {
  if (finished_) throw Error(ErrorCode::kInternal, "ZipWriter::Add after Finish");
  Record r;
  r.name = name;
  r.method = compress ? 8 : 0;
  r.offset = static_cast<std::uint64_t>(out_->bytes_written());
  r.usize = 0;
  r.crc = 0;
  for (std::string_view p : parts) {
    r.usize += p.size();
    r.crc = Crc32(r.crc, p.data(), p.size());
  }
  std::string packed;
  if (compress) {
    z_stream zs{};
    if (deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw Error(ErrorCode::kOutOfMemory, out_->path() + ": cannot initialise zlib deflate");
    }
    std::size_t used = 0;
    auto run = [&](int flush) {
      int ret;
      do {
        if (packed.size() - used < (std::size_t{1} << 16))
          packed.resize(used + (std::size_t{1} << 20) + packed.size() / 2);
        zs.next_out = reinterpret_cast<Bytef*>(packed.data() + used);
        zs.avail_out = static_cast<uInt>(std::min(packed.size() - used, kMaxIoCall));
        const uInt before = zs.avail_out;
        ret = ::deflate(&zs, flush);
        used += before - zs.avail_out;
      } while (zs.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
    };
    for (std::string_view p : parts) {
      std::size_t off = 0;
      while (off < p.size()) {
        const std::size_t k = std::min(p.size() - off, kMaxIoCall);
        zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p.data() + off));
        zs.avail_in = static_cast<uInt>(k);
        run(Z_NO_FLUSH);
        off += k;
      }
    }
    zs.next_in = nullptr;
    zs.avail_in = 0;
    run(Z_FINISH);
    deflateEnd(&zs);
    packed.resize(used);
    r.csize = used;
  } else {
    r.csize = r.usize;
  }
  const bool zip64 = force_zip64_ || r.usize >= kMax32 || r.csize >= kMax32;
  std::string h;
  Put32(&h, kLocalSig);
  Put16(&h, zip64 ? 45 : 20);
  Put16(&h, 0);
  Put16(&h, r.method);
  Put16(&h, 0);
  Put16(&h, kDosDate);
  Put32(&h, r.crc);
  Put32(&h, zip64 ? kMax32 : static_cast<std::uint32_t>(r.csize));
  Put32(&h, zip64 ? kMax32 : static_cast<std::uint32_t>(r.usize));
  Put16(&h, static_cast<std::uint16_t>(name.size()));
  Put16(&h, zip64 ? 20 : 0);
  h += name;
  if (zip64) {
    Put16(&h, 0x0001);
    Put16(&h, 16);
    Put64(&h, r.usize);
    Put64(&h, r.csize);
  }
  out_->Write(h);
  if (compress) {
    out_->Write(packed);
  } else {
    for (std::string_view p : parts) out_->Write(p);
  }
  records_.push_back(std::move(r));
}

void ZipWriter::Finish() {
  if (finished_) throw Error(ErrorCode::kInternal, "ZipWriter::Finish called twice");
  finished_ = true;
  const std::uint64_t cd_offset = static_cast<std::uint64_t>(out_->bytes_written());
  for (const Record& r : records_) {
    const bool big_sizes = force_zip64_ || r.usize >= kMax32 || r.csize >= kMax32;
    const bool big_offset = force_zip64_ || r.offset >= kMax32;
    std::string extra;
    if (big_sizes || big_offset) {
      Put16(&extra, 0x0001);
      Put16(&extra, static_cast<std::uint16_t>((big_sizes ? 16 : 0) + (big_offset ? 8 : 0)));
      if (big_sizes) {
        Put64(&extra, r.usize);
        Put64(&extra, r.csize);
      }
      if (big_offset) Put64(&extra, r.offset);
    }
    const std::uint16_t version = extra.empty() ? 20 : 45;
    std::string h;
    Put32(&h, kCentralSig);
    Put16(&h, static_cast<std::uint16_t>(3 << 8 | version));  // made by: Unix
    Put16(&h, version);
    Put16(&h, 0);
    Put16(&h, r.method);
    Put16(&h, 0);
    Put16(&h, kDosDate);
    Put32(&h, r.crc);
    Put32(&h, big_sizes ? kMax32 : static_cast<std::uint32_t>(r.csize));
    Put32(&h, big_sizes ? kMax32 : static_cast<std::uint32_t>(r.usize));
    Put16(&h, static_cast<std::uint16_t>(r.name.size()));
    Put16(&h, static_cast<std::uint16_t>(extra.size()));
    Put16(&h, 0);               // comment
    Put16(&h, 0);               // disk
    Put16(&h, 0);               // internal attributes
    Put32(&h, 0100644u << 16);  // external attributes: regular file, rw-r--r--
    Put32(&h, big_offset ? kMax32 : static_cast<std::uint32_t>(r.offset));
    h += r.name;
    h += extra;
    out_->Write(h);
  }
  const std::uint64_t cd_end = static_cast<std::uint64_t>(out_->bytes_written());
  const std::uint64_t cd_size = cd_end - cd_offset;
  const std::uint64_t n = records_.size();
  std::string t;
  if (force_zip64_ || n >= kMax16 || cd_size >= kMax32 || cd_offset >= kMax32) {
    Put32(&t, kEnd64Sig);
    Put64(&t, 44);
    Put16(&t, 3 << 8 | 45);
    Put16(&t, 45);
    Put32(&t, 0);
    Put32(&t, 0);
    Put64(&t, n);
    Put64(&t, n);
    Put64(&t, cd_size);
    Put64(&t, cd_offset);
    Put32(&t, kEnd64LocatorSig);
    Put32(&t, 0);
    Put64(&t, cd_end);
    Put32(&t, 1);
  }
  Put32(&t, kEndSig);
  Put16(&t, 0);
  Put16(&t, 0);
  Put16(&t, static_cast<std::uint16_t>(std::min<std::uint64_t>(n, kMax16)));
  Put16(&t, static_cast<std::uint16_t>(std::min<std::uint64_t>(n, kMax16)));
  Put32(&t, static_cast<std::uint32_t>(std::min<std::uint64_t>(cd_size, kMax32)));
  Put32(&t, static_cast<std::uint32_t>(std::min<std::uint64_t>(cd_offset, kMax32)));
  Put16(&t, 0);
  out_->Write(t);
}

}  // namespace detail
}  // namespace xmr
