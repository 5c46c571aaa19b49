// End-to-end conformance with PECOS on its own XR-Linear test fixture
// (tests/data/pecos-xlinear-tst, see ../shared/data/README.md): same data, same settings,
// predictions equal to PECOS's expected scores within 1e-5. Every test trains with
// SolverOptions::pecos_order (PECOS's visiting order; the default trains the root level in lock
// step, which stops at another point within the solver's tolerance).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/test_util.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

using testing_util::PecosFixture;
using testing_util::ToDense;

// Logs nothing, uses all hardware threads.
Context Quiet() { return testing_util::Quiet(/*threads=*/0); }

void ExpectSamePrediction(const CsrMatrix& got, const CsrMatrix& want, double tol) {
  ASSERT_EQ(got.rows, want.rows);
  ASSERT_EQ(got.cols, want.cols);
  ASSERT_EQ(got.nnz(), want.nnz()) << "different number of predicted labels";
  const auto g = ToDense(got.view()), w = ToDense(want.view());
  for (size_t k = 0; k < g.size(); ++k) {
    EXPECT_NEAR(g[k], w[k], tol) << "row " << k / got.cols << " label " << k % got.cols;
  }
}

struct Fixture {
  CsrMatrix x, y, xt;
};

Fixture Load() {
  Fixture f;
  f.x = ReadNpzCsr(PecosFixture("X.npz"));
  f.y = ReadNpzCsr(PecosFixture("Y.npz"));
  f.xt = ReadNpzCsr(PecosFixture("Xt.npz"));
  return f;
}

TEST(PecosConformance, DefaultSettings) {
  // pecos.xmc.xlinear.train -x X.npz -y Y.npz --max-leaf-size 10; predict with defaults
  // (beam 10, only_topk 20, l3-hinge).
  const Fixture f = Load();
  TrainOptions opts;
  opts.solver.pecos_order = true;
  opts.indexer.max_leaf_size = 10;
  const XLinearModel model = Train(f.x.view(), f.y.view(), opts, Quiet());
  ASSERT_EQ(model.depth(), 2);
  PredictOptions po;
  po.beam_size = 10;
  po.top_k = 20;
  po.post_processor = "l3-hinge";
  const CsrMatrix pred = Predict(model, f.xt.view(), po, Quiet());
  ExpectSamePrediction(pred, ReadNpzCsr(PecosFixture("Yt_pred.npz")), 1e-5);
}

TEST(PecosConformance, TfnManVariant) {
  // Trained with -pp noop -b 2 -ns tfn+man, predicted with -pp sigmoid -b 4.
  const Fixture f = Load();
  TrainOptions opts;
  opts.solver.pecos_order = true;
  opts.indexer.max_leaf_size = 10;
  opts.negative_sampling = NegativeSampling::kTfnMan;
  opts.post_processor = "noop";
  opts.beam_size = 2;
  opts.man_beam_size = 2;
  const XLinearModel model = Train(f.x.view(), f.y.view(), opts, Quiet());
  PredictOptions po;
  po.beam_size = 4;
  po.top_k = 20;
  po.post_processor = "sigmoid";
  const CsrMatrix pred = Predict(model, f.xt.view(), po, Quiet());
  ExpectSamePrediction(pred, ReadNpzCsr(PecosFixture("Yt_pred_with_tfn+man.npz")), 1e-5);
}

class PecosConformanceSplits : public ::testing::TestWithParam<int> {};

TEST_P(PecosConformanceSplits, SmallLeaves) {
  // PECOS's test_xlinear.py: --nr-splits 2/4 --max-leaf-size 2, predict with defaults
  // (beam 10, only_topk 20, l3-hinge). A deeper tree: 16 leaves of 1-2 labels.
  const int nr_splits = GetParam();
  const Fixture f = Load();
  TrainOptions opts;
  opts.solver.pecos_order = true;
  opts.indexer.nr_splits = nr_splits;
  opts.indexer.max_leaf_size = 2;
  const XLinearModel model = Train(f.x.view(), f.y.view(), opts, Quiet());
  PredictOptions po;
  po.top_k = 20;
  const CsrMatrix pred = Predict(model, f.xt.view(), po, Quiet());
  ExpectSamePrediction(
      pred, ReadNpzCsr(PecosFixture("P_nr_splits=" + std::to_string(nr_splits) + ".npz")), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(NrSplits, PecosConformanceSplits, ::testing::Values(2, 4));

TEST(PecosConformance, ExportedModelReadsBackIdentically) {
  const Fixture f = Load();
  TrainOptions opts;
  opts.solver.pecos_order = true;
  opts.indexer.max_leaf_size = 10;
  const XLinearModel model = Train(f.x.view(), f.y.view(), opts, Quiet());
  testing_util::TempDir tmp;
  const std::string dir = tmp.File("pecos_export");
  ExportPecos(model, dir);
  const XLinearModel back = ImportPecos(dir);
  PredictOptions po;
  po.top_k = 20;
  const CsrMatrix a = Predict(model, f.xt.view(), po, Quiet());
  const CsrMatrix b = Predict(back, f.xt.view(), po, Quiet());
  testing_util::ExpectCsrEq(a, b);
}

}  // namespace
}  // namespace xmr
