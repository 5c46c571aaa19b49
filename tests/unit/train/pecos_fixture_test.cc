// PECOS's XR-Linear test fixture (tests/data/pecos-xlinear-tst) with its tree given by hand,
// so that only training is under test: PECOS's tree for --max-leaf-size 10 is
// [2 x 1, 20 x 2] with labels 0..9 under node 0 and 10..19 under node 1 (labels 1 and 4 are the
// only ones with positives; the others have all-zero PIFA embeddings and are placed by id).
// Scores are computed here from the trained weights (l3-hinge products), independent of the
// beam search, and compared with PECOS's expected predictions to 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "xmr/model.h"
#include "xmr/train.h"

namespace xmr {
namespace {

const std::string kDir = std::string(XMR_SOURCE_DIR) + "/tests/data/pecos-xlinear-tst/";

// "rows cols nnz" then "i j value" lines.
CsrMatrix ReadCoo(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  Offset nnz = 0;
  CsrMatrix m;
  in >> m.rows >> m.cols >> nnz;
  std::vector<std::vector<std::pair<Index, float>>> rows(m.rows);
  for (Offset k = 0; k < nnz; ++k) {
    Index i, j;
    float v;
    in >> i >> j >> v;
    rows[i].push_back({j, v});
  }
  for (const auto& r : rows) {
    for (const auto& e : r) {
      m.indices.push_back(e.first);
      m.data.push_back(e.second);
    }
    m.indptr.push_back(static_cast<Offset>(m.indices.size()));
  }
  return m;
}

ClusterChain PecosTree() {
  ClusterChain c;
  c.parents.push_back({0, 0});
  std::vector<Index> leaves(20);
  for (Index l = 0; l < 20; ++l) leaves[l] = l < 10 ? 0 : 1;
  c.parents.push_back(leaves);
  return c;
}

// w_col . [x; bias]
double Score(const CscMatrix& w, Index col, const CsrMatrix& x, Index i, double bias) {
  double s = 0;
  for (Offset p = w.indptr[col]; p < w.indptr[col + 1]; ++p) {
    const Index r = w.indices[p];
    if (r == x.cols) {
      s += bias * w.data[p];
      continue;
    }
    for (Offset q = x.indptr[i]; q < x.indptr[i + 1]; ++q) {
      if (x.indices[q] == r) s += static_cast<double>(x.data[q]) * w.data[p];
    }
  }
  return s;
}

Context Quiet() {
  Context ctx;
  ctx.verbose = 0;
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

TEST(PecosFixture, DefaultTrainingReproducesPecosScores) {
  const CsrMatrix x = ReadCoo(kDir + "X.coo.txt"), y = ReadCoo(kDir + "Y.coo.txt");
  const CsrMatrix expected = ReadCoo(kDir + "Yt_pred.coo.txt");
  const ClusterChain tree = PecosTree();
  TrainOptions pecos;
  pecos.solver.pecos_order = true;  // PECOS's visiting order: its weights bit for bit
  auto l3 = [](double s) { return std::exp(-std::pow(std::max(0.0, 1.0 - s), 3)); };
  ASSERT_EQ(expected.nnz(), 40);
  // The default order (the root level in lock step) stops at another point within the solver's
  // tolerance (eps 0.1 on a problem this small moves the scores by up to ~0.07): the same best
  // label for each instance, scores within 0.1.
  for (const bool exact : {true, false}) {
    const XLinearModel model =
        TrainWithTree(x.view(), y.view(), tree, exact ? pecos : TrainOptions{}, Quiet());
    const CscMatrix w0 = model.Weights(0), w1 = model.Weights(1);
    for (Index i = 0; i < 2; ++i) {
      Index best_expected = -1, best_got = -1;
      double max_expected = -1, max_got = -1;
      for (Offset p = expected.indptr[i]; p < expected.indptr[i + 1]; ++p) {
        const Index l = expected.indices[p];
        const double got =
            l3(Score(w0, tree.parents[1][l], x, i, 1.0)) * l3(Score(w1, l, x, i, 1.0));
        EXPECT_NEAR(got, expected.data[p], exact ? 1e-6 : 0.1)
            << "instance " << i << " label " << l << (exact ? " (pecos_order)" : "");
        if (expected.data[p] > max_expected) max_expected = expected.data[p], best_expected = l;
        if (got > max_got) max_got = got, best_got = l;
      }
      EXPECT_EQ(best_got, best_expected) << "instance " << i;
    }
  }
}

TEST(PecosFixture, TfnManTrainingReproducesPecosScores) {
  // Trained with -pp noop -b 2 -ns tfn+man, predicted with -pp sigmoid (-b 4 keeps all nodes).
  const CsrMatrix x = ReadCoo(kDir + "X.coo.txt"), y = ReadCoo(kDir + "Y.coo.txt");
  const CsrMatrix expected = ReadCoo(kDir + "Yt_pred_with_tfn+man.coo.txt");
  const ClusterChain tree = PecosTree();
  TrainOptions opts;
  opts.negative_sampling = NegativeSampling::kTfnMan;
  opts.post_processor = "noop";
  opts.beam_size = 2;
  opts.man_beam_size = 2;
  opts.solver.pecos_order = true;
  const XLinearModel model = TrainWithTree(x.view(), y.view(), tree, opts, Quiet());
  const CscMatrix w0 = model.Weights(0), w1 = model.Weights(1);
  auto sig = [](double s) { return 1.0 / (1.0 + std::exp(-s)); };
  for (Index i = 0; i < 2; ++i) {
    for (Offset p = expected.indptr[i]; p < expected.indptr[i + 1]; ++p) {
      const Index l = expected.indices[p];
      const double got =
          sig(Score(w0, tree.parents[1][l], x, i, 1.0)) * sig(Score(w1, l, x, i, 1.0));
      EXPECT_NEAR(got, expected.data[p], 1e-6) << "instance " << i << " label " << l;
    }
  }
}

}  // namespace
}  // namespace xmr
