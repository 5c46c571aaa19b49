// Helpers of the io tests: gzip/xz encoding, matrices from dense rows. Temporary directories,
// file bytes, error matching and matrix comparison are in common/test_util.h.
#pragma once

#include <lzma.h>  // for lzma_easy_buffer_encode
#include <zlib.h>  // for deflate

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "xmr/sparse.h"

namespace xmr {
namespace io_test {

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
