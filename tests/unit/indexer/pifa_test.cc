// Tests of PifaEmbedding: PECOS conformance, edge cases, thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::PecosFixture;
using testing_util::Quiet;
using testing_util::RandomBinaryCsr;
using testing_util::RandomCsr;
using testing_util::ReadCooText;
using testing_util::ToDense;

// Z = normalize_rows(Yn^T X) in double, straight from the definition.
std::vector<double> ReferencePifa(const CsrMatrix& x, const CsrMatrix& y) {
  const std::vector<double> dx = ToDense(x.view()), dy = ToDense(y.view());
  const Index n = x.rows, d = x.cols, l = y.cols;
  std::vector<double> z(static_cast<std::size_t>(l) * d, 0.0);
  for (Index i = 0; i < n; ++i) {
    double norm = 0.0;
    for (Index c = 0; c < l; ++c) norm += dy[i * l + c] * dy[i * l + c];
    if (norm == 0.0) continue;
    norm = std::sqrt(norm);
    for (Index c = 0; c < l; ++c) {
      const double w = dy[i * l + c] / norm;
      if (w == 0.0) continue;
      for (Index j = 0; j < d; ++j) z[static_cast<std::size_t>(c) * d + j] += w * dx[i * d + j];
    }
  }
  for (Index c = 0; c < l; ++c) {
    double norm = 0.0;
    for (Index j = 0; j < d; ++j) norm += z[c * d + j] * z[c * d + j];
    if (norm == 0.0) continue;
    for (Index j = 0; j < d; ++j) z[c * d + j] /= std::sqrt(norm);
  }
  return z;
}

TEST(PifaEmbedding, ReproducesPecosFixture) {
  const CsrMatrix x = ReadCooText(PecosFixture("X.coo.txt"));
  const CsrMatrix y = ReadCooText(PecosFixture("Y.coo.txt"));
  const CsrMatrix expected = ReadCooText(PecosFixture("L.pifa.coo.txt"));
  const CsrMatrix z = PifaEmbedding(x.view(), y.view(), Quiet());
  ASSERT_EQ(z.rows, expected.rows);
  ASSERT_EQ(z.cols, expected.cols);
  EXPECT_EQ(z.nnz(), expected.nnz());
  const std::vector<double> dz = ToDense(z.view()), de = ToDense(expected.view());
  for (std::size_t k = 0; k < dz.size(); ++k) {
    EXPECT_NEAR(dz[k], de[k], 1e-6) << "label " << k / z.cols << " feature " << k % z.cols;
  }
}

TEST(PifaEmbedding, MatchesDefinitionOnRandomData) {
  const CsrMatrix x = RandomCsr(60, 40, 0.2, 1, -0.5f, 1.5f);
  CsrMatrix y = RandomCsr(60, 25, 0.15, 2, -0.5f, 1.5f);
  for (float& v : y.data) v = std::abs(v) + 0.1f;  // relevance-like weights are used as given
  const CsrMatrix z = PifaEmbedding(x.view(), y.view(), Quiet(2));
  Validate(z.view(), "z");
  const std::vector<double> ref = ReferencePifa(x, y);
  const std::vector<double> got = ToDense(z.view());
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], ref[k], 1e-5) << k;
}

TEST(PifaEmbedding, RowsAreUnitNormOrEmpty) {
  const CsrMatrix x = RandomCsr(80, 30, 0.3, 3, -0.5f, 1.5f);
  const CsrMatrix y = RandomBinaryCsr(80, 50, 0.05, 4);
  const CsrMatrix z = PifaEmbedding(x.view(), y.view(), Quiet());
  for (Index l = 0; l < z.rows; ++l) {
    const SparseVecView r = z.view().row(l);
    double sq = 0.0;
    for (Index k = 0; k < r.nnz; ++k) sq += static_cast<double>(r.data[k]) * r.data[k];
    if (r.nnz > 0) {
      EXPECT_NEAR(sq, 1.0, 1e-5) << "label " << l;
    }
  }
}

TEST(PifaEmbedding, LabelsWithoutPositivesGetZeroRows) {
  // Labels 0 and 3 have no instance; instance 2 has no label at all.
  CsrMatrix x = CsrMatrix::Zeros(3, 4);
  x.indptr = {0, 2, 3, 4};
  x.indices = {0, 2, 1, 3};
  x.data = {1.0f, 2.0f, 3.0f, 4.0f};
  CsrMatrix y = CsrMatrix::Zeros(3, 4);
  y.indptr = {0, 2, 3, 3};
  y.indices = {1, 2, 2};
  y.data = {1.0f, 1.0f, 1.0f};
  const CsrMatrix z = PifaEmbedding(x.view(), y.view(), Quiet());
  ASSERT_EQ(z.rows, 4);
  ASSERT_EQ(z.cols, 4);
  EXPECT_EQ(z.view().row(0).nnz, 0);
  EXPECT_EQ(z.view().row(3).nnz, 0);
  for (const float v : z.data) EXPECT_TRUE(std::isfinite(v));
  // Label 1: x_0 / ||x_0||; label 2: (x_0 / sqrt2 + x_1), normalised.
  const std::vector<double> dz = ToDense(z.view());
  EXPECT_NEAR(dz[1 * 4 + 0], 1.0 / std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(dz[1 * 4 + 2], 2.0 / std::sqrt(5.0), 1e-6);
  const double a = 1.0 / std::sqrt(2.0), b = 2.0 / std::sqrt(2.0), c = 3.0;
  const double norm = std::sqrt(a * a + b * b + c * c);
  EXPECT_NEAR(dz[2 * 4 + 0], a / norm, 1e-6);
  EXPECT_NEAR(dz[2 * 4 + 1], c / norm, 1e-6);
  EXPECT_NEAR(dz[2 * 4 + 2], b / norm, 1e-6);
  EXPECT_NEAR(dz[2 * 4 + 3], 0.0, 1e-12);
}

TEST(PifaEmbedding, EmptyLabelMatrix) {
  const CsrMatrix x = RandomCsr(5, 7, 0.5, 5, -0.5f, 1.5f);
  const CsrMatrix y = CsrMatrix::Zeros(5, 3);
  const CsrMatrix z = PifaEmbedding(x.view(), y.view(), Quiet());
  EXPECT_EQ(z.rows, 3);
  EXPECT_EQ(z.cols, 7);
  EXPECT_EQ(z.nnz(), 0);
}

TEST(PifaEmbedding, SameForAnyThreadCount) {
  const CsrMatrix x = RandomCsr(300, 200, 0.05, 6, -0.5f, 1.5f);
  const CsrMatrix y = RandomBinaryCsr(300, 400, 0.02, 7);
  const CsrMatrix z1 = PifaEmbedding(x.view(), y.view(), Quiet(1));
  for (const int threads : {2, 3, 8}) {
    SCOPED_TRACE(threads);
    ExpectCsrEq(z1, PifaEmbedding(x.view(), y.view(), Quiet(threads)));
  }
}

TEST(PifaEmbedding, HeadLabelTouchingMostFeatures) {
  // One label on every instance: its row covers nearly the whole dimension (scan path).
  const CsrMatrix x = RandomCsr(200, 64, 0.3, 8, -0.5f, 1.5f);
  CsrMatrix y = RandomBinaryCsr(200, 10, 0.1, 9);
  CsrMatrix y2 = CsrMatrix::Zeros(200, 11);
  for (Index i = 0; i < 200; ++i) {
    const SparseVecView r = y.view().row(i);
    y2.indices.push_back(0);
    y2.data.push_back(1.0f);
    for (Index k = 0; k < r.nnz; ++k) {
      y2.indices.push_back(r.indices[k] + 1);
      y2.data.push_back(1.0f);
    }
    y2.indptr[i + 1] = static_cast<Offset>(y2.indices.size());
  }
  const CsrMatrix z = PifaEmbedding(x.view(), y2.view(), Quiet(2));
  Validate(z.view(), "z");
  const std::vector<double> ref = ReferencePifa(x, y2);
  const std::vector<double> got = ToDense(z.view());
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], ref[k], 1e-5) << k;
}

TEST(PifaEmbedding, RejectsRowMismatch) {
  const CsrMatrix x = CsrMatrix::Zeros(3, 4);
  const CsrMatrix y = CsrMatrix::Zeros(2, 4);
  ExpectError([&] { PifaEmbedding(x.view(), y.view(), Quiet()); }, ErrorCode::kInvalidArgument,
              {"3"});
}

}  // namespace
}  // namespace xmr
