// Internals of the hierarchical k-means indexer, exposed for unit tests.
#pragma once

#include <cstdint>
#include <vector>

#include "xmr/context.h"
#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {
namespace detail {

/// How the nodes of one level of the binary tree are scheduled. Both schedules give bit-identical
/// trees (sums are always formed in label-id order, norms in feature order), so kAuto may pick
/// by thread count without breaking "same tree for any ctx.threads".
enum class KMeansSchedule {
  kAuto,             ///< node-parallel when the level has >= threads nodes, else feature-parallel
  kNodeParallel,     ///< one node per worker, sparse (touched-feature) center arithmetic
  kFeatureParallel,  ///< one node at a time, inner loops split over elements / feature ranges
};

/// Knobs that do not change the result; tests use them to cover both code paths.
struct KMeansTuning {
  KMeansSchedule schedule = KMeansSchedule::kAuto;
  /// Test hook: if set, resized to 2^depth - 1 and filled (heap order, root first) with a hash
  /// of the bits of every score and center scale of each node, so tests can check that the
  /// kernels agree bit for bit, not just on the final tree.
  std::vector<std::uint64_t>* trace = nullptr;
};

/// PECOS' binary depth: the smallest d >= 1 with n_labels <= max_leaf_size * 2^d, i.e.
/// max(1, ceil(log2(n_labels / max_leaf_size))) computed without floating point.
/// Requires n_labels >= 1, max_leaf_size >= 1.
int BinaryDepth(Index n_labels, int max_leaf_size);

/// Balanced spherical (or plain) 2-means applied recursively `depth` times to the rows of `emb`.
/// Returns the leaf code of every row in [0, 2^depth), leaves numbered left to right. Requires
/// 2^depth <= emb.rows and valid opts.
std::vector<Index> BalancedTwoMeansCodes(const CsrView& emb, int depth, const IndexerOptions& opts,
                                         const Context& ctx, const KMeansTuning& tuning = {});

/// PECOS' tree compression (ClusterChain.from_partial_chain with min_codes = nr_splits): the leaf
/// level maps each label to codes[label] in [0, n_codes); while the top level has more than
/// nr_splits nodes, a level mapping node j to j / nr_splits is put on top; finally the root.
ClusterChain ChainFromLeafCodes(std::vector<Index> codes, Index n_codes, int nr_splits);

/// HierarchicalKMeans with explicit tuning (same result for every tuning).
ClusterChain HierarchicalKMeansTuned(const CsrView& emb, const IndexerOptions& opts,
                                     const Context& ctx, const KMeansTuning& tuning);

}  // namespace detail
}  // namespace xmr
