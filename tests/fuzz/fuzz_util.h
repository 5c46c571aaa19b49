// Helpers shared by the libFuzzer targets of tests/fuzz and by make_seeds.cc: the per-process
// input file, the "only xmr::Error may escape" guard, output invariant checks, and the input
// framings that let the fuzzer reach past checksums (CRC fix-up, zip entries built from parts).
//
// A finding is reported by aborting (libFuzzer saves the input as crash-*): an exception other
// than xmr::Error, an Error(kInternal) (a broken invariant is a bug, not a verdict on the input),
// or a reader that returns a structurally invalid matrix. Sanitizer reports, timeouts and the
// -malloc_limit_mb / -rss_limit_mb limits are findings too (libFuzzer handles those itself).
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xmr/error.h"
#include "xmr/sparse.h"

namespace xmr_fuzz {

// ----- findings -------------------------------------------------------------------------------

[[noreturn]] inline void Finding(const std::string& what) {
  std::fprintf(stderr, "\n==== xmr fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// Runs fn; an xmr::Error is the correct answer to a bad input and is swallowed, except
/// kInternal. Any other exception escapes to libFuzzer (which reports it as a crash).
template <typename Fn>
bool Guard(Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const xmr::Error& e) {
    if (e.code() == xmr::ErrorCode::kInternal)
      Finding(std::string("Error(kInternal): ") + e.what());
    return false;
  }
}

// ----- the input file -------------------------------------------------------------------------

/// $TMPDIR or /tmp: for files written by xmr's own writers, which write paths under /dev/ in
/// place, as devices (so they cannot create files in /dev/shm).
inline std::string TempDir() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

/// Directory for the per-process input files the harness writes itself: /dev/shm when it
/// exists (no disk I/O), else TempDir().
inline std::string ScratchDir() {
  struct stat st;
  if (::stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return TempDir();
}

inline void WriteFileOrDie(const std::string& path, const void* data, std::size_t n) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) Finding("harness: cannot create " + path);
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k <= 0) Finding("harness: cannot write " + path);
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  ::close(fd);
}

/// One scratch file per process ("<dir>/xmr_fuzz_<name>_<pid><suffix>"), rewritten for every
/// input and removed at exit.
class InputFile {
 public:
  explicit InputFile(const char* name, const char* suffix = "")
      : path_(ScratchDir() + "/xmr_fuzz_" + name + "_" + std::to_string(::getpid()) + suffix) {}
  ~InputFile() { ::unlink(path_.c_str()); }
  const std::string& Write(const void* data, std::size_t n) {
    WriteFileOrDie(path_, data, n);
    return path_;
  }
  const std::string& Write(std::string_view s) { return Write(s.data(), s.size()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ----- output invariants ----------------------------------------------------------------------

/// Aborts unless `a` is a valid major-compressed sparse matrix (CSR, or CSC read as its
/// transpose): indptr from 0, monotone, ending at nnz; indices within [0, n_minor) and strictly
/// increasing per slice (or, with !sorted, merely distinct per slice); finite values.
inline void CheckCompressed(const char* what, xmr::Index n_major, xmr::Index n_minor,
                            const std::vector<xmr::Offset>& indptr,
                            const std::vector<xmr::Index>& indices, const std::vector<float>& data,
                            bool sorted, bool finite = true) {
  auto fail = [&](const std::string& m) { Finding(std::string(what) + ": " + m); };
  if (n_major < 0 || n_minor < 0) fail("negative shape");
  if (indptr.size() != static_cast<std::size_t>(n_major) + 1) fail("indptr size != major + 1");
  if (indptr[0] != 0) fail("indptr[0] != 0");
  if (indices.size() != data.size()) fail("indices and data sizes differ");
  if (indptr.back() != static_cast<xmr::Offset>(indices.size())) fail("indptr[-1] != nnz");
  std::vector<char> seen;
  for (xmr::Index i = 0; i < n_major; ++i) {
    const xmr::Offset b = indptr[i], e = indptr[i + 1];
    if (e < b) fail("indptr decreases at " + std::to_string(i));
    for (xmr::Offset k = b; k < e; ++k) {
      const xmr::Index j = indices[k];
      if (j < 0 || j >= n_minor) fail("index " + std::to_string(j) + " out of range");
      if (sorted && k > b && indices[k - 1] >= j) fail("indices not strictly increasing");
      if (finite && !std::isfinite(data[k])) fail("non-finite value");
    }
    if (!sorted && e - b > 1) {
      std::vector<xmr::Index> s(indices.begin() + b, indices.begin() + e);
      std::sort(s.begin(), s.end());
      if (std::adjacent_find(s.begin(), s.end()) != s.end()) fail("duplicate index in a row");
    }
  }
}

inline void CheckCsr(const char* what, const xmr::CsrMatrix& m, bool sorted = true) {
  CheckCompressed(what, m.rows, m.cols, m.indptr, m.indices, m.data, sorted);
}
inline void CheckCsc(const char* what, const xmr::CscMatrix& m) {
  CheckCompressed(what, m.cols, m.rows, m.indptr, m.indices, m.data, true);
}

// ----- framings -------------------------------------------------------------------------------

inline std::uint32_t Crc32(const void* p, std::size_t n) {
  return static_cast<std::uint32_t>(crc32_z(0, static_cast<const Bytef*>(p), n));
}

inline std::uint32_t Get32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline std::uint64_t Get64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void Set32(unsigned char* p, std::uint32_t v) { std::memcpy(p, &v, 4); }

/// gzip member holding `data` (deflate level 6).
inline std::string Gzip(std::string_view data, bool raw_deflate = false) {
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, raw_deflate ? -MAX_WBITS : 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    Finding("harness: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) Finding("harness: deflate failed");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// Recomputes the two CRC-32s of an .xmb file (payload, then header), as WriteBinary does.
inline void FixXmbCrcs(std::string* f) {
  if (f->size() < 64) return;
  auto* p = reinterpret_cast<unsigned char*>(f->data());
  Set32(p + 20, Crc32(p + 64, f->size() - 64));
  Set32(p + 48, Crc32(p, 48));
}

/// Recomputes every CRC-32 of a model file whose structure permits it: each section's (for the
/// sections that lie within the file), the section table's and the header's.
inline void FixModelCrcs(std::string* f) {
  const std::uint64_t size = f->size();
  if (size < 64) return;
  auto* p = reinterpret_cast<unsigned char*>(f->data());
  const std::uint64_t n = Get32(p + 24);
  const std::uint64_t table_end = 64 + (n * 32 + 63) / 64 * 64;
  if (n <= (size - 64) / 32 && table_end <= size) {
    for (std::uint64_t i = 0; i < n; ++i) {
      unsigned char* e = p + 64 + 32 * i;
      const std::uint64_t off = Get64(e + 8), len = Get64(e + 16);
      if (off <= size && len <= size - off) Set32(e + 24, Crc32(p + off, len));
    }
    Set32(p + 28, Crc32(p + 64, table_end - 64));
  }
  Set32(p + 60, Crc32(p, 60));
}

/// Separator of the parts of a framed .npz input (see BuildNpz).
inline constexpr std::string_view kPartSeparator = "\n#XMRPART#\n";

inline std::vector<std::string_view> SplitParts(std::string_view s,
                                                std::string_view sep = kPartSeparator) {
  std::vector<std::string_view> parts;
  while (true) {
    const std::size_t k = s.find(sep);
    if (k == std::string_view::npos) {
      parts.push_back(s);
      return parts;
    }
    parts.push_back(s.substr(0, k));
    s.remove_prefix(k + sep.size());
  }
}

/// A zip archive (stored or deflated entries, correct CRCs and sizes) holding `entries`.
inline std::string BuildZip(const std::vector<std::pair<std::string, std::string_view>>& entries,
                            bool deflate) {
  auto put16 = [](std::string* s, unsigned v) {
    s->push_back(static_cast<char>(v & 0xff));
    s->push_back(static_cast<char>((v >> 8) & 0xff));
  };
  auto put32 = [&](std::string* s, std::uint32_t v) {
    put16(s, v & 0xffff);
    put16(s, v >> 16);
  };
  std::string out, cd;
  for (const auto& [name, data] : entries) {
    const std::string packed = deflate ? Gzip(data, /*raw_deflate=*/true) : std::string(data);
    const std::uint32_t crc = Crc32(data.data(), data.size());
    const std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    const unsigned method = deflate ? 8 : 0;
    put32(&out, 0x04034b50);
    put16(&out, 20);
    put16(&out, 0);
    put16(&out, method);
    put16(&out, 0);
    put16(&out, 0x21);
    put32(&out, crc);
    put32(&out, static_cast<std::uint32_t>(packed.size()));
    put32(&out, static_cast<std::uint32_t>(data.size()));
    put16(&out, static_cast<unsigned>(name.size()));
    put16(&out, 0);
    out += name;
    out += packed;
    put32(&cd, 0x02014b50);
    put16(&cd, 0x0314);
    put16(&cd, 20);
    put16(&cd, 0);
    put16(&cd, method);
    put16(&cd, 0);
    put16(&cd, 0x21);
    put32(&cd, crc);
    put32(&cd, static_cast<std::uint32_t>(packed.size()));
    put32(&cd, static_cast<std::uint32_t>(data.size()));
    put16(&cd, static_cast<unsigned>(name.size()));
    put16(&cd, 0);
    put16(&cd, 0);
    put16(&cd, 0);
    put16(&cd, 0);
    put32(&cd, 0);
    put32(&cd, offset);
    cd += name;
  }
  const std::uint32_t cd_offset = static_cast<std::uint32_t>(out.size());
  out += cd;
  put32(&out, 0x06054b50);
  put16(&out, 0);
  put16(&out, 0);
  put16(&out, static_cast<unsigned>(entries.size()));
  put16(&out, static_cast<unsigned>(entries.size()));
  put32(&out, static_cast<std::uint32_t>(cd.size()));
  put32(&out, cd_offset);
  put16(&out, 0);
  return out;
}

/// The entry names of a scipy .npz, in the order of the parts of a framed input.
inline const char* const kNpzEntryNames[] = {"format.npy", "shape.npy", "indptr.npy", "indices.npy",
                                             "data.npy"};

/// An .npz file from the parts of `framed` (the five .npy arrays in kNpzEntryNames order,
/// separated by kPartSeparator; further parts become extra entries), so that mutations of the
/// arrays reach the sparse-matrix checks instead of failing the zip CRC.
inline std::string BuildNpz(std::string_view framed, bool deflate) {
  const std::vector<std::string_view> parts = SplitParts(framed);
  std::vector<std::pair<std::string, std::string_view>> entries;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    entries.emplace_back(i < 5 ? kNpzEntryNames[i] : "extra" + std::to_string(i) + ".npy",
                         parts[i]);
  }
  return BuildZip(entries, deflate);
}

/// Mode byte of the npz-bearing targets: bit 0 = the rest is framed parts (BuildNpz), bit 1 =
/// deflate the entries, bit 2 = gzip the whole file.
inline std::string NpzFromInput(unsigned char mode, std::string_view rest) {
  std::string file = (mode & 1) ? BuildNpz(rest, (mode & 2) != 0) : std::string(rest);
  if (mode & 4) file = Gzip(file);
  return file;
}

}  // namespace xmr_fuzz
