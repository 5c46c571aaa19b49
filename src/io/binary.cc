// xmr's binary matrix format (.xmb).
//
// Layout (all fields in the writer's byte order, which must be little-endian to be read back):
//   offset  0  char[8]   magic "XMRMAT01"
//           8  uint32    endianness mark 0x01020304
//          12  uint32    version (1)
//          16  uint32    layout (0 = CSR)
//          20  uint32    CRC-32 of the payload
//          24  int64     rows
//          32  int64     cols
//          40  int64     nnz
//          48  uint32    CRC-32 of header bytes [0, 48)
//          52  uint32[3] zero
//   payload at 64: int64 indptr[rows + 1], int32 indices[nnz], float32 data[nnz]
// The file is exactly 64 + 8 (rows + 1) + 8 nnz bytes long.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "io/atomic_file.h"
#include "io/formats.h"
#include "io/stream.h"
#include "io/zip.h"  // for Crc32
#include "xmr/error.h"
#include "xmr/io.h"

namespace xmr {
namespace {

constexpr char kMagic[8] = {'X', 'M', 'R', 'M', 'A', 'T', '0', '1'};
constexpr std::uint32_t kEndianMark = 0x01020304;
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kHeaderBytes = 64;

struct Header {
  char magic[8];
  std::uint32_t endian;
  std::uint32_t version;
  std::uint32_t layout;
  std::uint32_t payload_crc;
  std::int64_t rows;
  std::int64_t cols;
  std::int64_t nnz;
  std::uint32_t header_crc;
  std::uint32_t reserved[3];
};
static_assert(sizeof(Header) == kHeaderBytes, "xmb header must be 64 bytes");

[[noreturn]] void Corrupt(const std::string& msg) { throw Error(ErrorCode::kCorruption, msg); }

// Reads the n values of a payload array. The size of a compressed file says nothing about its
// payload, so there an array grows as its bytes arrive (by what was read so far, 64 KiB to
// 64 MiB at a time): a header declaring more than the data holds is reported as a truncated
// file instead of being allocated. `expected`: the file size the header implies (messages).
template <typename T>
void ReadArray(detail::InputStream* in, std::size_t n, std::int64_t expected, std::vector<T>* out) {
  constexpr std::size_t kMinChunk = (std::size_t{64} << 10) / sizeof(T);
  constexpr std::size_t kMaxChunk = (std::size_t{64} << 20) / sizeof(T);
  const bool plain = in->compression() == detail::Compression::kNone;
  out->clear();
  for (std::size_t done = 0; done < n;) {
    const std::size_t step = plain ? n : std::clamp(done, kMinChunk, kMaxChunk);
    const std::size_t k = std::min(n - done, step);
    out->resize(done + k);
    if (in->Read(out->data() + done, k * sizeof(T)) != k * sizeof(T)) {
      Corrupt(in->path() + ": xmb data ends after " + std::to_string(in->position()) +
              " bytes, header implies " + std::to_string(expected) + " (truncated file)");
    }
    done += k;
  }
}

// Rows of `a` are valid for writing; messages count rows from `first_row`.
void CheckRows(const CsrView& a, std::int64_t first_row) {
  for (Index i = 0; i < a.rows; ++i) {
    const std::string row = std::to_string(first_row + i);
    XMR_EXPECTS(a.indptr[i + 1] >= a.indptr[i], ErrorCode::kInvalidArgument,
                "WriteBinary: indptr not monotone at row " + row);
    for (Offset k = a.indptr[i]; k < a.indptr[i + 1]; ++k) {
      XMR_EXPECTS(a.indices[k] >= 0 && a.indices[k] < a.cols &&
                      (k == a.indptr[i] || a.indices[k] > a.indices[k - 1]),
                  ErrorCode::kInvalidArgument,
                  "WriteBinary: row " + row + ": indices out of range or not strictly increasing");
      XMR_EXPECTS(std::isfinite(a.data[k]), ErrorCode::kInvalidArgument,
                  "WriteBinary: row " + row + ": non-finite value");
    }
  }
}

Header MakeHeader(std::int64_t rows, std::int64_t cols, std::int64_t nnz, std::uint32_t crc) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.endian = kEndianMark;
  h.version = kVersion;
  h.layout = 0;
  h.rows = rows;
  h.cols = cols;
  h.nnz = nnz;
  h.payload_crc = crc;
  h.header_crc = detail::Crc32(0, &h, offsetof(Header, header_crc));
  return h;
}

}  // namespace

void WriteBinary(const std::string& path, const CsrView& a) {
  XMR_EXPECTS(a.rows >= 0 && a.cols >= 0, ErrorCode::kInvalidArgument,
              "WriteBinary: negative shape");
  const Offset base = a.rows > 0 ? a.indptr[0] : 0;
  const Offset nnz = a.nnz();
  CheckRows(a, 0);
  std::vector<Offset> rebased;
  const Offset* indptr = a.indptr;
  if (a.rows == 0 || base != 0) {
    rebased.resize(static_cast<std::size_t>(a.rows) + 1, 0);
    for (Index i = 0; i <= a.rows && a.rows > 0; ++i) rebased[i] = a.indptr[i] - base;
    indptr = rebased.data();
  }
  const std::size_t indptr_bytes = (static_cast<std::size_t>(a.rows) + 1) * sizeof(Offset);
  const std::size_t n = static_cast<std::size_t>(nnz);
  const Index* indices = n > 0 ? a.indices + base : nullptr;
  const float* data = n > 0 ? a.data + base : nullptr;

  std::uint32_t crc = detail::Crc32(0, indptr, indptr_bytes);
  if (n > 0) {
    crc = detail::Crc32(crc, indices, n * sizeof(Index));
    crc = detail::Crc32(crc, data, n * sizeof(float));
  }
  const Header h = MakeHeader(a.rows, a.cols, nnz, crc);

  detail::AtomicFileWriter out(path);
  out.Write(&h, sizeof(h));
  out.Write(indptr, indptr_bytes);
  if (n > 0) {
    out.Write(indices, n * sizeof(Index));
    out.Write(data, n * sizeof(float));
  }
  out.Commit();
}

// ----- streaming writer ---------------------------------------------------------------------

struct detail::XmbStreamWriter::Impl {
  explicit Impl(const std::string& p) : path(p), out(p) {}
  ~Impl() {
    if (scratch >= 0) ::close(scratch);
  }
  void ScratchWrite(const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
      const ssize_t k = ::write(scratch, c, n);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) {
        throw Error(ErrorCode::kIoError, path + ": writing the value scratch file failed: " +
                                             std::strerror(k < 0 ? errno : EIO));
      }
      c += k;
      n -= static_cast<std::size_t>(k);
    }
  }
  std::string path;
  detail::AtomicFileWriter out;
  int scratch = -1;
  Index cols = 0;
  std::vector<Offset> indptr;
  Index next_row = 0;
  std::uint32_t crc = 0;  // over indptr and the indices written so far
};

detail::XmbStreamWriter::XmbStreamWriter(const std::string& path, Index cols,
                                         std::vector<Offset> indptr) {
  XMR_EXPECTS(cols >= 0 && !indptr.empty() && indptr[0] == 0, ErrorCode::kInvalidArgument,
              path + ": XmbStreamWriter needs cols >= 0 and an indptr starting at 0");
  for (std::size_t i = 1; i < indptr.size(); ++i) {
    XMR_EXPECTS(indptr[i] >= indptr[i - 1], ErrorCode::kInvalidArgument,
                path + ": XmbStreamWriter: indptr not monotone at row " + std::to_string(i - 1));
  }
  impl_ = std::make_unique<Impl>(path);
  impl_->cols = cols;
  impl_->indptr = std::move(indptr);
  // The scratch file lives beside the output (same file system, not /tmp, which may be RAM)
  // and is unlinked at once, so that nothing is left behind whatever happens.
  const std::string scratch =
      impl_->out.temp_path().empty() ? std::string() : impl_->out.temp_path() + ".values";
  XMR_EXPECTS(!scratch.empty(), ErrorCode::kInvalidArgument,
              path + ": an .xmb file cannot be streamed to a device or FIFO");
  // Exclusive and not through a symlink planted under the name (as AtomicFileWriter's temporary).
  const int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  impl_->scratch = ::open(scratch.c_str(), flags, 0600);
  if (impl_->scratch < 0 && errno == EEXIST && ::unlink(scratch.c_str()) == 0) {
    impl_->scratch = ::open(scratch.c_str(), flags, 0600);
  }
  if (impl_->scratch < 0) {
    throw Error(ErrorCode::kIoError,
                scratch + ": cannot create scratch file: " + std::strerror(errno));
  }
  ::unlink(scratch.c_str());
  const Header placeholder{};
  impl_->out.Write(&placeholder, sizeof(placeholder));
  const std::size_t bytes = impl_->indptr.size() * sizeof(Offset);
  impl_->out.Write(impl_->indptr.data(), bytes);
  impl_->crc = detail::Crc32(0, impl_->indptr.data(), bytes);
}

detail::XmbStreamWriter::~XmbStreamWriter() = default;

void detail::XmbStreamWriter::Append(const CsrView& block) {
  Impl& m = *impl_;
  const Index rows = static_cast<Index>(m.indptr.size() - 1);
  XMR_EXPECTS(block.cols <= m.cols && m.next_row + static_cast<std::int64_t>(block.rows) <= rows,
              ErrorCode::kInvalidArgument,
              m.path + ": block does not fit the declared shape (" + std::to_string(rows) + " x " +
                  std::to_string(m.cols) + ")");
  CheckRows(CsrView{block.rows, m.cols, block.indptr, block.indices, block.data}, m.next_row);
  for (Index i = 0; i < block.rows; ++i) {
    const Index r = m.next_row + i;
    XMR_EXPECTS(block.indptr[i + 1] - block.indptr[i] == m.indptr[r + 1] - m.indptr[r],
                ErrorCode::kInvalidArgument,
                m.path + ": row " + std::to_string(r) + " has a length other than declared");
  }
  const Offset b = block.indptr[0], e = block.indptr[block.rows];
  const std::size_t n = static_cast<std::size_t>(e - b);
  if (n > 0) {
    m.out.Write(block.indices + b, n * sizeof(Index));
    m.crc = detail::Crc32(m.crc, block.indices + b, n * sizeof(Index));
    m.ScratchWrite(block.data + b, n * sizeof(float));
  }
  m.next_row += block.rows;
}

void detail::XmbStreamWriter::Commit() {
  Impl& m = *impl_;
  const Index rows = static_cast<Index>(m.indptr.size() - 1);
  XMR_EXPECTS(m.next_row == rows, ErrorCode::kInvalidArgument,
              m.path + ": " + std::to_string(m.next_row) + " rows written, " +
                  std::to_string(rows) + " declared");
  if (::lseek(m.scratch, 0, SEEK_SET) != 0) {
    throw Error(ErrorCode::kIoError, m.path + ": rewinding the value scratch file failed");
  }
  std::vector<char> buf(std::size_t{1} << 20);
  for (;;) {
    const ssize_t k = ::read(m.scratch, buf.data(), buf.size());
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      throw Error(ErrorCode::kIoError,
                  m.path + ": reading the value scratch file failed: " + std::strerror(errno));
    }
    if (k == 0) break;
    m.out.Write(buf.data(), static_cast<std::size_t>(k));
    m.crc = detail::Crc32(m.crc, buf.data(), static_cast<std::size_t>(k));
  }
  const Header h = MakeHeader(rows, m.cols, m.indptr.back(), m.crc);
  m.out.WriteAt(0, &h, sizeof(h));
  m.out.Commit();
}

CsrMatrix ReadBinaryCsr(const std::string& path) {
  detail::InputStream in(path);
  Header h;
  in.ReadExact(&h, sizeof(h), "xmb header");
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) {
    Corrupt(path + ": not an xmr binary matrix (bad magic)");
  }
  if (h.endian != kEndianMark) {
    Corrupt(path + ": xmb file written with the other byte order (endianness mark " +
            std::to_string(h.endian) + ")");
  }
  if (h.header_crc != detail::Crc32(0, &h, offsetof(Header, header_crc))) {
    Corrupt(path + ": xmb header CRC-32 mismatch (damaged header)");
  }
  if (h.version != kVersion) {
    throw Error(ErrorCode::kNotSupported, path + ": xmb version " + std::to_string(h.version) +
                                              " not supported (expected " +
                                              std::to_string(kVersion) + ")");
  }
  if (h.layout != 0) Corrupt(path + ": xmb layout " + std::to_string(h.layout) + " is not CSR");
  const std::int64_t kMaxIndex = std::numeric_limits<Index>::max();
  if (h.rows < 0 || h.rows > kMaxIndex || h.cols < 0 || h.cols > kMaxIndex || h.nnz < 0 ||
      h.nnz > (std::numeric_limits<std::int64_t>::max() / 16)) {
    Corrupt(path + ": xmb header has invalid shape " + std::to_string(h.rows) + " x " +
            std::to_string(h.cols) + ", nnz " + std::to_string(h.nnz));
  }
  const std::int64_t expected =
      static_cast<std::int64_t>(kHeaderBytes) + 8 * (h.rows + 1) + 8 * h.nnz;
  if (in.compression() == detail::Compression::kNone && in.file_size() != expected) {
    Corrupt(path + ": xmb file is " + std::to_string(in.file_size()) + " bytes, header implies " +
            std::to_string(expected) +
            (in.file_size() < expected ? " (truncated file)" : " (trailing bytes)"));
  }
  CsrMatrix m;
  m.rows = static_cast<Index>(h.rows);
  m.cols = static_cast<Index>(h.cols);
  ReadArray(&in, static_cast<std::size_t>(h.rows) + 1, expected, &m.indptr);
  ReadArray(&in, static_cast<std::size_t>(h.nnz), expected, &m.indices);
  ReadArray(&in, static_cast<std::size_t>(h.nnz), expected, &m.data);
  if (!in.AtEnd()) Corrupt(path + ": trailing bytes after the xmb payload");
  std::uint32_t crc = detail::Crc32(0, m.indptr.data(), m.indptr.size() * sizeof(Offset));
  crc = detail::Crc32(crc, m.indices.data(), m.indices.size() * sizeof(Index));
  crc = detail::Crc32(crc, m.data.data(), m.data.size() * sizeof(float));
  if (crc != h.payload_crc) Corrupt(path + ": xmb payload CRC-32 mismatch (damaged data)");

  // The checksum guards against damage; this guards against a faulty writer.
  if (m.indptr[0] != 0 || m.indptr[m.rows] != h.nnz) {
    Corrupt(path + ": xmb indptr must run from 0 to nnz");
  }
  for (Index i = 0; i < m.rows; ++i) {
    const Offset b = m.indptr[i], e = m.indptr[i + 1];
    if (e < b || e > h.nnz) Corrupt(path + ": xmb indptr not monotone at row " + std::to_string(i));
    for (Offset k = b; k < e; ++k) {
      const Index j = m.indices[k];
      if (j < 0 || j >= m.cols) {
        Corrupt(path + ": xmb row " + std::to_string(i) + ": column index " + std::to_string(j) +
                (j < 0 ? " < 0" : " >= cols " + std::to_string(m.cols)));
      }
      if (k > b && j <= m.indices[k - 1]) {
        Corrupt(path + ": xmb row " + std::to_string(i) + ": column index " + std::to_string(j) +
                " after " + std::to_string(m.indices[k - 1]) + " (not strictly increasing)");
      }
      if (!std::isfinite(m.data[k])) {
        Corrupt(path + ": xmb row " + std::to_string(i) + ": NaN/Inf value");
      }
    }
  }
  return m;
}

}  // namespace xmr
