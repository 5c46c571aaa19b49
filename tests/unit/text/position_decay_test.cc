// Position-weighted char_wb TF-IDF (BaseVectorizerOptions::position_decay): values against hand
// computation for plain, sublinear and binary tf, code-point positions, the short-word rule,
// decay 0 = the unweighted vectorizer, validation and serialisation (version 3 only when used).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "xmr/text.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::Quiet;

// One char_wb base, no lower-casing surprises; add_one_idf so that a one-document corpus has
// idf 1 for every n-gram (max(ln(1 / 2), 0) + 1).
TextVectorizerOptions CharWb(int n, double decay) {
  BaseVectorizerOptions b;
  b.analyzer = Analyzer::kCharWb;
  b.ngram_min = b.ngram_max = n;
  b.add_one_idf = true;
  b.position_decay = decay;
  TextVectorizerOptions opts;
  opts.bases = {b};
  return opts;
}

// The row of `doc` as (feature name, value) pairs, fitted on `doc` alone.
std::vector<std::pair<std::string, float>> Row(const std::string& doc,
                                               const TextVectorizerOptions& opts) {
  const TextVectorizer v = TextVectorizer::Fit({doc}, opts, Quiet());
  const CsrMatrix x = v.Transform({doc}, Quiet());
  std::vector<std::pair<std::string, float>> row;
  for (Offset p = x.indptr[0]; p < x.indptr[1]; ++p) {
    row.emplace_back(v.FeatureName(x.indices[p]), x.data[p]);
  }
  return row;
}

// Expects `row` to be the L2-normalised `expected` (names in feature order).
void ExpectRow(const std::vector<std::pair<std::string, float>>& row,
               const std::vector<std::pair<std::string, double>>& expected) {
  ASSERT_EQ(row.size(), expected.size());
  double norm = 0;
  for (const auto& e : expected) norm += e.second * e.second;
  norm = std::sqrt(norm);
  for (std::size_t k = 0; k < row.size(); ++k) {
    EXPECT_EQ(row[k].first, expected[k].first);
    EXPECT_NEAR(row[k].second, expected[k].second / norm, 1e-6) << expected[k].first;
  }
}

TEST(PositionDecay, WeightsByPositionInTheWord) {
  // "abc#": "abc" at 0, "bc#" at 1.
  ExpectRow(Row("abc", CharWb(3, 1.0)), {{"abc", 1.0}, {"bc#", 0.5}});
  ExpectRow(Row("abc", CharWb(3, 2.0)), {{"abc", 1.0}, {"bc#", 0.25}});
  ExpectRow(Row("echo", CharWb(3, 1.0)), {{"cho", 1.0 / 2}, {"ech", 1.0}, {"ho#", 1.0 / 3}});
  // Positions restart in every word; a word shorter than n counts once, at position 0.
  ExpectRow(Row("a bcd", CharWb(3, 1.0)), {{"a#", 1.0}, {"bcd", 1.0}, {"cd#", 0.5}});
  // Code points, not bytes: "é" is one position.
  ExpectRow(Row("éab", CharWb(2, 1.0)), {{"ab", 0.5}, {"b#", 1.0 / 3}, {"éa", 1.0}});
}

TEST(PositionDecay, RepeatedNGramsAndTheTfVariants) {
  // "abab#": ab@0 ba@1 ab@2 b#@3; "ab#": ab@0 b#@1.
  // ab: c = 3, w = 1 + 1/3 + 1 = 7/3; b#: c = 2, w = 1/4 + 1/2 = 3/4; ba: c = 1, w = 1/2.
  TextVectorizerOptions opts = CharWb(2, 1.0);
  ExpectRow(Row("abab ab", opts), {{"ab", 7.0 / 3}, {"b#", 3.0 / 4}, {"ba", 1.0 / 2}});
  opts.bases[0].sublinear_tf = true;  // (1 + ln c) * w / c
  ExpectRow(Row("abab ab", opts), {{"ab", (1 + std::log(3.0)) * 7.0 / 9},
                                   {"b#", (1 + std::log(2.0)) * 3.0 / 8},
                                   {"ba", 1.0 / 2}});
  opts.bases[0].sublinear_tf = false;
  opts.bases[0].binary = true;  // w / c
  ExpectRow(Row("abab ab", opts), {{"ab", 7.0 / 9}, {"b#", 3.0 / 8}, {"ba", 1.0 / 2}});
}

TEST(PositionDecay, ZeroIsTheUnweightedVectorizer) {
  const std::vector<std::string> corpus{"echo with screen", "echo dot", "screen protector",
                                        "kindle paperwhite", "echo echo"};
  TextVectorizerOptions plain;  // word 1-2-grams + char_wb 3-grams, decay 0
  ExpectRow(Row("abab ab", CharWb(2, 0.0)), {{"ab", 3.0}, {"b#", 2.0}, {"ba", 1.0}});
  const TextVectorizer a = TextVectorizer::Fit(corpus, plain, Quiet());
  EXPECT_EQ(a.options().bases[1].position_decay, 0.0);
  // Weighting changes only the char_wb block, and leaves the vocabulary and idf alone.
  TextVectorizerOptions weighted = plain;
  weighted.bases[1].position_decay = 1.0;
  const TextVectorizer b = TextVectorizer::Fit(corpus, weighted, Quiet());
  ASSERT_EQ(a.n_features(), b.n_features());
  for (Index f = 0; f < a.n_features(); ++f) EXPECT_EQ(a.FeatureName(f), b.FeatureName(f));
  const CsrMatrix xa = a.Transform(corpus, Quiet(2)), xb = b.Transform(corpus, Quiet(2));
  EXPECT_EQ(xa.indptr, xb.indptr);
  EXPECT_EQ(xa.indices, xb.indices);
  EXPECT_NE(xa.data, xb.data);
  // Serialised without the field (version 2, as before the option existed).
  EXPECT_EQ(a.Serialize().rfind("xmr-tfidf 2\n", 0), 0u);
}

TEST(PositionDecay, SerialisationRoundTrip) {
  TextVectorizerOptions opts;
  opts.bases[1].position_decay = 1.0 / 3;  // not exact in decimal: needs a round-trip format
  opts.bases[1].sublinear_tf = true;
  BaseVectorizerOptions wb2;
  wb2.analyzer = Analyzer::kCharWb;
  wb2.ngram_min = 2, wb2.ngram_max = 4;
  wb2.position_decay = 0.7;
  opts.bases.push_back(wb2);
  const std::vector<std::string> corpus{"echo with screen", "echo dot", "Ünïcödé wörds",
                                        "screen protector"};
  const TextVectorizer v = TextVectorizer::Fit(corpus, opts, Quiet());
  const std::string s = v.Serialize();
  EXPECT_EQ(s.rfind("xmr-tfidf 3\n", 0), 0u);
  const TextVectorizer w = TextVectorizer::Deserialize(s);
  EXPECT_EQ(w.options().bases[0].position_decay, 0.0);
  EXPECT_EQ(w.options().bases[1].position_decay, 1.0 / 3);
  EXPECT_EQ(w.options().bases[2].position_decay, 0.7);
  EXPECT_TRUE(w.options().bases[1].sublinear_tf);
  EXPECT_EQ(w.Serialize(), s);
  const CsrMatrix x = v.Transform(corpus, Quiet()), y = w.Transform(corpus, Quiet());
  EXPECT_EQ(x.indices, y.indices);
  EXPECT_EQ(x.data, y.data);  // bit for bit
  // A version-3 base line without its position_decay field is corrupt.
  std::string cut = s;
  const std::size_t at = cut.find("base char_wb 2 4");
  ASSERT_NE(at, std::string::npos);
  const std::size_t end = cut.find('\n', at);
  const std::string line = cut.substr(at, end - at);  // "... add_one decay count"
  const std::size_t last = line.rfind(' '), decay = line.rfind(' ', last - 1);
  cut.replace(at, end - at, line.substr(0, decay) + line.substr(last));
  ExpectError([&] { TextVectorizer::Deserialize(cut); }, ErrorCode::kCorruption,
              {"malformed base"});
  // A stored decay on a non-char_wb base is rejected like a bad option.
  std::string bad = s;
  const std::size_t word = bad.find("base word 1 2");
  ASSERT_NE(word, std::string::npos);
  const std::size_t word_end = bad.find('\n', word);
  std::string wline = bad.substr(word, word_end - word);
  const std::size_t wl = wline.rfind(' '), wd = wline.rfind(' ', wl - 1);
  wline.replace(wd + 1, wl - wd - 1, "0.5");
  bad.replace(word, word_end - word, wline);
  ExpectError([&] { TextVectorizer::Deserialize(bad); }, ErrorCode::kCorruption,
              {"position_decay"});
}

TEST(PositionDecay, Validation) {
  BaseVectorizerOptions b;
  b.analyzer = Analyzer::kCharWb;
  for (const double d : {-0.5, std::nan(""), HUGE_VAL}) {
    b.position_decay = d;
    ExpectError([&] { b.Validate(); }, ErrorCode::kInvalidArgument, {"position_decay"});
  }
  b.position_decay = 0.5;
  EXPECT_NO_THROW(b.Validate());
  for (const Analyzer a : {Analyzer::kWord, Analyzer::kChar}) {
    b.analyzer = a;
    ExpectError([&] { b.Validate(); }, ErrorCode::kInvalidArgument, {"only to the char_wb"});
  }
  b.position_decay = 0;
  EXPECT_NO_THROW(b.Validate());
}

}  // namespace
}  // namespace xmr
