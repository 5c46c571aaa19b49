#include "train/prune.h"

#include <gtest/gtest.h>

#include <vector>

namespace xmr {
namespace {

struct Pruned {
  std::vector<Index> rows;
  std::vector<float> values;
};

Pruned Prune(const std::vector<Index>& rows, const std::vector<float>& vals, bool has_bias, float b,
             float threshold, int cap) {
  Pruned out;
  std::vector<Index> scratch{99, 98};  // stale content must not matter
  const SparseVecView v{static_cast<Index>(rows.size()), rows.data(), vals.data()};
  PruneWeights(v, has_bias, b, /*bias_row=*/100, PruneRule{threshold, cap}, &out.rows, &out.values,
               &scratch);
  return out;
}

TEST(PruneWeights, KeepsAbsAtLeastThresholdIncludingBias) {
  const Pruned p =
      Prune({1, 3, 5, 7, 9}, {0.1f, -0.2f, 0.05f, -0.1f, 0.0999f}, true, -0.3f, 0.1f, 0);
  EXPECT_EQ(p.rows, (std::vector<Index>{1, 3, 7, 100}));
  EXPECT_EQ(p.values, (std::vector<float>{0.1f, -0.2f, -0.1f, -0.3f}));
}

TEST(PruneWeights, SmallBiasIsDroppedLikeAnyWeight) {
  const Pruned p = Prune({2}, {0.5f}, true, 0.05f, 0.1f, 0);
  EXPECT_EQ(p.rows, (std::vector<Index>{2}));
}

TEST(PruneWeights, NoBiasTermMeansNoBiasRow) {
  const Pruned p = Prune({2}, {0.5f}, false, 0.9f, 0.1f, 0);
  EXPECT_EQ(p.rows, (std::vector<Index>{2}));
}

TEST(PruneWeights, ZeroThresholdStillDropsExactZeros) {
  const Pruned p = Prune({0, 1, 2}, {0.0f, 1e-30f, -0.0f}, true, 0.0f, 0.0f, 0);
  EXPECT_EQ(p.rows, (std::vector<Index>{1}));
}

TEST(PruneWeights, CapKeepsLargestAbsValuesInRowOrder) {
  const Pruned p = Prune({0, 1, 2, 3, 4}, {0.3f, -0.9f, 0.2f, 0.5f, -0.4f}, false, 0, 0.1f, 3);
  EXPECT_EQ(p.rows, (std::vector<Index>{1, 3, 4}));
  EXPECT_EQ(p.values, (std::vector<float>{-0.9f, 0.5f, -0.4f}));
}

TEST(PruneWeights, CapTiesPreferSmallerRow) {
  const Pruned p = Prune({0, 1, 2, 3}, {0.5f, -0.5f, 0.5f, 0.5f}, false, 0, 0.1f, 2);
  EXPECT_EQ(p.rows, (std::vector<Index>{0, 1}));
}

TEST(PruneWeights, CapAppliesAfterThreshold) {
  const Pruned p = Prune({0, 1, 2}, {0.05f, 0.2f, 0.08f}, false, 0, 0.1f, 2);
  EXPECT_EQ(p.rows, (std::vector<Index>{1}));
}

TEST(PruneWeights, BiasTakesAFreeSlot) {
  // Fewer candidates than the cap: the bias is added (if it passes the threshold).
  const Pruned p = Prune({0, 1}, {0.3f, 0.2f}, true, 0.15f, 0.1f, 3);
  EXPECT_EQ(p.rows, (std::vector<Index>{0, 1, 100}));
}

TEST(PruneWeights, BiasReplacesSmallestKeptFeatureOnlyIfStrictlyLarger) {
  const Pruned a = Prune({0, 1, 2}, {0.3f, 0.2f, 0.6f}, true, 0.35f, 0.1f, 2);
  EXPECT_EQ(a.rows, (std::vector<Index>{2, 100}));
  const Pruned b = Prune({0, 1, 2}, {0.3f, 0.2f, 0.6f}, true, -0.3f, 0.1f, 2);
  EXPECT_EQ(b.rows, (std::vector<Index>{0, 2}));  // |b| == smallest kept: feature stays
  const Pruned c = Prune({0, 1, 2}, {0.3f, 0.2f, 0.6f}, true, 0.1f, 0.1f, 2);
  EXPECT_EQ(c.rows, (std::vector<Index>{0, 2}));
}

TEST(PruneWeights, CapOfOneWithOnlyBias) {
  const Pruned p = Prune({}, {}, true, 0.7f, 0.1f, 1);
  EXPECT_EQ(p.rows, (std::vector<Index>{100}));
}

TEST(PruneWeights, AppendsToExistingOutput) {
  Pruned out;
  out.rows = {7};
  out.values = {1.0f};
  std::vector<Index> scratch;
  const std::vector<Index> r{3};
  const std::vector<float> v{0.5f};
  PruneWeights(SparseVecView{1, r.data(), v.data()}, false, 0, 10, PruneRule{}, &out.rows,
               &out.values, &scratch);
  EXPECT_EQ(out.rows, (std::vector<Index>{7, 3}));
}

}  // namespace
}  // namespace xmr
