#include "io/stream.h"

#include <fcntl.h>     // for open
#include <lzma.h>      // for lzma_stream_decoder
#include <sys/stat.h>  // for fstat
#include <unistd.h>    // for read, close
#include <zlib.h>      // for inflate

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

constexpr std::size_t kRawBufferBytes = std::size_t{1} << 20;
// Reads at least this large bypass the internal buffer of a plain file.
constexpr std::size_t kDirectReadBytes = std::size_t{64} << 10;
// read(2) transfers at most 0x7ffff000 bytes per call on Linux.
constexpr std::size_t kMaxReadCall = std::size_t{1} << 30;

[[noreturn]] void ThrowErrno(const std::string& path, const char* op, int err) {
  throw Error(ErrorCode::kIoError, path + ": " + op + " failed: " + std::strerror(err));
}

// Number of lines in `s`: its '\n's, plus one for a final unterminated fragment.
std::int64_t CountLines(const std::string& s) {
  std::int64_t n = 0;
  const char* p = s.data();
  const char* const end = p + s.size();
  while (const void* nl = std::memchr(p, '\n', end - p)) {
    ++n;
    p = static_cast<const char*>(nl) + 1;
  }
  return n + (p < end ? 1 : 0);
}

}  // namespace

const char* CompressionName(Compression c) noexcept {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kXz:
      return "xz";
  }
  return "unknown";
}

Compression DetectCompression(const void* head, std::size_t n, const std::string& path) {
  const auto* m = static_cast<const unsigned char*>(head);
  static const unsigned char kXzMagic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b) return Compression::kGzip;
  if (n >= 6 && std::memcmp(m, kXzMagic, 6) == 0) return Compression::kXz;
  if (n >= 3 && m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') {
    throw Error(ErrorCode::kNotSupported,
                path + ": bzip2 files are not supported (use gzip or xz)");
  }
  if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
    throw Error(ErrorCode::kNotSupported, path + ": zstd files are not supported (use gzip or xz)");
  }
  return Compression::kNone;
}

struct InputStream::Impl {
  std::string path;
  int fd = -1;
  Compression compression = Compression::kNone;
  std::int64_t file_size = 0;
  std::int64_t position = 0;

  // Raw (on-disk) bytes not yet consumed: raw[raw_pos, raw_len).
  std::vector<unsigned char> raw;
  std::size_t raw_pos = 0;
  std::size_t raw_len = 0;
  bool raw_eof = false;

  // Decoded bytes handed out by Peek but not yet by Read.
  unsigned char peeked[64];
  std::size_t peek_pos = 0;
  std::size_t peek_len = 0;

  bool decoder_ready = false;
  bool data_end = false;  // decoder reached the end of the last stream
  z_stream zs{};
  lzma_stream xs = LZMA_STREAM_INIT;

  ~Impl() {
    if (decoder_ready && compression == Compression::kGzip) inflateEnd(&zs);
    if (decoder_ready && compression == Compression::kXz) lzma_end(&xs);
    if (fd >= 0) ::close(fd);
  }

  std::size_t ReadFd(void* buf, std::size_t n) {
    std::size_t total = 0;
    auto* out = static_cast<char*>(buf);
    while (total < n) {
      const ssize_t got = ::read(fd, out + total, std::min(n - total, kMaxReadCall));
      if (got < 0) {
        if (errno == EINTR) continue;
        ThrowErrno(path, "read", errno);
      }
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    return total;
  }

  // Moves unconsumed raw bytes to the front and reads more. Returns false if none arrived.
  bool RefillRaw() {
    if (raw_eof) return false;
    if (raw_pos > 0) {
      std::memmove(raw.data(), raw.data() + raw_pos, raw_len - raw_pos);
      raw_len -= raw_pos;
      raw_pos = 0;
    }
    const std::size_t got = ReadFd(raw.data() + raw_len, raw.size() - raw_len);
    if (got == 0) raw_eof = true;
    raw_len += got;
    return got > 0;
  }

  std::size_t ReadPlain(unsigned char* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n) {
      if (raw_pos < raw_len) {
        const std::size_t k = std::min(n - total, raw_len - raw_pos);
        std::memcpy(out + total, raw.data() + raw_pos, k);
        raw_pos += k;
        total += k;
        continue;
      }
      if (raw_eof) break;
      if (n - total >= kDirectReadBytes) {
        const std::size_t got = ReadFd(out + total, n - total);
        if (got < n - total) raw_eof = true;
        total += got;
        continue;
      }
      raw_pos = raw_len = 0;
      if (!RefillRaw()) break;
    }
    return total;
  }

  [[noreturn]] void Truncated(const char* format) const {
    throw Error(ErrorCode::kCorruption, path + ": truncated " + format +
                                            " stream (unexpected end of file after " +
                                            std::to_string(file_size) + " compressed bytes)");
  }

  // After a gzip member ends: another member may follow; zero padding is tolerated.
  bool NextGzipMember() {
    while (true) {
      if (raw_len - raw_pos < 2 && !raw_eof) {
        RefillRaw();
        continue;
      }
      if (raw_pos == raw_len) return false;
      if (raw_len - raw_pos >= 2 && raw[raw_pos] == 0x1f && raw[raw_pos + 1] == 0x8b) {
        inflateReset(&zs);
        return true;
      }
      // Anything but zero padding is garbage.
      for (std::size_t i = raw_pos; i < raw_len; ++i) {
        if (raw[i] != 0) {
          throw Error(ErrorCode::kCorruption,
                      path + ": trailing garbage after gzip stream (byte offset " +
                          std::to_string(file_size - static_cast<std::int64_t>(raw_len - i)) +
                          " of compressed file)");
        }
      }
      raw_pos = raw_len;
      if (raw_eof) return false;
    }
  }

  std::size_t ReadGzip(unsigned char* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n && !data_end) {
      if (raw_pos == raw_len) RefillRaw();
      zs.next_in = raw.data() + raw_pos;
      zs.avail_in = static_cast<uInt>(raw_len - raw_pos);
      zs.next_out = out + total;
      zs.avail_out = static_cast<uInt>(std::min<std::size_t>(n - total, kMaxReadCall));
      const uInt in_before = zs.avail_in;
      const uInt out_before = zs.avail_out;
      const int ret = inflate(&zs, Z_NO_FLUSH);
      raw_pos += in_before - zs.avail_in;
      total += out_before - zs.avail_out;
      if (ret == Z_STREAM_END) {
        if (!NextGzipMember()) data_end = true;
        continue;
      }
      if (ret == Z_OK || ret == Z_BUF_ERROR) {
        const bool progress = zs.avail_in != in_before || zs.avail_out != out_before;
        if (!progress && raw_pos == raw_len && raw_eof) Truncated("gzip");
        continue;
      }
      throw Error(ErrorCode::kCorruption,
                  path + ": corrupt gzip stream (" +
                      (zs.msg ? zs.msg : "zlib error " + std::to_string(ret)) + ")");
    }
    return total;
  }

  std::size_t ReadXz(unsigned char* out, std::size_t n) {
    std::size_t total = 0;
    while (total < n && !data_end) {
      if (raw_pos == raw_len) RefillRaw();
      xs.next_in = raw.data() + raw_pos;
      xs.avail_in = raw_len - raw_pos;
      xs.next_out = out + total;
      xs.avail_out = n - total;
      const lzma_action action = raw_eof && raw_pos == raw_len ? LZMA_FINISH : LZMA_RUN;
      const std::size_t in_before = xs.avail_in;
      const std::size_t out_before = xs.avail_out;
      const lzma_ret ret = lzma_code(&xs, action);
      raw_pos += in_before - xs.avail_in;
      total += out_before - xs.avail_out;
      switch (ret) {
        case LZMA_OK:
          break;
        case LZMA_STREAM_END:
          data_end = true;
          break;
        case LZMA_BUF_ERROR:
          Truncated("xz");
        case LZMA_MEM_ERROR:
          throw Error(ErrorCode::kOutOfMemory, path + ": out of memory in xz decoder");
        case LZMA_DATA_ERROR:
          throw Error(ErrorCode::kCorruption,
                      path + ": corrupt xz stream (data error or trailing garbage)");
        default:
          throw Error(ErrorCode::kCorruption,
                      path + ": corrupt xz stream (liblzma error " + std::to_string(ret) + ")");
      }
    }
    return total;
  }

  std::size_t Decode(unsigned char* out, std::size_t n) {
    switch (compression) {
      case Compression::kNone:
        return ReadPlain(out, n);
      case Compression::kGzip:
        return ReadGzip(out, n);
      case Compression::kXz:
        return ReadXz(out, n);
    }
    return 0;
  }
};

InputStream::InputStream(const std::string& path) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.path = path;
  s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s.fd < 0) ThrowErrno(path, "open", errno);
  struct stat st;
  if (::fstat(s.fd, &st) != 0) ThrowErrno(path, "stat", errno);
  if (S_ISDIR(st.st_mode)) {
    throw Error(ErrorCode::kIoError, path + ": is a directory, expected a file");
  }
  s.file_size = static_cast<std::int64_t>(st.st_size);
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(s.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  // The buffer of on-disk bytes need not be larger than a regular file (small files are
  // common, and the buffer is zeroed when allocated).
  std::size_t raw_bytes = kRawBufferBytes;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    raw_bytes =
        std::clamp<std::size_t>(static_cast<std::size_t>(st.st_size) + 1, 4096, kRawBufferBytes);
  }
  s.raw.resize(raw_bytes);
  while (s.raw_len < 6 && !s.raw_eof) s.RefillRaw();
  s.compression = DetectCompression(s.raw.data(), s.raw_len, path);
  if (s.compression == Compression::kGzip) {
    // 16 + MAX_WBITS: expect a gzip wrapper and check its CRC-32 and length trailer.
    if (inflateInit2(&s.zs, 16 + MAX_WBITS) != Z_OK) {
      throw Error(ErrorCode::kOutOfMemory, path + ": cannot initialise zlib");
    }
    s.decoder_ready = true;
  } else if (s.compression == Compression::kXz) {
    if (lzma_stream_decoder(&s.xs, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
      throw Error(ErrorCode::kOutOfMemory, path + ": cannot initialise liblzma");
    }
    s.decoder_ready = true;
  }
}

InputStream::~InputStream() = default;
InputStream::InputStream(InputStream&&) noexcept = default;
InputStream& InputStream::operator=(InputStream&&) noexcept = default;

std::size_t InputStream::Read(void* buf, std::size_t n) {
  Impl& s = *impl_;
  auto* out = static_cast<unsigned char*>(buf);
  std::size_t total = 0;
  if (s.peek_pos < s.peek_len) {
    total = std::min(n, s.peek_len - s.peek_pos);
    std::memcpy(out, s.peeked + s.peek_pos, total);
    s.peek_pos += total;
  }
  if (total < n) total += s.Decode(out + total, n - total);
  s.position += static_cast<std::int64_t>(total);
  return total;
}

void InputStream::ReadExact(void* buf, std::size_t n, const char* what) {
  const std::size_t got = Read(buf, n);
  if (got != n) {
    throw Error(ErrorCode::kCorruption,
                impl_->path + ": truncated file: " + what + " needs " + std::to_string(n) +
                    " bytes at offset " +
                    std::to_string(impl_->position - static_cast<std::int64_t>(got)) + ", only " +
                    std::to_string(got) + " left");
  }
}

std::size_t InputStream::Peek(void* buf, std::size_t n) {
  Impl& s = *impl_;
  if (n > sizeof(s.peeked)) {
    throw Error(ErrorCode::kInternal, "InputStream::Peek: at most 64 bytes");
  }
  if (s.peek_len - s.peek_pos < n) {
    std::memmove(s.peeked, s.peeked + s.peek_pos, s.peek_len - s.peek_pos);
    s.peek_len -= s.peek_pos;
    s.peek_pos = 0;
    s.peek_len += s.Decode(s.peeked + s.peek_len, n - s.peek_len);
  }
  const std::size_t k = std::min(n, s.peek_len - s.peek_pos);
  std::memcpy(buf, s.peeked + s.peek_pos, k);
  return k;
}

bool InputStream::AtEnd() {
  unsigned char c;
  return Peek(&c, 1) == 0;
}

Compression InputStream::compression() const noexcept { return impl_->compression; }
const std::string& InputStream::path() const noexcept { return impl_->path; }
std::int64_t InputStream::position() const noexcept { return impl_->position; }
std::int64_t InputStream::file_size() const noexcept { return impl_->file_size; }

std::string ReadWholeFile(const std::string& path) {
  InputStream in(path);
  std::string out;
  std::size_t len = 0;
  // Compressed: start near a typical expansion of the file and double (a small .gz file does
  // not get 4 MiB to zero).
  std::size_t chunk = in.compression() == Compression::kNone
                          ? static_cast<std::size_t>(in.file_size()) + 1
                          : std::clamp<std::size_t>(4 * static_cast<std::size_t>(in.file_size()),
                                                    std::size_t{64} << 10, std::size_t{4} << 20);
  while (true) {
    out.resize(len + chunk);
    const std::size_t got = in.Read(out.data() + len, chunk);
    len += got;
    if (got < chunk) break;
    chunk = std::max(chunk, len);
  }
  out.resize(len);
  return out;
}

// ---------------------------------------------------------------------------------------------

struct BlockReader::Impl {
  InputStream in;
  std::string path;
  Compression compression;
  BlockReaderOptions opts;
  std::string carry;  // start of a line that did not fit into the previous block
  std::int64_t next_line = 1;
  bool eof = false;

  // Prefetch state, guarded by mu.
  std::thread worker;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<TextBlock> ready;
  TextBlock recycle;
  bool finished = false;
  bool stop = false;
  std::exception_ptr error;

  Impl(const std::string& p, const BlockReaderOptions& o)
      : in(p), path(p), compression(in.compression()), opts(o) {
    if (opts.block_bytes < 4096) opts.block_bytes = 4096;
  }

  // Fills `b` with the next run of whole lines; false at end of file.
  bool Produce(TextBlock* b) {
    if (eof && carry.empty()) return false;
    std::string& buf = b->text;
    buf.assign(carry);  // keeps the recycled block's capacity
    carry.clear();
    std::size_t len = buf.size();
    std::size_t scanned = len;  // buf[0, scanned) holds no '\n' (a carry never does)
    std::size_t cut = std::string::npos;
    while (!eof) {
      std::size_t want = std::max(opts.block_bytes, len + (len >> 1)) - len;
      // A plain file's size is known: a small file gets a small buffer, not a whole block to
      // allocate and zero (one more byte than is left, so that its end is seen in one read).
      const std::int64_t left = in.file_size() - in.position();
      if (compression == Compression::kNone && left > 0) {
        want = std::min(want, static_cast<std::size_t>(left) + 1);
      }
      buf.resize(len + want);
      const std::size_t got = in.Read(buf.data() + len, want);
      len += got;
      if (got < want) eof = true;  // Read is short only at the end of data
      const void* nl =
          len > scanned ? ::memrchr(buf.data() + scanned, '\n', len - scanned) : nullptr;
      if (nl != nullptr) {
        cut = static_cast<const char*>(nl) - buf.data() + 1;
        break;
      }
      scanned = len;
    }
    buf.resize(len);
    // Without a newline (only possible at EOF) the remainder is the final, unterminated line.
    if (cut != std::string::npos && cut < len) {
      carry.assign(buf, cut, len - cut);
      buf.resize(cut);
    }
    if (buf.empty()) return false;
    b->first_line = next_line;
    b->lines = CountLines(buf);
    next_line += b->lines;
    return true;
  }

  void Run() {
    try {
      while (true) {
        TextBlock b;
        {
          std::lock_guard<std::mutex> lock(mu);
          b = std::move(recycle);
          recycle = TextBlock();
        }
        const bool got = Produce(&b);
        std::unique_lock<std::mutex> lock(mu);
        if (!got) {
          finished = true;
          cv.notify_all();
          return;
        }
        cv.wait(lock, [&] { return !ready.has_value() || stop; });
        if (stop) return;
        ready = std::move(b);
        cv.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      error = std::current_exception();
      cv.notify_all();
    }
  }
};

BlockReader::BlockReader(const std::string& path, const BlockReaderOptions& opts)
    : impl_(std::make_unique<Impl>(path, opts)) {
  const bool prefetch =
      opts.prefetch < 0 ? impl_->compression != Compression::kNone : opts.prefetch > 0;
  if (prefetch) {
    Impl* s = impl_.get();
    s->worker = std::thread([s] { s->Run(); });
  }
}

BlockReader::~BlockReader() {
  if (impl_ && impl_->worker.joinable()) {
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->stop = true;
    }
    impl_->cv.notify_all();
    impl_->worker.join();
  }
}

BlockReader::BlockReader(BlockReader&&) noexcept = default;
BlockReader& BlockReader::operator=(BlockReader&& other) noexcept {
  if (this != &other) {
    BlockReader dying(std::move(*this));
    impl_ = std::move(other.impl_);
  }
  return *this;
}

bool BlockReader::Next(TextBlock* block) {
  Impl& s = *impl_;
  if (!s.worker.joinable()) return s.Produce(block);
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&] { return s.ready.has_value() || s.finished || s.error; });
  if (s.ready.has_value()) {
    s.recycle = std::move(*block);
    *block = std::move(*s.ready);
    s.ready.reset();
    s.cv.notify_all();
    return true;
  }
  if (s.error) std::rethrow_exception(s.error);
  return false;
}

const std::string& BlockReader::path() const noexcept { return impl_->path; }
Compression BlockReader::compression() const noexcept { return impl_->compression; }

// ---------------------------------------------------------------------------------------------

LineReader::LineReader(const std::string& path, const BlockReaderOptions& opts)
    : reader_(path, opts) {}

bool LineReader::Next(std::string_view* line) {
  while (pos_ >= block_.text.size()) {
    if (!reader_.Next(&block_)) return false;
    pos_ = 0;
  }
  const char* begin = block_.text.data() + pos_;
  const std::size_t left = block_.text.size() - pos_;
  const void* nl = std::memchr(begin, '\n', left);
  std::size_t len = nl ? static_cast<const char*>(nl) - begin : left;
  pos_ += nl ? len + 1 : len;
  if (len > 0 && begin[len - 1] == '\r') --len;
  *line = std::string_view(begin, len);
  ++line_number_;
  return true;
}

}  // namespace detail
}  // namespace xmr
