// The TF-IDF text vectorizer: the n-gram sets of the product-search examples exactly, TF-IDF
// values against hand computation, text cleaning (control characters, invalid UTF-8, empty
// text, lower-casing), serialisation and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "xmr/text.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::Quiet;

BaseVectorizerOptions Base(Analyzer a, int lo, int hi) {
  BaseVectorizerOptions b;
  b.analyzer = a;
  b.ngram_min = lo;
  b.ngram_max = hi;
  return b;
}

TEST(NGrams, WordNGramsOfTheProductSearchExample) {
  EXPECT_EQ(text_detail::NGrams("echo with screen", Base(Analyzer::kWord, 1, 3), true),
            (std::vector<std::string>{"echo", "with", "screen", "echo with", "with screen",
                                      "echo with screen"}));
}

TEST(NGrams, CharTrigramsMarkTheEndOfEachWord) {
  EXPECT_EQ(text_detail::NGrams("echo", Base(Analyzer::kCharWb, 3, 3), true),
            (std::vector<std::string>{"ech", "cho", "ho#"}));
  EXPECT_EQ(text_detail::NGrams("Echo with  screen", Base(Analyzer::kCharWb, 3, 3), true),
            (std::vector<std::string>{"ech", "cho", "ho#", "wit", "ith", "th#", "scr", "cre", "ree",
                                      "een", "en#"}));
  // A word shorter than n counts once, whole.
  EXPECT_EQ(text_detail::NGrams("a tv", Base(Analyzer::kCharWb, 3, 4), true),
            (std::vector<std::string>{"a#", "tv#"}));
  // Code points, not bytes.
  EXPECT_EQ(text_detail::NGrams("né", Base(Analyzer::kCharWb, 2, 2), true),
            (std::vector<std::string>{"né", "é#"}));
  EXPECT_EQ(text_detail::NGrams("ab c", Base(Analyzer::kChar, 2, 2), true),
            (std::vector<std::string>{"ab", "b ", " c"}));
}

TEST(Clean, ControlsAndUnicodeBlanksSeparateWordsAndCaseIsFolded) {
  using IU = TextVectorizerOptions::InvalidUtf8;
  EXPECT_EQ(text_detail::Clean("  Echo\twith\r\nScreen \xC2\xA0 ", true, IU::kError, 0),
            "echo with screen");
  EXPECT_EQ(text_detail::Clean("ÉCHO ΔΣ Привет", true, IU::kError, 0), "écho δσ привет");
  EXPECT_EQ(text_detail::Clean("ÉCHO", false, IU::kError, 0), "ÉCHO");
  EXPECT_EQ(text_detail::Clean("", true, IU::kError, 0), "");
  ExpectError([] { text_detail::Clean("ok \xC3(", true, IU::kError, 7); },
              ErrorCode::kInvalidArgument, {"text 7", "invalid UTF-8 at byte 3"});
  ExpectError([] { text_detail::Clean("\xED\xA0\x80", true, IU::kError, 0); },  // surrogate
              ErrorCode::kInvalidArgument, {"invalid UTF-8"});
  ExpectError([] { text_detail::Clean("\xC0\xAF", true, IU::kError, 0); },  // overlong '/'
              ErrorCode::kInvalidArgument, {"invalid UTF-8"});
  EXPECT_EQ(text_detail::Clean("a\xFF"
                               "b",
                               true, IU::kReplace, 0),
            "a\xEF\xBF\xBD"
            "b");
}

// Corpus {"a b", "a c", "a d", "b e"}: df a=3, b=2, c=d=e=1, N=4; unsmoothed idf = ln(N/df).
TEST(TextVectorizer, TfIdfValuesEqualHandComputation) {
  TextVectorizerOptions opts;
  opts.bases = {Base(Analyzer::kWord, 1, 1)};
  opts.bases[0].smooth_idf = false;
  const TextVectorizer v = TextVectorizer::Fit({"a b", "a c", "a d", "b e"}, opts, Quiet(1));
  ASSERT_EQ(v.n_features(), 5);
  for (Index f = 0; f < 5; ++f) EXPECT_EQ(v.FeatureName(f), std::string(1, "abcde"[f]));
  const CsrMatrix x = v.Transform({"a b b", "zzz", "", "e"}, Quiet(1));
  ASSERT_EQ(x.rows, 4);
  const double ia = std::log(4.0 / 3), ib = std::log(2.0);
  const double norm = std::sqrt(ia * ia + 4 * ib * ib);
  ASSERT_EQ(x.indptr, (std::vector<Offset>{0, 2, 2, 2, 3}));
  EXPECT_EQ(x.indices[0], 0);
  EXPECT_EQ(x.indices[1], 1);
  EXPECT_NEAR(x.data[0], ia / norm, 1e-6);
  EXPECT_NEAR(x.data[1], 2 * ib / norm, 1e-6);
  EXPECT_EQ(x.indices[2], 4);
  EXPECT_NEAR(x.data[2], 1.0, 1e-6);
  // Smoothed (PECOS default): ln(N / (df + 1)), floored at 0: "a" (df 3) gets idf 0 and drops.
  opts.bases[0].smooth_idf = true;
  const TextVectorizer s = TextVectorizer::Fit({"a b", "a c", "a d", "b e"}, opts, Quiet(1));
  const CsrMatrix y = s.Transform({"a b"}, Quiet(1));
  ASSERT_EQ(y.indptr[1], 1);
  EXPECT_EQ(y.indices[0], 1);
  // Sublinear and binary tf.
  opts.bases[0].smooth_idf = false;
  opts.bases[0].sublinear_tf = true;
  const CsrMatrix z = TextVectorizer::Fit({"a b", "a c", "a d", "b e"}, opts, Quiet(1))
                          .Transform({"a b b"}, Quiet(1));
  const double zb = (1 + std::log(2.0)) * ib, zn = std::sqrt(ia * ia + zb * zb);
  EXPECT_NEAR(z.data[1], zb / zn, 1e-6);
}

TEST(TextVectorizer, StackedBlocksAreNormalisedSeparatelyThenTogether) {
  const std::vector<std::string> corpus = {"echo with screen", "echo dot", "kindle with light",
                                           "fire tv stick", "echo show"};
  const TextVectorizerOptions both;  // word 1-2-grams + char_wb trigrams
  TextVectorizerOptions word_only, char_only;
  word_only.bases = {both.bases[0]};
  char_only.bases = {both.bases[1]};
  const TextVectorizer v = TextVectorizer::Fit(corpus, both, Quiet(2));
  const TextVectorizer w = TextVectorizer::Fit(corpus, word_only, Quiet(1));
  const TextVectorizer c = TextVectorizer::Fit(corpus, char_only, Quiet(1));
  ASSERT_EQ(v.n_features(), w.n_features() + c.n_features());
  const std::vector<std::string> q = {"Echo with screen"};
  const CsrMatrix x = v.Transform(q), xw = w.Transform(q), xc = c.Transform(q);
  // The stacked row = [word row, char row] / sqrt(2): each block unit-norm, then the whole.
  ASSERT_EQ(x.indptr[1], xw.indptr[1] + xc.indptr[1]);
  for (Offset e = 0; e < xw.indptr[1]; ++e) {
    EXPECT_EQ(x.indices[e], xw.indices[e]);
    EXPECT_NEAR(x.data[e], xw.data[e] / std::sqrt(2.0), 1e-6);
  }
  for (Offset e = 0; e < xc.indptr[1]; ++e) {
    EXPECT_EQ(x.indices[xw.indptr[1] + e], w.n_features() + xc.indices[e]);
    EXPECT_NEAR(x.data[xw.indptr[1] + e], xc.data[e] / std::sqrt(2.0), 1e-6);
    EXPECT_EQ(v.FeatureName(w.n_features() + xc.indices[e]), c.FeatureName(xc.indices[e]));
  }
  // Bad text names the document.
  ExpectError(
      [&] {
        v.Transform({"ok", "bad \xFF"}, Quiet(2));
      },
      ErrorCode::kInvalidArgument, {"text 1", "invalid UTF-8"});
}

TEST(TextVectorizer, DocumentFrequencyFiltersAndMaxFeatures) {
  TextVectorizerOptions opts;
  opts.bases = {Base(Analyzer::kWord, 1, 1)};
  const std::vector<std::string> corpus = {"a b c", "a b", "a d", "a"};
  opts.bases[0].min_df = 2;
  TextVectorizer v = TextVectorizer::Fit(corpus, opts, Quiet(1));
  ASSERT_EQ(v.n_features(), 2);  // a (4), b (2)
  opts.bases[0].min_df = 1;
  opts.bases[0].max_df_ratio = 0.9;  // drops a (in every document)
  v = TextVectorizer::Fit(corpus, opts, Quiet(1));
  EXPECT_EQ(v.n_features(), 3);
  EXPECT_EQ(v.FeatureName(0), "b");
  opts.bases[0].max_df_ratio = 1.0;
  opts.bases[0].max_features = 2;  // a (4), b (2)
  v = TextVectorizer::Fit(corpus, opts, Quiet(1));
  ASSERT_EQ(v.n_features(), 2);
  EXPECT_EQ(v.FeatureName(1), "b");
  opts.bases[0].ngram_max = 9;
  ExpectError([&] { TextVectorizer::Fit(corpus, opts); }, ErrorCode::kInvalidArgument,
              {"ngram range"});
}

TEST(TextVectorizer, SerialisationRoundTripsAndFitIgnoresThreadCount) {
  std::vector<std::string> corpus;
  for (int i = 0; i < 3000; ++i) {
    corpus.push_back("item " + std::to_string(i % 97) + " color " + std::to_string(i % 13) +
                     " Größe " + std::to_string(i % 7));
  }
  const TextVectorizerOptions opts;
  const TextVectorizer a = TextVectorizer::Fit(corpus, opts, Quiet(1));
  const TextVectorizer b = TextVectorizer::Fit(corpus, opts, Quiet(4));
  EXPECT_EQ(a.Serialize(), b.Serialize());
  const TextVectorizer c = TextVectorizer::Deserialize(a.Serialize());
  EXPECT_EQ(c.Serialize(), a.Serialize());
  const std::vector<std::string> q = {"item 5 color 3", "größe 2", "nothing known"};
  const CsrMatrix xa = a.Transform(q, Quiet(2)), xc = c.Transform(q, Quiet(1));
  EXPECT_EQ(xa.indptr, xc.indptr);
  EXPECT_EQ(xa.indices, xc.indices);
  EXPECT_EQ(xa.data, xc.data);
  EXPECT_EQ(xa.indptr[3] - xa.indptr[2], 0);
  std::string broken = a.Serialize();
  broken.resize(broken.size() / 2);
  ExpectError([&] { TextVectorizer::Deserialize(broken); }, ErrorCode::kCorruption, {"truncated"});
  ExpectError([] { TextVectorizer::Deserialize("hello\n"); }, ErrorCode::kCorruption,
              {"not an xmr tfidf vectorizer"});
}

}  // namespace
}  // namespace xmr
