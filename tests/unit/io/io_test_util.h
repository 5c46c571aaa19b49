// Helpers shared by the io tests: temporary directories, gzip/xz encoding, error matching.
#pragma once

#include <gtest/gtest.h>
#include <lzma.h>    // for lzma_easy_buffer_encode
#include <stdlib.h>  // for mkdtemp
#include <zlib.h>    // for deflate

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>

#include "xmr/error.h"
#include "xmr/sparse.h"

namespace xmr {
namespace io_test {

/// A fresh directory under /tmp, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/xmr_io_test_XXXXXX";
    const char* p = ::mkdtemp(tmpl);
    if (p == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// gzip member (with header and CRC trailer) holding `data`.
inline std::string Gzip(const std::string& data, int level = 6) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2");
  }
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// .xz stream holding `data`.
inline std::string Xz(const std::string& data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  size_t pos = 0;
  if (lzma_easy_buffer_encode(
          1, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(data.data()), data.size(),
          reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()) != LZMA_OK) {
    throw std::runtime_error("lzma_easy_buffer_encode");
  }
  out.resize(pos);
  return out;
}

/// Runs fn and checks that it throws xmr::Error with `code` and a message containing every
/// string of `needles`. Returns the message ("" if nothing was thrown).
template <typename Fn>
std::string ExpectError(Fn&& fn, ErrorCode code, std::initializer_list<std::string> needles) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const std::string& n : needles) {
      EXPECT_NE(e.message().find(n), std::string::npos)
          << "message \"" << e.message() << "\" lacks \"" << n << "\"";
    }
    return e.message();
  }
  ADD_FAILURE() << "expected xmr::Error(" << ErrorCodeName(code) << ")";
  return "";
}

/// Exact equality of two CSR matrices (shape, structure and values).
inline void ExpectCsrEq(const CsrMatrix& a, const CsrMatrix& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
}

/// A CSR matrix from dense rows (zeros dropped).
inline CsrMatrix Dense(Index cols, std::initializer_list<std::initializer_list<float>> rows) {
  CsrMatrix m;
  m.rows = static_cast<Index>(rows.size());
  m.cols = cols;
  for (const auto& r : rows) {
    Index j = 0;
    for (float v : r) {
      if (v != 0.0f) {
        m.indices.push_back(j);
        m.data.push_back(v);
      }
      ++j;
    }
    m.indptr.push_back(static_cast<Offset>(m.indices.size()));
  }
  return m;
}

}  // namespace io_test
}  // namespace xmr
