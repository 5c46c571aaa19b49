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
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "io/atomic_file.h"
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

}  // namespace

void WriteBinary(const std::string& path, const CsrView& a) {
  XMR_EXPECTS(a.rows >= 0 && a.cols >= 0, ErrorCode::kInvalidArgument,
              "WriteBinary: negative shape");
  const Offset base = a.rows > 0 ? a.indptr[0] : 0;
  const Offset nnz = a.nnz();
  for (Index i = 0; i < a.rows; ++i) {
    XMR_EXPECTS(a.indptr[i + 1] >= a.indptr[i], ErrorCode::kInvalidArgument,
                "WriteBinary: indptr not monotone at row " + std::to_string(i));
    for (Offset k = a.indptr[i]; k < a.indptr[i + 1]; ++k) {
      XMR_EXPECTS(a.indices[k] >= 0 && a.indices[k] < a.cols &&
                      (k == a.indptr[i] || a.indices[k] > a.indices[k - 1]),
                  ErrorCode::kInvalidArgument,
                  "WriteBinary: row " + std::to_string(i) +
                      ": indices out of range or not strictly increasing");
      XMR_EXPECTS(std::isfinite(a.data[k]), ErrorCode::kInvalidArgument,
                  "WriteBinary: row " + std::to_string(i) + ": non-finite value");
    }
  }
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

  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.endian = kEndianMark;
  h.version = kVersion;
  h.layout = 0;
  h.rows = a.rows;
  h.cols = a.cols;
  h.nnz = nnz;
  std::uint32_t crc = detail::Crc32(0, indptr, indptr_bytes);
  if (n > 0) {
    crc = detail::Crc32(crc, indices, n * sizeof(Index));
    crc = detail::Crc32(crc, data, n * sizeof(float));
  }
  h.payload_crc = crc;
  h.header_crc = detail::Crc32(0, &h, offsetof(Header, header_crc));

  detail::AtomicFileWriter out(path);
  out.Write(&h, sizeof(h));
  out.Write(indptr, indptr_bytes);
  if (n > 0) {
    out.Write(indices, n * sizeof(Index));
    out.Write(data, n * sizeof(float));
  }
  out.Commit();
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
  m.indptr.resize(static_cast<std::size_t>(h.rows) + 1);
  m.indices.resize(static_cast<std::size_t>(h.nnz));
  m.data.resize(static_cast<std::size_t>(h.nnz));
  in.ReadExact(m.indptr.data(), m.indptr.size() * sizeof(Offset), "xmb indptr");
  in.ReadExact(m.indices.data(), m.indices.size() * sizeof(Index), "xmb indices");
  in.ReadExact(m.data.data(), m.data.size() * sizeof(float), "xmb data");
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
      if (m.indices[k] < 0 || m.indices[k] >= m.cols ||
          (k > b && m.indices[k] <= m.indices[k - 1])) {
        Corrupt(path + ": xmb row " + std::to_string(i) +
                ": column index out of range or not strictly increasing");
      }
      if (!std::isfinite(m.data[k])) {
        Corrupt(path + ": xmb row " + std::to_string(i) + ": NaN/Inf value");
      }
    }
  }
  return m;
}

}  // namespace xmr
