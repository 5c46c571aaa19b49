// Tests of ClusterChain, IndexerOptions and the chain compression helpers.
#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "indexer/kmeans_internal.h"
#include "xmr/error.h"
#include "xmr/indexer.h"

namespace xmr {
namespace {

using testing_util::Shape;
using testing_util::ShapeList;

// Runs `fn`, expects Error(kInvalidArgument) whose message contains every string of `parts`.
template <typename Fn>
void ExpectInvalid(Fn&& fn, const std::vector<std::string>& parts) {
  testing_util::ExpectError(std::forward<Fn>(fn), ErrorCode::kInvalidArgument, parts);
}

TEST(ClusterChain, FlatPutsAllLabelsUnderTheRoot) {
  const ClusterChain c = ClusterChain::Flat(5);
  ASSERT_EQ(c.depth(), 1);
  EXPECT_EQ(c.n_labels(), 5);
  EXPECT_EQ(c.n_parents(0), 1);
  EXPECT_EQ(c.parents[0], std::vector<Index>(5, 0));
  EXPECT_NO_THROW(c.Validate());
}

TEST(ClusterChain, FlatRejectsNoLabels) {
  ExpectInvalid([] { ClusterChain::Flat(0); }, {"n_labels", "0"});
  ExpectInvalid([] { ClusterChain::Flat(-3); }, {"n_labels", "-3"});
}

TEST(ClusterChain, ValidateAcceptsATree) {
  ClusterChain c;
  c.parents = {{0, 0}, {0, 0, 1, 1, 1}, {4, 0, 1, 2, 3, 3, 2}};
  EXPECT_NO_THROW(c.Validate());
  EXPECT_EQ(c.n_labels(), 7);
  EXPECT_EQ(c.n_parents(2), 5);
}

TEST(ClusterChain, ValidateRejectsEmptyChain) {
  ExpectInvalid([] { ClusterChain{}.Validate(); }, {"no levels"});
}

TEST(ClusterChain, ValidateRejectsParentOutOfRange) {
  ClusterChain c;
  c.parents = {{0, 0}, {0, 2, 1}};
  ExpectInvalid([&] { c.Validate(); }, {"level 1", "node 1", "parent 2"});
  c.parents = {{0, 0}, {0, -1, 1}};
  ExpectInvalid([&] { c.Validate(); }, {"level 1", "parent -1"});
  c.parents = {{0, 1}};  // level 0 has a single parent, the root
  ExpectInvalid([&] { c.Validate(); }, {"level 0", "node 1", "parent 1"});
}

TEST(ClusterChain, ValidateRejectsChildlessNode) {
  ClusterChain c;
  c.parents = {{0, 0, 0}, {0, 0, 2, 2}};
  ExpectInvalid([&] { c.Validate(); }, {"level 0", "node 1", "no children"});
  c.parents = {{}};
  ExpectInvalid([&] { c.Validate(); }, {"level 0"});
}

TEST(IndexerOptions, DefaultsArePecos) {
  const IndexerOptions o;
  EXPECT_EQ(o.nr_splits, 16);
  EXPECT_EQ(o.max_leaf_size, 100);
  EXPECT_EQ(o.kmeans_max_iter, 20);
  EXPECT_TRUE(o.spherical);
  EXPECT_NO_THROW(o.Validate());
}

TEST(IndexerOptions, RejectsBadValues) {
  for (const int v : {-2, 0, 1, 3, 6, 10, 17}) {
    IndexerOptions o;
    o.nr_splits = v;
    ExpectInvalid([&] { o.Validate(); }, {"nr_splits", std::to_string(v)});
  }
  for (const int v : {2, 4, 8, 32, 1 << 20}) {
    IndexerOptions o;
    o.nr_splits = v;
    EXPECT_NO_THROW(o.Validate()) << v;
  }
  IndexerOptions o;
  o.max_leaf_size = 0;
  ExpectInvalid([&] { o.Validate(); }, {"max_leaf_size", "0"});
  o = IndexerOptions();
  o.kmeans_max_iter = -1;
  ExpectInvalid([&] { o.Validate(); }, {"kmeans_max_iter", "-1"});
}

TEST(BinaryDepth, MatchesPecosFormula) {
  EXPECT_EQ(detail::BinaryDepth(3956, 100), 6);   // eurlex-4k
  EXPECT_EQ(detail::BinaryDepth(30938, 100), 9);  // wiki10-31k
  EXPECT_EQ(detail::BinaryDepth(31271, 100), 9);  // debian-deps
  EXPECT_EQ(detail::BinaryDepth(159, 100), 1);    // bibtex
  EXPECT_EQ(detail::BinaryDepth(101, 100), 1);
  EXPECT_EQ(detail::BinaryDepth(200, 100), 1);
  EXPECT_EQ(detail::BinaryDepth(201, 100), 2);
  EXPECT_EQ(detail::BinaryDepth(20, 10), 1);
  EXPECT_EQ(detail::BinaryDepth(1 << 20, 1), 20);
  EXPECT_EQ(detail::BinaryDepth((1 << 20) + 1, 1), 21);
}

TEST(ChainFromLeafCodes, CompressesLikePecos) {
  std::vector<Index> codes(3956);
  for (Index i = 0; i < 3956; ++i) codes[i] = i % 64;
  ClusterChain c = detail::ChainFromLeafCodes(codes, 64, 16);
  EXPECT_EQ(Shape(c), (ShapeList{{4, 1}, {64, 4}, {3956, 64}}));
  EXPECT_NO_THROW(c.Validate());
  for (Index j = 0; j < 64; ++j) EXPECT_EQ(c.parents[1][j], j / 16);
  EXPECT_EQ(c.parents[2], codes);

  codes.assign(30938, 0);
  for (Index i = 0; i < 30938; ++i) codes[i] = i % 512;
  c = detail::ChainFromLeafCodes(codes, 512, 16);
  EXPECT_EQ(Shape(c), (ShapeList{{2, 1}, {32, 2}, {512, 32}, {30938, 512}}));
  EXPECT_NO_THROW(c.Validate());
}

TEST(ChainFromLeafCodes, BinaryAndSmallTops) {
  std::vector<Index> codes(100);
  for (Index i = 0; i < 100; ++i) codes[i] = i % 16;
  EXPECT_EQ(Shape(detail::ChainFromLeafCodes(codes, 16, 2)),
            (ShapeList{{2, 1}, {4, 2}, {8, 4}, {16, 8}, {100, 16}}));
  EXPECT_EQ(Shape(detail::ChainFromLeafCodes(codes, 16, 16)), (ShapeList{{16, 1}, {100, 16}}));
  EXPECT_EQ(Shape(detail::ChainFromLeafCodes(codes, 16, 32)), (ShapeList{{16, 1}, {100, 16}}));
  EXPECT_EQ(Shape(detail::ChainFromLeafCodes(codes, 16, 8)),
            (ShapeList{{2, 1}, {16, 2}, {100, 16}}));
  for (Index i = 0; i < 100; ++i) codes[i] = i % 2;
  EXPECT_EQ(Shape(detail::ChainFromLeafCodes(codes, 2, 16)), (ShapeList{{2, 1}, {100, 2}}));
}

}  // namespace
}  // namespace xmr
