#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include "common/test_util.h"
#include "core/log.h"
#include "xmr/error.h"
#include "xmr/qac.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::TempDir;

bool PathExists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string SharedData(const std::string& rel) {
  return std::string(XMR_SOURCE_DIR) + "/../shared/data/" + rel;
}

// Rows 0..7 are train with train_fraction 0.7 (floor(0.7 * 12) = 8).
const std::vector<std::string> kLog = {
    "Weather Boston",       // 0
    "weather  boston",      // 1  same as 0 after normalisation: no pair
    "weather boston mass",  // 2  train pair (shares "weather", "boston")
    "   ",                  // 3  dropped: breaks the chain
    "cheap flights",        // 4
    "Cheap Flights Paris",  // 5  train pair
    "hotels",               // 6  candidate, shares no word: rejected
    "cheap hotels",         // 7  train pair
    "cheap hotels paris",   // 8  test pair, next is not a train label
    "cheap flights",        // 9  test pair, next is not a train label
    "cheap flights paris",  // 10 test pair, next is label 0
    "x",                    // 11 candidate, rejected
};

QacDataOptions HandOptions() {
  QacDataOptions o;
  o.train_fraction = 0.7;
  return o;
}

TEST(QacNormalize, CleansAndDrops) {
  EXPECT_EQ(NormalizeQuery("  Hello \t  World\r\n"), "hello world");
  EXPECT_EQ(NormalizeQuery("\xC3\x80"
                           "B"),
            "\xC3\x80"
            "b");  // only ASCII is lower-cased
  EXPECT_EQ(NormalizeQuery(" \t "), "");
  EXPECT_EQ(NormalizeQuery("ab\xFF"), "");  // invalid UTF-8
  QueryNormalization keep;
  keep.collapse_blanks = false;
  keep.lowercase_ascii = false;
  EXPECT_EQ(NormalizeQuery(" A  b ", keep), " A  b ");
  QueryNormalization shortq;
  shortq.max_chars = 3;
  EXPECT_EQ(NormalizeQuery("caf\xC3\xA9", shortq), "");  // 4 code points
  EXPECT_EQ(NormalizeQuery("c\xC3\xA9", shortq), "c\xC3\xA9");
}

TEST(QacPairRule, SharedWordAndDistinct) {
  QacDataOptions o;
  EXPECT_TRUE(AcceptPair("new york", "new york times", o));
  EXPECT_FALSE(AcceptPair("cats", "dogs", o));
  EXPECT_FALSE(AcceptPair("new york", "new york", o));
  EXPECT_FALSE(AcceptPair("", "a", o));
  EXPECT_FALSE(AcceptPair("newyork", "new york", o));  // words, not substrings
  o.min_shared_words = 2;
  EXPECT_TRUE(AcceptPair("new york", "york new hotels", o));
  EXPECT_FALSE(AcceptPair("new new york", "new new jersey", o));  // distinct words count once
  o.pair_rule = PairRule::kDistinct;
  EXPECT_TRUE(AcceptPair("cats", "dogs", o));
  EXPECT_FALSE(AcceptPair("cats", "cats", o));
  EXPECT_EQ(ParsePairRule("shared_word"), PairRule::kSharedWord);
  EXPECT_STREQ(PairRuleName(ParsePairRule("distinct")), "distinct");
  ExpectError([] { ParsePairRule("close"); }, ErrorCode::kInvalidArgument, {"close"});
  EXPECT_EQ(ParseLabelSource("train_all"), LabelSource::kTrainAll);
  ExpectError([] { ParseLabelSource("all"); }, ErrorCode::kInvalidArgument, {"all"});
}

TEST(QacBuilder, HandWrittenLog) {
  const QacDataset d = BuildQacDataset(kLog, HandOptions());
  EXPECT_EQ(d.stats.rows, 12);
  EXPECT_EQ(d.stats.rows_dropped, 1);
  EXPECT_EQ(d.stats.train_rows, 8);
  EXPECT_EQ(d.stats.candidate_pairs, 8);
  EXPECT_EQ(d.stats.train_pairs, 3);
  EXPECT_EQ(d.stats.test_pairs, 3);
  EXPECT_EQ(d.stats.test_pairs_known, 1);
  EXPECT_EQ(d.stats.test_pairs_unknown, 2);
  EXPECT_NEAR(d.stats.test_label_coverage(), 1.0 / 3, 1e-12);
  EXPECT_EQ(d.labels, (std::vector<std::string>{"cheap flights paris", "cheap hotels",
                                                "weather boston mass"}));
  EXPECT_EQ(d.label_freq, (std::vector<std::int64_t>{1, 1, 1}));
  ASSERT_EQ(d.train.pairs.size(), 3u);
  EXPECT_EQ(d.train.pairs[0].prev, "weather boston");
  EXPECT_EQ(d.train.pairs[0].next, "weather boston mass");
  EXPECT_EQ(d.train.pairs[0].label, 2);
  EXPECT_EQ(d.train.pairs[0].row, 2);
  EXPECT_EQ(d.train.pairs[1].label, 0);
  EXPECT_EQ(d.train.pairs[2].prev, "hotels");
  EXPECT_EQ(d.train.pairs[2].label, 1);
  ASSERT_EQ(d.test.pairs.size(), 1u);  // unknown test pairs dropped by default
  EXPECT_EQ(d.test.pairs[0].prev, "cheap flights");
  EXPECT_EQ(d.test.pairs[0].next, "cheap flights paris");
  EXPECT_EQ(d.test.pairs[0].label, 0);
  EXPECT_EQ(d.test.pairs[0].row, 10);
  EXPECT_GT(d.test.pairs[0].row, d.train.pairs.back().row);  // test comes after train

  // Prefix examples: lengths 1..8 for every pair (all next queries are longer than 8).
  EXPECT_EQ(d.train.size(), 24);
  ASSERT_EQ(d.test.size(), 8);
  for (std::int64_t i = 0; i < d.test.size(); ++i) {
    EXPECT_EQ(d.test.prefix_len(i), i + 1);
    EXPECT_EQ(d.test.prefix(i), std::string("cheap flights paris").substr(0, i + 1));
    EXPECT_EQ(d.test.prev(i), "cheap flights");
    EXPECT_EQ(d.test.next(i), "cheap flights paris");
    EXPECT_EQ(d.test.label(i), 0);
  }
  EXPECT_EQ(d.LabelId("cheap hotels"), 1);
  EXPECT_EQ(d.LabelId("cheap"), kNoLabel);
  EXPECT_NE(d.stats.Summary().find("coverage 33.33%"), std::string::npos) << d.stats.Summary();
}

TEST(QacBuilder, Options) {
  QacDataOptions o = HandOptions();
  o.keep_unknown_test = true;
  o.max_prefix_len = 0;
  QacDataset d = BuildQacDataset(kLog, o);
  ASSERT_EQ(d.test.pairs.size(), 3u);
  EXPECT_EQ(d.test.pairs[0].label, kNoLabel);
  EXPECT_EQ(d.test.pairs[1].label, kNoLabel);
  EXPECT_EQ(d.test.pairs[2].label, 0);
  // Every prefix length up to the whole query.
  EXPECT_EQ(d.test.size(), static_cast<std::int64_t>(std::string("cheap hotels paris").size() +
                                                     std::string("cheap flights").size() +
                                                     std::string("cheap flights paris").size()));
  EXPECT_EQ(d.test.label(0), kNoLabel);

  o = HandOptions();
  o.label_source = LabelSource::kTrainAll;
  d = BuildQacDataset(kLog, o);
  EXPECT_EQ(d.labels,
            (std::vector<std::string>{"cheap flights", "cheap flights paris", "cheap hotels",
                                      "hotels", "weather boston", "weather boston mass"}));
  EXPECT_EQ(d.label_freq, (std::vector<std::int64_t>{1, 1, 1, 1, 2, 1}));
  EXPECT_EQ(d.stats.test_pairs_known, 2);
  EXPECT_EQ(d.stats.test_pairs_unknown, 1);

  o = HandOptions();
  o.max_labels = 1;  // all tied at 1: the bytewise smallest stays
  d = BuildQacDataset(kLog, o);
  EXPECT_EQ(d.labels, (std::vector<std::string>{"cheap flights paris"}));
  EXPECT_EQ(d.stats.train_pairs_unlabeled, 2);
  ASSERT_EQ(d.train.pairs.size(), 1u);
  EXPECT_EQ(d.train.pairs[0].label, 0);

  o = HandOptions();
  o.pair_rule = PairRule::kDistinct;
  d = BuildQacDataset(kLog, o);
  EXPECT_EQ(d.stats.train_pairs, 4);  // + (cheap flights paris -> hotels)
  EXPECT_EQ(d.stats.test_pairs, 4);   // + (cheap flights paris -> x)
  EXPECT_EQ(d.LabelId("hotels"), 2);

  o = HandOptions();
  o.train_fraction = 0;
  ExpectError([&] { BuildQacDataset(kLog, o); }, ErrorCode::kInvalidArgument, {"train_fraction"});
  o = HandOptions();
  o.max_prefix_len = -1;
  ExpectError([&] { BuildQacDataset(kLog, o); }, ErrorCode::kInvalidArgument, {"max_prefix_len"});
}

TEST(QacBuilder, Utf8PrefixesCountCodePoints) {
  const std::vector<std::string> log = {"caf\xC3\xA9", "caf\xC3\xA9 cr\xC3\xA8me", "x"};
  QacDataOptions o;
  o.train_fraction = 1.0;
  o.max_prefix_len = 5;
  const QacDataset d = BuildQacDataset(log, o);
  ASSERT_EQ(d.train.size(), 5);
  EXPECT_EQ(d.train.prefix(3), "caf\xC3\xA9");
  EXPECT_EQ(d.train.examples[3].prefix_bytes, 5);
  EXPECT_EQ(d.train.prefix(4), "caf\xC3\xA9 ");
  EXPECT_EQ(d.train.prefix_len(4), 5);
  EXPECT_EQ(d.test.size(), 0);
}

TEST(QacBuilder, CapsSampleInLogOrder) {
  std::mt19937 rng(7);
  std::vector<std::string> log;
  for (int i = 0; i < 3000; ++i) log.push_back("w" + std::to_string(rng() % 40) + " common");
  QacDataOptions o;
  const QacDataset full = BuildQacDataset(log, o);
  ASSERT_GT(full.train.pairs.size(), 500u);
  ASSERT_GT(full.test.pairs.size(), 30u);
  o.max_train_pairs = 500;
  o.max_test_pairs = 30;
  o.seed = 3;
  const QacDataset a = BuildQacDataset(log, o);
  const QacDataset b = BuildQacDataset(log, o);
  o.seed = 4;
  const QacDataset c = BuildQacDataset(log, o);
  EXPECT_EQ(a.labels, full.labels);  // caps do not change the label set
  EXPECT_EQ(a.label_freq, full.label_freq);
  ASSERT_EQ(a.train.pairs.size(), 500u);
  ASSERT_EQ(a.test.pairs.size(), 30u);
  std::set<std::int64_t> full_rows;
  for (const QacPair& p : full.train.pairs) full_rows.insert(p.row);
  for (std::size_t i = 0; i < a.train.pairs.size(); ++i) {
    EXPECT_EQ(a.train.pairs[i].row, b.train.pairs[i].row);  // deterministic
    if (i > 0) {
      EXPECT_LT(a.train.pairs[i - 1].row, a.train.pairs[i].row);
    }
    EXPECT_EQ(full_rows.count(a.train.pairs[i].row), 1u);
  }
  bool differs = false;
  for (std::size_t i = 0; i < a.train.pairs.size(); ++i) {
    differs |= a.train.pairs[i].row != c.train.pairs[i].row;
  }
  EXPECT_TRUE(differs);
}

TEST(QacBuilder, FileMatchesInMemory) {
  TempDir dir;
  const std::string path = dir.File("log.txt");
  std::string text = "Query\n";
  for (const std::string& r : kLog) text += r + "\n";
  testing_util::WriteBytes(path, text);
  Context ctx = testing_util::Quiet();
  const QacDataset f = BuildQacDatasetFromFile(path, HandOptions(), ctx);
  const QacDataset m = BuildQacDataset(kLog, HandOptions());
  EXPECT_EQ(f.labels, m.labels);
  EXPECT_EQ(f.stats.rows, m.stats.rows);
  ASSERT_EQ(f.test.pairs.size(), m.test.pairs.size());
  EXPECT_EQ(f.test.pairs[0].row, m.test.pairs[0].row);
  EXPECT_EQ(f.train.size(), m.train.size());
  ExpectError([&] { BuildQacDatasetFromFile(dir.File("missing.txt"), {}, ctx); },
              ErrorCode::kIoError, {"missing.txt"});
}

TEST(QacTrec, SessionPairs) {
  const std::string path = SharedData("trec-session-2013/sessions.tsv");
  if (!PathExists(path)) GTEST_SKIP() << path << " not available";
  const std::vector<QacPair> pairs = ReadTrecSessionPairs(path);
  // 488 queries in 133 sessions: 355 consecutive pairs, 10 of them repeat the same query.
  ASSERT_EQ(pairs.size(), 345u);
  EXPECT_EQ(pairs[0].prev, "us civil war causes");
  EXPECT_EQ(pairs[0].next, "us civil war economic causes");
  EXPECT_EQ(pairs[0].session, 1);
  EXPECT_EQ(pairs[0].row, 1);
  EXPECT_EQ(pairs[1].prev, "scooter brands");
  EXPECT_EQ(pairs[1].session, 2);
  QacDataOptions o;
  int shared = 0;
  for (const QacPair& p : pairs) {
    EXPECT_NE(p.prev, p.next);
    EXPECT_FALSE(p.next.empty());
    shared += AcceptPair(p.prev, p.next, o);
  }
  EXPECT_EQ(shared, 296);

  o.train_fraction = 0.8;
  o.max_prefix_len = 0;
  const QacDataset d = BuildQacDatasetFromPairs(pairs, o);
  EXPECT_EQ(d.stats.rows, 345);
  EXPECT_EQ(d.stats.train_pairs + d.stats.test_pairs, 296);
  EXPECT_EQ(d.stats.train_pairs, 236);  // floor(0.8 * 296)
  EXPECT_EQ(d.stats.test_pairs_known + d.stats.test_pairs_unknown, 60);
  EXPECT_TRUE(std::is_sorted(d.labels.begin(), d.labels.end()));
  EXPECT_EQ(std::adjacent_find(d.labels.begin(), d.labels.end()), d.labels.end());
  for (const QacPair& p : d.train.pairs) EXPECT_EQ(d.labels[p.label], p.next);
  for (std::int64_t i = 0; i < d.train.size(); ++i) {
    EXPECT_EQ(d.train.next(i).substr(0, d.train.prefix(i).size()), d.train.prefix(i));
  }
}

TEST(QacTrec, MalformedRow) {
  TempDir dir;
  const std::string path = dir.File("s.tsv");
  testing_util::WriteBytes(path,
                           "session\ttopic\tposition\tkind\tstarttime\tquery\tclicked_ranks\n"
                           "1\t1\t1\tinteraction\t1.0\tA b\t\n"
                           "1\t1\t2\tinteraction\t2.0\n");
  ExpectError([&] { ReadTrecSessionPairs(path); }, ErrorCode::kCorruption, {"s.tsv:3", "fields"});
  testing_util::WriteBytes(path,
                           "session\ttopic\tposition\tkind\tstarttime\tquery\tclicked_ranks\n"
                           "x\t1\t1\tinteraction\t1.0\tA b\t\n");
  ExpectError([&] { ReadTrecSessionPairs(path); }, ErrorCode::kCorruption, {"s.tsv:2", "\"x\""});
}

long PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// The real AOL sample: builds the default data set, runs the most-popular baseline and prints
// the figures (skipped when the shared data is absent).
TEST(QacAol, BuildAndBaseline) {
  const std::string path = SharedData("aol-queries-1m/aol_2006_1M_queries.txt.xz");
  if (!PathExists(path)) GTEST_SKIP() << path << " not available";
  Context ctx = testing_util::Quiet(0);
  const Timer t;
  const QacDataset d = BuildQacDatasetFromFile(path, {}, ctx);
  const double build_s = t.Seconds();
  const long rss_kb = PeakRssKb();
  EXPECT_EQ(d.stats.rows, 999999);
  EXPECT_GT(d.n_labels(), 1000);
  EXPECT_TRUE(std::is_sorted(d.labels.begin(), d.labels.end()));
  EXPECT_GT(d.stats.test_label_coverage(), 0.0);
  EXPECT_LT(d.stats.test_label_coverage(), 1.0);
  std::printf("AOL: %s\n", d.stats.Summary().c_str());
  std::printf(
      "AOL: labels %d, train pairs %zu / examples %lld, test pairs %zu / examples %lld; "
      "build %.2fs, peak RSS %.1f MiB\n",
      d.n_labels(), d.train.pairs.size(), static_cast<long long>(d.train.size()),
      d.test.pairs.size(), static_cast<long long>(d.test.size()), build_s, rss_kb / 1024.0);
  const Timer tb;
  const MostPopularCompleter mpc(d);
  const double index_s = tb.Seconds();
  const Timer tq;
  const std::vector<std::vector<Index>> ranked = mpc.CompleteAll(d.test, 10, 1);
  const double query_s = tq.Seconds();
  for (std::int64_t i = 0; i < d.test.size(); ++i) {
    for (Index id : ranked[i]) {
      ASSERT_EQ(mpc.label(id).substr(0, d.test.prefix(i).size()), d.test.prefix(i));
    }
  }
  const QacMetrics m = EvaluateQac(d.test, ranked, d.labels, {}, 0);
  std::printf("AOL most-popular: index %.3fs (%.1f MiB), %.2f us/query (1 thread)\n%s", index_s,
              mpc.MemoryBytes() / 1048576.0, 1e6 * query_s / std::max<double>(1, d.test.size()),
              m.Table().c_str());
}

}  // namespace
}  // namespace xmr
