// Ranking metrics of predictions against true labels.
#pragma once

#include <string>
#include <vector>

#include "xmr/sparse.h"

namespace xmr {

/// Metrics at cut-offs 1..max_k, in percent (0..100), averaged over all rows of the truth
/// (a row with no true label contributes 0 to P, R, nDCG and MRR, as PECOS counts it).
///   P@k    = |top-k ∩ truth| / k
///   R@k    = |top-k ∩ truth| / |truth|
///   nDCG@k = DCG@k / IDCG@k, binary gains, log2(rank + 1) discounts
///   MRR@k  = 1 / rank of the first true label within the top-k (0 if none)
struct RankingMetrics {
  int max_k = 0;
  Index n_rows = 0;
  std::vector<double> precision;  ///< precision[k-1] = P@k
  std::vector<double> recall;
  std::vector<double> ndcg;
  std::vector<double> mrr;
  /// One line such as "P@1 63.66 P@3 38.98 P@5 28.66 R@10 ... nDCG@5 ... MRR@10 ...".
  std::string Summary() const;
};

/// pred: n x L, each row's entries in rank order (best first), as Predict() returns them.
/// truth: n x L binary CSR. Rows of pred beyond max_k entries are cut.
/// @throws Error(kInvalidArgument) if the row counts differ or max_k < 1.
RankingMetrics Evaluate(const CsrView& pred, const CsrView& truth, int max_k = 10);

}  // namespace xmr
