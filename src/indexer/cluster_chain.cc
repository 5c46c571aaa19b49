// ClusterChain and IndexerOptions: construction helpers and validation.
#include <cstdint>
#include <utility>
#include <vector>

#include "core/log.h"  // for StrFormat
#include "indexer/kmeans_internal.h"
#include "xmr/error.h"
#include "xmr/indexer.h"

namespace xmr {

void ClusterChain::Validate() const {
  XMR_EXPECTS(depth() >= 1, ErrorCode::kInvalidArgument, "cluster chain has no levels");
  for (int t = 0; t < depth(); ++t) {
    const Index n_par = n_parents(t);
    XMR_EXPECTS(n_nodes(t) >= 1, ErrorCode::kInvalidArgument,
                StrFormat("cluster chain level %d has no nodes", t));
    std::vector<char> has_child(static_cast<std::size_t>(n_par), 0);
    for (Index j = 0; j < n_nodes(t); ++j) {
      const Index p = parents[t][j];
      XMR_EXPECTS(p >= 0 && p < n_par, ErrorCode::kInvalidArgument,
                  StrFormat("cluster chain level %d: node %d has parent %d, expected [0, %d)", t, j,
                            p, n_par));
      has_child[p] = 1;
    }
    for (Index p = 0; p < n_par; ++p) {
      XMR_EXPECTS(
          has_child[p], ErrorCode::kInvalidArgument,
          StrFormat("cluster chain level %d: node %d has no children in level %d", t - 1, p, t));
    }
  }
}

ClusterChain ClusterChain::Flat(Index n_labels) {
  XMR_EXPECTS(n_labels >= 1, ErrorCode::kInvalidArgument,
              StrFormat("ClusterChain::Flat: n_labels must be >= 1, got %d", n_labels));
  ClusterChain chain;
  chain.parents.emplace_back(static_cast<std::size_t>(n_labels), 0);
  return chain;
}

void IndexerOptions::Validate() const {
  // Only powers of two: the tree is binary and compression groups nr_splits consecutive leaf
  // codes, which are whole binary subtrees only when nr_splits = 2^k. (PECOS accepts any value
  // and then groups codes that straddle 2-means subtrees; we reject it instead.)
  XMR_EXPECTS(
      nr_splits >= 2 && (nr_splits & (nr_splits - 1)) == 0, ErrorCode::kInvalidArgument,
      StrFormat("nr_splits must be a power of two >= 2 (2, 4, 8, 16, ...), got %d", nr_splits));
  XMR_EXPECTS(max_leaf_size >= 1, ErrorCode::kInvalidArgument,
              StrFormat("max_leaf_size must be >= 1, got %d", max_leaf_size));
  XMR_EXPECTS(kmeans_max_iter >= 1, ErrorCode::kInvalidArgument,
              StrFormat("kmeans_max_iter must be >= 1, got %d", kmeans_max_iter));
}

namespace detail {

int BinaryDepth(Index n_labels, int max_leaf_size) {
  int d = 1;
  while (static_cast<std::int64_t>(max_leaf_size) << d < static_cast<std::int64_t>(n_labels)) {
    ++d;
  }
  return d;
}

ClusterChain ChainFromLeafCodes(std::vector<Index> codes, Index n_codes, int nr_splits) {
  XMR_CHECK(n_codes >= 1 && nr_splits >= 2);
  std::vector<std::vector<Index>> bottom_up;
  bottom_up.push_back(std::move(codes));
  Index top = n_codes;
  while (top > nr_splits) {
    std::vector<Index> up(static_cast<std::size_t>(top));
    for (Index j = 0; j < top; ++j) up[j] = j / nr_splits;
    bottom_up.push_back(std::move(up));
    top = (top + nr_splits - 1) / nr_splits;
  }
  // The K x 1 root level, as PECOS adds it only when the top has several codes: with a single
  // code the top level already maps everything to 0, i.e. it is the root's child list.
  if (top > 1) bottom_up.emplace_back(static_cast<std::size_t>(top), 0);
  ClusterChain chain;
  chain.parents.assign(std::make_move_iterator(bottom_up.rbegin()),
                       std::make_move_iterator(bottom_up.rend()));
  return chain;
}

}  // namespace detail
}  // namespace xmr
