#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <set>

#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/qac.h"

namespace xmr {
namespace {

using testing_util::ExpectError;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Top-k ids extending `prefix`, by brute force.
std::vector<Index> BruteTopK(const std::vector<std::string>& labels,
                             const std::vector<std::int64_t>& freq, std::string_view prefix,
                             int k) {
  std::vector<Index> ids;
  for (Index i = 0; i < static_cast<Index>(labels.size()); ++i) {
    if (StartsWith(labels[i], prefix)) ids.push_back(i);
  }
  std::sort(ids.begin(), ids.end(),
            [&](Index a, Index b) { return freq[a] != freq[b] ? freq[a] > freq[b] : a < b; });
  if (k < 0) k = 0;
  if (ids.size() > static_cast<std::size_t>(k)) ids.resize(k);
  return ids;
}

TEST(MostPopular, HandExample) {
  const std::vector<std::string> labels = {"a", "ab", "abc", "b", "ba"};
  const std::vector<std::int64_t> freq = {1, 5, 5, 2, 9};
  const MostPopularCompleter mpc(labels, freq);
  EXPECT_EQ(mpc.size(), 5);
  EXPECT_EQ(mpc.label(2), "abc");
  EXPECT_EQ(mpc.freq(4), 9);
  EXPECT_EQ(mpc.Complete("a", 2), (std::vector<Index>{1, 2}));  // tie: smaller id first
  EXPECT_EQ(mpc.Complete("a", 10), (std::vector<Index>{1, 2, 0}));
  EXPECT_EQ(mpc.Complete("", 3), (std::vector<Index>{4, 1, 2}));
  EXPECT_EQ(mpc.Complete("ab", 1), (std::vector<Index>{1}));
  EXPECT_TRUE(mpc.Complete("abcd", 5).empty());
  EXPECT_TRUE(mpc.Complete("c", 5).empty());
  EXPECT_TRUE(mpc.Complete("a", 0).empty());
  EXPECT_EQ(mpc.Complete("a", std::numeric_limits<int>::max()), (std::vector<Index>{1, 2, 0}));
  EXPECT_EQ(mpc.PrefixRange("ab"), (std::pair<Index, Index>{1, 3}));
  EXPECT_EQ(mpc.PrefixRange("b"), (std::pair<Index, Index>{3, 5}));
  EXPECT_EQ(mpc.PrefixRange(""), (std::pair<Index, Index>{0, 5}));
  EXPECT_EQ(mpc.PrefixRange("bb").first, mpc.PrefixRange("bb").second);
}

TEST(MostPopular, EdgeCases) {
  const MostPopularCompleter empty(std::vector<std::string>{}, std::vector<std::int64_t>{});
  EXPECT_TRUE(empty.Complete("a", 3).empty());
  EXPECT_TRUE(empty.Complete("", 3).empty());
  const MostPopularCompleter def;
  EXPECT_TRUE(def.Complete("a", 3).empty());
  // Extreme bytes: 0x00 and 0xFF keys, a one-byte prefix at the top of the bucket table.
  const std::vector<std::string> labels = {std::string("\0", 1), std::string("a\0b", 3), "a",
                                           "\xFF", "\xFF\xFF"};
  std::vector<std::string> sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  const std::vector<std::int64_t> freq = {0, 3, 3, 1, 2};
  const MostPopularCompleter mpc(sorted, freq);
  for (const std::string& p :
       {std::string(), std::string("\0", 1), std::string("a"), std::string("a\0", 2),
        std::string("\xFF"), std::string("\xFF\xFF"), std::string("\xFE")}) {
    EXPECT_EQ(mpc.Complete(p, 10), BruteTopK(sorted, freq, p, 10)) << p.size();
  }

  ExpectError(
      [] {
        MostPopularCompleter({"b", "a"}, {1, 1});
      },
      ErrorCode::kInvalidArgument, {"strictly increasing"});
  ExpectError(
      [] {
        MostPopularCompleter({"a", "a"}, {1, 1});
      },
      ErrorCode::kInvalidArgument, {"strictly increasing"});
  ExpectError(
      [] {
        MostPopularCompleter({"a"}, {1, 2});
      },
      ErrorCode::kInvalidArgument, {"1 labels but 2 frequencies"});
  ExpectError([] { MostPopularCompleter({"a"}, {-1}); }, ErrorCode::kInvalidArgument,
              {"frequency -1"});
}

// Random UTF-8 labels over a small alphabet (so prefixes are shared) with tied frequencies.
void RandomLabels(int n, unsigned seed, std::vector<std::string>* labels,
                  std::vector<std::int64_t>* freq) {
  const std::vector<std::string> alphabet = {
      "a", "b", " ", "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "z"};
  std::mt19937 rng(seed);
  std::set<std::string> set;
  while (static_cast<int>(set.size()) < n) {
    const int len = 1 + static_cast<int>(rng() % 7);
    std::string s;
    for (int i = 0; i < len; ++i) s += alphabet[rng() % alphabet.size()];
    set.insert(s);
  }
  labels->assign(set.begin(), set.end());
  freq->resize(n);
  for (auto& f : *freq) f = rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % 1000) : rng() % 5;
}

// Code-point prefix of s (first `len` code points).
std::string CodePointPrefix(const std::string& s, int len) {
  std::size_t b = 0;
  for (int c = 0; c < len && b < s.size(); ++c) {
    ++b;
    while (b < s.size() && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) ++b;
  }
  return s.substr(0, b);
}

TEST(MostPopular, MatchesBruteForceOnRandomUtf8) {
  for (int n : {1, 7, 64, 65, 300, 5000}) {
    std::vector<std::string> labels;
    std::vector<std::int64_t> freq;
    RandomLabels(n, 100 + n, &labels, &freq);
    const MostPopularCompleter mpc(labels, freq);
    std::mt19937 rng(n);
    std::vector<Index> got;
    for (int q = 0; q < 400; ++q) {
      std::string prefix;
      const int kind = q % 4;
      if (kind < 2) {  // a code-point prefix of a label
        const std::string& l = labels[rng() % labels.size()];
        prefix = CodePointPrefix(l, 1 + static_cast<int>(rng() % 4));
      } else if (kind == 2) {  // a byte prefix (may end inside a code point)
        const std::string& l = labels[rng() % labels.size()];
        prefix = l.substr(0, 1 + rng() % l.size());
      } else {  // anything, usually matching nothing
        const char* pieces[] = {"b", "\xC3\xA9", "q", " ", "\xE6\x97", "\xF0\x9F\x98\x80"};
        const int len = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < len; ++i) prefix += pieces[rng() % 6];
      }
      for (int k : {1, 3, 10, n + 5}) {
        mpc.Complete(prefix, k, &got);
        ASSERT_EQ(got, BruteTopK(labels, freq, prefix, k))
            << "n=" << n << " prefix bytes=" << prefix.size() << " k=" << k;
        for (Index id : got) ASSERT_TRUE(StartsWith(mpc.label(id), prefix));
      }
    }
  }
}

TEST(MostPopular, CompleteAllMatchesComplete) {
  std::vector<std::string> labels;
  std::vector<std::int64_t> freq;
  RandomLabels(2000, 5, &labels, &freq);
  const MostPopularCompleter mpc(labels, freq);
  QacSplit split;
  for (int p = 0; p < 50; ++p) {
    QacPair pair;
    pair.prev = "x";
    pair.next = labels[(p * 37) % labels.size()];
    split.pairs.push_back(pair);
    int len = 0;
    for (std::size_t b = 1; b <= pair.next.size(); ++b) {
      if (b < pair.next.size() && (static_cast<unsigned char>(pair.next[b]) & 0xC0) == 0x80) {
        continue;
      }
      split.examples.push_back({p, ++len, static_cast<std::int32_t>(b), kNoLabel});
    }
  }
  const auto one = mpc.CompleteAll(split, 10, 1);
  const auto four = mpc.CompleteAll(split, 10, 4);
  ASSERT_EQ(one.size(), static_cast<std::size_t>(split.size()));
  EXPECT_EQ(one, four);
  for (std::int64_t i = 0; i < split.size(); ++i) {
    EXPECT_EQ(one[i], mpc.Complete(split.prefix(i), 10));
    EXPECT_FALSE(one[i].empty());  // the prefix comes from a label
  }
}

}  // namespace
}  // namespace xmr
