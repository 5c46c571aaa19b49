// Beam search semantics: hand-computed scores for every post-processor, brute force over all
// labels, beam pruning, bias handling.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/model.h"
#include "xmr/predict.h"

namespace xmr {
namespace {

// Level 0: nodes 0, 1. Level 1: labels 0..3 with parents 1, 0, 1, 0 (children of one parent
// are not contiguous, so the model must permute them). Features 0..2, bias row 3.
//   node 0: 1.0 x0 + 0.5 b        node 1: 2.0 x1
//   label 0: 1.0 x2 - 1.0 b       label 1: -1.0 x0
//   label 2: (no weights)         label 3: 0.5 x1 + 0.5 x2 + 0.25 b
XLinearModel HandModel(float bias, const std::string& pp = "l3-hinge") {
  ClusterChain chain;
  chain.parents = {{0, 0}, {1, 0, 1, 0}};
  CscMatrix w0{4, 2, {0, 2, 3}, {0, 3, 1}, {1.0f, 0.5f, 2.0f}};
  CscMatrix w1{4, 4, {0, 2, 3, 3, 6}, {2, 3, 0, 1, 2, 3}, {1.0f, -1.0f, -1.0f, 0.5f, 0.5f, 0.25f}};
  ModelMeta meta;
  meta.n_features = 3;
  meta.bias = bias;
  meta.post_processor = pp;
  return XLinearModel::FromWeights(chain, {w0, w1}, meta);
}

const std::vector<Index> kQueryIdx = {0, 1, 2};
const std::vector<float> kQueryVal = {0.5f, 0.25f, 2.0f};
SparseVecView Query() { return {3, kQueryIdx.data(), kQueryVal.data()}; }

// Linear scores of the hand model for the query above with the given bias constant.
std::vector<double> Level0Scores(double b) { return {0.5 + 0.5 * b, 2.0 * 0.25}; }
std::vector<double> Level1Scores(double b) {
  return {2.0 - 1.0 * b, -0.5, 0.0, 0.5 * 0.25 + 0.5 * 2.0 + 0.25 * b};
}

struct Rule {
  std::function<double(double)> f;
  std::function<double(double, double)> g;
};

Rule RuleOf(const std::string& name) {
  auto hinge = [](int p) { return [p](double s) { return std::pow(std::max(0.0, 1 - s), p); }; };
  if (name == "noop") return {[](double s) { return s; }, [](double v, double) { return v; }};
  if (name == "sigmoid") {
    return {[](double s) { return 1 / (1 + std::exp(-s)); },
            [](double v, double p) { return v * p; }};
  }
  if (name == "log-sigmoid") {
    return {[](double s) { return -std::log(1 + std::exp(-s)); },
            [](double v, double p) { return v + p; }};
  }
  const bool log = name.rfind("log-", 0) == 0;
  const int p = name[log ? 5 : 1] - '0';
  auto h = hinge(p);
  if (log) return {[h](double s) { return -h(s); }, [](double v, double q) { return v + q; }};
  return {[h](double s) { return std::exp(-h(s)); }, [](double v, double q) { return v * q; }};
}

std::vector<ScoredLabel> Expected(const std::string& pp, double bias) {
  const Rule r = RuleOf(pp);
  const std::vector<double> s0 = Level0Scores(bias), s1 = Level1Scores(bias);
  const std::vector<int> parent = {1, 0, 1, 0};
  std::vector<ScoredLabel> out;
  for (int l = 0; l < 4; ++l) {
    out.push_back({l, static_cast<float>(r.g(r.f(s1[l]), r.f(s0[parent[l]])))});
  }
  std::sort(out.begin(), out.end(), [](const ScoredLabel& a, const ScoredLabel& b) {
    return a.score > b.score || (a.score == b.score && a.label < b.label);
  });
  return out;
}

void ExpectLabels(const std::vector<ScoredLabel>& got, const std::vector<ScoredLabel>& want,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].label, want[i].label) << what << " rank " << i;
    EXPECT_NEAR(got[i].score, want[i].score, 1e-6) << what << " rank " << i;
  }
}

TEST(BeamSearch, HandComputedScoresForEveryPostProcessor) {
  for (const char* pp :
       {"noop", "sigmoid", "log-sigmoid", "l1-hinge", "l2-hinge", "l3-hinge", "l4-hinge",
        "log-l1-hinge", "log-l2-hinge", "log-l3-hinge", "log-l4-hinge"}) {
    for (const float bias : {1.0f, 2.0f, 0.0f, -1.0f}) {
      const XLinearModel m = HandModel(bias);
      PredictOptions o;
      o.beam_size = 2;
      o.top_k = 4;
      o.post_processor = pp;
      Searcher s(m);
      // A non-positive bias means no bias term, as in PECOS.
      ExpectLabels(s.Search(Query(), o), Expected(pp, bias > 0 ? bias : 0.0),
                   std::string(pp) + " bias " + std::to_string(bias));
    }
  }
}

TEST(BeamSearch, ModelPostProcessorIsTheDefault) {
  const XLinearModel m = HandModel(1.0f, "log-sigmoid");
  PredictOptions o;
  o.beam_size = 2;
  o.top_k = 4;
  Searcher s(m);
  ExpectLabels(s.Search(Query(), o), Expected("log-sigmoid", 1.0), "model default");
  const PredictOptions d = DefaultPredictOptions(m);
  EXPECT_EQ(d.post_processor, "log-sigmoid");
  EXPECT_EQ(d.beam_size, m.meta().beam_size);
  EXPECT_EQ(d.top_k, m.meta().top_k);
}

TEST(BeamSearch, NodeWithoutWeightsScoresZero) {
  // Label 2 has no weights and no bias weight: s = 0, so l3-hinge gives exp(-1) times its
  // parent's value (PECOS does the same).
  const XLinearModel m = HandModel(1.0f);
  PredictOptions o;
  o.beam_size = 2;
  o.top_k = 4;
  const std::vector<ScoredLabel> got = Searcher(m).Search(Query(), o);
  const auto it =
      std::find_if(got.begin(), got.end(), [](const ScoredLabel& l) { return l.label == 2; });
  ASSERT_NE(it, got.end());
  const double parent = std::exp(-std::pow(1 - 0.5, 3));
  EXPECT_NEAR(it->score, std::exp(-1.0) * parent, 1e-7);
}

TEST(BeamSearch, BeamPrunesWeakerParents) {
  // l3-hinge: node 0 scores s = 1 -> 1.0, node 1 s = 0.5 -> exp(-1/8); a beam of 1 keeps only
  // node 0, whose children are labels 1 and 3.
  const XLinearModel m = HandModel(1.0f);
  PredictOptions o;
  o.beam_size = 1;
  o.top_k = 4;
  const std::vector<ScoredLabel> got = Searcher(m).Search(Query(), o);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].label, 3);
  EXPECT_EQ(got[1].label, 1);
  // top_k applies to the last level only.
  o.beam_size = 2;
  o.top_k = 1;
  const std::vector<ScoredLabel> top1 = Searcher(m).Search(Query(), o);
  ASSERT_EQ(top1.size(), 1u);
  EXPECT_EQ(top1[0].label, Expected("l3-hinge", 1.0)[0].label);
}

TEST(BeamSearch, TiesGoToTheSmallerLabel) {
  // Four labels with identical weights under one parent.
  ClusterChain chain;
  chain.parents = {{0, 0, 0, 0}};
  CscMatrix w{3, 4, {0, 1, 2, 3, 4}, {0, 0, 0, 0}, {1.f, 1.f, 1.f, 1.f}};
  ModelMeta meta;
  meta.n_features = 2;
  const XLinearModel m = XLinearModel::FromWeights(chain, {w}, meta);
  PredictOptions o;
  o.top_k = 3;
  const std::vector<Index> idx = {0};
  const std::vector<float> val = {0.3f};
  const std::vector<ScoredLabel> got = Searcher(m).Search({1, idx.data(), val.data()}, o);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].label, 0);
  EXPECT_EQ(got[1].label, 1);
  EXPECT_EQ(got[2].label, 2);
}

// A random model of the given level sizes over d features, with shuffled node ids.
XLinearModel RandomModel(unsigned seed, const std::vector<Index>& sizes, Index d, double density,
                         const std::string& pp) {
  ModelMeta meta;
  meta.post_processor = pp;
  return testing_util::RandomModel(seed, sizes, d, testing_util::KeepWithProbability({density}),
                                   meta);
}

// Queries with values uniform in [0, 1).
CsrMatrix RandomQueries(unsigned seed, Index n, Index d, double density) {
  return testing_util::RandomCsr(n, d, density, seed, 0.f, 1.f);
}

// With a beam as wide as every level, beam search must equal scoring every label along its
// path: v = f(s_0), then v = g(f(s_t), v) for the deeper levels.
// The configurations cover every chunk kernel: direct row tables (dense chunks), binary search
// of the query ids in the chunk rows, and of the chunk rows in the query ids (dense queries).
struct BruteForceCase {
  const char* pp;
  Index d;
  double weight_density, query_density;
};

class FullBeam : public ::testing::TestWithParam<BruteForceCase> {};

INSTANTIATE_TEST_SUITE_P(Kernels, FullBeam,
                         ::testing::Values(BruteForceCase{"l3-hinge", 60, 0.15, 0.2},
                                           BruteForceCase{"sigmoid", 60, 0.15, 0.2},
                                           BruteForceCase{"log-l2-hinge", 400, 0.01, 0.02},
                                           BruteForceCase{"noop", 400, 0.01, 0.02},
                                           BruteForceCase{"l3-hinge", 400, 0.01, 0.3},
                                           BruteForceCase{"log-sigmoid", 400, 0.01, 0.3}));

TEST_P(FullBeam, EqualsBruteForce) {
  const BruteForceCase c = GetParam();
  const Index d = c.d;
  {
    const char* pp = c.pp;
    const XLinearModel m = RandomModel(7, {4, 15, 90}, d, c.weight_density, pp);
    const CsrMatrix x = RandomQueries(8, 25, d, c.query_density);
    const ClusterChain chain = m.chain();
    std::vector<CscMatrix> w;
    for (int t = 0; t < m.depth(); ++t) w.push_back(m.Weights(t));
    const Rule r = RuleOf(pp);
    PredictOptions o;
    o.beam_size = 90;
    o.top_k = 90;
    o.post_processor = pp;
    const CsrMatrix pred = Predict(m, x.view(), o);
    for (Index i = 0; i < x.rows; ++i) {
      std::vector<double> dense(d + 1, 0.0);
      for (Offset p = x.indptr[i]; p < x.indptr[i + 1]; ++p) dense[x.indices[p]] = x.data[p];
      dense[d] = 1.0;  // bias
      std::vector<std::vector<double>> value(m.depth());
      for (int t = 0; t < m.depth(); ++t) {
        value[t].resize(m.n_nodes(t));
        for (Index j = 0; j < m.n_nodes(t); ++j) {
          double s = 0;
          for (Offset q = w[t].indptr[j]; q < w[t].indptr[j + 1]; ++q) {
            s += dense[w[t].indices[q]] * w[t].data[q];
          }
          value[t][j] = t == 0 ? r.f(s) : r.g(r.f(s), value[t - 1][chain.parents[t][j]]);
        }
      }
      ASSERT_EQ(pred.indptr[i + 1] - pred.indptr[i], 90) << pp;
      std::vector<char> seen(90, 0);
      for (Offset p = pred.indptr[i]; p < pred.indptr[i + 1]; ++p) {
        const Index l = pred.indices[p];
        EXPECT_FALSE(seen[l]);
        seen[l] = 1;
        EXPECT_NEAR(pred.data[p], value[2][l], 2e-5 * (1 + std::abs(value[2][l])))
            << pp << " row " << i << " label " << l;
        if (p > pred.indptr[i]) {
          EXPECT_GE(pred.data[p - 1], pred.data[p]);
        }
      }
    }
  }
}

// A plain reference beam search: score every child of the beam, sort all of them, keep the
// best. Same float arithmetic as xmr (sum in increasing feature order, bias last; transforms
// in double), so results must agree exactly, pruning shortcuts included.
float RefTransform(const std::string& pp, float s, float parent, bool combine) {
  const PostProcessor p = PostProcessor::Parse(pp);
  const double z = std::max(0.0, 1.0 - static_cast<double>(s));
  double zp = z;
  for (int i = 1; i < p.power; ++i) zp *= z;
  if (p.power == 4) zp = (z * z) * (z * z);
  float f = s;
  switch (p.kind) {
    case PostProcessor::Kind::kNoop:
      return s;
    case PostProcessor::Kind::kSigmoid:
      f = static_cast<float>(1.0 / (1.0 + std::exp(-s)));
      break;
    case PostProcessor::Kind::kLogSigmoid:
      f = static_cast<float>(-std::log(1.0 + std::exp(-s)));
      break;
    case PostProcessor::Kind::kHinge:
      f = z == 0 ? 1.0f : static_cast<float>(std::exp(-zp));
      break;
    case PostProcessor::Kind::kLogHinge:
      f = static_cast<float>(-zp);
      break;
  }
  if (!combine) return f;
  const bool mult =
      p.kind == PostProcessor::Kind::kSigmoid || p.kind == PostProcessor::Kind::kHinge;
  return mult ? f * parent : f + parent;
}

std::vector<ScoredLabel> RefBeamSearch(const XLinearModel& m, const std::vector<CscMatrix>& w,
                                       const SparseVecView& x, int beam, int top_k,
                                       const std::string& pp) {
  const ClusterChain chain = m.chain();
  const Index d = m.n_features();
  std::vector<ScoredLabel> cur = {{0, 1.0f}};
  auto better = [](const ScoredLabel& a, const ScoredLabel& b) {
    return a.score > b.score || (a.score == b.score && a.label < b.label);
  };
  for (int t = 0; t < m.depth(); ++t) {
    std::vector<ScoredLabel> cand;
    for (const ScoredLabel& par : cur) {
      for (Index j = 0; j < m.n_nodes(t); ++j) {
        if (chain.parents[t][j] != par.label) continue;
        float s = 0.0f, bias_w = 0.0f;
        bool has_bias = false;
        for (Offset q = w[t].indptr[j]; q < w[t].indptr[j + 1]; ++q) {
          const Index f = w[t].indices[q];
          if (f == d) {
            has_bias = true;
            bias_w = w[t].data[q];
            continue;
          }
          for (Index i = 0; i < x.nnz; ++i) {
            if (x.indices[i] == f) s += x.data[i] * w[t].data[q];
          }
        }
        if (has_bias) s += m.meta().bias * bias_w;
        cand.push_back({j, RefTransform(pp, s, par.score, t > 0)});
      }
    }
    std::sort(cand.begin(), cand.end(), better);
    const std::size_t k = static_cast<std::size_t>(t == m.depth() - 1 ? top_k : beam);
    if (cand.size() > k) cand.resize(k);
    cur = cand;
  }
  return cur;
}

TEST(BeamSearch, MatchesReferenceBeamSearchForSmallBeams) {
  const Index d = 80;
  for (const char* pp :
       {"l3-hinge", "l1-hinge", "sigmoid", "log-sigmoid", "log-l3-hinge", "noop"}) {
    const XLinearModel m = RandomModel(31, {3, 12, 40, 150}, d, 0.12, pp);
    std::vector<CscMatrix> w;
    for (int t = 0; t < m.depth(); ++t) w.push_back(m.Weights(t));
    const CsrMatrix x = RandomQueries(32, 40, d, 0.15);
    for (const int beam : {1, 2, 3, 7}) {
      for (const int top_k : {1, 5, 20}) {
        PredictOptions o;
        o.beam_size = beam;
        o.top_k = top_k;
        o.post_processor = pp;
        const CsrMatrix pred = Predict(m, x.view(), o);
        for (Index i = 0; i < x.rows; ++i) {
          const std::vector<ScoredLabel> want =
              RefBeamSearch(m, w, x.view().row(i), beam, top_k, pp);
          ASSERT_EQ(pred.indptr[i + 1] - pred.indptr[i], static_cast<Offset>(want.size()));
          for (std::size_t k = 0; k < want.size(); ++k) {
            EXPECT_EQ(pred.indices[pred.indptr[i] + k], want[k].label)
                << pp << " beam " << beam << " top " << top_k << " row " << i << " rank " << k;
            EXPECT_EQ(pred.data[pred.indptr[i] + k], want[k].score)
                << pp << " beam " << beam << " top " << top_k << " row " << i << " rank " << k;
          }
        }
      }
    }
  }
}

TEST(BeamSearch, FlatModelIsOneVsRest) {
  const Index d = 40;
  const XLinearModel m = RandomModel(9, {70}, d, 0.3, "sigmoid");
  const CsrMatrix x = RandomQueries(10, 10, d, 0.3);
  PredictOptions o;
  o.beam_size = 1;  // irrelevant for depth 1
  o.top_k = 5;
  const CsrMatrix pred = Predict(m, x.view(), o);
  const CscMatrix w = m.Weights(0);
  for (Index i = 0; i < x.rows; ++i) {
    std::vector<std::pair<double, Index>> all;
    for (Index l = 0; l < 70; ++l) {
      double s = 0;
      for (Offset q = w.indptr[l]; q < w.indptr[l + 1]; ++q) {
        const Index f = w.indices[q];
        if (f == d) {
          s += w.data[q];
          continue;
        }
        for (Offset p = x.indptr[i]; p < x.indptr[i + 1]; ++p) {
          if (x.indices[p] == f) s += x.data[p] * w.data[q];
        }
      }
      all.push_back({-1 / (1 + std::exp(-s)), l});
    }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(pred.indptr[i + 1] - pred.indptr[i], 5);
    for (int k = 0; k < 5; ++k) EXPECT_EQ(pred.indices[pred.indptr[i] + k], all[k].second);
  }
}

// A chunk wider than 65,536 children stores 32-bit entry columns (narrower ones 16-bit): the
// scores must come out the same as with the brute-force sum.
TEST(BeamSearch, ChunkWiderThan16BitColumns) {
  const Index d = 6, n_labels = 70000;
  const XLinearModel m = RandomModel(4, {n_labels}, d, 0.05, "noop");
  const CsrMatrix x = RandomQueries(4, 6, d, 0.5);
  PredictOptions o;
  o.top_k = 20;
  const CsrMatrix pred = Predict(m, x.view(), o);
  const CscMatrix w = m.Weights(0);
  for (Index i = 0; i < x.rows; ++i) {
    std::vector<double> score(n_labels, 0.0);
    for (Index l = 0; l < n_labels; ++l) {
      for (Offset q = w.indptr[l]; q < w.indptr[l + 1]; ++q) {
        const Index f = w.indices[q];
        if (f == d) {
          score[l] += w.data[q];
          continue;
        }
        for (Offset p = x.indptr[i]; p < x.indptr[i + 1]; ++p) {
          if (x.indices[p] == f) score[l] += x.data[p] * w.data[q];
        }
      }
    }
    std::vector<double> sorted = score;
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    ASSERT_EQ(pred.indptr[i + 1] - pred.indptr[i], 20);
    for (int k = 0; k < 20; ++k) {
      const Offset q = pred.indptr[i] + k;
      EXPECT_NEAR(pred.data[q], sorted[k], 1e-5);
      EXPECT_NEAR(pred.data[q], score[pred.indices[q]], 1e-5);
    }
  }
}

TEST(BeamSearch, EmptyQueryUsesOnlyTheBias) {
  const XLinearModel m = HandModel(1.0f, "noop");
  PredictOptions o;
  o.beam_size = 2;
  o.top_k = 4;
  const std::vector<ScoredLabel> got = Searcher(m).Search(SparseVecView{}, o);
  ASSERT_EQ(got.size(), 4u);
  // noop keeps the child's linear score: bias weights 0.25 (label 3), 0, 0, -1 (label 0).
  EXPECT_EQ(got[0].label, 3);
  EXPECT_FLOAT_EQ(got[0].score, 0.25f);
  EXPECT_EQ(got[3].label, 0);
  EXPECT_FLOAT_EQ(got[3].score, -1.0f);
}

}  // namespace
}  // namespace xmr
