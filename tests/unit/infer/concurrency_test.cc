// One loaded model serving single queries from many threads at once must give exactly the
// answers of one thread (the model is immutable and shared; each thread owns its Searcher).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/test_util.h"
#include "xmr/model.h"
#include "xmr/predict.h"

namespace xmr {
namespace {

using testing_util::KeepWithProbability;
using testing_util::RandomCsr;
using testing_util::RandomModel;

TEST(Concurrency, SixteenSearchersShareOneModel) {
  const Index d = 300;
  const XLinearModel model =
      RandomModel(/*seed=*/11, {8, 64, 900}, d, KeepWithProbability({0.3, 0.2, 0.1}));
  const CsrMatrix queries = RandomCsr(400, d, 0.05, /*seed=*/12);
  PredictOptions po;
  po.beam_size = 5;
  po.top_k = 7;

  // Reference: one thread, one Searcher.
  std::vector<std::vector<ScoredLabel>> want(queries.rows);
  {
    Searcher s(model);
    for (Index i = 0; i < queries.rows; ++i) want[i] = s.Search(queries.view().row(i), po);
  }
  for (Index i = 0; i < queries.rows; ++i) ASSERT_EQ(want[i].size(), 7u) << "query " << i;
  constexpr int kThreads = 16;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      Searcher s(model);
      std::vector<ScoredLabel> got;
      // Each thread walks the queries from a different start, several rounds, so that
      // different threads search different queries at the same moment.
      for (int round = 0; round < 3; ++round) {
        for (Index k = 0; k < queries.rows; ++k) {
          const Index i = (k + t * 25) % queries.rows;
          s.Search(queries.view().row(i), po, &got);
          bool same = got.size() == want[i].size();
          for (size_t r = 0; same && r < got.size(); ++r) {
            same = got[r].label == want[i][r].label && got[r].score == want[i][r].score;
          }
          if (!same) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
  // And the batch API agrees with the single-query answers.
  const CsrMatrix batch = Predict(model, queries.view(), po, testing_util::Quiet(4));
  for (Index i = 0; i < queries.rows; ++i) {
    ASSERT_EQ(batch.indptr[i + 1] - batch.indptr[i], static_cast<Offset>(want[i].size()));
    for (size_t r = 0; r < want[i].size(); ++r) {
      EXPECT_EQ(batch.indices[batch.indptr[i] + r], want[i][r].label);
      EXPECT_EQ(batch.data[batch.indptr[i] + r], want[i][r].score);
    }
  }
}

}  // namespace
}  // namespace xmr
