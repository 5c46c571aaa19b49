// TF-IDF featurisation of raw text over word and character n-grams (the feature sets of the
// product-search work xmr follows: word 1-3-grams plus character trigrams with '#' marking the
// end of a word, TF-IDF weighted, stacked and L2-normalised).
//
//   TextVectorizerOptions opts;                       // word 1-2-grams + char_wb 3-grams
//   TextVectorizer v = TextVectorizer::Fit(corpus, opts);
//   CsrMatrix x = v.Transform(queries);               // rows L2-normalised
//
// Text handling (documented cleaning, never a corrupted vocabulary): every ASCII control
// character (newline, tab, ...) and every Unicode space separator counts as a blank; text must
// be valid UTF-8 (else Error(kInvalidArgument) naming the text's index and byte offset, or, with
// invalid_utf8 = kReplace, each bad byte becomes U+FFFD); empty text gives an empty row.
// Lower-casing (default on) uses the basic table by default: ASCII A-Z and the Latin-1 / Greek /
// Cyrillic capitals that have one-to-one lower-case forms; other characters are kept. With
// case_mapping = kUnicode it is the Unicode simple lower-case mapping of every code point
// (UnicodeData.txt; one code point to one, no context): "ÀÉÎ" -> "àéî", "ΣΑΣ" -> "σασ" (no
// final-sigma rule; an existing 'ς' stays), 'İ' (U+0130) -> 'i', 'ẞ' -> 'ß', and 'ß' stays 'ß'
// (its full mapping "ss" is case folding, not lower-casing).
//
// Words (what the word and char_wb analyzers see) come from the tokenizer:
//   kBlank        PECOS's: the blank-separated pieces of the cleaned text, punctuation included
//                 ("screen," and "screen" differ).
//   kUnicodeWord  maximal runs of Unicode letters and digits; anything else separates words
//                 ("(echo)" -> "echo"). Combining marks continue a word ("cafe\u0301" is one
//                 word); '+' and '#' are kept at the end of a word or between letters/digits
//                 ("c++", "c#", "c++11"), one '.', '_' or '-' is kept between letters/digits
//                 ("x86_64", "e.g", "gtk-3", "3.14"). Scripts written without blanks are not
//                 segmented ("中文分词" is one word). U+FFFD from invalid_utf8 = kReplace
//                 separates words. Roughly the ASCII regex
//                 [a-z0-9][a-z0-9+#._-]*[a-z0-9+#]|[a-z0-9], made Unicode-aware.
// The char analyzer ignores the tokenizer: it always takes n-grams of the whole cleaned text.
// case_mapping = kUnicode and tokenizer = kUnicodeWord use the C library's "C.UTF-8" locale
// (built into glibc >= 2.35; opened once, the global locale is never changed); where it is
// missing they throw Error(kNotSupported), never a silent fallback.
//
// Weights follow PECOS's tfidf (xr-linear.md §7): tf = count (1 if binary, 1 + ln count if
// sublinear); idf = max(ln(N / (df + smooth)), 0) + (add_one ? 1 : 0) with smooth = 1 if
// smooth_idf; each base vectorizer's block is L2-normalised, blocks are stacked in order and the
// row is L2-normalised again. Features of a base vectorizer are numbered in lexicographic order
// of their n-gram strings (so a fit is the same for any thread count).
// Thread safety: a fitted vectorizer is immutable; Transform may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xmr/context.h"
#include "xmr/sparse.h"

namespace xmr {

enum class Analyzer {
  kWord,    ///< n-grams of the tokenizer's words, joined by one space ("echo with")
  kChar,    ///< n-grams of the code points of the whole (cleaned, blank-collapsed) text
  kCharWb,  ///< per word, n-grams of the word's code points followed by '#' ("ech","cho","ho#")
};
/// "word" | "char" | "char_wb". @throws Error(kInvalidArgument).
Analyzer ParseAnalyzer(const std::string& name);
const char* AnalyzerName(Analyzer a) noexcept;

struct BaseVectorizerOptions {
  Analyzer analyzer = Analyzer::kWord;
  int ngram_min = 1;  ///< >= 1
  int ngram_max = 1;  ///< >= ngram_min, <= 8
  /// Keep features seen in at least min_df documents and at most max_df_ratio of them.
  std::int64_t min_df = 1;
  double max_df_ratio = 1.0;
  /// Keep only the max_features most frequent (by document frequency; ties: smaller n-gram
  /// string first); 0 = all.
  std::int64_t max_features = 0;
  bool binary = false;
  bool sublinear_tf = false;
  bool smooth_idf = true;
  bool add_one_idf = false;
  /// char_wb only (>= 0, finite; 0 = off, the unweighted counts): an occurrence of an n-gram
  /// that starts at code point i of its word (i = 0 for the first; a word shorter than n counts
  /// once at i = 0) adds (i+1)^(-position_decay) to the n-gram's count instead of 1, so n-grams
  /// at the start of a word weigh more (1 gives the 1/(i+1) of the session-aware QAC work:
  /// "ech" 1, "cho" 1/2, "ho#" 1/3 in "echo"). With c occurrences of total weight w, tf is
  /// (unweighted tf) * (w / c), i.e. the mean weight of the occurrences times the usual tf:
  /// w for plain counts, (1 + ln c) * w / c with sublinear_tf, w / c with binary (a weighted
  /// count below 1 never makes 1 + ln(.) negative). Document frequencies (fit) are unweighted.
  double position_decay = 0.0;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

struct TextVectorizerOptions {
  /// Default: word 1-2-grams and char_wb 3-grams (min_df 1).
  std::vector<BaseVectorizerOptions> bases = DefaultBases();
  /// Lower-case the text before tokenising, with the mapping case_mapping names.
  bool lowercase = true;
  /// kBasic: ASCII + Latin-1 / Greek / Cyrillic table (needs no locale);
  /// kUnicode: Unicode simple lower-case mapping of every code point (see the file comment).
  enum class CaseMapping { kBasic, kUnicode } case_mapping = CaseMapping::kBasic;
  /// kBlank: blank-separated words (PECOS); kUnicodeWord: runs of letters/digits (file comment).
  enum class Tokenizer { kBlank, kUnicodeWord } tokenizer = Tokenizer::kBlank;
  enum class InvalidUtf8 { kError, kReplace } invalid_utf8 = InvalidUtf8::kError;
  static std::vector<BaseVectorizerOptions> DefaultBases();
  /// @throws Error(kInvalidArgument) on bad bases; Error(kNotSupported) if an option needs the
  ///         "C.UTF-8" locale and the C library has none.
  void Validate() const;
};

class TextVectorizer {
 public:
  TextVectorizer();
  ~TextVectorizer();
  TextVectorizer(TextVectorizer&&) noexcept;
  TextVectorizer& operator=(TextVectorizer&&) noexcept;

  /// Fits vocabularies and idf on `corpus` (one document per entry), on ctx.threads.
  /// @throws Error(kInvalidArgument) on bad options or bad text (see the file comment).
  static TextVectorizer Fit(const std::vector<std::string>& corpus,
                            const TextVectorizerOptions& opts, const Context& ctx = {});

  /// docs.size() x n_features, rows L2-normalised, indices sorted. Unknown n-grams are ignored.
  /// @throws Error(kInvalidArgument) on bad text.
  CsrMatrix Transform(const std::vector<std::string>& docs, const Context& ctx = {}) const;
  /// One row (same as Transform on a single document); appends (index, value) pairs sorted.
  void TransformOne(std::string_view text, std::vector<Index>* indices,
                    std::vector<float>* values) const;

  Index n_features() const noexcept;
  const TextVectorizerOptions& options() const noexcept;
  /// The n-gram string of a feature (for inspection and tests). @throws Error(kInvalidArgument).
  std::string FeatureName(Index feature) const;

  /// A self-contained text serialisation (options, vocabularies and idf, exact floats), and its
  /// inverse. Serialize writes "xmr-tfidf 2" (readable by older xmr) unless some base has a
  /// non-zero position_decay, then "xmr-tfidf 3" (position_decay on each base line).
  /// Deserialize reads all three, and the format without case_mapping / tokenizer
  /// ("xmr-tfidf 1", before they existed) as kBasic / kBlank, the behaviour it was written with.
  /// @throws Error(kCorruption) on a malformed string; Error(kNotSupported) as Validate().
  std::string Serialize() const;
  static TextVectorizer Deserialize(const std::string& s);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

namespace text_detail {
/// The cleaning applied before tokenising: blanks collapsed, controls to blanks, lower-casing,
/// invalid UTF-8 handling, as `opts` says (its bases are not used). `doc` names the text in
/// errors. @throws Error(kInvalidArgument) on invalid UTF-8 with kError; kNotSupported as
/// TextVectorizerOptions::Validate().
std::string Clean(std::string_view text, const TextVectorizerOptions& opts, std::int64_t doc = 0);
/// The words of a cleaned text (views into `clean`), in text order.
std::vector<std::string_view> Words(std::string_view clean,
                                    TextVectorizerOptions::Tokenizer tokenizer);
/// The n-grams (as strings) a base vectorizer extracts from a text that Clean() produced, in
/// text order with repetitions (exposed for tests).
std::vector<std::string> NGramsOfClean(const std::string& clean, const BaseVectorizerOptions& base,
                                       TextVectorizerOptions::Tokenizer tokenizer);
/// NGramsOfClean(Clean(text, opts), base, opts.tokenizer).
std::vector<std::string> NGrams(std::string_view text, const BaseVectorizerOptions& base,
                                const TextVectorizerOptions& opts = {});
}  // namespace text_detail

}  // namespace xmr
