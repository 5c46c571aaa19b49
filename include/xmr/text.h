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
// Lower-casing (default on) maps ASCII A-Z and the Latin-1 / Greek / Cyrillic capitals that have
// one-to-one lower-case forms; other characters are kept.
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
  kWord,    ///< n-grams of blank-separated words, joined by one space ("echo with")
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
  void Validate() const;
};

struct TextVectorizerOptions {
  /// Default: word 1-2-grams and char_wb 3-grams (min_df 1).
  std::vector<BaseVectorizerOptions> bases = DefaultBases();
  bool lowercase = true;
  enum class InvalidUtf8 { kError, kReplace } invalid_utf8 = InvalidUtf8::kError;
  static std::vector<BaseVectorizerOptions> DefaultBases();
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
  /// inverse. @throws Error(kCorruption) on a malformed string.
  std::string Serialize() const;
  static TextVectorizer Deserialize(const std::string& s);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

namespace text_detail {
/// The n-grams (as strings) a base vectorizer extracts from a cleaned text, in text order with
/// repetitions (exposed for tests). @throws Error(kInvalidArgument) on invalid UTF-8.
std::vector<std::string> NGrams(std::string_view text, const BaseVectorizerOptions& base,
                                bool lowercase);
/// NGrams() of a text that Clean() already produced (no second cleaning pass).
std::vector<std::string> NGramsOfClean(const std::string& clean, const BaseVectorizerOptions& base);
/// The cleaning applied before tokenising: blanks collapsed, controls to blanks, lower-casing,
/// invalid UTF-8 handling. `doc` names the text in errors.
std::string Clean(std::string_view text, bool lowercase, TextVectorizerOptions::InvalidUtf8 invalid,
                  std::int64_t doc);
}  // namespace text_detail

}  // namespace xmr
