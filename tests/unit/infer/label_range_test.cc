// Beam search restricted to a label range (the prefix constraint of query autocompletion).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/model.h"
#include "xmr/predict.h"

namespace xmr {
namespace {

// With a beam as wide as every level, beam search is exhaustive: the restricted result must
// then be the unrestricted full ranking filtered to the range, cut at top_k.
TEST(LabelRange, ExhaustiveSearchEqualsFilteredRanking) {
  const Index d = 30;
  const std::vector<Index> sizes = {4, 16, 120};
  const XLinearModel model =
      testing_util::RandomModel(3, sizes, d, testing_util::KeepWithProbability({0.5, 0.4, 0.3}));
  const CsrMatrix x = testing_util::RandomCsr(40, d, 0.3, 11, 0.0f, 1.0f);
  PredictOptions all;
  all.beam_size = 120;
  all.top_k = 120;
  const CsrMatrix full = Predict(model, x.view(), all);
  std::mt19937 rng(5);
  std::vector<LabelRange> ranges(x.rows);
  for (auto& r : ranges) {
    const Index a = static_cast<Index>(rng() % 121), b = static_cast<Index>(rng() % 121);
    r = {std::min(a, b), std::max(a, b)};
  }
  PredictOptions po = all;
  po.top_k = 7;
  const CsrMatrix got = Predict(model, x.view(), po, ranges);
  Searcher searcher(model);
  std::vector<ScoredLabel> one;
  for (Index i = 0; i < x.rows; ++i) {
    std::vector<ScoredLabel> want;
    for (Offset q = full.indptr[i]; q < full.indptr[i + 1]; ++q) {
      const Index l = full.indices[q];
      if (l >= ranges[i].lo && l < ranges[i].hi && want.size() < 7)
        want.push_back({l, full.data[q]});
    }
    ASSERT_EQ(got.indptr[i + 1] - got.indptr[i], static_cast<Offset>(want.size())) << "row " << i;
    for (std::size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(got.indices[got.indptr[i] + r], want[r].label) << "row " << i << " rank " << r;
      EXPECT_EQ(got.data[got.indptr[i] + r], want[r].score);
    }
    searcher.Search(x.view().row(i), po, ranges[i], &one);
    ASSERT_EQ(one.size(), want.size());
    for (std::size_t r = 0; r < want.size(); ++r) EXPECT_EQ(one[r].label, want[r].label);
  }
}

// With the default beam, every returned label is inside the range, and a full range gives
// exactly the unrestricted result.
TEST(LabelRange, NarrowBeamStaysInRangeAndFullRangeIsUnrestricted) {
  const Index d = 50;
  const XLinearModel model = testing_util::RandomModel(
      8, {8, 64, 900}, d, testing_util::KeepWithProbability({0.5, 0.3, 0.2}));
  const CsrMatrix x = testing_util::RandomCsr(60, d, 0.2, 2, 0.0f, 1.0f);
  PredictOptions po;  // beam 10, top-k 10
  std::vector<LabelRange> full(x.rows, LabelRange{0, 900});
  const CsrMatrix a = Predict(model, x.view(), po);
  const CsrMatrix b = Predict(model, x.view(), po, full);
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
  std::vector<LabelRange> narrow(x.rows);
  for (Index i = 0; i < x.rows; ++i) narrow[i] = {i * 10, i * 10 + 25};
  const CsrMatrix c = Predict(model, x.view(), po, narrow);
  for (Index i = 0; i < x.rows; ++i) {
    for (Offset q = c.indptr[i]; q < c.indptr[i + 1]; ++q) {
      EXPECT_GE(c.indices[q], narrow[i].lo);
      EXPECT_LT(c.indices[q], narrow[i].hi);
    }
  }
  // An empty range returns nothing.
  std::vector<LabelRange> none(x.rows, LabelRange{5, 5});
  EXPECT_EQ(Predict(model, x.view(), po, none).nnz(), 0);
}

TEST(LabelRange, RejectsBadRanges) {
  const XLinearModel model =
      testing_util::RandomModel(1, {3, 20}, 10, testing_util::KeepWithProbability({0.5}));
  const CsrMatrix x = testing_util::RandomCsr(2, 10, 0.5, 1);
  PredictOptions po;
  testing_util::ExpectError([&] { Predict(model, x.view(), po, std::vector<LabelRange>(1)); },
                            ErrorCode::kInvalidArgument, {"1 label ranges for 2 rows"});
  for (const LabelRange r : {LabelRange{-1, 3}, LabelRange{4, 2}, LabelRange{0, 21}}) {
    testing_util::ExpectError([&] { Predict(model, x.view(), po, std::vector<LabelRange>(2, r)); },
                              ErrorCode::kInvalidArgument, {"label range"});
    Searcher s(model);
    std::vector<ScoredLabel> out;
    testing_util::ExpectError([&] { s.Search(x.view().row(0), po, r, &out); },
                              ErrorCode::kInvalidArgument, {"label range"});
  }
}

}  // namespace
}  // namespace xmr
