// Accuracy on the bundled real data set (data/bibtex_*.txt.xz) with default settings, against
// PECOS XR-Linear measured on the same split: P@1 63.66 (must be within 0.3 or above).
#include <gtest/gtest.h>

#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

TEST(BibtexAccuracy, DefaultsMatchPecos) {
  const std::string dir = std::string(XMR_SOURCE_DIR) + "/data/";
  Dataset train = ReadDataFile(dir + "bibtex_train.txt.xz");
  Dataset test = ReadDataFile(dir + "bibtex_test.txt.xz");
  NormalizeRowsL2(&train.x);
  NormalizeRowsL2(&test.x);
  Context ctx;
  ctx.verbose = 0;
  const XLinearModel model = Train(train.x.view(), train.y.view(), TrainOptions{}, ctx);
  EXPECT_EQ(model.n_labels(), 159);
  PredictOptions po;  // beam 10, top-10, l3-hinge
  const CsrMatrix pred = Predict(model, test.x.view(), po, ctx);
  const RankingMetrics m = Evaluate(pred.view(), test.y.view(), 10);
  RecordProperty("summary", m.Summary());
  std::printf("bibtex: %s\n", m.Summary().c_str());
  EXPECT_GE(m.precision[0], 63.66 - 0.3);
  EXPECT_GE(m.precision[2], 38.98 - 1.0);
  EXPECT_GE(m.precision[4], 28.66 - 1.0);
  // Thread-count determinism of the whole pipeline.
  Context ctx1 = ctx;
  ctx1.threads = 1;
  const XLinearModel model1 = Train(train.x.view(), train.y.view(), TrainOptions{}, ctx1);
  const CsrMatrix pred1 = Predict(model1, test.x.view(), po, ctx1);
  EXPECT_EQ(pred1.indices, pred.indices);
  EXPECT_EQ(pred1.data, pred.data);
}

}  // namespace
}  // namespace xmr
