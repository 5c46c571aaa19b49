#include "xmr/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "xmr/error.h"

namespace xmr {

RankingMetrics Evaluate(const CsrView& pred, const CsrView& truth, int max_k) {
  XMR_EXPECTS(max_k >= 1, ErrorCode::kInvalidArgument,
              "Evaluate: max_k must be >= 1, got " + std::to_string(max_k));
  XMR_EXPECTS(pred.rows == truth.rows, ErrorCode::kInvalidArgument,
              "Evaluate: predictions have " + std::to_string(pred.rows) +
                  " rows but the truth has " + std::to_string(truth.rows));
  RankingMetrics m;
  m.max_k = max_k;
  m.n_rows = truth.rows;
  m.precision.assign(max_k, 0.0);
  m.recall.assign(max_k, 0.0);
  m.ndcg.assign(max_k, 0.0);
  m.mrr.assign(max_k, 0.0);
  if (truth.rows == 0) return m;
  std::vector<double> discount(max_k);
  for (int r = 0; r < max_k; ++r) discount[r] = 1.0 / std::log2(r + 2.0);
  std::vector<double> hits(max_k);
  for (Index i = 0; i < truth.rows; ++i) {
    const SparseVecView t = truth.row(i);
    if (t.nnz == 0) continue;
    const SparseVecView p = pred.row(i);
    const int n = std::min<int>(p.nnz, max_k);
    double cum_hits = 0, dcg = 0, idcg = 0, rr = 0;
    for (int r = 0; r < max_k; ++r) {
      if (r < n && std::binary_search(t.indices, t.indices + t.nnz, p.indices[r])) {
        cum_hits += 1;
        dcg += discount[r];
        if (rr == 0) rr = 1.0 / (r + 1);
      }
      if (r < t.nnz) idcg += discount[r];
      m.precision[r] += cum_hits / (r + 1);
      m.recall[r] += cum_hits / t.nnz;
      m.ndcg[r] += dcg / idcg;
      m.mrr[r] += rr;
    }
  }
  const double scale = 100.0 / truth.rows;
  for (int r = 0; r < max_k; ++r) {
    m.precision[r] *= scale;
    m.recall[r] *= scale;
    m.ndcg[r] *= scale;
    m.mrr[r] *= scale;
  }
  return m;
}

std::string RankingMetrics::Summary() const {
  std::string s;
  char buf[64];
  auto add = [&](const char* name, const std::vector<double>& v, int k) {
    if (k > max_k) return;
    std::snprintf(buf, sizeof(buf), "%s%s@%d %.2f", s.empty() ? "" : " ", name, k, v[k - 1]);
    s += buf;
  };
  add("P", precision, 1);
  add("P", precision, 3);
  add("P", precision, 5);
  add("R", recall, 10);
  add("nDCG", ndcg, 5);
  add("MRR", mrr, 10);
  return s;
}

}  // namespace xmr
