// Tests of the prefix-tree indexers: TrieIndexer on hand-checked trees (short labels padded,
// UTF-8 code points, unsorted input, errors), PrefixRange, and HybridIndexer (trie levels,
// padding, leaf sizes, bit-identity with HierarchicalKMeans per trie node, thread-count
// independence, equality with the pure trie).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::Quiet;

ClusterChain Trie(const std::vector<std::string>& labels, int depth) {
  TrieIndexerOptions opts;
  opts.depth = depth;
  return TrieIndexer(labels, opts);
}

// The node of `label` at level t (t = depth-1: the label itself).
Index Ancestor(const ClusterChain& c, Index label, int t) {
  Index node = label;
  for (int s = c.depth() - 1; s > t; --s) node = c.parents[s][node];
  return node;
}

TEST(TrieIndexer, HandCheckedTreeWithShortLabelsPadded) {
  // Sorted. Keys per level (padded labels keep their whole string, sorting first):
  //   level 0: a | b
  //   level 1: ab | b, ba              (the label "b" continues as a single child)
  //   level 2: ab, abc, abd | b | ba
  const std::vector<std::string> labels{"ab", "abc", "abd", "b", "ba"};
  const ClusterChain c = Trie(labels, 3);
  ASSERT_NO_THROW(c.Validate());
  ASSERT_EQ(c.depth(), 4);
  EXPECT_EQ(c.parents[0], (std::vector<Index>{0, 0}));
  EXPECT_EQ(c.parents[1], (std::vector<Index>{0, 1, 1}));
  EXPECT_EQ(c.parents[2], (std::vector<Index>{0, 0, 0, 1, 2}));
  EXPECT_EQ(c.parents[3], (std::vector<Index>{0, 1, 2, 3, 4}));
}

TEST(TrieIndexer, UnsortedLabelsKeepTheirIds) {
  // Same trie as above; the label level follows the given order.
  const std::vector<std::string> labels{"ba", "abd", "b", "ab", "abc"};
  const ClusterChain c = Trie(labels, 3);
  EXPECT_EQ(c.parents[0], (std::vector<Index>{0, 0}));
  EXPECT_EQ(c.parents[1], (std::vector<Index>{0, 1, 1}));
  EXPECT_EQ(c.parents[2], (std::vector<Index>{0, 0, 0, 1, 2}));
  EXPECT_EQ(c.parents[3], (std::vector<Index>{4, 2, 3, 0, 1}));
}

TEST(TrieIndexer, DepthOneAndDeeperThanEveryLabel) {
  const std::vector<std::string> labels{"x", "xy", "y"};
  const ClusterChain one = Trie(labels, 1);
  ASSERT_EQ(one.depth(), 2);
  EXPECT_EQ(one.parents[0], (std::vector<Index>{0, 0}));
  EXPECT_EQ(one.parents[1], (std::vector<Index>{0, 0, 1}));
  // Depth 4 > every label: each label ends in its own single-child chain.
  const ClusterChain deep = Trie(labels, 4);
  ASSERT_EQ(deep.depth(), 5);
  EXPECT_EQ(deep.parents[1], (std::vector<Index>{0, 0, 1}));  // x$ xy | y$
  for (int t = 2; t < 5; ++t) EXPECT_EQ(deep.parents[t], (std::vector<Index>{0, 1, 2}));
}

TEST(TrieIndexer, EmptyStringIsALabel) {
  const ClusterChain c = Trie({"", "a", "ab"}, 2);
  EXPECT_EQ(c.parents[0], (std::vector<Index>{0, 0}));     // "" | a
  EXPECT_EQ(c.parents[1], (std::vector<Index>{0, 1, 1}));  // "" | a$, ab
  EXPECT_EQ(c.parents[2], (std::vector<Index>{0, 1, 2}));
}

TEST(TrieIndexer, CountsCodePointsNotBytes) {
  // "é" = C3 A9 and "ê" = C3 AA share their first byte but not their first code point;
  // "€" (E2 82 AC) is one code point of three bytes.
  const std::vector<std::string> labels{"e", "é", "éa", "ê", "€x", "€€"};
  const ClusterChain c = Trie(labels, 2);
  EXPECT_EQ(c.parents[0], (std::vector<Index>(4, 0)));  // e | é | ê | €
  // Level 1: e$ | é$, éa | ê$ | €x, €€   (bytewise: 'x' = 78 < E2)
  EXPECT_EQ(c.parents[1], (std::vector<Index>{0, 1, 1, 2, 3, 3}));
  EXPECT_EQ(c.parents[2], (std::vector<Index>{0, 1, 2, 3, 4, 5}));
}

TEST(TrieIndexer, RejectsBadInput) {
  ExpectError(
      [] {
        Trie({"ab", "b", "ab"}, 2);
      },
      ErrorCode::kInvalidArgument, {"labels 0 and 2 are equal", "distinct"});
  ExpectError(
      [] {
        Trie({"ok", "bad\xC3("}, 2);
      },
      ErrorCode::kInvalidArgument, {"label 1", "UTF-8", "byte 3"});
  ExpectError([] { Trie({}, 2); }, ErrorCode::kInvalidArgument, {"no labels"});
  ExpectError([] { Trie({"a"}, 0); }, ErrorCode::kInvalidArgument, {"depth", ">= 1"});
}

// Labels over a small alphabet (with a two-byte and a three-byte code point), distinct, sorted.
std::vector<std::string> RandomLabels(std::size_t n, int max_len, unsigned seed) {
  const std::vector<std::string> alphabet{"a", "b", "c", "d", " ", "é", "€"};
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> len(1, max_len);
  std::discrete_distribution<int> pick({30, 20, 15, 10, 5, 5, 3});
  std::set<std::string> out;
  while (out.size() < n) {
    std::string s;
    for (int k = len(rng); k > 0; --k) s += alphabet[pick(rng)];
    out.insert(s);
  }
  return {out.begin(), out.end()};
}

TEST(TrieIndexer, SortedLabelsGiveContiguousNodeRangesEqualToPrefixRanges) {
  const std::vector<std::string> labels = RandomLabels(500, 6, 3);
  const ClusterChain c = Trie(labels, 3);
  ASSERT_NO_THROW(c.Validate());
  for (int t = 0; t + 1 < c.depth(); ++t) {
    EXPECT_TRUE(std::is_sorted(c.parents[t].begin(), c.parents[t].end())) << "level " << t;
    std::map<Index, LabelRange> range;  // node -> [first label, last label + 1)
    for (Index l = 0; l < c.n_labels(); ++l) {
      const Index node = Ancestor(c, l, t);
      auto [it, fresh] = range.emplace(node, LabelRange{l, l + 1});
      if (!fresh) {
        EXPECT_EQ(it->second.hi, l) << "node " << node << " of level " << t << " not contiguous";
        it->second.hi = l + 1;
      }
    }
    EXPECT_EQ(static_cast<Index>(range.size()), c.n_nodes(t));
    // A node whose key is a real prefix (t+1 code points) holds exactly the labels with it.
    for (const auto& [node, r] : range) {
      const std::string& s = labels[r.lo];
      std::size_t cut = 0;
      int cps = 0;
      while (cut < s.size() && cps < t + 1) {
        ++cut;
        while (cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) ++cut;
        ++cps;
      }
      if (cps < t + 1) {
        EXPECT_EQ(r.size(), 1);  // a padded label
        continue;
      }
      const LabelRange p = PrefixRange(labels, s.substr(0, cut));
      EXPECT_EQ(p.lo, r.lo) << s.substr(0, cut);
      EXPECT_EQ(p.hi, r.hi) << s.substr(0, cut);
    }
  }
}

TEST(PrefixRange, MatchesLinearScan) {
  const std::vector<std::string> labels{"", "a", "ab", "abc", "abd", "b", "ba", "é", "éa"};
  const auto check = [&](const std::string& prefix, Index lo, Index hi) {
    const LabelRange r = PrefixRange(labels, prefix);
    EXPECT_EQ(r.lo, lo) << "'" << prefix << "'";
    EXPECT_EQ(r.hi, hi) << "'" << prefix << "'";
  };
  check("", 0, 9);  // the empty prefix matches every label
  check("a", 1, 5);
  check("ab", 2, 5);
  check("abc", 3, 4);
  check("abcd", 4, 4);  // no match: empty at the insertion point
  check("b", 5, 7);
  check("c", 7, 7);
  check("é", 7, 9);
  check("\xC3", 7, 9);  // bytewise
  check("zz", 7, 7);    // 'z' < the lead byte of "é"
  check("\xF4", 9, 9);
  check("0", 1, 1);
  const LabelRange none = PrefixRange({}, "a");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.lo, 0);
  // Against a linear scan on random labels and all their prefixes.
  const std::vector<std::string> many = RandomLabels(300, 5, 9);
  for (const std::string& s : many) {
    for (std::size_t n = 0; n <= s.size(); ++n) {
      const std::string p = s.substr(0, n);
      const LabelRange r = PrefixRange(many, p);
      Index count = 0;
      for (const std::string& t : many) count += t.compare(0, p.size(), p) == 0;
      ASSERT_EQ(r.size(), count) << p;
      for (Index l = r.lo; l < r.hi; ++l) ASSERT_EQ(many[l].compare(0, p.size(), p), 0);
    }
  }
}

// Hashed character-bigram counts of the label strings, rows L2-normalised (a stand-in for the
// char TF-IDF embeddings; the indexer tests do not link the text module).
CsrMatrix BigramEmbedding(const std::vector<std::string>& labels, Index dim) {
  CsrMatrix m = CsrMatrix::Zeros(static_cast<Index>(labels.size()), dim);
  for (std::size_t l = 0; l < labels.size(); ++l) {
    std::map<Index, float> row;
    unsigned prev = 0;
    for (const char ch : labels[l]) {
      const unsigned b = static_cast<unsigned char>(ch);
      row[static_cast<Index>((prev * 131 + b) % static_cast<unsigned>(dim))] += 1.0f;
      prev = b;
    }
    double sq = 0;
    for (const auto& [j, v] : row) sq += static_cast<double>(v) * v;
    for (const auto& [j, v] : row) {
      m.indices.push_back(j);
      m.data.push_back(static_cast<float>(v / std::sqrt(sq)));
    }
    m.indptr[l + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

HybridIndexerOptions Hybrid(int trie_depth, int max_leaf_size, int nr_splits) {
  HybridIndexerOptions o;
  o.trie_depth = trie_depth;
  o.kmeans.max_leaf_size = max_leaf_size;
  o.kmeans.nr_splits = nr_splits;
  return o;
}

void ExpectSameChain(const ClusterChain& a, const ClusterChain& b) {
  ASSERT_EQ(a.depth(), b.depth());
  for (int t = 0; t < a.depth(); ++t) EXPECT_EQ(a.parents[t], b.parents[t]) << "level " << t;
}

// What every hybrid chain must satisfy, and the bit-identity of each trie node's subtree with
// HierarchicalKMeans run on that node's rows alone.
void ExpectValidHybrid(const ClusterChain& c, const std::vector<std::string>& labels,
                       const CsrMatrix& emb, const HybridIndexerOptions& opts, std::uint64_t seed) {
  ASSERT_NO_THROW(c.Validate());
  const Index n = static_cast<Index>(labels.size());
  ASSERT_EQ(c.n_labels(), n);
  const int d = opts.trie_depth;
  ASSERT_GE(c.depth(), d + 1);
  const ClusterChain trie = Trie(labels, d);
  for (int t = 0; t < d; ++t) EXPECT_EQ(c.parents[t], trie.parents[t]) << "trie level " << t;
  for (int t = 0; t + 1 < c.depth(); ++t) {
    EXPECT_TRUE(std::is_sorted(c.parents[t].begin(), c.parents[t].end())) << "level " << t;
  }
  // Every label reaches the root through its own trie node.
  for (Index l = 0; l < n; ++l) ASSERT_EQ(Ancestor(c, l, d - 1), trie.parents[d][l]) << l;
  // Leaf clusters hold at most max_leaf_size labels; k-means levels branch at most nr_splits.
  std::vector<Index> count(static_cast<std::size_t>(c.n_parents(c.depth() - 1)), 0);
  for (const Index p : c.parents.back()) ++count[p];
  for (const Index k : count) EXPECT_LE(k, opts.kmeans.max_leaf_size);
  for (int t = d; t + 1 < c.depth(); ++t) {
    std::vector<Index> kids(static_cast<std::size_t>(c.n_parents(t)), 0);
    for (const Index p : c.parents[t]) ++kids[p];
    for (const Index k : kids) EXPECT_LE(k, opts.kmeans.nr_splits) << "level " << t;
  }
  // Per trie node: the subtree is HierarchicalKMeans on the node's rows (ascending ids, all
  // original columns), hung below single-child padding.
  std::vector<std::vector<Index>> members(static_cast<std::size_t>(trie.n_nodes(d - 1)));
  for (Index l = 0; l < n; ++l) members[trie.parents[d][l]].push_back(l);
  for (const std::vector<Index>& m : members) {
    CsrMatrix sub = CsrMatrix::Zeros(static_cast<Index>(m.size()), emb.cols);
    for (std::size_t k = 0; k < m.size(); ++k) {
      const SparseVecView r = emb.view().row(m[k]);
      sub.indices.insert(sub.indices.end(), r.indices, r.indices + r.nnz);
      sub.data.insert(sub.data.end(), r.data, r.data + r.nnz);
      sub.indptr[k + 1] = static_cast<Offset>(sub.indices.size());
    }
    const ClusterChain hk = HierarchicalKMeans(sub.view(), opts.kmeans, Quiet(1, seed));
    const int shift = c.depth() - hk.depth();
    ASSERT_GE(shift, d);
    for (int t = d - 1; t < shift; ++t) {  // the trie node, then padding: one node per level
      for (const Index l : m) ASSERT_EQ(Ancestor(c, l, t), Ancestor(c, m[0], t)) << t;
    }
    for (int t = 0; t + 1 < hk.depth(); ++t) {
      Index base = c.n_nodes(t + shift);
      for (const Index l : m) base = std::min(base, Ancestor(c, l, t + shift));
      for (std::size_t k = 0; k < m.size(); ++k) {
        ASSERT_EQ(Ancestor(c, m[k], t + shift) - base, Ancestor(hk, static_cast<Index>(k), t))
            << "label " << m[k] << " level " << t + shift;
      }
    }
  }
}

TEST(HybridIndexer, KMeansInsideALargeTrieNodeAndPaddingForSmallOnes) {
  // 400 labels under 'a', 3 under 'b', 1 under 'c'.
  std::vector<std::string> labels = RandomLabels(400, 7, 5);
  for (std::string& s : labels) s = "a" + s;
  labels.insert(labels.end(), {"b", "bx", "by", "c"});
  const CsrMatrix emb = BigramEmbedding(labels, 61);
  const HybridIndexerOptions opts = Hybrid(1, 16, 4);
  const ClusterChain c = HybridIndexer(labels, emb.view(), opts, Quiet(1));
  // 'a': 400 labels -> binary depth 5 -> 32 leaves, 4-ary: [2, 8, 32, labels] below the trie.
  ASSERT_EQ(c.depth(), 5);
  EXPECT_EQ(c.n_nodes(0), 3);
  EXPECT_EQ(c.n_nodes(1), 2 + 1 + 1);  // a's 2 top clusters, then b and c padded
  EXPECT_EQ(c.n_nodes(2), 8 + 1 + 1);
  EXPECT_EQ(c.n_nodes(3), 32 + 1 + 1);
  EXPECT_EQ(c.parents[1], (std::vector<Index>{0, 0, 1, 2}));
  EXPECT_EQ(c.parents[2].back(), 3);  // c's padding chain
  EXPECT_EQ(c.parents[4][403], 33);   // "c" under its last padding node
  for (Index l = 400; l < 403; ++l) EXPECT_EQ(c.parents[4][l], 32);
  std::vector<Index> count(34, 0);
  for (const Index p : c.parents[4]) ++count[p];
  for (Index q = 0; q < 32; ++q) {
    EXPECT_GE(count[q], 8);  // balanced: max_leaf_size/2..max_leaf_size
    EXPECT_LE(count[q], 16);
  }
  ExpectValidHybrid(c, labels, emb, opts, 0);
}

TEST(HybridIndexer, SameTreeForAnyThreadCountAndEqualToKMeansPerNode) {
  // Several trie nodes above max_leaf_size, none with most of the nonzeros: with 4 threads
  // they run side by side, with 1 one after the other.
  const std::vector<std::string> labels = RandomLabels(1200, 7, 11);
  const CsrMatrix emb = BigramEmbedding(labels, 97);
  for (const int depth : {1, 2}) {
    const HybridIndexerOptions opts = Hybrid(depth, 10, 4);
    const ClusterChain one = HybridIndexer(labels, emb.view(), opts, Quiet(1, 42));
    const ClusterChain four = HybridIndexer(labels, emb.view(), opts, Quiet(4, 42));
    ExpectSameChain(one, four);
    ExpectValidHybrid(one, labels, emb, opts, 42);
    EXPECT_GT(one.depth(), depth + 1);
  }
  // A single dominant trie node runs with all threads.
  std::vector<std::string> skewed = RandomLabels(800, 6, 13);
  for (std::string& s : skewed) s = "q" + s;
  skewed.push_back("z");
  const CsrMatrix emb2 = BigramEmbedding(skewed, 97);
  const HybridIndexerOptions opts = Hybrid(1, 20, 2);
  ExpectSameChain(HybridIndexer(skewed, emb2.view(), opts, Quiet(1)),
                  HybridIndexer(skewed, emb2.view(), opts, Quiet(3)));
}

TEST(HybridIndexer, EqualsThePureTrieWhenTrieNodesAreSmall) {
  const std::vector<std::string> labels = RandomLabels(300, 5, 17);
  const CsrMatrix emb = BigramEmbedding(labels, 53);
  // Deeper than every label: one label per deepest trie node.
  ExpectSameChain(HybridIndexer(labels, emb.view(), Hybrid(6, 1, 2), Quiet(2)), Trie(labels, 6));
  // Or leaves large enough for every trie node.
  ExpectSameChain(HybridIndexer(labels, emb.view(), Hybrid(2, 1000, 16), Quiet(2)),
                  Trie(labels, 2));
}

TEST(HybridIndexer, UnsortedLabelsAndDefaults) {
  std::vector<std::string> labels = RandomLabels(700, 6, 19);
  std::mt19937 rng(1);
  std::shuffle(labels.begin(), labels.end(), rng);
  const CsrMatrix emb = BigramEmbedding(labels, 89);
  HybridIndexerOptions opts;  // trie_depth 2, nr_splits 16, max_leaf_size 100
  EXPECT_EQ(opts.trie_depth, 2);
  opts.kmeans.max_leaf_size = 30;
  const ClusterChain c = HybridIndexer(labels, emb.view(), opts, Quiet(2, 5));
  ExpectValidHybrid(c, labels, emb, opts, 5);
}

TEST(HybridIndexer, RejectsBadInput) {
  const std::vector<std::string> labels{"aa", "ab", "ac", "b"};
  const CsrMatrix emb = BigramEmbedding(labels, 7);
  ExpectError([&] { HybridIndexer(labels, emb.view(), Hybrid(0, 10, 2), Quiet()); },
              ErrorCode::kInvalidArgument, {"trie_depth"});
  ExpectError([&] { HybridIndexer(labels, emb.view(), Hybrid(1, 10, 3), Quiet()); },
              ErrorCode::kInvalidArgument, {"nr_splits"});
  ExpectError(
      [&] {
        HybridIndexer({"aa", "ab", "ac"}, emb.view(), Hybrid(1, 10, 2), Quiet());
      },
      ErrorCode::kInvalidArgument, {"3 labels", "4 rows"});
  ExpectError(
      [&] {
        HybridIndexer({"aa", "ab", "aa", "b"}, emb.view(), Hybrid(1, 10, 2), Quiet());
      },
      ErrorCode::kInvalidArgument, {"equal"});
  // max_leaf_size 1: the 3 labels under 'a' cannot make a balanced binary tree.
  ExpectError([&] { HybridIndexer(labels, emb.view(), Hybrid(1, 1, 2), Quiet()); },
              ErrorCode::kInvalidArgument, {"trie node 0", "3 labels", "max_leaf_size=1"});
  CsrMatrix broken = emb;
  broken.indices[0] = 99;
  ExpectError([&] { HybridIndexer(labels, broken.view(), Hybrid(1, 2, 2), Quiet()); },
              ErrorCode::kCorruption, {"label embedding"});
}

}  // namespace
}  // namespace xmr
