// End-to-end conformance with PECOS on its own XR-Linear test fixture
// (tests/data/pecos-xlinear-tst, see ../shared/data/README.md): same data, same settings,
// predictions equal to PECOS's expected scores within 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

const std::string kDir = std::string(XMR_SOURCE_DIR) + "/tests/data/pecos-xlinear-tst/";

Context Quiet() {
  Context ctx;
  ctx.verbose = 0;
  return ctx;
}

// Dense copy of a prediction matrix (rows x cols, 0 where absent).
std::vector<double> Dense(const CsrView& a) {
  std::vector<double> d(static_cast<size_t>(a.rows) * a.cols, 0.0);
  for (Index i = 0; i < a.rows; ++i)
    for (Offset p = a.indptr[i]; p < a.indptr[i + 1]; ++p)
      d[static_cast<size_t>(i) * a.cols + a.indices[p]] = a.data[p];
  return d;
}

void ExpectSamePrediction(const CsrMatrix& got, const CsrMatrix& want, double tol) {
  ASSERT_EQ(got.rows, want.rows);
  ASSERT_EQ(got.cols, want.cols);
  ASSERT_EQ(got.nnz(), want.nnz()) << "different number of predicted labels";
  const auto g = Dense(got.view()), w = Dense(want.view());
  for (size_t k = 0; k < g.size(); ++k) {
    EXPECT_NEAR(g[k], w[k], tol) << "row " << k / got.cols << " label " << k % got.cols;
  }
}

struct Fixture {
  CsrMatrix x, y, xt;
};

Fixture Load() {
  Fixture f;
  f.x = ReadNpzCsr(kDir + "X.npz");
  f.y = ReadNpzCsr(kDir + "Y.npz");
  f.xt = ReadNpzCsr(kDir + "Xt.npz");
  return f;
}

TEST(PecosConformance, DefaultSettings) {
  // pecos.xmc.xlinear.train -x X.npz -y Y.npz --max-leaf-size 10; predict with defaults
  // (beam 10, only_topk 20, l3-hinge).
  const Fixture f = Load();
  TrainOptions opts;
  opts.indexer.max_leaf_size = 10;
  const XLinearModel model = Train(f.x.view(), f.y.view(), opts, Quiet());
  ASSERT_EQ(model.depth(), 2);
  PredictOptions po;
  po.beam_size = 10;
  po.top_k = 20;
  po.post_processor = "l3-hinge";
  const CsrMatrix pred = Predict(model, f.xt.view(), po, Quiet());
  ExpectSamePrediction(pred, ReadNpzCsr(kDir + "Yt_pred.npz"), 1e-5);
}

TEST(PecosConformance, TfnManVariant) {
  // Trained with -pp noop -b 2 -ns tfn+man, predicted with -pp sigmoid -b 4.
  const Fixture f = Load();
  TrainOptions opts;
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
  ExpectSamePrediction(pred, ReadNpzCsr(kDir + "Yt_pred_with_tfn+man.npz"), 1e-5);
}

TEST(PecosConformance, ExportedModelReadsBackIdentically) {
  const Fixture f = Load();
  TrainOptions opts;
  opts.indexer.max_leaf_size = 10;
  const XLinearModel model = Train(f.x.view(), f.y.view(), opts, Quiet());
  const std::string dir = testing::TempDir() + "/xmr_pecos_export";
  ExportPecos(model, dir);
  const XLinearModel back = ImportPecos(dir);
  PredictOptions po;
  po.top_k = 20;
  const CsrMatrix a = Predict(model, f.xt.view(), po, Quiet());
  const CsrMatrix b = Predict(back, f.xt.view(), po, Quiet());
  EXPECT_EQ(a.indptr, b.indptr);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.data, b.data);
}

}  // namespace
}  // namespace xmr
