#include "train/prune.h"

#include <algorithm>
#include <cmath>

namespace xmr {

void PruneWeights(const SparseVecView& weights, bool has_bias, float bias_weight, Index bias_row,
                  const PruneRule& rule, std::vector<Index>* rows, std::vector<float>* values,
                  std::vector<Index>* scratch) {
  const float thr = rule.threshold;
  auto keep = [thr](float v) { return v != 0.0f && std::fabs(v) >= thr; };
  const bool bias_ok = has_bias && keep(bias_weight);
  if (rule.max_nonzeros <= 0) {
    for (Index s = 0; s < weights.nnz; ++s) {
      if (keep(weights.data[s])) {
        rows->push_back(weights.indices[s]);
        values->push_back(weights.data[s]);
      }
    }
    if (bias_ok) {
      rows->push_back(bias_row);
      values->push_back(bias_weight);
    }
    return;
  }

  // Positions (into `weights`) of the candidates; positions are in row order, so "smaller
  // position" is "smaller row" for the tie-break.
  std::vector<Index>& cand = *scratch;
  cand.clear();
  for (Index s = 0; s < weights.nnz; ++s) {
    if (keep(weights.data[s])) cand.push_back(s);
  }
  const std::size_t cap = static_cast<std::size_t>(rule.max_nonzeros);
  bool add_bias = bias_ok;
  if (cand.size() >= cap) {
    const float* w = weights.data;
    auto larger = [w](Index a, Index b) {
      const float fa = std::fabs(w[a]), fb = std::fabs(w[b]);
      return fa > fb || (fa == fb && a < b);
    };
    std::nth_element(cand.begin(), cand.begin() + (cap - 1), cand.end(), larger);
    cand.resize(cap);
    // cand[cap - 1] is now the smallest kept entry under `larger`.
    if (add_bias) {
      if (std::fabs(bias_weight) > std::fabs(w[cand.back()])) {
        cand.pop_back();
      } else {
        add_bias = false;
      }
    }
    std::sort(cand.begin(), cand.end());
  }
  for (Index s : cand) {
    rows->push_back(weights.indices[s]);
    values->push_back(weights.data[s]);
  }
  if (add_bias) {
    rows->push_back(bias_row);
    values->push_back(bias_weight);
  }
}

}  // namespace xmr
