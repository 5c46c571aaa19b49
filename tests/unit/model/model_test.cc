#include "xmr/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "common/test_util.h"
#include "model/model_impl.h"
#include "xmr/error.h"
#include "xmr/predict.h"

namespace xmr {
namespace {

using testing_util::ExpectCscEq;
using testing_util::RandomChain;
using testing_util::RandomCsc;

TEST(XLinearModel, EmptyModel) {
  XLinearModel m;
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.depth(), 0);
  EXPECT_EQ(m.n_labels(), 0);
  EXPECT_EQ(m.nnz(), 0);
  EXPECT_THROW(m.n_nodes(0), Error);
  EXPECT_THROW(m.Weights(0), Error);
}

TEST(XLinearModel, FromWeightsRoundTrip) {
  const Index d = 50;
  const ClusterChain chain = RandomChain({3, 11, 40}, 1);
  std::vector<CscMatrix> w;
  for (int t = 0; t < chain.depth(); ++t) {
    w.push_back(RandomCsc(d + 1, chain.n_nodes(t), 0.2, 10 + t));
  }
  ModelMeta meta;
  meta.n_features = d;
  meta.train_options = "a=1\nb=2";
  const XLinearModel m = XLinearModel::FromWeights(chain, w, meta);
  EXPECT_FALSE(m.empty());
  EXPECT_EQ(m.depth(), 3);
  EXPECT_EQ(m.n_features(), d);
  EXPECT_EQ(m.n_labels(), 40);
  EXPECT_EQ(m.n_nodes(1), 11);
  EXPECT_EQ(m.meta().train_options, "a=1\nb=2");
  EXPECT_EQ(m.chain().parents, chain.parents);
  Offset nnz = 0;
  for (int t = 0; t < 3; ++t) {
    ExpectCscEq(m.Weights(t), w[t]);
    nnz += w[t].nnz();
  }
  EXPECT_EQ(m.nnz(), nnz);
  // Copies share the weights; moved-from models are empty but usable.
  XLinearModel copy = m;
  XLinearModel moved = std::move(copy);
  EXPECT_TRUE(copy.empty());   // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(copy.depth(), 0);  // NOLINT(bugprone-use-after-move)
  ExpectCscEq(moved.Weights(2), w[2]);
}

TEST(XLinearModel, ChunkLayoutGroupsChildren) {
  const ClusterChain chain = RandomChain({4, 17}, 3);
  std::vector<CscMatrix> w = {RandomCsc(21, 4, 0.5, 1), RandomCsc(21, 17, 0.5, 2)};
  ModelMeta meta;
  meta.n_features = 20;
  const XLinearModel m = XLinearModel::FromWeights(chain, w, meta);
  const detail::LevelWeights& lv = m.impl().levels[1];
  ASSERT_EQ(lv.n_chunks, 4);
  for (Index p = 0; p < 4; ++p) {
    for (Index c = lv.chunk_col[p]; c < lv.chunk_col[p + 1]; ++c) {
      EXPECT_EQ(chain.parents[1][lv.col_node[c]], p);
      if (c > lv.chunk_col[p]) {
        EXPECT_LT(lv.col_node[c - 1], lv.col_node[c]);
      }
    }
    for (Offset r = lv.chunk_row[p]; r + 1 < lv.chunk_row[p + 1]; ++r) {
      EXPECT_LT(lv.row_feature[r], lv.row_feature[r + 1]);
    }
  }
}

TEST(XLinearModel, FlatModel) {
  ClusterChain flat;
  flat.parents = {std::vector<Index>(7, 0)};
  ModelMeta meta;
  meta.n_features = 5;
  const CscMatrix w = RandomCsc(6, 7, 0.6, 4);
  const XLinearModel m = XLinearModel::FromWeights(flat, {w}, meta);
  EXPECT_EQ(m.depth(), 1);
  EXPECT_EQ(m.n_labels(), 7);
  ExpectCscEq(m.Weights(0), w);
}

TEST(XLinearModel, VeryWideFeatureSpace) {
  // Beyond 2^24 features the chunking counts rows by sorting instead of a stamp array.
  const Index d = (Index{1} << 25) + 3;
  const ClusterChain chain = RandomChain({2, 6}, 8);
  std::vector<CscMatrix> w(2);
  std::mt19937 rng(9);
  for (int t = 0; t < 2; ++t) {
    w[t].rows = d + 1;
    w[t].cols = chain.n_nodes(t);
    for (Index j = 0; j < w[t].cols; ++j) {
      std::vector<Index> rows = {static_cast<Index>(rng() % 7), 100 + static_cast<Index>(j),
                                 static_cast<Index>(rng() % (d - 200)) + 200, d};
      std::sort(rows.begin(), rows.end());
      for (Index r : rows) {
        w[t].indices.push_back(r);
        w[t].data.push_back(0.5f + static_cast<float>(r % 5));
      }
      w[t].indptr.push_back(static_cast<Offset>(w[t].indices.size()));
    }
  }
  ModelMeta meta;
  meta.n_features = d;
  const XLinearModel m = XLinearModel::FromWeights(chain, w, meta);
  ExpectCscEq(m.Weights(0), w[0]);
  ExpectCscEq(m.Weights(1), w[1]);
}

TEST(XLinearModel, FromWeightsRejectsBadInput) {
  const ClusterChain chain = RandomChain({2, 5}, 5);
  ModelMeta meta;
  meta.n_features = 4;
  const std::vector<CscMatrix> good = {RandomCsc(5, 2, 0.5, 1), RandomCsc(5, 5, 0.5, 2)};
  EXPECT_NO_THROW(XLinearModel::FromWeights(chain, good, meta));
  auto expect_invalid = [&](const ClusterChain& c, const std::vector<CscMatrix>& w,
                            const ModelMeta& mm) {
    try {
      XLinearModel::FromWeights(c, w, mm);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    }
  };
  // Wrong number of levels, wrong shapes.
  expect_invalid(chain, {good[0]}, meta);
  std::vector<CscMatrix> w = good;
  w[1].rows = 4;
  expect_invalid(chain, w, meta);
  // Unsorted / out of range row ids, non-finite values.
  w = good;
  w[1] = RandomCsc(5, 5, 1.0, 3);
  std::swap(w[1].indices[0], w[1].indices[1]);
  expect_invalid(chain, w, meta);
  w[1] = RandomCsc(5, 5, 1.0, 3);
  w[1].indices[0] = 7;
  expect_invalid(chain, w, meta);
  w[1] = RandomCsc(5, 5, 1.0, 3);
  w[1].data[3] = std::numeric_limits<float>::quiet_NaN();
  expect_invalid(chain, w, meta);
  // Bad trees: parent out of range, childless parent, empty chain, root level not all 0.
  ClusterChain bad = chain;
  bad.parents[1][0] = 2;
  expect_invalid(bad, good, meta);
  bad = chain;
  bad.parents[1] = {0, 0, 0, 0, 0};
  expect_invalid(bad, good, meta);
  expect_invalid(ClusterChain{}, {}, meta);
  bad = chain;
  bad.parents[0] = {0, 1};
  expect_invalid(bad, good, meta);
  // Bad meta.
  ModelMeta mm = meta;
  mm.post_processor = "l5-hinge";
  expect_invalid(chain, good, mm);
  mm = meta;
  mm.top_k = 0;
  expect_invalid(chain, good, mm);
  mm = meta;
  mm.bias = std::numeric_limits<float>::infinity();
  expect_invalid(chain, good, mm);
}

TEST(PostProcessor, ParseAndName) {
  const char* names[] = {"noop",         "sigmoid",      "log-sigmoid", "l1-hinge",
                         "l2-hinge",     "l3-hinge",     "l4-hinge",    "log-l1-hinge",
                         "log-l2-hinge", "log-l3-hinge", "log-l4-hinge"};
  for (const char* n : names) EXPECT_EQ(PostProcessor::Parse(n).Name(), n);
  EXPECT_EQ(PostProcessor::Parse("l2-hinge").power, 2);
  EXPECT_EQ(PostProcessor::Parse("log-l4-hinge").kind, PostProcessor::Kind::kLogHinge);
  for (const char* bad : {"", "l0-hinge", "l5-hinge", "log-", "hinge", "L3-hinge", "l3-hinge "}) {
    try {
      PostProcessor::Parse(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(e.message().find("l3-hinge"), std::string::npos);  // lists the valid names
    }
  }
}

}  // namespace
}  // namespace xmr
