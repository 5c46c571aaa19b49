// scipy.sparse .npz files (save_npz / load_npz layout).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "core/memory.h"  // for AvailableMemoryBytes
#include "io/atomic_file.h"
#include "io/formats.h"
#include "io/npy.h"
#include "io/text_parse.h"  // for Quote
#include "io/zip.h"
#include "xmr/error.h"
#include "xmr/io.h"

namespace xmr {
namespace detail {
namespace {

[[noreturn]] void Corrupt(const std::string& msg) { throw Error(ErrorCode::kCorruption, msg); }

const ZipEntry& Entry(const ZipReader& zip, const std::string& name) {
  const ZipEntry* e = zip.Find(name + ".npy");
  if (e == nullptr) e = zip.Find(name);
  if (e == nullptr) {
    Corrupt(zip.path() + ": not a scipy sparse .npz file (no '" + name + ".npy' entry)");
  }
  return *e;
}

// Sorts the indices of every major slice that is not strictly increasing and sums duplicates
// (a sum beyond the float32 range is an error naming `path`).
void Canonicalize(NpzSparse* m, Index n_major, const std::string& path) {
  bool canonical = true;
  for (Index i = 0; i < n_major && canonical; ++i) {
    for (Offset k = m->indptr[i] + 1; k < m->indptr[i + 1]; ++k) {
      if (m->indices[k] <= m->indices[k - 1]) {
        canonical = false;
        break;
      }
    }
  }
  if (canonical) return;
  std::vector<std::pair<Index, float>> slice;
  Offset out = 0;
  Offset begin = 0;
  for (Index i = 0; i < n_major; ++i) {
    const Offset end = m->indptr[i + 1];
    slice.clear();
    for (Offset k = begin; k < end; ++k) slice.emplace_back(m->indices[k], m->data[k]);
    std::stable_sort(slice.begin(), slice.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const Offset slice_start = out;
    for (const auto& [idx, val] : slice) {
      if (out > slice_start && m->indices[out - 1] == idx) {
        m->data[out - 1] += val;
        if (!std::isfinite(m->data[out - 1])) {
          Corrupt(path + ": data.npy: the duplicate entries of " + (m->csc ? "column " : "row ") +
                  std::to_string(i) + " at index " + std::to_string(idx) +
                  " sum beyond the float32 range");
        }
      } else {
        m->indices[out] = idx;
        m->data[out] = val;
        ++out;
      }
    }
    begin = end;
    m->indptr[i + 1] = out;
  }
  m->indices.resize(out);
  m->data.resize(out);
}

// A file read in the other orientation is transposed into pointers over its minor dimension,
// which a small file may declare huge (a 2 x 2^30 CSR file read as CSC needs 16 GiB): refuse
// the conversion when it cannot fit in memory instead of failing half-way.
void CheckConversionFits(const std::string& path, const NpzSparse& m) {
  const Index n_minor = m.csc ? m.rows : m.cols;
  const std::uint64_t need = (static_cast<std::uint64_t>(n_minor) + 1) * 2 * sizeof(Offset) +
                             m.indices.size() * (sizeof(Index) + sizeof(float));
  const std::uint64_t avail = AvailableMemoryBytes();
  if (need > avail) {
    throw Error(ErrorCode::kOutOfMemory,
                path + ": reading the " + (m.csc ? "csc" : "csr") + " matrix (" +
                    std::to_string(m.rows) + " x " + std::to_string(m.cols) + ") as " +
                    (m.csc ? "CSR" : "CSC") + " needs " + std::to_string(need) + " bytes, only " +
                    std::to_string(avail) + " are available");
  }
}

}  // namespace

NpzSparse ReadNpzSparse(const ZipReader& zip) {
  const std::string& path = zip.path();
  NpzSparse m;
  {
    ZipEntryReader r = zip.Open(Entry(zip, "format"));
    const NpyHeader h = ReadNpyHeader(&r);
    const std::string format = ReadNpyString(&r, h, "format");
    r.Finish();
    if (format == "csc") {
      m.csc = true;
    } else if (format != "csr") {
      if (format == "coo" || format == "bsr" || format == "dia" || format == "dok" ||
          format == "lil") {
        throw Error(ErrorCode::kNotSupported,
                    path + ": scipy sparse format '" + format +
                        "' is not supported; save the matrix with .tocsr() or .tocsc()");
      }
      Corrupt(path + ": format.npy: unknown sparse format " + Quote(format) +
              " (expected 'csr' or 'csc')");
    }
  }
  {
    ZipEntryReader r = zip.Open(Entry(zip, "shape"));
    const NpyHeader h = ReadNpyHeader(&r);
    std::vector<std::int64_t> shape;
    ReadNpyIntegers(&r, h, "shape", &shape);
    r.Finish();
    if (shape.size() != 2) {
      Corrupt(path + ": shape.npy: expected 2 dimensions, got " + std::to_string(shape.size()));
    }
    for (std::int64_t d : shape) {
      if (d < 0 || d > std::numeric_limits<Index>::max()) {
        Corrupt(path + ": shape.npy: dimension " + std::to_string(d) + " outside [0, 2^31 - 1]");
      }
    }
    m.rows = static_cast<Index>(shape[0]);
    m.cols = static_cast<Index>(shape[1]);
  }
  const Index n_major = m.csc ? m.cols : m.rows;
  const Index n_minor = m.csc ? m.rows : m.cols;
  {
    ZipEntryReader r = zip.Open(Entry(zip, "indptr"));
    const NpyHeader h = ReadNpyHeader(&r);
    ReadNpyIntegers(&r, h, "indptr", &m.indptr);
    r.Finish();
  }
  {
    ZipEntryReader r = zip.Open(Entry(zip, "indices"));
    const NpyHeader h = ReadNpyHeader(&r);
    ReadNpyIntegers(&r, h, "indices", &m.indices);
    r.Finish();
  }
  {
    ZipEntryReader r = zip.Open(Entry(zip, "data"));
    const NpyHeader h = ReadNpyHeader(&r);
    ReadNpyFloats(&r, h, "data", &m.data);
    r.Finish();
  }
  const std::string where = path + ": indptr.npy";
  if (m.indptr.size() != static_cast<std::size_t>(n_major) + 1) {
    Corrupt(where + ": has " + std::to_string(m.indptr.size()) + " entries, shape (" +
            std::to_string(m.rows) + ", " + std::to_string(m.cols) + ") in " +
            (m.csc ? "csc" : "csr") + " format needs " + std::to_string(n_major + 1));
  }
  if (m.indptr[0] != 0)
    Corrupt(where + ": indptr[0] = " + std::to_string(m.indptr[0]) + ", expected 0");
  for (Index i = 0; i < n_major; ++i) {
    if (m.indptr[i + 1] < m.indptr[i]) {
      Corrupt(where + ": not monotone at position " + std::to_string(i + 1) + " (" +
              std::to_string(m.indptr[i + 1]) + " < " + std::to_string(m.indptr[i]) + ")");
    }
  }
  if (m.indices.size() != m.data.size()) {
    Corrupt(path + ": indices.npy has " + std::to_string(m.indices.size()) +
            " entries but data.npy has " + std::to_string(m.data.size()));
  }
  const Offset nnz = m.indptr[n_major];
  if (nnz > static_cast<Offset>(m.indices.size())) {
    Corrupt(where + ": last entry " + std::to_string(nnz) + " exceeds the " +
            std::to_string(m.indices.size()) + " stored nonzeros");
  }
  // Entries past indptr[-1] are unused (scipy prunes them too).
  m.indices.resize(nnz);
  m.data.resize(nnz);
  for (Index i = 0; i < n_major; ++i) {
    for (Offset k = m.indptr[i]; k < m.indptr[i + 1]; ++k) {
      if (m.indices[k] < 0 || m.indices[k] >= n_minor) {
        Corrupt(path + ": indices.npy: entry " + std::to_string(k) + " (" +
                (m.csc ? "column " : "row ") + std::to_string(i) + ") = " +
                std::to_string(m.indices[k]) + " outside [0, " + std::to_string(n_minor) + ")");
      }
    }
  }
  Canonicalize(&m, n_major, path);
  return m;
}

CsrMatrix ReadNpzCsrFrom(const ZipReader& zip) {
  NpzSparse m = ReadNpzSparse(zip);
  if (m.csc) {
    CheckConversionFits(zip.path(), m);
    const CscView v{m.rows, m.cols, m.indptr.data(), m.indices.data(), m.data.data()};
    return CscToCsr(v);
  }
  CsrMatrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  out.indptr = std::move(m.indptr);
  out.indices = std::move(m.indices);
  out.data = std::move(m.data);
  return out;
}

namespace {

// Writes the five save_npz entries for arrays of a view with `n_major` slices.
void WriteNpzImpl(const std::string& path, const char* format, Index rows, Index cols,
                  Index n_major, Index n_minor, const Offset* indptr, const Index* indices,
                  const float* data, bool compressed) {
  const Offset base = n_major > 0 ? indptr[0] : 0;
  const Offset nnz = n_major > 0 ? indptr[n_major] - base : 0;
  XMR_EXPECTS(rows >= 0 && cols >= 0, ErrorCode::kInvalidArgument, "WriteNpz: negative shape");
  for (Index i = 0; i < n_major; ++i) {
    XMR_EXPECTS(indptr[i + 1] >= indptr[i], ErrorCode::kInvalidArgument,
                "WriteNpz: indptr not monotone at " + std::to_string(i + 1));
  }
  for (Offset k = base; k < base + nnz; ++k) {
    XMR_EXPECTS(indices[k] >= 0 && indices[k] < n_minor, ErrorCode::kInvalidArgument,
                "WriteNpz: index " + std::to_string(indices[k]) + " at position " +
                    std::to_string(k - base) + " outside [0, " + std::to_string(n_minor) + ")");
    XMR_EXPECTS(std::isfinite(data[k]), ErrorCode::kInvalidArgument,
                "WriteNpz: non-finite value at position " + std::to_string(k - base));
  }
  // indptr as int32 while it fits, like scipy; otherwise int64.
  const bool wide = nnz > std::numeric_limits<std::int32_t>::max();
  std::string indptr_bytes;
  if (wide) {
    indptr_bytes.resize((static_cast<std::size_t>(n_major) + 1) * sizeof(std::int64_t));
    auto* p = reinterpret_cast<std::int64_t*>(indptr_bytes.data());
    for (Index i = 0; i <= n_major; ++i) p[i] = n_major > 0 ? indptr[i] - base : 0;
  } else {
    indptr_bytes.resize((static_cast<std::size_t>(n_major) + 1) * sizeof(std::int32_t));
    auto* p = reinterpret_cast<std::int32_t*>(indptr_bytes.data());
    for (Index i = 0; i <= n_major; ++i) {
      p[i] = n_major > 0 ? static_cast<std::int32_t>(indptr[i] - base) : 0;
    }
  }
  const std::size_t n = static_cast<std::size_t>(nnz);
  const std::string_view indices_bytes(n > 0 ? reinterpret_cast<const char*>(indices + base) : "",
                                       n * sizeof(Index));
  const std::string_view data_bytes(n > 0 ? reinterpret_cast<const char*>(data + base) : "",
                                    n * sizeof(float));
  // format.npy as numpy writes a Python str: '<U3', UTF-32LE code units.
  std::string format_bytes;
  for (const char* c = format; *c; ++c) {
    format_bytes.push_back(*c);
    format_bytes.append(3, '\0');
  }
  std::string shape_bytes(16, '\0');
  const std::int64_t shape[2] = {rows, cols};
  std::memcpy(shape_bytes.data(), shape, sizeof(shape));

  const std::string h_indices = MakeNpyHeader("<i4", {nnz});
  const std::string h_indptr = MakeNpyHeader(wide ? "<i8" : "<i4", {n_major + Offset{1}});
  const std::string h_format = MakeNpyHeader("<U3", {});
  const std::string h_shape = MakeNpyHeader("<i8", {2});
  const std::string h_data = MakeNpyHeader("<f4", {nnz});

  AtomicFileWriter out(path);
  ZipWriter zip(&out);
  // Entry order as scipy's save_npz produces it.
  zip.Add("indices.npy", {h_indices, indices_bytes}, compressed);
  zip.Add("indptr.npy", {h_indptr, indptr_bytes}, compressed);
  zip.Add("format.npy", {h_format, format_bytes}, compressed);
  zip.Add("shape.npy", {h_shape, shape_bytes}, compressed);
  zip.Add("data.npy", {h_data, data_bytes}, compressed);
  zip.Finish();
  out.Commit();
}

}  // namespace
}  // namespace detail

CsrMatrix ReadNpzCsr(const std::string& path) {
  return detail::ReadNpzCsrFrom(detail::ZipReader(path));
}

CscMatrix ReadNpzCsc(const std::string& path) {
  detail::NpzSparse m = detail::ReadNpzSparse(detail::ZipReader(path));
  if (!m.csc) {
    detail::CheckConversionFits(path, m);
    const CsrView v{m.rows, m.cols, m.indptr.data(), m.indices.data(), m.data.data()};
    return CsrToCsc(v);
  }
  CscMatrix out;
  out.rows = m.rows;
  out.cols = m.cols;
  out.indptr = std::move(m.indptr);
  out.indices = std::move(m.indices);
  out.data = std::move(m.data);
  return out;
}

void WriteNpz(const std::string& path, const CsrView& a, bool compressed) {
  detail::WriteNpzImpl(path, "csr", a.rows, a.cols, a.rows, a.cols, a.indptr, a.indices, a.data,
                       compressed);
}

void WriteNpz(const std::string& path, const CscView& a, bool compressed) {
  detail::WriteNpzImpl(path, "csc", a.rows, a.cols, a.cols, a.rows, a.indptr, a.indices, a.data,
                       compressed);
}

}  // namespace xmr
