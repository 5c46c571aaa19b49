// The training driver end to end: options, shapes, backends, negative sampling schemes and a
// synthetic data set that must reach a sensible precision.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "xmr/error.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

Context Ctx(int threads = 2) {
  Context ctx;
  ctx.threads = threads;
  ctx.verbose = 0;
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

// n instances over L labels; label l owns features [l * 6, l * 6 + 6); an instance of label l
// uses 3 of them plus 3 random noise features of [L * 6, d). Labels come in groups of 4
// (group g = labels 4g..4g+3) that share 2 features, so a 2-level tree with one node per group
// is natural. Rows are L2-normalised.
struct Synthetic {
  CsrMatrix x, y;
};

Synthetic MakeData(unsigned seed, Index n, Index n_labels) {
  std::mt19937 rng(seed);
  const Index d = n_labels * 6 + 40;
  Synthetic s;
  s.x.rows = s.y.rows = n;
  s.x.cols = d;
  s.y.cols = n_labels;
  for (Index i = 0; i < n; ++i) {
    std::set<Index> labels{static_cast<Index>(rng() % n_labels)};
    if (rng() % 3 == 0) labels.insert(static_cast<Index>(rng() % n_labels));
    std::set<Index> feats;
    for (Index l : labels) {
      for (int k = 0; k < 3; ++k) feats.insert(l * 6 + static_cast<Index>(rng() % 6));
      feats.insert((l / 4) * 24 + static_cast<Index>(rng() % 2));  // shared group features
    }
    for (int k = 0; k < 3; ++k) feats.insert(n_labels * 6 + static_cast<Index>(rng() % 40));
    const float v = 1.0f / std::sqrt(static_cast<float>(feats.size()));
    for (Index f : feats) {
      s.x.indices.push_back(f);
      s.x.data.push_back(v);
    }
    s.x.indptr.push_back(static_cast<Offset>(s.x.indices.size()));
    for (Index l : labels) {
      s.y.indices.push_back(l);
      s.y.data.push_back(1.0f);
    }
    s.y.indptr.push_back(static_cast<Offset>(s.y.indices.size()));
  }
  return s;
}

ClusterChain GroupTree(Index n_labels) {
  ClusterChain c;
  const Index groups = n_labels / 4;
  c.parents.push_back(std::vector<Index>(2, 0));
  std::vector<Index> level1(groups), level2(n_labels);
  for (Index g = 0; g < groups; ++g) level1[g] = g % 2;
  for (Index l = 0; l < n_labels; ++l) level2[l] = l / 4;
  c.parents.push_back(level1);
  c.parents.push_back(level2);
  return c;
}

double PrecisionAt1(const XLinearModel& model, const CsrMatrix& x, const CsrMatrix& y) {
  PredictOptions po;
  po.top_k = 1;
  const CsrMatrix pred = Predict(model, x.view(), po, Ctx());
  int hits = 0;
  for (Index i = 0; i < x.rows; ++i) {
    if (pred.indptr[i + 1] == pred.indptr[i]) continue;
    const Index top = pred.indices[pred.indptr[i]];
    const auto b = y.indices.begin() + y.indptr[i], e = y.indices.begin() + y.indptr[i + 1];
    hits += std::find(b, e, top) != e;
  }
  return static_cast<double>(hits) / x.rows;
}

void ExpectSameModel(const XLinearModel& a, const XLinearModel& b) {
  ASSERT_EQ(a.depth(), b.depth());
  for (int t = 0; t < a.depth(); ++t) {
    const CscMatrix wa = a.Weights(t), wb = b.Weights(t);
    EXPECT_EQ(wa.indptr, wb.indptr) << "level " << t;
    EXPECT_EQ(wa.indices, wb.indices) << "level " << t;
    EXPECT_EQ(wa.data, wb.data) << "level " << t;
  }
}

TEST(TrainWithTree, LearnsSyntheticDataWithGoodPrecision) {
  const Synthetic train = MakeData(1, 1500, 32), test = MakeData(2, 500, 32);
  const ClusterChain tree = GroupTree(32);
  TrainOptions opts;
  const XLinearModel model = TrainWithTree(train.x.view(), train.y.view(), tree, opts, Ctx());
  ASSERT_EQ(model.depth(), 3);
  EXPECT_EQ(model.n_labels(), 32);
  EXPECT_EQ(model.n_features(), train.x.cols);
  EXPECT_EQ(model.n_nodes(0), 2);
  EXPECT_EQ(model.n_nodes(1), 8);
  const double p1 = PrecisionAt1(model, test.x, test.y);
  EXPECT_GT(p1, 0.85) << "P@1 " << p1;
  EXPECT_EQ(model.meta().train_options, opts.ToString());
  EXPECT_EQ(model.meta().bias, 1.0f);
  EXPECT_EQ(model.meta().post_processor, "l3-hinge");
}

TEST(TrainWithTree, SameModelForAnyThreadCount) {
  const Synthetic d = MakeData(3, 800, 16);
  const ClusterChain tree = GroupTree(16);
  TrainOptions opts;
  ExpectSameModel(TrainWithTree(d.x.view(), d.y.view(), tree, opts, Ctx(1)),
                  TrainWithTree(d.x.view(), d.y.view(), tree, opts, Ctx(2)));
  opts.negative_sampling = NegativeSampling::kTfnMan;
  ExpectSameModel(TrainWithTree(d.x.view(), d.y.view(), tree, opts, Ctx(1)),
                  TrainWithTree(d.x.view(), d.y.view(), tree, opts, Ctx(3)));
}

TEST(TrainWithTree, MatcherAwareNegativesTrainAndDifferFromTfn) {
  const Synthetic train = MakeData(4, 1200, 32), test = MakeData(5, 400, 32);
  const ClusterChain tree = GroupTree(32);
  TrainOptions tfn;
  TrainOptions man = tfn;
  man.negative_sampling = NegativeSampling::kMan;
  man.man_beam_size = 2;
  TrainOptions both = man;
  both.negative_sampling = NegativeSampling::kTfnMan;
  const XLinearModel m_tfn = TrainWithTree(train.x.view(), train.y.view(), tree, tfn, Ctx());
  const XLinearModel m_man = TrainWithTree(train.x.view(), train.y.view(), tree, man, Ctx());
  const XLinearModel m_both = TrainWithTree(train.x.view(), train.y.view(), tree, both, Ctx());
  // The root level never depends on the scheme.
  EXPECT_EQ(m_tfn.Weights(0).data, m_man.Weights(0).data);
  EXPECT_EQ(m_tfn.Weights(0).data, m_both.Weights(0).data);
  // tfn+man sees at least as many negatives: usually different weights below the root.
  EXPECT_NE(m_tfn.Weights(2).data, m_both.Weights(2).data);
  EXPECT_GT(PrecisionAt1(m_man, test.x, test.y), 0.8);
  EXPECT_GT(PrecisionAt1(m_both, test.x, test.y), 0.8);
}

TEST(TrainWithTree, FlatTreeIsOneVsRest) {
  const Synthetic d = MakeData(6, 600, 8);
  const XLinearModel model =
      TrainWithTree(d.x.view(), d.y.view(), ClusterChain::Flat(8), TrainOptions{}, Ctx());
  EXPECT_EQ(model.depth(), 1);
  EXPECT_GT(PrecisionAt1(model, d.x, d.y), 0.9);
}

TEST(TrainWithTree, LabelWithoutPositivesDoesNotBreakTraining) {
  Synthetic d = MakeData(7, 300, 16);
  // Remove every occurrence of label 5 (and instances' rows keep their other labels).
  CsrMatrix y;
  y.rows = d.y.rows;
  y.cols = d.y.cols;
  for (Index i = 0; i < d.y.rows; ++i) {
    for (Offset s = d.y.indptr[i]; s < d.y.indptr[i + 1]; ++s) {
      if (d.y.indices[s] == 5) continue;
      y.indices.push_back(d.y.indices[s]);
      y.data.push_back(1.0f);
    }
    y.indptr.push_back(static_cast<Offset>(y.indices.size()));
  }
  const XLinearModel model = TrainWithTree(d.x.view(), y.view(), GroupTree(16), {}, Ctx());
  EXPECT_EQ(model.n_labels(), 16);
}

TEST(TrainWithTree, RejectsShapeMismatches) {
  const Synthetic d = MakeData(8, 100, 8);
  const ClusterChain tree = GroupTree(8);
  CsrView y = d.y.view();
  y.rows = 99;
  EXPECT_THROW(TrainWithTree(d.x.view(), y, tree, {}, Ctx()), Error);
  try {
    TrainWithTree(d.x.view(), d.y.view(), GroupTree(12), {}, Ctx());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(e.message().find("labels"), std::string::npos) << e.message();
  }
  TrainOptions bad;
  bad.solver.cp = -1;
  EXPECT_THROW(TrainWithTree(d.x.view(), d.y.view(), tree, bad, Ctx()), Error);
}

TEST(TrainWithTree, CudaDeviceWithoutGpuIsNotSupported) {
  const Synthetic d = MakeData(9, 50, 8);
  Context ctx = Ctx();
  ctx.device = DeviceKind::kCuda;
  try {
    TrainWithTree(d.x.view(), d.y.view(), GroupTree(8), {}, ctx);
    FAIL() << "expected Error(kNotSupported)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotSupported);
  }
  try {
    Train(d.x.view(), d.y.view(), {}, ctx);
    FAIL() << "expected Error(kNotSupported)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotSupported);
  }
}

TEST(Train, IndexesAndTrainsEndToEnd) {
  const Synthetic train = MakeData(10, 1500, 40), test = MakeData(11, 500, 40);
  TrainOptions opts;
  opts.indexer.max_leaf_size = 8;
  opts.indexer.nr_splits = 4;
  const XLinearModel model = Train(train.x.view(), train.y.view(), opts, Ctx());
  EXPECT_GE(model.depth(), 2);
  EXPECT_EQ(model.n_labels(), 40);
  EXPECT_GT(PrecisionAt1(model, test.x, test.y), 0.85);
  ExpectSameModel(model, Train(train.x.view(), train.y.view(), opts, Ctx(1)));
}

// The report mirrors the tree and the model; timings are only checked to be sane, never
// compared with a bound.
void ExpectReportMatches(const TrainReport& r, const XLinearModel& model) {
  const ClusterChain tree = model.chain();
  ASSERT_EQ(r.levels.size(), static_cast<size_t>(tree.depth()));
  Offset weights = 0;
  double level_secs = 0;
  for (int t = 0; t < tree.depth(); ++t) {
    const LevelReport& lv = r.levels[t];
    EXPECT_EQ(lv.level, t);
    EXPECT_EQ(lv.n_nodes, tree.n_nodes(t)) << "level " << t;
    EXPECT_EQ(lv.n_parents, tree.n_parents(t)) << "level " << t;
    EXPECT_GT(lv.n_pairs, 0) << "level " << t;
    // n_weights is the level's pruned W, bias row included, as the model stores it.
    EXPECT_EQ(lv.n_weights, model.Weights(t).nnz()) << "level " << t;
    EXPECT_GE(lv.seconds, 0.0);
    weights += lv.n_weights;
    level_secs += lv.seconds;
  }
  EXPECT_EQ(weights, model.nnz());
  EXPECT_EQ(r.device, "cpu");
  EXPECT_GE(r.index_seconds, 0.0);
  EXPECT_GE(r.train_seconds, 0.0);
  // Nested stopwatches: the levels lie within the training, the training within the call.
  EXPECT_GE(r.train_seconds + 1e-9, level_secs);
  EXPECT_GE(r.total_seconds + 1e-9, r.index_seconds + r.train_seconds);
}

TEST(TrainReport, TrainWithTreeReportsEveryLevel) {
  const Synthetic d = MakeData(12, 600, 32);
  const ClusterChain tree = GroupTree(32);
  TrainReport report;
  report.index_seconds = 42;  // stale contents must be replaced
  report.levels.resize(7);
  const XLinearModel model =
      TrainWithTree(d.x.view(), d.y.view(), tree, TrainOptions{}, Ctx(), &report);
  ExpectReportMatches(report, model);
  EXPECT_EQ(report.index_seconds, 0.0);  // no indexing on a given tree
  // Level 0 trains every node on all instances (the root matches everything).
  EXPECT_EQ(report.levels[0].n_pairs, static_cast<Offset>(tree.n_nodes(0)) * d.x.rows);
  EXPECT_EQ(report.levels[2].n_nodes, 32);
  EXPECT_EQ(report.levels[2].n_parents, 8);
}

TEST(TrainReport, TrainReportsIndexingAndLevels) {
  const Synthetic d = MakeData(13, 800, 40);
  TrainOptions opts;
  opts.indexer.max_leaf_size = 8;
  opts.indexer.nr_splits = 4;
  opts.negative_sampling = NegativeSampling::kTfnMan;
  TrainReport report;
  const XLinearModel model = Train(d.x.view(), d.y.view(), opts, Ctx(), &report);
  ASSERT_GE(model.depth(), 2);
  ExpectReportMatches(report, model);
  EXPECT_EQ(report.levels.back().n_nodes, 40);
}

TEST(TrainReport, IsOptionalAndDoesNotChangeTheModel) {
  const Synthetic d = MakeData(14, 400, 16);
  const ClusterChain tree = GroupTree(16);
  TrainReport report;
  ExpectSameModel(TrainWithTree(d.x.view(), d.y.view(), tree, {}, Ctx()),
                  TrainWithTree(d.x.view(), d.y.view(), tree, {}, Ctx(), &report));
  ExpectSameModel(TrainWithTree(d.x.view(), d.y.view(), tree, {}, Ctx(), nullptr),
                  TrainWithTree(d.x.view(), d.y.view(), tree, {}, Ctx(), &report));
  TrainOptions opts;
  opts.indexer.max_leaf_size = 4;
  const XLinearModel with_report = Train(d.x.view(), d.y.view(), opts, Ctx(), &report);
  ExpectSameModel(Train(d.x.view(), d.y.view(), opts, Ctx()), with_report);
  ExpectReportMatches(report, with_report);
}

TEST(TrainOptions, ParseAndNameRoundTrip) {
  for (SolverType t : {SolverType::kL2SvcDual, SolverType::kL1SvcDual, SolverType::kLrDual}) {
    EXPECT_EQ(ParseSolverType(SolverTypeName(t)), t);
  }
  EXPECT_EQ(ParseSolverType("L2R_L2LOSS_SVC_DUAL"), SolverType::kL2SvcDual);
  EXPECT_EQ(ParseSolverType("L2R_L1LOSS_SVC_DUAL"), SolverType::kL1SvcDual);
  EXPECT_EQ(ParseSolverType("L2R_LR_DUAL"), SolverType::kLrDual);
  EXPECT_THROW(ParseSolverType("svm"), Error);
  for (NegativeSampling n :
       {NegativeSampling::kTfn, NegativeSampling::kMan, NegativeSampling::kTfnMan}) {
    EXPECT_EQ(ParseNegativeSampling(NegativeSamplingName(n)), n);
  }
  EXPECT_THROW(ParseNegativeSampling("usn"), Error);
}

std::string MessageOf(const TrainOptions& o) {
  try {
    o.Validate();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    return e.message();
  }
  return "";
}

TEST(TrainOptions, ValidateNamesFieldAndValue) {
  EXPECT_EQ(MessageOf(TrainOptions{}), "");
  TrainOptions o;
  o.solver.cp = 0;
  EXPECT_NE(MessageOf(o).find("solver.cp"), std::string::npos);
  o = {};
  o.solver.cn = -2;
  EXPECT_NE(MessageOf(o).find("-2"), std::string::npos);
  o = {};
  o.solver.eps = std::nanf("");
  EXPECT_NE(MessageOf(o).find("solver.eps"), std::string::npos);
  o = {};
  o.solver.max_iter = 0;
  EXPECT_NE(MessageOf(o).find("solver.max_iter"), std::string::npos);
  o = {};
  o.solver.threshold = -0.1f;
  EXPECT_NE(MessageOf(o).find("solver.threshold"), std::string::npos);
  o = {};
  o.solver.max_nonzeros_per_label = -1;
  EXPECT_NE(MessageOf(o).find("max_nonzeros_per_label"), std::string::npos);
  o = {};
  o.bias = -1;
  EXPECT_NE(MessageOf(o).find("bias"), std::string::npos);
  o = {};
  o.man_beam_size = 0;
  EXPECT_NE(MessageOf(o).find("man_beam_size"), std::string::npos);
  o = {};
  o.beam_size = 0;
  EXPECT_NE(MessageOf(o).find("beam_size"), std::string::npos);
  o = {};
  o.top_k = 0;
  EXPECT_NE(MessageOf(o).find("top_k"), std::string::npos);
  o = {};
  o.post_processor = "l9-hinge";
  EXPECT_NE(MessageOf(o).find("post_processor"), std::string::npos);
  o = {};
  o.indexer.nr_splits = 1;
  EXPECT_NE(MessageOf(o), "");
}

TEST(TrainOptions, ToStringListsEveryField) {
  TrainOptions o;
  o.solver.type = SolverType::kLrDual;
  o.negative_sampling = NegativeSampling::kTfnMan;
  const std::string s = o.ToString();
  for (const char* key :
       {"nr_splits=16\n", "max_leaf_size=100\n", "label_embedding=pifa\n", "alpha=0.5\n",
        "solver=lr\n", "cp=1\n", "cn=1\n", "eps=0.1", "max_iter=100\n", "threshold=0.1",
        "max_nonzeros_per_label=0\n", "bias=1\n", "negative_sampling=tfn+man\n",
        "man_beam_size=10\n", "post_processor=l3-hinge\n", "beam_size=10\n", "top_k=10\n"}) {
    EXPECT_NE(s.find(key), std::string::npos) << key << " missing in\n" << s;
  }
}

}  // namespace
}  // namespace xmr

namespace xmr {
namespace {

TEST(DriverMemory, RefusesAHugeDeclaredDimensionUpFront) {
  // One row, one nonzero, but a declared dimension of 2^31 - 1: the dense per-thread buffers
  // would need terabytes. Training must refuse with kOutOfMemory before allocating anything.
  CsrMatrix x = CsrMatrix::Zeros(1, 2147483647);
  x.indices = {2147483646};
  x.data = {1.0f};
  x.indptr[1] = 1;
  CsrMatrix y = CsrMatrix::Zeros(1, 1);
  y.indices = {0};
  y.data = {1.0f};
  y.indptr[1] = 1;
  Context ctx;
  ctx.verbose = 0;
  ctx.threads = 64;
  try {
    Train(x.view(), y.view(), TrainOptions{}, ctx);
    FAIL() << "expected Error(kOutOfMemory)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
    EXPECT_NE(std::string(e.what()).find("GiB"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace xmr
