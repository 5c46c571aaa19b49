#include <gtest/gtest.h>

#include <cmath>

#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/qac.h"

namespace xmr {
namespace {

using testing_util::ExpectError;

TEST(QacBleu, HandComputed) {
  EXPECT_DOUBLE_EQ(SentenceBleu("new york times", "new york times"), 1.0);
  EXPECT_DOUBLE_EQ(SentenceBleu("a", "a"), 1.0);
  EXPECT_DOUBLE_EQ(SentenceBleu("cats", "dogs"), 0.0);
  EXPECT_DOUBLE_EQ(SentenceBleu("", "dogs"), 0.0);
  // p1 = 2/3, p2 = (1+1)/(2+1), p3 = (0+1)/(1+1), p4 = (0+1)/(0+1); BP = 1.
  EXPECT_NEAR(SentenceBleu("new york city", "new york times"), std::pow(2.0 / 9.0, 0.25), 1e-12);
  // Short candidate: all p_n = 1, BP = exp(1 - 2/1).
  EXPECT_NEAR(SentenceBleu("new", "new york"), std::exp(-1.0), 1e-12);
  // Clipping: "the" matches once. p1 = 1/3, p2 = 1/3, p3 = 1/2, p4 = 1.
  EXPECT_NEAR(SentenceBleu("the the the", "the"), std::pow(1.0 / 18.0, 0.25), 1e-12);
  // Words are blank-separated; extra blanks do not matter.
  EXPECT_DOUBLE_EQ(SentenceBleu(" new  york ", "new york"), 1.0);
}

QacEvaluator HandEvaluator() {
  QacEvaluator ev;
  // Prefix length 1: hit at rank 2; BLEU weights 1, 1/2, 1/3 with BLEU 0, 1, 0.
  ev.Add(1, "a b", std::vector<std::string>{"x", "a b", "y"});
  // Prefix length 1: nothing returned.
  ev.Add(1, "c", std::vector<std::string>{});
  // Prefix length 2: hit at rank 1.
  ev.Add(2, "d", std::vector<std::string>{"d"});
  // Prefix length 9: the truth is 11th, beyond every cut-off and beyond the BLEU top 10.
  std::vector<std::string> r(10, "z");
  r.push_back("e");
  ev.Add(9, "e", r);
  return ev;
}

TEST(QacMetrics, HandComputed) {
  const QacMetrics m = HandEvaluator().Result();
  ASSERT_EQ(m.by_prefix_len.size(), 9u);
  const double bleu1 = 0.5 / (1 + 0.5 + 1.0 / 3);
  const QacMetricsRow& p1 = m.by_prefix_len[0];
  EXPECT_EQ(p1.n, 2);
  EXPECT_DOUBLE_EQ(p1.mrr, 0.25);
  EXPECT_EQ(p1.success, (std::vector<double>{0, 0.5, 0.5, 0.5}));
  EXPECT_NEAR(p1.bleu, bleu1 / 2, 1e-12);
  const QacMetricsRow& p2 = m.by_prefix_len[1];
  EXPECT_EQ(p2.n, 1);
  EXPECT_DOUBLE_EQ(p2.mrr, 1.0);
  EXPECT_EQ(p2.success, (std::vector<double>{1, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(p2.bleu, 1.0);
  for (int p = 3; p <= 8; ++p) EXPECT_EQ(m.by_prefix_len[p - 1].n, 0);
  const QacMetricsRow& p9 = m.by_prefix_len[8];
  EXPECT_EQ(p9.n, 1);
  EXPECT_DOUBLE_EQ(p9.mrr, 0.0);
  EXPECT_EQ(p9.success, (std::vector<double>{0, 0, 0, 0}));
  EXPECT_DOUBLE_EQ(p9.bleu, 0.0);
  // Headline: mean over prefix lengths 1 and 2 (the only ones in 1-8 with examples).
  EXPECT_EQ(m.averaged.n, 3);
  EXPECT_DOUBLE_EQ(m.averaged.mrr, (0.25 + 1.0) / 2);
  EXPECT_EQ(m.averaged.success, (std::vector<double>{0.5, 0.75, 0.75, 0.75}));
  EXPECT_NEAR(m.averaged.bleu, (bleu1 / 2 + 1.0) / 2, 1e-12);
  // Overall: every example counts once.
  EXPECT_EQ(m.overall.n, 4);
  EXPECT_DOUBLE_EQ(m.overall.mrr, (0.5 + 0 + 1 + 0) / 4);
  EXPECT_EQ(m.overall.success, (std::vector<double>{0.25, 0.5, 0.5, 0.5}));
  const std::string t = m.Table();
  EXPECT_NE(t.find("MRR@10"), std::string::npos) << t;
  EXPECT_NE(t.find("avg 1-8"), std::string::npos) << t;
  EXPECT_NE(t.find("all"), std::string::npos) << t;
  EXPECT_NE(t.find("0.6250"), std::string::npos) << t;
}

TEST(QacMetrics, MergeAndOptions) {
  QacEvaluator a, b;
  a.Add(1, "a b", std::vector<std::string>{"x", "a b", "y"});
  a.Add(1, "c", std::vector<std::string>{});
  b.Add(2, "d", std::vector<std::string>{"d"});
  std::vector<std::string> r(10, "z");
  r.push_back("e");
  b.Add(9, "e", r);
  a.Merge(b);
  const QacMetrics m = a.Result(), ref = HandEvaluator().Result();
  EXPECT_EQ(m.Table(), ref.Table());

  QacMetricsOptions o;
  o.mrr_k = 1;
  o.success_k = {2};
  o.avg_max_prefix_len = 1;
  QacEvaluator c(o);
  c.Add(1, "a", std::vector<std::string>{"b", "a"});
  const QacMetrics mc = c.Result();
  EXPECT_DOUBLE_EQ(mc.averaged.mrr, 0.0);
  EXPECT_EQ(mc.averaged.success, std::vector<double>{1.0});
  ExpectError([&] { a.Merge(c); }, ErrorCode::kInvalidArgument, {"options"});
  ExpectError([&] { c.Add(0, "a", std::vector<std::string>{}); }, ErrorCode::kInvalidArgument,
              {"prefix_len"});
  o.success_k = {0};
  ExpectError([&] { QacEvaluator bad(o); }, ErrorCode::kInvalidArgument, {"success_k"});
  o = {};
  o.avg_min_prefix_len = 3;
  o.avg_max_prefix_len = 2;
  ExpectError([&] { QacEvaluator bad(o); }, ErrorCode::kInvalidArgument, {"avg_min_prefix_len"});
}

TEST(QacMetrics, EvaluateSplitByIdAndString) {
  const std::vector<std::string> labels = {"apple", "apple pie", "apricot", "banana"};
  QacSplit s;
  s.pairs = {{"fruit", "apple pie", 1, 0, -1}, {"fruit", "apple tart", kNoLabel, 1, -1}};
  s.examples = {{0, 1, 1, 1}, {0, 2, 2, 1}, {1, 1, 1, kNoLabel}};
  const std::vector<std::vector<Index>> ids = {{0, 1, 2}, {1}, {0, 1}};
  const QacMetrics m = EvaluateQac(s, ids, labels);
  EXPECT_EQ(m.overall.n, 3);
  EXPECT_DOUBLE_EQ(m.by_prefix_len[0].mrr, (0.5 + 0.0) / 2);  // unknown label never hits
  EXPECT_DOUBLE_EQ(m.by_prefix_len[1].mrr, 1.0);
  // Example 2: truth "apple tart"; "apple" -> p1 = 1, BP = exp(1 - 2); "apple pie" -> p1 = 1/2,
  // p2 = (0 + 1) / (1 + 1), p3 = p4 = 1; weights 1 and 1/2.
  const double b_apple = std::exp(-1.0);
  const double b_pie = std::pow(1.0 / 4.0, 0.25);
  const double bleu2 = (b_apple + 0.5 * b_pie) / 1.5;
  // Example 0: truth "apple pie", completions apple, apple pie, apricot.
  const double bleu0 = (std::exp(1.0 - 2.0) + 0.5 * 1.0 + 0.0) / (1 + 0.5 + 1.0 / 3);
  EXPECT_NEAR(m.by_prefix_len[0].bleu, (bleu0 + bleu2) / 2, 1e-12);

  std::vector<std::vector<std::string>> strs;
  for (const auto& r : ids) {
    strs.emplace_back();
    for (Index id : r) strs.back().push_back(labels[id]);
  }
  const QacMetrics ms = EvaluateQac(s, strs, {}, 4);
  EXPECT_EQ(ms.Table(), m.Table());
  EXPECT_EQ(EvaluateQac(s, ids, labels, {}, 4).Table(), m.Table());

  ExpectError([&] { EvaluateQac(s, std::vector<std::vector<Index>>{{0}}, labels); },
              ErrorCode::kInvalidArgument, {"1 ranked lists for 3 examples"});
  ExpectError(
      [&] {
        EvaluateQac(s, std::vector<std::vector<Index>>{{0}, {4}, {}}, labels);
      },
      ErrorCode::kInvalidArgument, {"label id 4"});
}

}  // namespace
}  // namespace xmr
