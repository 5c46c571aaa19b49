// Text and QAC models under concurrency: batch prediction gives the same answers for any thread
// count, and 16 threads sharing one TextModel / QacModel (each with its own searcher, some
// calling the model's const batch methods at the same time) get exactly the single-thread
// answers. Models are trained here on tiny synthetic text.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/qac_log.h"
#include "common/test_util.h"
#include "text_corpus.h"
#include "xmr/predict.h"
#include "xmr/qac.h"
#include "xmr/qac_model.h"
#include "xmr/text_model.h"

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::Quiet;

constexpr int kThreads = 16;

Context Cpu(int threads) {
  Context ctx = Quiet(threads, /*seed=*/3);
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

const TextModel& SharedTextModel() {
  static const TextModel m = [] {
    const hardening::TextCorpus c = hardening::MakeTextCorpus(240, 11);
    TextTrainOptions opts;
    opts.train.indexer.max_leaf_size = 2;
    opts.train.indexer.nr_splits = 2;
    return TextModel::Train(c.texts, c.y.view(), opts, Cpu(2));
  }();
  return m;
}

// Queries: corpus-like texts plus odd ones (empty, unknown words, repeated words).
std::vector<std::string> TextQueries() {
  std::vector<std::string> q = hardening::MakeTextCorpus(150, 12).texts;
  q.insert(q.end(), {"", "   ", "zzz unknown words", "guitar guitar guitar", "comet\tcoach"});
  return q;
}

TEST(TextModelConcurrency, BatchPredictionIsTheSameForAnyThreadCount) {
  const TextModel& m = SharedTextModel();
  ASSERT_GE(m.model().depth(), 2);
  const std::vector<std::string> q = TextQueries();
  PredictOptions po;
  po.beam_size = 2;
  po.top_k = 4;
  const CsrMatrix x1 = m.Featurize(q, Cpu(1));
  const CsrMatrix p1 = m.Predict(q, po, Cpu(1));
  ASSERT_EQ(p1.rows, static_cast<Index>(q.size()));
  for (int t : {2, 3, 7, kThreads, 0}) {
    SCOPED_TRACE(t);
    ExpectCsrEq(m.Featurize(q, Cpu(t)), x1);
    ExpectCsrEq(m.Predict(q, po, Cpu(t)), p1);
  }
}

TEST(TextModelConcurrency, SixteenThreadsShareOneModel) {
  const TextModel& m = SharedTextModel();
  const std::vector<std::string> q = TextQueries();
  PredictOptions po;
  po.beam_size = 2;
  po.top_k = 4;
  const CsrMatrix want = m.Predict(q, po, Cpu(1));
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      if (t % 4 == 3) {
        // Batch calls on the shared model, each on a different slice of the queries.
        for (std::size_t b = static_cast<std::size_t>(t) % 5; b < q.size(); b += 37) {
          const std::vector<std::string> slice(q.begin() + b,
                                               q.begin() + std::min(q.size(), b + 9));
          const CsrMatrix got = m.Predict(slice, po, Cpu(1));
          for (Index i = 0; i < got.rows; ++i) {
            const Offset g0 = got.indptr[i], w0 = want.indptr[b + i];
            bool same = got.indptr[i + 1] - g0 == want.indptr[b + i + 1] - w0;
            for (Offset k = 0; same && k < got.indptr[i + 1] - g0; ++k) {
              same = got.indices[g0 + k] == want.indices[w0 + k] &&
                     got.data[g0 + k] == want.data[w0 + k];
            }
            if (!same) ++mismatches[t];
          }
        }
        return;
      }
      TextSearcher s(m);
      std::vector<ScoredLabel> out;
      for (int round = 0; round < 2; ++round) {
        for (std::size_t k = 0; k < q.size(); ++k) {
          const std::size_t i = (k + static_cast<std::size_t>(t) * 11) % q.size();
          s.Search(q[i], po, &out);
          bool same = static_cast<Offset>(out.size()) == want.indptr[i + 1] - want.indptr[i];
          for (std::size_t r = 0; same && r < out.size(); ++r) {
            same = out[r].label == want.indices[want.indptr[i] + static_cast<Offset>(r)] &&
                   out[r].score == want.data[want.indptr[i] + static_cast<Offset>(r)];
          }
          if (!same) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

// ----- QAC --------------------------------------------------------------------------------------

struct QacFixture {
  QacDataset data;
  QacModel model;
};

const QacFixture& SharedQac() {
  static const QacFixture f = [] {
    QacFixture q;
    QacDataOptions o;
    o.pair_rule = PairRule::kDistinct;
    o.skip_header = false;
    o.train_fraction = 0.8;
    q.data = BuildQacDataset(testing_util::SyntheticQacLog(250, 5), o);
    QacModelOptions mo;
    mo.kmeans.nr_splits = 2;
    mo.kmeans.max_leaf_size = 4;
    mo.hybrid.trie_depth = 1;
    mo.hybrid.kmeans = mo.kmeans;
    q.model = QacModel::Train(q.data, mo, Cpu(2));
    return q;
  }();
  return f;
}

TEST(QacModelConcurrency, CompleteAllIsTheSameForAnyThreadCount) {
  const QacFixture& f = SharedQac();
  ASSERT_GT(f.data.test.size(), 50);
  const PredictOptions po = DefaultPredictOptions(f.model.model());
  std::vector<std::vector<float>> s1;
  const auto r1 = f.model.CompleteAll(f.data.test, po, Cpu(1), &s1);
  const CsrMatrix x1 = f.model.Featurize(f.data.test, Cpu(1));
  for (int t : {2, 3, kThreads, 0}) {
    SCOPED_TRACE(t);
    std::vector<std::vector<float>> st;
    EXPECT_EQ(f.model.CompleteAll(f.data.test, po, Cpu(t), &st), r1);
    EXPECT_EQ(st, s1);
    ExpectCsrEq(f.model.Featurize(f.data.test, Cpu(t)), x1);
  }
}

TEST(QacModelConcurrency, SixteenSearchersShareOneModel) {
  const QacFixture& f = SharedQac();
  const QacSplit& test = f.data.test;
  const PredictOptions po = DefaultPredictOptions(f.model.model());
  std::vector<std::vector<float>> want_scores;
  const auto want = f.model.CompleteAll(test, po, Cpu(1), &want_scores);
  const CsrMatrix want_x = f.model.Featurize(test, Cpu(1));
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      QacSearcher s(f.model);
      std::vector<ScoredLabel> out;
      std::vector<Index> idx;
      std::vector<float> val;
      for (std::int64_t k = 0; k < test.size(); ++k) {
        const std::int64_t i = (k + t * 13) % test.size();
        s.Complete(test.prev(i), test.prefix(i), po, &out);
        bool same = out.size() == want[i].size();
        for (std::size_t r = 0; same && r < out.size(); ++r) {
          same = out[r].label == want[i][r] && out[r].score == want_scores[i][r];
        }
        // The model's own const featurisation, interleaved with the other threads' searches.
        if (k % 5 == 0) {
          f.model.Featurize(test.prev(i), test.prefix(i), &idx, &val);
          const SparseVecView row = want_x.view().row(static_cast<Index>(i));
          same = same && idx == std::vector<Index>(row.indices, row.indices + row.nnz) &&
                 val == std::vector<float>(row.data, row.data + row.nnz);
        }
        if (!same) ++mismatches[t];
      }
    });
  }
  for (std::thread& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace xmr
