#include "xmr/sparse.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"
#include "xmr/error.h"

namespace xmr {
namespace {

using testing_util::RandomCsr;
using testing_util::ToDense;

TEST(Sparse, CsrCscRoundTrip) {
  const CsrMatrix a = RandomCsr(37, 23, 0.2, 1);
  const CscMatrix c = CsrToCsc(a.view());
  EXPECT_EQ(c.nnz(), a.nnz());
  Validate(c.view(), "c");
  const CsrMatrix b = CscToCsr(c.view());
  EXPECT_EQ(b.indptr, a.indptr);
  EXPECT_EQ(b.indices, a.indices);
  EXPECT_EQ(b.data, a.data);
}

TEST(Sparse, TransposeMatchesDense) {
  const CsrMatrix a = RandomCsr(11, 7, 0.3, 2);
  const CsrMatrix t = Transpose(a.view());
  ASSERT_EQ(t.rows, 7);
  ASSERT_EQ(t.cols, 11);
  const auto da = ToDense(a.view()), dt = ToDense(t.view());
  for (Index i = 0; i < 11; ++i)
    for (Index j = 0; j < 7; ++j) EXPECT_EQ(da[i * 7 + j], dt[j * 11 + i]);
}

TEST(Sparse, SpGemmMatchesDenseForAnyThreadCount) {
  const CsrMatrix a = RandomCsr(600, 40, 0.1, 3), b = RandomCsr(40, 50, 0.2, 4);
  const CsrMatrix c1 = SpGemm(a.view(), b.view(), 1);
  const CsrMatrix c2 = SpGemm(a.view(), b.view(), 2);
  EXPECT_EQ(c1.indptr, c2.indptr);
  EXPECT_EQ(c1.indices, c2.indices);
  EXPECT_EQ(c1.data, c2.data);
  Validate(c1.view(), "c1");
  const auto da = ToDense(a.view()), db = ToDense(b.view()), dc = ToDense(c1.view());
  for (Index i = 0; i < 600; ++i)
    for (Index j = 0; j < 50; ++j) {
      double s = 0;
      for (Index k = 0; k < 40; ++k) s += da[i * 40 + k] * db[k * 50 + j];
      EXPECT_NEAR(dc[i * 50 + j], s, 1e-5);
    }
  EXPECT_THROW(SpGemm(a.view(), a.view()), Error);
}

TEST(Sparse, NormalizeAndSlice) {
  CsrMatrix a = RandomCsr(20, 30, 0.3, 5);
  NormalizeRowsL2(&a);
  for (Index i = 0; i < a.rows; ++i) {
    double s = 0;
    for (Offset p = a.indptr[i]; p < a.indptr[i + 1]; ++p) s += a.data[p] * a.data[p];
    if (a.indptr[i + 1] > a.indptr[i]) {
      EXPECT_NEAR(s, 1.0, 1e-5);
    }
  }
  const CsrView v = SliceRows(a.view(), 5, 9);
  EXPECT_EQ(v.rows, 4);
  EXPECT_EQ(v.nnz(), a.indptr[9] - a.indptr[5]);
  const CsrMatrix c = Copy(v);
  EXPECT_EQ(c.indptr[0], 0);
  EXPECT_EQ(c.nnz(), v.nnz());
  EXPECT_THROW(SliceRows(a.view(), 5, 21), Error);
}

TEST(Sparse, ValidateRejectsBadStructure) {
  CsrMatrix a = RandomCsr(5, 10, 0.5, 6);
  Validate(a.view(), "ok");
  CsrMatrix b = a;
  b.indices[0] = 10;
  EXPECT_THROW(Validate(b.view(), "b"), Error);
  CsrMatrix c = a;
  ASSERT_GE(c.indptr[1], 2);
  std::swap(c.indices[0], c.indices[1]);
  EXPECT_THROW(Validate(c.view(), "c"), Error);
  CsrMatrix d = a;
  d.data[0] = std::nanf("");
  try {
    Validate(d.view(), "dmat");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("dmat"), std::string::npos);
  }
}

TEST(Sparse, SortIndicesSumsDuplicates) {
  CsrMatrix a = CsrMatrix::Zeros(1, 5);
  a.indices = {3, 1, 3};
  a.data = {1.f, 2.f, 4.f};
  a.indptr[1] = 3;
  SortIndices(&a);
  EXPECT_EQ(a.indices, (std::vector<Index>{1, 3}));
  EXPECT_EQ(a.data, (std::vector<float>{2.f, 5.f}));
}

TEST(Sparse, HStack) {
  const CsrMatrix a = RandomCsr(4, 3, 0.5, 7), b = RandomCsr(4, 2, 0.5, 8);
  const CsrMatrix c = HStack(a.view(), b.view());
  EXPECT_EQ(c.cols, 5);
  EXPECT_EQ(c.nnz(), a.nnz() + b.nnz());
  Validate(c.view(), "c");
}

}  // namespace
}  // namespace xmr
