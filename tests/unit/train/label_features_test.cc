// Training with label features (TrainWithLabelFeatures, PECOS pifa_lf_concat /
// pifa_lf_convex_combine): errors, options, and Bibtex end to end, where kPifa must reproduce
// Train bit for bit.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::RandomBinaryCsr;
using testing_util::RandomCsr;

Context Ctx(int threads = 2) {
  Context ctx = testing_util::Quiet(threads);
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

TrainOptions WithKind(LabelEmbeddingKind kind, float alpha = 0.5f) {
  TrainOptions o;
  o.label_embedding.kind = kind;
  o.label_embedding.alpha = alpha;
  return o;
}

void ExpectSameModel(const XLinearModel& a, const XLinearModel& b) {
  ASSERT_EQ(a.depth(), b.depth());
  for (int t = 0; t < a.depth(); ++t) {
    EXPECT_EQ(a.chain().parents[t], b.chain().parents[t]) << "level " << t;
    const CscMatrix wa = a.Weights(t), wb = b.Weights(t);
    EXPECT_EQ(wa.indptr, wb.indptr) << "level " << t;
    EXPECT_EQ(wa.indices, wb.indices) << "level " << t;
    EXPECT_EQ(wa.data, wb.data) << "level " << t;
  }
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ----- errors and options ---------------------------------------------------------------------

struct SmallData {
  CsrMatrix x = RandomCsr(60, 20, 0.3, 1, 0.0f, 1.0f);
  CsrMatrix y = RandomBinaryCsr(60, 6, 0.3, 2);
};

TEST(TrainWithLabelFeatures, TrainRejectsLabelFeatureKinds) {
  const SmallData d;
  for (auto kind : {LabelEmbeddingKind::kPifaLfConcat, LabelEmbeddingKind::kPifaLfConvexCombine}) {
    ExpectError([&] { Train(d.x.view(), d.y.view(), WithKind(kind), Ctx()); },
                ErrorCode::kInvalidArgument,
                {LabelEmbeddingKindName(kind), "TrainWithLabelFeatures"});
  }
}

TEST(TrainWithLabelFeatures, RejectsMisshapenLabelFeatures) {
  const SmallData d;
  const CsrMatrix z_rows = RandomCsr(5, 20, 0.3, 3);  // 5 rows for 6 labels
  for (auto kind : {LabelEmbeddingKind::kPifa, LabelEmbeddingKind::kPifaLfConcat,
                    LabelEmbeddingKind::kPifaLfConvexCombine}) {
    ExpectError(
        [&] {
          TrainWithLabelFeatures(d.x.view(), d.y.view(), z_rows.view(), WithKind(kind), Ctx());
        },
        ErrorCode::kInvalidArgument, {"5 rows", "6 labels"});
  }
  const CsrMatrix z_cols = RandomCsr(6, 21, 0.3, 4);  // 21 columns, x has 20
  ExpectError(
      [&] {
        TrainWithLabelFeatures(d.x.view(), d.y.view(), z_cols.view(),
                               WithKind(LabelEmbeddingKind::kPifaLfConvexCombine), Ctx());
      },
      ErrorCode::kInvalidArgument, {"pifa_lf_convex_combine", "20", "21"});
  CsrMatrix broken = RandomCsr(6, 20, 0.3, 5);
  broken.indices[0] = 99;
  ExpectError(
      [&] {
        TrainWithLabelFeatures(d.x.view(), d.y.view(), broken.view(),
                               WithKind(LabelEmbeddingKind::kPifaLfConcat), Ctx());
      },
      ErrorCode::kCorruption, {"LabelEmbedding z"});
}

TEST(TrainWithLabelFeatures, RejectsAlphaOutOfRange) {
  const SmallData d;
  const CsrMatrix z = RandomCsr(6, 20, 0.3, 6);
  for (float alpha : {-0.5f, 1.01f}) {
    const TrainOptions o = WithKind(LabelEmbeddingKind::kPifaLfConvexCombine, alpha);
    ExpectError([&] { o.Validate(); }, ErrorCode::kInvalidArgument, {"label_embedding.alpha"});
    ExpectError([&] { TrainWithLabelFeatures(d.x.view(), d.y.view(), z.view(), o, Ctx()); },
                ErrorCode::kInvalidArgument, {"label_embedding.alpha"});
    ExpectError([&] { Train(d.x.view(), d.y.view(), o, Ctx()); }, ErrorCode::kInvalidArgument,
                {"label_embedding.alpha"});
  }
}

TEST(TrainWithLabelFeatures, ToStringNamesKindAndAlpha) {
  EXPECT_TRUE(Contains(TrainOptions{}.ToString(), "label_embedding=pifa\nalpha=0.5\n"));
  const std::string s = WithKind(LabelEmbeddingKind::kPifaLfConvexCombine, 0.25f).ToString();
  EXPECT_TRUE(Contains(s, "label_embedding=pifa_lf_convex_combine\n")) << s;
  EXPECT_TRUE(Contains(s, "alpha=0.25\n")) << s;
  EXPECT_TRUE(Contains(WithKind(LabelEmbeddingKind::kPifaLfConcat).ToString(),
                       "label_embedding=pifa_lf_concat\n"));
}

TEST(TrainWithLabelFeatures, SameModelForAnyThreadCount) {
  const SmallData d;
  const CsrMatrix z = RandomCsr(6, 9, 0.5, 7);
  TrainOptions o = WithKind(LabelEmbeddingKind::kPifaLfConcat);
  o.indexer.max_leaf_size = 2;
  o.indexer.nr_splits = 2;
  const XLinearModel one = TrainWithLabelFeatures(d.x.view(), d.y.view(), z.view(), o, Ctx(1));
  EXPECT_GE(one.depth(), 2);
  ExpectSameModel(one, TrainWithLabelFeatures(d.x.view(), d.y.view(), z.view(), o, Ctx(3)));
}

// ----- Bibtex end to end ----------------------------------------------------------------------

class BibtexLabelFeatures : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    train_ = new Dataset(ReadDataFile(std::string(XMR_SOURCE_DIR) + "/data/bibtex_train.txt.xz"));
    test_ = new Dataset(ReadDataFile(std::string(XMR_SOURCE_DIR) + "/data/bibtex_test.txt.xz"));
    NormalizeRowsL2(&train_->x);
    NormalizeRowsL2(&test_->x);
    test_->x.cols = train_->x.cols;
    baseline_ = new XLinearModel(Train(train_->x.view(), train_->y.view(), TrainOptions{}, Ctx()));
  }
  static void TearDownTestSuite() {
    delete baseline_;
    delete test_;
    delete train_;
  }

  static double PrecisionAt1(const XLinearModel& m) {
    const CsrMatrix pred = Predict(m, test_->x.view(), DefaultPredictOptions(m), Ctx());
    return Evaluate(pred.view(), test_->y.view(), 1).precision[0];
  }

  // A random sparse L x cols label feature matrix with L2-normalised rows.
  static CsrMatrix RandomLabelFeatures(Index cols, unsigned seed) {
    CsrMatrix z = RandomCsr(train_->y.cols, cols, 0.05, seed, 0.0f, 1.0f);
    NormalizeRowsL2(&z);
    return z;
  }

  static Dataset* train_;
  static Dataset* test_;
  static XLinearModel* baseline_;
};

Dataset* BibtexLabelFeatures::train_ = nullptr;
Dataset* BibtexLabelFeatures::test_ = nullptr;
XLinearModel* BibtexLabelFeatures::baseline_ = nullptr;

TEST_F(BibtexLabelFeatures, PifaKindEqualsTrainBitForBit) {
  const CsrMatrix z = RandomLabelFeatures(train_->x.cols, 11);
  TrainReport report;
  const XLinearModel m =
      TrainWithLabelFeatures(train_->x.view(), train_->y.view(), z.view(), {}, Ctx(), &report);
  ExpectSameModel(*baseline_, m);
  EXPECT_EQ(m.meta().train_options, baseline_->meta().train_options);
  EXPECT_EQ(static_cast<int>(report.levels.size()), m.depth());
  EXPECT_GT(report.index_seconds, 0.0);
}

TEST_F(BibtexLabelFeatures, ConvexCombineWithPifaItselfEqualsTrain) {
  // 0.5 * PIFA + 0.5 * PIFA is PIFA exactly, so the tree and the weights are Train's.
  const CsrMatrix z = PifaEmbedding(train_->x.view(), train_->y.view(), Ctx());
  const TrainOptions o = WithKind(LabelEmbeddingKind::kPifaLfConvexCombine, 0.5f);
  const XLinearModel m =
      TrainWithLabelFeatures(train_->x.view(), train_->y.view(), z.view(), o, Ctx());
  ExpectSameModel(*baseline_, m);
  EXPECT_TRUE(Contains(m.meta().train_options, "label_embedding=pifa_lf_convex_combine\n"));
}

TEST_F(BibtexLabelFeatures, LabelFeatureKindsTrainValidModels) {
  const double p_base = PrecisionAt1(*baseline_);
  const Index n_labels = train_->y.cols, d = train_->x.cols;
  struct Case {
    LabelEmbeddingKind kind;
    CsrMatrix z;
  };
  std::vector<Case> cases;
  cases.push_back({LabelEmbeddingKind::kPifaLfConcat, RandomLabelFeatures(64, 12)});
  cases.push_back({LabelEmbeddingKind::kPifaLfConvexCombine, RandomLabelFeatures(d, 13)});
  for (const Case& c : cases) {
    SCOPED_TRACE(LabelEmbeddingKindName(c.kind));
    TrainOptions o = WithKind(c.kind, 0.5f);
    const XLinearModel m =
        TrainWithLabelFeatures(train_->x.view(), train_->y.view(), c.z.view(), o, Ctx());
    ASSERT_GE(m.depth(), 1);
    EXPECT_EQ(m.n_labels(), n_labels);
    EXPECT_EQ(m.n_features(), d);
    EXPECT_NO_THROW(m.chain().Validate());
    // z was used: random label features move labels between clusters.
    EXPECT_NE(m.chain().parents, baseline_->chain().parents);
    EXPECT_EQ(m.meta().train_options, o.ToString());
    // A different tree, but the classifiers still rank: close to the PIFA-only baseline.
    const double p1 = PrecisionAt1(m);
    std::printf("bibtex P@1 pifa %.2f, %s %.2f\n", p_base, LabelEmbeddingKindName(c.kind), p1);
    EXPECT_GT(p1, p_base - 10.0);  // percent
  }
}

}  // namespace
}  // namespace xmr
