#include "common/test_util.h"

#include <stdlib.h>  // for mkdtemp

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace xmr {
namespace testing_util {
namespace {

// Shape, structure and values of two CsrMatrix or two CscMatrix objects.
template <typename Matrix>
void ExpectSameArrays(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
}

}  // namespace

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/xmr_test_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  ASSERT_FALSE(ec) << "cannot remove " << path << ": " << ec.message();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

CsrMatrix RandomCsr(Index rows, Index cols, const std::vector<double>& row_density, unsigned seed,
                    float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> val(lo, hi);
  CsrMatrix m = CsrMatrix::Zeros(rows, cols);
  for (Index i = 0; i < rows; ++i) {
    std::bernoulli_distribution keep(row_density[static_cast<std::size_t>(i) % row_density.size()]);
    for (Index j = 0; j < cols; ++j) {
      if (keep(rng)) {
        m.indices.push_back(j);
        m.data.push_back(val(rng));
      }
    }
    m.indptr[i + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

CsrMatrix RandomCsr(Index rows, Index cols, double density, unsigned seed, float lo, float hi) {
  return RandomCsr(rows, cols, std::vector<double>{density}, seed, lo, hi);
}

CsrMatrix RandomBinaryCsr(Index rows, Index cols, double density, unsigned seed) {
  CsrMatrix m = RandomCsr(rows, cols, density, seed);
  std::fill(m.data.begin(), m.data.end(), 1.0f);
  return m;
}

CscMatrix RandomCsc(Index rows, Index cols, double density, unsigned seed) {
  CsrMatrix t = RandomCsr(cols, rows, density, seed);
  CscMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr = std::move(t.indptr);
  m.indices = std::move(t.indices);
  m.data = std::move(t.data);
  return m;
}

std::vector<double> ToDense(const CsrView& a) {
  std::vector<double> d(static_cast<std::size_t>(a.rows) * a.cols, 0.0);
  for (Index i = 0; i < a.rows; ++i) {
    const SparseVecView r = a.row(i);
    for (Index k = 0; k < r.nnz; ++k) {
      d[static_cast<std::size_t>(i) * a.cols + r.indices[k]] += r.data[k];
    }
  }
  return d;
}

void ExpectCsrEq(const CsrMatrix& a, const CsrMatrix& b) { ExpectSameArrays(a, b); }
void ExpectCscEq(const CscMatrix& a, const CscMatrix& b) { ExpectSameArrays(a, b); }

std::string PecosFixture(const std::string& name) {
  return std::string(XMR_SOURCE_DIR) + "/tests/data/pecos-xlinear-tst/" + name;
}

CsrMatrix ReadCooText(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  long long rows = 0, cols = 0, nnz = 0;
  in >> rows >> cols >> nnz;
  std::vector<std::tuple<Index, Index, float>> entries;
  for (long long k = 0; k < nnz; ++k) {
    long long i = 0, j = 0;
    double v = 0;
    in >> i >> j >> v;
    entries.emplace_back(static_cast<Index>(i), static_cast<Index>(j), static_cast<float>(v));
  }
  EXPECT_FALSE(in.fail()) << "truncated " << path;
  std::sort(entries.begin(), entries.end());
  CsrMatrix m = CsrMatrix::Zeros(static_cast<Index>(rows), static_cast<Index>(cols));
  for (const auto& [i, j, v] : entries) {
    m.indices.push_back(j);
    m.data.push_back(v);
    ++m.indptr[i + 1];
  }
  for (Index i = 0; i < m.rows; ++i) m.indptr[i + 1] += m.indptr[i];
  return m;
}

}  // namespace testing_util
}  // namespace xmr
