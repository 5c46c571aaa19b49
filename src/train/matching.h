// Per-level targets Y_t and matching matrices M_t (negative sampling), PECOS semantics
// (HierarchicalMLModel.train): Y_{T-1} = Y, Y_t = binarise(Y_{t+1} C_{t+1});
// M_0 = all ones (n x 1); tfn: M_t = Y_{t-1}; man: M_t = the beam prediction P_{t-1} of the
// model made of levels 0..t-1; tfn+man: the union of both patterns.
#pragma once

#include <vector>

#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {
namespace detail {

/// Y_t for every level t of `chain` as CSR n x chain.n_nodes(t) with values 1 and sorted,
/// duplicate-free rows: result[T-1] is the pattern of y, result[t] maps each label of row i of
/// result[t+1] to its parent. Uses up to `threads` threads; deterministic.
/// @throws Error(kInvalidArgument) if y.cols != chain.n_labels() or a label id is out of range.
std::vector<CsrMatrix> BuildLevelTargets(const CsrView& y, const ClusterChain& chain, int threads);

/// The root level's matching: an n x 1 CSC matrix of ones (every instance is a candidate).
CscMatrix AllInstancesColumn(Index n);

/// The pattern of `a` with every row sorted and deduplicated, values 1. Accepts rows whose
/// indices are not sorted (such as Predict's output, ordered by score).
CsrMatrix BinarizeRows(const CsrView& a);

/// Union of the patterns of a and b (same shape; rows sorted and duplicate-free), values 1.
/// @throws Error(kInvalidArgument) on a shape mismatch.
CsrMatrix PatternUnion(const CsrView& a, const CsrView& b);

}  // namespace detail
}  // namespace xmr
