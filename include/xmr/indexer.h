// Indexing: label embeddings and the hierarchical label tree (XR-Linear stage 1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

// ----- Prefix trees over label strings (query auto-completion; xr-linear.md section 8) --------
//
// For QAC the labels are whole query strings and the input is (previous query, typed prefix).
// A k-means tree scatters the completions of one prefix over many clusters; a character trie
// keeps them together (Yadav et al., "Session-aware query auto-completion using extreme
// multi-label ranking", KDD 2021). Trie nodes count UTF-8 code points, never bytes; node order
// is the bytewise order of the prefixes (for UTF-8 the same as code-point order).

/// Options of TrieIndexer.
struct TrieIndexerOptions {
  /// Trie levels above the labels (>= 1): level j holds the prefixes of j+1 code points, so the
  /// chain has depth + 1 levels.
  int depth = 3;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

/// A character trie of the label strings as a ClusterChain of opts.depth + 1 levels.
///  * Level j (j = 0..depth-1): one node per distinct prefix of j+1 code points of the labels.
///    A label shorter than j+1 code points continues as a single-child chain: it owns one node
///    at each deeper trie level, keyed by its whole string (the "end mark"), which sorts before
///    every longer string with that prefix ("ab" < "abc"). Node ids follow the bytewise
///    lexicographic order of the keys, and parents[j] is non-decreasing.
///  * Last level: the labels, label id = index in `labels` (any order); parents map each label
///    to its node of level depth-1 (its prefix of `depth` code points, or itself if shorter).
///    Everything below that prefix is one flat leaf cluster.
/// If `labels` is sorted bytewise (std::string's operator<), label ids follow the node order at
/// every level, so every node's labels form a contiguous id range, and the range of a prefix
/// is PrefixRange(labels, prefix). Deterministic; single-threaded: one sort of the labels
/// (O(L log L) string comparisons), then O(depth) comparisons of prefixes per label. Memory:
/// O(L * depth) for the result. `labels` is not retained. Reentrant.
/// @throws Error(kInvalidArgument) if labels is empty, two labels are equal (naming both ids),
///         a label is not valid UTF-8 (naming it and the byte offset), or on bad options.
ClusterChain TrieIndexer(const std::vector<std::string>& labels, const TrieIndexerOptions& opts);

/// A half-open range [lo, hi) of label ids.
struct LabelRange {
  Index lo = 0;
  Index hi = 0;
  Index size() const { return hi - lo; }
  bool empty() const { return hi <= lo; }
};

/// The ids of the labels that start with `prefix` (bytewise; an empty prefix matches all) in a
/// bytewise-sorted label list: [lo, hi), empty (lo == hi, at the insertion point) if none
/// matches. O(|prefix| log L). Precondition, not checked: sorted_labels is sorted by
/// std::string's operator< (as for TrieIndexer's contiguous ranges). Thread-safe, no throw.
LabelRange PrefixRange(const std::vector<std::string>& sorted_labels, std::string_view prefix);

/// Options of HybridIndexer.
struct HybridIndexerOptions {
  /// Trie levels on top (>= 1), as TrieIndexerOptions::depth. The default 2 sends every typed
  /// prefix of >= 2 code points down exactly one path of trie nodes, while keeping the trie
  /// shallow: for Latin-script query logs the first two characters make a few hundred to a few
  /// thousand groups (at most ~40^2), each then split by k-means. With 1, k-means clusters under a
  /// first letter mix the second letters, so a 2-character prefix is scattered over many clusters;
  /// with 3 or more most groups fall below max_leaf_size and the tree degenerates into a deep trie
  /// padded with single-child chains (slow to train and to search).
  int trie_depth = 2;
  /// The k-means inside each trie node (nr_splits, max_leaf_size, kmeans_max_iter, spherical).
  IndexerOptions kmeans;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

/// Trie on top, balanced hierarchical 2-means below (xr-linear.md section 8, "HybridIndexer").
/// labels: L distinct valid UTF-8 strings (label id = index, any order); emb: L x D CSR label
/// embeddings (row l for label l, e.g. position-weighted char TF-IDF of the label strings), not
/// retained.
///  * Levels 0..trie_depth-1 are exactly TrieIndexer(labels, {trie_depth})'s trie levels.
///  * Below each node v of level trie_depth-1: the chain of
///    HierarchicalKMeans(rows of emb for v's labels in ascending id order, opts.kmeans, ctx)
///    (ctx.seed for every node), i.e. flat when v has <= max_leaf_size labels, else leaves of
///    max_leaf_size/2..max_leaf_size labels grouped nr_splits-ary. These subtrees have
///    K_v >= 1 levels (labels included); the chain has trie_depth + max_v K_v levels.
///  * Padding: every label must sit at the same depth, so a subtree with K_v < max K_v hangs
///    below a chain of (max K_v - K_v) single-child nodes directly under its trie node (the
///    trie node is repeated; the k-means levels stay next to the labels).
///  * Node order: k-means / padding nodes are numbered by trie node first, then by their order
///    in the subtree, so parents[t] is non-decreasing for every t < depth - 1.
/// If every node of level trie_depth-1 has <= max_leaf_size labels, the result equals
/// TrieIndexer(labels, {trie_depth}). With sorted labels the trie nodes' labels are contiguous
/// id ranges; the k-means nodes' are not.
/// Deterministic for a given ctx.seed, whatever ctx.threads: trie nodes run in parallel (one
/// thread each) and very large ones one at a time with all threads. Extra memory: O(L) plus,
/// per worker, D ints and one copy of a trie node's rows (columns renumbered to the features
/// they use, which keeps every k-means sum in the same order: bit-identical trees). Reentrant.
/// @throws Error(kInvalidArgument) on bad options, emb.rows != labels.size(), the label errors
///         of TrieIndexer, or (as HierarchicalKMeans) a trie node too large for a balanced tree
///         with this max_leaf_size (only possible with max_leaf_size = 1);
///         Error(kCorruption) if `emb` breaks the CSR invariants (see Validate).
ClusterChain HybridIndexer(const std::vector<std::string>& labels, const CsrView& emb,
                           const HybridIndexerOptions& opts, const Context& ctx = {});

}  // namespace xmr
