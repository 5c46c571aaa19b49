// Prefix-tree indexers for query auto-completion (xr-linear.md section 8): TrieIndexer, a
// character trie of the label strings, and HybridIndexer, a shallow trie with balanced 2-means
// (the existing HierarchicalKMeans, unchanged) inside each of its deepest nodes.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.h"       // for Log, StrFormat, Timer
#include "core/parallel.h"  // for ParallelFor, NumWorkers
#include "core/utf8.h"      // for FirstInvalidUtf8
#include "xmr/error.h"
#include "xmr/indexer.h"

namespace xmr {
namespace {

// Length of the UTF-8 sequence that starts with byte c (the string is known to be valid).
std::size_t SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  return 4;
}

// The trie levels of a label set: parents of levels 0..depth-1 and each label's node of level
// depth-1.
struct TrieLevels {
  std::vector<std::vector<Index>> parents;
  std::vector<Index> node_of_label;
};

TrieLevels BuildTrie(const std::vector<std::string>& labels, int depth) {
  XMR_EXPECTS(!labels.empty(), ErrorCode::kInvalidArgument, "trie indexer: no labels");
  XMR_EXPECTS(labels.size() <= static_cast<std::size_t>(std::numeric_limits<Index>::max()),
              ErrorCode::kInvalidArgument,
              StrFormat("trie indexer: %zu labels exceed the label id range", labels.size()));
  const Index n = static_cast<Index>(labels.size());
  for (Index l = 0; l < n; ++l) {
    const std::size_t bad = FirstInvalidUtf8(labels[l]);
    XMR_EXPECTS(bad == std::string_view::npos, ErrorCode::kInvalidArgument,
                StrFormat("trie indexer: label %d is not valid UTF-8 (byte %zu)", l, bad));
  }
  std::vector<Index> order(static_cast<std::size_t>(n));
  for (Index l = 0; l < n; ++l) order[l] = l;
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return labels[a] < labels[b]; });
  for (Index k = 1; k < n; ++k) {
    XMR_EXPECTS(
        labels[order[k - 1]] != labels[order[k]], ErrorCode::kInvalidArgument,
        StrFormat("trie indexer: labels %d and %d are equal ('%s'); labels must be distinct",
                  std::min(order[k - 1], order[k]), std::max(order[k - 1], order[k]),
                  labels[order[k]].c_str()));
  }
  // For valid UTF-8, cutting two strings after j code points keeps their order (ties allowed),
  // so in sorted label order every level's keys are non-decreasing and equal keys are adjacent.
  TrieLevels trie;
  trie.parents.resize(static_cast<std::size_t>(depth));
  std::vector<std::size_t> cut(static_cast<std::size_t>(n), 0);
  std::vector<Index> node(static_cast<std::size_t>(n), 0);  // node of order[k], previous level
  for (int j = 0; j < depth; ++j) {
    std::vector<Index>& parents = trie.parents[j];
    std::string_view prev_key;
    for (Index k = 0; k < n; ++k) {
      const std::string& s = labels[order[k]];
      if (cut[k] < s.size()) cut[k] += SequenceLength(static_cast<unsigned char>(s[cut[k]]));
      const std::string_view key(s.data(), cut[k]);  // the whole label once it is shorter
      if (k == 0 || key != prev_key) parents.push_back(j == 0 ? 0 : node[k]);
      node[k] = static_cast<Index>(parents.size()) - 1;
      prev_key = key;
    }
  }
  trie.node_of_label.resize(static_cast<std::size_t>(n));
  for (Index k = 0; k < n; ++k) trie.node_of_label[order[k]] = node[k];
  return trie;
}

std::string ShapeString(const ClusterChain& chain) {
  std::string shape;
  for (int t = 0; t < chain.depth(); ++t) {
    shape += StrFormat("%s%dx%d", t ? ", " : "", chain.n_nodes(t), chain.n_parents(t));
  }
  return shape;
}

// Copies the rows `members` of `emb` with columns renumbered 0..m-1 in increasing order of the
// original ids (m = features the rows use). The renumbering is monotone, so entries keep their
// order within rows and every k-means sum, dot product and norm is formed in the same order as
// on the original columns: the tree is bit-identical, but scratch is O(m), not O(D).
// `col_map` (D entries, all -1) is per-worker scratch, restored before returning.
CsrMatrix CompactRows(const CsrView& emb, const std::vector<Index>& members,
                      std::vector<Index>* col_map) {
  std::vector<Index>& map = *col_map;
  std::vector<Index> used;
  Offset nnz = 0;
  for (const Index l : members) {
    const SparseVecView r = emb.row(l);
    nnz += r.nnz;
    for (Index p = 0; p < r.nnz; ++p) {
      if (map[r.indices[p]] < 0) {
        map[r.indices[p]] = 0;
        used.push_back(r.indices[p]);
      }
    }
  }
  std::sort(used.begin(), used.end());
  for (std::size_t q = 0; q < used.size(); ++q) map[used[q]] = static_cast<Index>(q);
  CsrMatrix sub;
  sub.rows = static_cast<Index>(members.size());
  sub.cols = std::max<Index>(1, static_cast<Index>(used.size()));
  sub.indptr.reserve(members.size() + 1);
  sub.indices.reserve(static_cast<std::size_t>(nnz));
  sub.data.reserve(static_cast<std::size_t>(nnz));
  for (const Index l : members) {
    const SparseVecView r = emb.row(l);
    for (Index p = 0; p < r.nnz; ++p) sub.indices.push_back(map[r.indices[p]]);
    sub.data.insert(sub.data.end(), r.data, r.data + r.nnz);
    sub.indptr.push_back(static_cast<Offset>(sub.indices.size()));
  }
  for (const Index j : used) map[j] = -1;
  return sub;
}

}  // namespace

void TrieIndexerOptions::Validate() const {
  XMR_EXPECTS(depth >= 1, ErrorCode::kInvalidArgument,
              StrFormat("trie depth must be >= 1, got %d", depth));
}

void HybridIndexerOptions::Validate() const {
  XMR_EXPECTS(trie_depth >= 1, ErrorCode::kInvalidArgument,
              StrFormat("trie_depth must be >= 1, got %d", trie_depth));
  kmeans.Validate();
}

ClusterChain TrieIndexer(const std::vector<std::string>& labels, const TrieIndexerOptions& opts) {
  opts.Validate();
  TrieLevels trie = BuildTrie(labels, opts.depth);
  ClusterChain chain;
  chain.parents = std::move(trie.parents);
  chain.parents.push_back(std::move(trie.node_of_label));
  return chain;
}

LabelRange PrefixRange(const std::vector<std::string>& sorted_labels, std::string_view prefix) {
  // Labels starting with `prefix` are >= prefix and, among those, come before every other
  // label, so they form one block starting at lower_bound(prefix).
  const auto lo = std::lower_bound(
      sorted_labels.begin(), sorted_labels.end(), prefix,
      [](const std::string& s, std::string_view p) { return std::string_view(s) < p; });
  const auto hi = std::partition_point(lo, sorted_labels.end(), [&](const std::string& s) {
    return std::string_view(s).substr(0, prefix.size()) == prefix;
  });
  return {static_cast<Index>(lo - sorted_labels.begin()),
          static_cast<Index>(hi - sorted_labels.begin())};
}

ClusterChain HybridIndexer(const std::vector<std::string>& labels, const CsrView& emb,
                           const HybridIndexerOptions& opts, const Context& ctx) {
  opts.Validate();
  XMR_EXPECTS(static_cast<std::size_t>(emb.rows) == labels.size(), ErrorCode::kInvalidArgument,
              StrFormat("hybrid indexer: %zu labels but the embedding matrix has %d rows",
                        labels.size(), emb.rows));
  const Timer timer;
  TrieLevels trie = BuildTrie(labels, opts.trie_depth);
  Validate(emb, "label embedding");
  const Index n_labels = emb.rows;
  const Index n_groups = static_cast<Index>(trie.parents.back().size());
  std::vector<std::vector<Index>> members(static_cast<std::size_t>(n_groups));
  for (Index l = 0; l < n_labels; ++l) members[trie.node_of_label[l]].push_back(l);

  // Groups that need k-means; a group's share of the nonzeros decides whether it runs alone
  // with all threads (it would be the long pole) or on one thread beside others. Either way
  // HierarchicalKMeans gives the same tree, so the split does not change the result.
  const int threads = ctx.NumThreads();
  const Offset total_nnz = emb.indptr[n_labels] - emb.indptr[0];
  std::vector<Index> large, small;
  for (Index g = 0; g < n_groups; ++g) {
    const Index n = static_cast<Index>(members[g].size());
    if (n <= opts.kmeans.max_leaf_size) continue;
    Offset nnz = 0;
    for (const Index l : members[g]) nnz += emb.indptr[l + 1] - emb.indptr[l];
    (threads > 1 && nnz * threads <= total_nnz ? small : large).push_back(g);
  }
  std::vector<ClusterChain> sub(static_cast<std::size_t>(n_groups));
  const int workers = std::max(1, NumWorkers(static_cast<std::int64_t>(small.size()), threads));
  std::vector<std::vector<Index>> col_map(static_cast<std::size_t>(workers));
  auto cluster = [&](Index g, int worker, int inner_threads) {
    std::vector<Index>& map = col_map[worker];
    if (map.empty()) map.assign(static_cast<std::size_t>(emb.cols), -1);
    const CsrMatrix rows = CompactRows(emb, members[g], &map);
    Context inner = ctx;
    inner.threads = inner_threads;
    inner.verbose = 0;  // one summary line below instead of one per trie node
    try {
      sub[g] = HierarchicalKMeans(rows.view(), opts.kmeans, inner);
    } catch (const Error& e) {
      throw Error(e.code(), StrFormat("hybrid indexer: trie node %d (%d labels, from label %d): "
                                      "%s",
                                      g, static_cast<Index>(members[g].size()), members[g][0],
                                      e.message().c_str()));
    }
  };
  for (const Index g : large) cluster(g, 0, threads);
  ParallelFor(static_cast<std::int64_t>(small.size()), threads,
              [&](std::int64_t t, int w) { cluster(small[t], w, 1); });
  col_map.clear();

  // Levels below the trie: K = the deepest subtree (labels included, 1 for a flat group).
  // A shallower subtree hangs below single-child padding nodes under its trie node.
  const auto levels_of = [&](Index g) { return sub[g].depth() == 0 ? 1 : sub[g].depth(); };
  int k_max = 1;
  for (Index g = 0; g < n_groups; ++g) k_max = std::max(k_max, levels_of(g));
  ClusterChain chain;
  chain.parents = std::move(trie.parents);
  // base[g]: id of the first node of group g on the level built last (initially its trie node).
  std::vector<Index> base(static_cast<std::size_t>(n_groups));
  for (Index g = 0; g < n_groups; ++g) base[g] = g;
  for (int r = 0; r + 1 < k_max; ++r) {
    std::vector<Index> level;
    for (Index g = 0; g < n_groups; ++g) {
      const Index first = static_cast<Index>(level.size());
      const int s = r - (k_max - levels_of(g));  // level of g's own subtree, < 0 = padding
      if (s < 0) {
        level.push_back(base[g]);
      } else {
        for (const Index p : sub[g].parents[s]) level.push_back(base[g] + p);
      }
      base[g] = first;
    }
    chain.parents.push_back(std::move(level));
  }
  std::vector<Index> leaf(static_cast<std::size_t>(n_labels));
  for (Index g = 0; g < n_groups; ++g) {
    const std::vector<Index>& m = members[g];
    for (std::size_t k = 0; k < m.size(); ++k) {
      leaf[m[k]] = base[g] + (sub[g].depth() == 0 ? 0 : sub[g].parents.back()[k]);
    }
  }
  chain.parents.push_back(std::move(leaf));
  Log(ctx,
      StrFormat("hybrid indexer: %d labels, trie depth %d (%d nodes), k-means in %zu of them, "
                "chain [%s] (%.3fs)",
                n_labels, opts.trie_depth, n_groups, large.size() + small.size(),
                ShapeString(chain).c_str(), timer.Seconds()),
      2);
  return chain;
}

}  // namespace xmr
