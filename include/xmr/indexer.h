// Indexing: label embeddings and the hierarchical label tree (XR-Linear stage 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xmr/context.h"
#include "xmr/sparse.h"

namespace xmr {

/// A label tree as a chain of levels, root excluded. Level t (t = 0..depth-1) has
/// n_nodes(t) nodes; parents[t][j] is the parent of node j of level t among the nodes of level
/// t-1 (for t = 0 the single root, so every entry is 0). The last level's nodes are the labels.
/// Equivalent to PECOS's cluster chain of C matrices (C_t = parents[t] as a one-hot
/// n_nodes(t) x n_nodes(t-1) matrix).
struct ClusterChain {
  std::vector<std::vector<Index>> parents;

  int depth() const { return static_cast<int>(parents.size()); }
  Index n_nodes(int t) const { return static_cast<Index>(parents[t].size()); }
  /// Number of parents of level t (1 for t = 0).
  Index n_parents(int t) const { return t == 0 ? 1 : n_nodes(t - 1); }
  Index n_labels() const { return parents.empty() ? 0 : n_nodes(depth() - 1); }
  /// Checks every parent id is in range and every non-leaf node has at least one child.
  /// @throws Error(kInvalidArgument).
  void Validate() const;
  /// A single-level chain: all `n_labels` labels under the root (flat one-vs-rest).
  static ClusterChain Flat(Index n_labels);
};

/// Options of the balanced hierarchical spherical k-means indexer (PECOS defaults).
struct IndexerOptions {
  /// Branching factor of the collapsed tree: a power of two >= 2 (2, 4, 8, 16, ...), so that
  /// every group of nr_splits consecutive leaf clusters is a subtree of the binary 2-means tree.
  /// (PECOS accepts any value and then groups clusters across subtrees; xmr rejects it.)
  int nr_splits = 16;
  /// Largest leaf cluster (>= 1); leaves hold between max_leaf_size/2 and max_leaf_size labels.
  int max_leaf_size = 100;
  /// Iterations of each 2-means split (>= 1).
  int kmeans_max_iter = 20;
  /// Spherical k-means (centers normalised); false = plain means.
  bool spherical = true;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

/// PIFA label embeddings: Z = normalize_rows(Yn^T X) where Yn is Y with each row L2-normalised.
/// x: n x d CSR, y: n x L CSR (pattern and values used as given). Returns L x d CSR; a label
/// with no positive instance gets an all-zero row. Deterministic for any thread count.
/// Work O(sum_i nnz(x_i) * nnz(y_i)); extra memory O(nnz(y) + threads * D) beside the result.
/// @throws Error(kInvalidArgument) if x.rows != y.rows; Error(kCorruption) if x or y break the
///         CSR invariants (see Validate).
CsrMatrix PifaEmbedding(const CsrView& x, const CsrView& y, const Context& ctx = {});

/// How label embeddings for the indexer are built (PECOS LabelEmbeddingFactory; xr-linear.md
/// section 2). The LF kinds combine PIFA with label features Z (L x d_z, one row per label).
enum class LabelEmbeddingKind {
  kPifa,                 ///< PIFA only (default; PECOS "pifa")
  kPifaLfConcat,         ///< [PIFA | Z]: Z's d_z columns appended after PIFA's d columns
  kPifaLfConvexCombine,  ///< alpha * PIFA + (1 - alpha) * Z (Z must have d columns)
};
/// "pifa" | "pifa_lf_concat" | "pifa_lf_convex_combine" (case-insensitive, '-' accepted for
/// '_').
/// @throws Error(kInvalidArgument) listing the valid names.
LabelEmbeddingKind ParseLabelEmbeddingKind(const std::string& name);
/// The canonical name ("pifa", "pifa_lf_concat", "pifa_lf_convex_combine"); "?" if out of range.
const char* LabelEmbeddingKindName(LabelEmbeddingKind kind) noexcept;

/// Options of LabelEmbedding (and of the indexing step of TrainWithLabelFeatures).
struct LabelEmbeddingOptions {
  /// Which embedding to build; the LF kinds need label features.
  LabelEmbeddingKind kind = LabelEmbeddingKind::kPifa;
  /// Weight of PIFA in kPifaLfConvexCombine, in [0, 1] (NaN rejected); checked but unused by
  /// the other kinds.
  float alpha = 0.5f;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

/// Label embeddings for the indexer: PIFA of (x, y), optionally combined with label features
/// z (L x d_z CSR, one row per label, e.g. the TF-IDF of each label's own text; used as given,
/// like PECOS: callers normally L2-normalise its rows). As PECOS, neither combination is
/// re-normalised. z may be null only for kPifa; with kPifa a given z is checked (rows, CSR
/// invariants) and otherwise unused, and the result is exactly PifaEmbedding(x, y).
///  * kPifaLfConcat: L x (d + d_z), row l = [pifa_l | z_l]; stored entries of z are kept as is.
///  * kPifaLfConvexCombine: L x d, the sparse sum alpha * pifa_l + (1 - alpha) * z_l, computed in
///    double and rounded once to float; entries that come out exactly 0 are not stored (as
///    scipy's sparse sum), so alpha = 1 gives PIFA and alpha = 0 gives z without its zeros.
/// Rows of the result have sorted indices. Deterministic for any thread count; the combination
/// is O(nnz(pifa) + nnz(z)) work, split over ctx.NumThreads() threads by label.
/// @throws Error(kInvalidArgument) if z is missing for an LF kind, z.rows != y.cols, z.cols !=
///         x.cols for kPifaLfConvexCombine, d + d_z overflows Index for kPifaLfConcat, or bad
///         options; Error(kCorruption) if x, y or z break the CSR invariants (see Validate).
CsrMatrix LabelEmbedding(const CsrView& x, const CsrView& y, const CsrView* z,
                         const LabelEmbeddingOptions& opts, const Context& ctx = {});

/// Balanced hierarchical 2-means on the rows of `emb` (one row per label), with median splits,
/// collapsed into nr_splits-ary levels as PECOS does. Seeded by ctx.seed; the result is the same
/// for any ctx.threads. Labels with all-zero embeddings are placed like any other (ties broken by
/// label id). With n_labels <= max_leaf_size the result is ClusterChain::Flat.
/// The binary depth is d = max(1, ceil(log2(n_labels / max_leaf_size))); there are 2^d leaf
/// clusters of floor or ceil(n_labels / 2^d) labels, numbered left to right, so every aligned
/// block of nr_splits consecutive leaf ids shares one parent. Extra memory: O(n_labels + D) plus,
/// per thread, O(D) and a copy of at most 4M nonzeros of `emb` (never nodes x D).
/// @throws Error(kInvalidArgument) on bad options, an empty embedding matrix, or when
///         2^d > n_labels (max_leaf_size too small, e.g. 1 with 3 labels);
///         Error(kCorruption) if `emb` breaks the CSR invariants (see Validate).
ClusterChain HierarchicalKMeans(const CsrView& emb, const IndexerOptions& opts,
                                const Context& ctx = {});

}  // namespace xmr
