// The TF-IDF text vectorizer: the n-gram sets of the product-search examples exactly, TF-IDF
// values against hand computation, text cleaning (control characters, invalid UTF-8, empty
// text, basic and Unicode lower-casing), the blank and Unicode word tokenizers, serialisation
// (including the format before case_mapping / tokenizer) and thread-count independence.
#include <gtest/gtest.h>

#include <algorithm>
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
  EXPECT_EQ(text_detail::NGrams("echo with screen", Base(Analyzer::kWord, 1, 3)),
            (std::vector<std::string>{"echo", "with", "screen", "echo with", "with screen",
                                      "echo with screen"}));
}

TEST(NGrams, CharTrigramsMarkTheEndOfEachWord) {
  EXPECT_EQ(text_detail::NGrams("echo", Base(Analyzer::kCharWb, 3, 3)),
            (std::vector<std::string>{"ech", "cho", "ho#"}));
  EXPECT_EQ(text_detail::NGrams("Echo with  screen", Base(Analyzer::kCharWb, 3, 3)),
            (std::vector<std::string>{"ech", "cho", "ho#", "wit", "ith", "th#", "scr", "cre", "ree",
                                      "een", "en#"}));
  // A word shorter than n counts once, whole.
  EXPECT_EQ(text_detail::NGrams("a tv", Base(Analyzer::kCharWb, 3, 4)),
            (std::vector<std::string>{"a#", "tv#"}));
  // Code points, not bytes.
  EXPECT_EQ(text_detail::NGrams("né", Base(Analyzer::kCharWb, 2, 2)),
            (std::vector<std::string>{"né", "é#"}));
  EXPECT_EQ(text_detail::NGrams("ab c", Base(Analyzer::kChar, 2, 2)),
            (std::vector<std::string>{"ab", "b ", " c"}));
}

TEST(Clean, ControlsAndUnicodeBlanksSeparateWordsAndCaseIsFolded) {
  TextVectorizerOptions opts, keep_case, replace;
  keep_case.lowercase = false;
  replace.invalid_utf8 = TextVectorizerOptions::InvalidUtf8::kReplace;
  EXPECT_EQ(text_detail::Clean("  Echo\twith\r\nScreen \xC2\xA0 ", opts), "echo with screen");
  EXPECT_EQ(text_detail::Clean("ÉCHO ΔΣ Привет", opts), "écho δσ привет");
  EXPECT_EQ(text_detail::Clean("ÉCHO", keep_case), "ÉCHO");
  EXPECT_EQ(text_detail::Clean("", opts), "");
  ExpectError([&] { text_detail::Clean("ok \xC3(", opts, 7); }, ErrorCode::kInvalidArgument,
              {"text 7", "invalid UTF-8 at byte 3"});
  ExpectError([&] { text_detail::Clean("\xED\xA0\x80", opts); },  // surrogate
              ErrorCode::kInvalidArgument, {"invalid UTF-8"});
  ExpectError([&] { text_detail::Clean("\xC0\xAF", opts); },  // overlong '/'
              ErrorCode::kInvalidArgument, {"invalid UTF-8"});
  EXPECT_EQ(text_detail::Clean("a\xFF"
                               "b",
                               replace),
            "a\xEF\xBF\xBD"
            "b");
}

TextVectorizerOptions UnicodeOptions() {
  TextVectorizerOptions opts;
  opts.case_mapping = TextVectorizerOptions::CaseMapping::kUnicode;
  opts.tokenizer = TextVectorizerOptions::Tokenizer::kUnicodeWord;
  return opts;
}

// Simple (one-to-one, context-free) mappings: no final sigma, İ -> i (not "i̇"), ß kept.
TEST(Clean, UnicodeCaseMappingIsTheSimpleLowerCaseMapping) {
  TextVectorizerOptions unicode = UnicodeOptions(), basic;
  EXPECT_EQ(text_detail::Clean("ÀÉÎ ΣΑΣ Straße İ", unicode), "àéî σασ straße i");
  EXPECT_EQ(text_detail::Clean("ΟΔΟΣ οδός", unicode), "οδοσ οδός");
  // Capital sharp s, title-case digraph, Ohm and Kelvin signs, Cherokee, full-width, Deseret.
  EXPECT_EQ(text_detail::Clean("ẞ ǅ Ω K Ꭰ ＡＢ 𐐀", unicode), "ß ǆ ω k ꭰ ａｂ 𐐨");
  // Characters without a lower-case form are kept: digits, CJK, marks, symbols.
  EXPECT_EQ(text_detail::Clean("中文 ٣ ½ e\u0301 ☃", unicode), "中文 ٣ ½ e\u0301 ☃");
  // The basic table covers ASCII, Latin-1, Greek and Cyrillic only.
  EXPECT_EQ(text_detail::Clean("ÀÉÎ ΣΑΣ Straße İ ẞ Ꭰ", basic), "àéî σασ straße İ ẞ Ꭰ");
  unicode.lowercase = false;
  EXPECT_EQ(text_detail::Clean("ÀÉÎ İ", unicode), "ÀÉÎ İ");
}

std::vector<std::string> UnicodeWords(const std::string& text) {
  const std::string clean = text_detail::Clean(text, UnicodeOptions());
  const std::vector<std::string_view> w =
      text_detail::Words(clean, TextVectorizerOptions::Tokenizer::kUnicodeWord);
  return std::vector<std::string>(w.begin(), w.end());
}

TEST(Words, UnicodeWordTokenizer) {
  using V = std::vector<std::string>;
  // Punctuation separates words.
  EXPECT_EQ(UnicodeWords("Screen, (echo) «Hallo» don't foo.bar. a/b"),
            (V{"screen", "echo", "hallo", "don", "t", "foo.bar", "a", "b"}));
  // '+' and '#' end (or link) a word; one '.', '_' or '-' links letters/digits.
  EXPECT_EQ(UnicodeWords("C++ c# c++11 g++-12 x86_64 e.g. gtk-3 3.14 a+b"),
            (V{"c++", "c#", "c++11", "g++-12", "x86_64", "e.g", "gtk-3", "3.14", "a+b"}));
  EXPECT_EQ(UnicodeWords("foo..bar -verbose- __init__ #include ++x a-.b c+-"),
            (V{"foo", "bar", "verbose", "init", "include", "x", "a", "b", "c+"}));
  // Digits of any script; ½ and ² are not digits.
  EXPECT_EQ(UnicodeWords("1,000 ٣٤ 100MB ½ x²"), (V{"1", "000", "٣٤", "100mb", "x"}));
  // Scripts written without blanks are not segmented; their punctuation separates.
  EXPECT_EQ(UnicodeWords("中文分词，テスト。日本語 한국어"),
            (V{"中文分词", "テスト", "日本語", "한국어"}));
  // Combining marks continue a word but never start one; Indic signs stay in the word.
  EXPECT_EQ(UnicodeWords("cafe\u0301 \u0301x naïve हिन्दी"),
            (V{"cafe\u0301", "x", "naïve", "हिन्दी"}));
  // Nothing but punctuation, symbols or blanks: no words.
  EXPECT_EQ(UnicodeWords("!!! ... -- ++ ## ☃ \t "), V{});
  EXPECT_EQ(UnicodeWords(""), V{});
  // U+FFFD (invalid_utf8 = kReplace) separates words.
  TextVectorizerOptions replace = UnicodeOptions();
  replace.invalid_utf8 = TextVectorizerOptions::InvalidUtf8::kReplace;
  EXPECT_EQ(text_detail::NGrams("a\xFF"
                                "b",
                                Base(Analyzer::kWord, 1, 1), replace),
            (V{"a", "b"}));
  // The blank tokenizer keeps punctuation (PECOS).
  EXPECT_EQ(text_detail::Words("screen, (echo)", TextVectorizerOptions::Tokenizer::kBlank),
            (std::vector<std::string_view>{"screen,", "(echo)"}));
}

TEST(NGrams, IssueExamplesHoldWithTheUnicodeOptions) {
  const TextVectorizerOptions opts = UnicodeOptions();
  const std::vector<std::string> words = {"echo",      "with",        "screen",
                                          "echo with", "with screen", "echo with screen"};
  EXPECT_EQ(text_detail::NGrams("echo with screen", Base(Analyzer::kWord, 1, 3), opts), words);
  EXPECT_EQ(text_detail::NGrams("Echo, with (screen)!", Base(Analyzer::kWord, 1, 3), opts), words);
  EXPECT_EQ(text_detail::NGrams("echo", Base(Analyzer::kCharWb, 3, 3), opts),
            (std::vector<std::string>{"ech", "cho", "ho#"}));
  EXPECT_EQ(text_detail::NGrams("(Echo)", Base(Analyzer::kCharWb, 3, 3), opts),
            (std::vector<std::string>{"ech", "cho", "ho#"}));
  EXPECT_EQ(text_detail::NGrams("c++", Base(Analyzer::kCharWb, 3, 3), opts),
            (std::vector<std::string>{"c++", "++#"}));
  // The char analyzer ignores the tokenizer: n-grams of the whole cleaned text.
  EXPECT_EQ(text_detail::NGrams("A, b", Base(Analyzer::kChar, 2, 2), opts),
            (std::vector<std::string>{"a,", ", ", " b"}));
}

// TransformOne looks n-grams up without building strings where the words lie in the cleaned
// text separated by one blank; across punctuation (unicode_word) it joins them. Both must find
// the same features.
TEST(TextVectorizer, WordNGramsAcrossPunctuationFindTheirFeatures) {
  TextVectorizerOptions opts = UnicodeOptions();
  opts.bases = {Base(Analyzer::kWord, 1, 3), Base(Analyzer::kCharWb, 3, 3)};
  const TextVectorizer v =
      TextVectorizer::Fit({"echo with screen", "echo dot", "with screen"}, opts, Quiet(1));
  const CsrMatrix x =
      v.Transform({"echo with screen", "Echo, with (screen)!", "echo  with\tscreen"}, Quiet(1));
  ASSERT_EQ(x.rows, 3);
  const std::vector<Index> plain(x.indices.begin() + x.indptr[0], x.indices.begin() + x.indptr[1]);
  std::vector<std::string> names;
  for (const Index f : plain) names.push_back(v.FeatureName(f));
  EXPECT_NE(std::find(names.begin(), names.end(), "echo with screen"), names.end());
  for (Index r = 1; r < 3; ++r) {
    EXPECT_EQ(
        std::vector<Index>(x.indices.begin() + x.indptr[r], x.indices.begin() + x.indptr[r + 1]),
        plain)
        << "row " << r;
    EXPECT_EQ(std::vector<float>(x.data.begin() + x.indptr[r], x.data.begin() + x.indptr[r + 1]),
              std::vector<float>(x.data.begin() + x.indptr[0], x.data.begin() + x.indptr[1]))
        << "row " << r;
  }
}

// Empty text, text with no word, and a very long word, with both tokenizers.
TEST(TextVectorizer, EmptyPunctuationOnlyAndVeryLongTexts) {
  const std::string long_word(200000, 'x');
  std::string long_chain;  // "a.a.a..." and "c+++...": linear-time tokenising
  for (int i = 0; i < 50000; ++i) long_chain += "a.";
  long_chain += " c" + std::string(50000, '+');
  for (const TextVectorizerOptions& opts : {TextVectorizerOptions{}, UnicodeOptions()}) {
    const std::vector<std::string> corpus = {"", "!!! ... ,,,", long_word + " x", long_chain,
                                             "x y"};
    const TextVectorizer v = TextVectorizer::Fit(corpus, opts, Quiet(2));
    EXPECT_GT(v.n_features(), 0);
    const CsrMatrix x = v.Transform({"", "?!", long_word, "x"}, Quiet(2));
    ASSERT_EQ(x.rows, 4);
    EXPECT_EQ(x.indptr[1], 0);
    EXPECT_EQ(x.indptr[2] - x.indptr[1], 0);
    EXPECT_GT(x.indptr[3] - x.indptr[2], 0);
    EXPECT_GT(x.indptr[4] - x.indptr[3], 0);
    // A corpus without a single word fits an empty vocabulary; every row is empty.
    TextVectorizerOptions words_only = opts;
    words_only.bases = {Base(Analyzer::kWord, 1, 2)};
    const TextVectorizer e = TextVectorizer::Fit({"", "   "}, words_only, Quiet(1));
    EXPECT_EQ(e.n_features(), 0);
    const CsrMatrix y = e.Transform({"a b", ""}, Quiet(1));
    EXPECT_EQ(y.indptr, (std::vector<Offset>{0, 0, 0}));
  }
  const TextVectorizer u = TextVectorizer::Fit({"!!! ... ,,,", "(--)"}, UnicodeOptions(), Quiet(1));
  EXPECT_EQ(u.n_features(), 0);
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
  broken.resize(broken.rfind('\n', broken.size() / 2) + 1);  // whole lines, fewer than promised
  ExpectError([&] { TextVectorizer::Deserialize(broken); }, ErrorCode::kCorruption, {"truncated"});
  ExpectError([] { TextVectorizer::Deserialize("hello\n"); }, ErrorCode::kCorruption,
              {"not an xmr tfidf vectorizer"});
}

// Written by the code before case_mapping / tokenizer existed (TextVectorizerOptions with
// bases[0].sublinear_tf = true, bases[1].min_df = 2, fitted on {"Echo dot", "echo, show",
// "Kindle"}); it must keep its behaviour: basic case mapping, blank tokenizer.
constexpr char kVersion1[] =
    "xmr-tfidf 1\nlowercase 1\ninvalid_utf8 error\nbases 2\n"
    "base word 1 2 1 1 0 0 1 1 0 7\n"
    "0.4054651\tdot\n0.4054651\techo\n0.4054651\techo dot\n0.4054651\techo,\n"
    "0.4054651\techo, show\n0.4054651\tkindle\n0.4054651\tshow\n"
    "base char_wb 3 3 2 1 0 0 0 1 0 2\n0\tcho\n0\tech\n";

TEST(TextVectorizer, DeserialisesTheFormatWithoutCaseMappingAndTokenizer) {
  const TextVectorizer v = TextVectorizer::Deserialize(kVersion1);
  EXPECT_TRUE(v.options().lowercase);
  EXPECT_EQ(v.options().case_mapping, TextVectorizerOptions::CaseMapping::kBasic);
  EXPECT_EQ(v.options().tokenizer, TextVectorizerOptions::Tokenizer::kBlank);
  EXPECT_EQ(v.options().invalid_utf8, TextVectorizerOptions::InvalidUtf8::kError);
  ASSERT_EQ(v.n_features(), 9);
  EXPECT_TRUE(v.options().bases[0].sublinear_tf);
  EXPECT_EQ(v.options().bases[1].min_df, 2);
  // The same row the old code produced: "dot", "echo,", "echo, show", "show", 0.5 each.
  const CsrMatrix x = v.Transform({"echo, show Dot"}, Quiet(1));
  EXPECT_EQ(x.indices, (std::vector<Index>{0, 3, 4, 6}));
  EXPECT_EQ(x.data, (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
  // Re-serialised in the current format, with the options spelled out.
  const std::string s = v.Serialize();
  EXPECT_EQ(s.rfind("xmr-tfidf 2\nlowercase 1\ncase_mapping basic\ninvalid_utf8 error\n"
                    "tokenizer blank\nbases 2\n",
                    0),
            0u);
  EXPECT_EQ(TextVectorizer::Deserialize(s).Serialize(), s);
}

TEST(TextVectorizer, SerialisationKeepsCaseMappingAndTokenizer) {
  TextVectorizerOptions opts = UnicodeOptions();
  opts.invalid_utf8 = TextVectorizerOptions::InvalidUtf8::kReplace;
  const std::vector<std::string> corpus = {"İstanbul, Straße (c++)", "ISTANBUL c++ x86_64",
                                           "straße x86_64"};
  const TextVectorizer a = TextVectorizer::Fit(corpus, opts, Quiet(1));
  const TextVectorizer b = TextVectorizer::Deserialize(a.Serialize());
  EXPECT_EQ(b.options().case_mapping, TextVectorizerOptions::CaseMapping::kUnicode);
  EXPECT_EQ(b.options().tokenizer, TextVectorizerOptions::Tokenizer::kUnicodeWord);
  EXPECT_EQ(b.options().invalid_utf8, TextVectorizerOptions::InvalidUtf8::kReplace);
  EXPECT_EQ(b.Serialize(), a.Serialize());
  const std::vector<std::string> q = {"istanbul; C++!", "\xFFx86_64"};
  const CsrMatrix xa = a.Transform(q, Quiet(1)), xb = b.Transform(q, Quiet(1));
  EXPECT_EQ(xa.indptr, xb.indptr);
  EXPECT_EQ(xa.indices, xb.indices);
  EXPECT_EQ(xa.data, xb.data);
  EXPECT_GT(xa.indptr[1], 0);
  std::string bad = a.Serialize();
  bad.replace(bad.find("unicode_word"), 12, "regex");
  ExpectError([&] { TextVectorizer::Deserialize(bad); }, ErrorCode::kCorruption,
              {"line 5", "tokenizer blank|unicode_word"});
  bad = a.Serialize();
  bad.replace(bad.find("case_mapping unicode"), 20, "case_mapping full");
  ExpectError([&] { TextVectorizer::Deserialize(bad); }, ErrorCode::kCorruption,
              {"line 3", "case_mapping basic|unicode"});
}

// Found by fuzz_vocab: an idf of 3.4e38 (finite as a float) deserialised fine and made Transform
// produce inf. Idf values outside [0, 1e6] are corruption naming the line.
TEST(TextVectorizer, DeserializeRejectsIdfOutsideItsRange) {
  const std::vector<std::string> corpus = {"apple pie", "apple tart", "cherry pie"};
  const std::string good = TextVectorizer::Fit(corpus, {}, Quiet(1)).Serialize();
  // The first vocabulary line follows the last header line ("base ...").
  const std::size_t base_line = good.find("\nbase ");
  ASSERT_NE(base_line, std::string::npos);
  const std::size_t entry = good.find('\n', base_line + 1) + 1;
  const std::size_t tab = good.find('\t', entry);
  ASSERT_NE(tab, std::string::npos);
  for (const char* idf : {"3.4028235e38", "-1", "1e7"}) {
    std::string bad = good;
    bad.replace(entry, tab - entry, idf);
    ExpectError([&] { TextVectorizer::Deserialize(bad); }, ErrorCode::kCorruption,
                {"idf", "outside [0, 1e+06]"});
  }
  std::string ok = good;
  ok.replace(entry, tab - entry, "1000000");
  EXPECT_NO_THROW(TextVectorizer::Deserialize(ok));
}

}  // namespace
}  // namespace xmr
