// TF-IDF text vectorizer (see include/xmr/text.h).
#include <locale.h>  // for newlocale (POSIX 2008)
#include <wctype.h>  // for towlower_l, iswalnum_l, iswctype_l

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cwchar>  // for WCHAR_MAX
#include <sstream>
#include <unordered_map>
#include <utility>

#include "core/log.h"
#include "core/parallel.h"
#include "core/utf8.h"
#include "xmr/error.h"
#include "xmr/text.h"

namespace xmr {
namespace {

// Largest idf Deserialize accepts (see there).
constexpr float kMaxIdf = 1e6f;

[[noreturn]] void Bad(const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, "text vectorizer: " + msg);
}
[[noreturn]] void Corrupt(const std::string& msg) {
  throw Error(ErrorCode::kCorruption, "text vectorizer: " + msg);
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 if it is invalid (overlong,
// surrogate, beyond U+10FFFF, truncated, stray continuation byte).
int DecodeUtf8(std::string_view s, std::size_t i, char32_t* cp) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned c = b(i);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  int len;
  char32_t v;
  if ((c & 0xE0) == 0xC0) {
    len = 2, v = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, v = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, v = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b(i + k) & 0x3F);
  }
  static constexpr char32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

bool IsBlank(char32_t c) {
  return c <= 0x20 || c == 0x7F || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

char32_t Lower(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;     // Latin-1
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;  // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic
  if (c >= 0x400 && c <= 0x40F) return c + 80;                // Cyrillic Ѐ-Џ
  return c;
}

using CaseMapping = TextVectorizerOptions::CaseMapping;
using Tokenizer = TextVectorizerOptions::Tokenizer;

// The Unicode tables of the C library: glibc's "C.UTF-8" LC_CTYPE carries the Unicode character
// classes (its "combining" class is exactly the marks Mn/Mc/Me) and simple case mappings. The
// locale object is created once and never freed; uselocale()/setlocale() are never called.
struct UnicodeCtype {
  locale_t loc = static_cast<locale_t>(0);
  wctype_t combining = 0;
};

const UnicodeCtype& Unicode() {
  static const UnicodeCtype u = [] {
    UnicodeCtype r;
    r.loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    if (r.loc != static_cast<locale_t>(0)) r.combining = wctype_l("combining", r.loc);
    return r;
  }();
  if (u.loc == static_cast<locale_t>(0) || u.combining == 0) {
    throw Error(ErrorCode::kNotSupported,
                "text vectorizer: case_mapping=unicode and tokenizer=unicode_word need the "
                "C library's \"C.UTF-8\" locale (glibc >= 2.35), which is not available here");
  }
  return u;
}

bool NeedsUnicode(const TextVectorizerOptions& o) {
  return (o.lowercase && o.case_mapping == CaseMapping::kUnicode) ||
         o.tokenizer == Tokenizer::kUnicodeWord;
}

char32_t UnicodeLower(char32_t c, const UnicodeCtype& u) {
  if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 32 : c;
  if (c > static_cast<char32_t>(WCHAR_MAX)) return c;
  const wint_t l = towlower_l(static_cast<wint_t>(c), u.loc);
  return l <= 0x10FFFF && !(l >= 0xD800 && l <= 0xDFFF) ? static_cast<char32_t>(l) : c;
}

// Classes of the kUnicodeWord tokenizer.
enum class CharClass : unsigned char { kAlnum, kMark, kSuffix, kJoiner, kOther };

CharClass Classify(char32_t c, const UnicodeCtype& u) {
  if (c < 0x80) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
      return CharClass::kAlnum;
    }
    if (c == '+' || c == '#') return CharClass::kSuffix;
    if (c == '.' || c == '_' || c == '-') return CharClass::kJoiner;
    return CharClass::kOther;
  }
  if (c > static_cast<char32_t>(WCHAR_MAX)) return CharClass::kOther;
  const wint_t w = static_cast<wint_t>(c);
  // glibc counts some marks (e.g. Indic vowel signs) as alphabetic: they may start a word.
  if (iswalnum_l(w, u.loc)) return CharClass::kAlnum;
  if (iswctype_l(w, u.combining, u.loc)) return CharClass::kMark;
  return CharClass::kOther;
}

// Words = alnum runs (marks continue them) linked by "[+#]*" or "[+#]*[._-]", plus a trailing
// "[+#]*" (see text.h).
void UnicodeWords(std::string_view s, std::vector<std::string_view>* words) {
  const UnicodeCtype& u = Unicode();
  std::vector<std::size_t> off;
  std::vector<CharClass> cls;
  for (std::size_t i = 0; i < s.size();) {
    char32_t cp = 0xFFFD;
    const int n = DecodeUtf8(s, i, &cp);
    off.push_back(i);
    cls.push_back(Classify(cp, u));
    i += n > 0 ? n : 1;
  }
  off.push_back(s.size());
  const std::size_t n = cls.size();
  for (std::size_t i = 0; i < n;) {
    if (cls[i] != CharClass::kAlnum) {
      ++i;
      continue;
    }
    std::size_t j = i + 1, end = j;
    for (;;) {
      while (j < n && (cls[j] == CharClass::kAlnum || cls[j] == CharClass::kMark)) ++j;
      std::size_t k = j;
      while (k < n && cls[k] == CharClass::kSuffix) ++k;
      end = k;
      if (k < n && cls[k] == CharClass::kAlnum) {
        j = k;
      } else if (k + 1 < n && cls[k] == CharClass::kJoiner && cls[k + 1] == CharClass::kAlnum) {
        j = k + 1;
      } else {
        break;
      }
    }
    words->emplace_back(s.data() + off[i], off[end] - off[i]);
    i = end;
  }
}

// Byte offsets of the code points of a valid UTF-8 string, plus its size.
void CodePointOffsets(std::string_view s, std::vector<std::size_t>* off) {
  off->clear();
  for (std::size_t i = 0; i < s.size();) {
    off->push_back(i);
    char32_t cp;
    const int n = DecodeUtf8(s, i, &cp);
    i += n > 0 ? n : 1;
  }
  off->push_back(s.size());
}

// Reused buffers of ForEachNGram (one per thread; no allocation once they have grown).
struct NGramScratch {
  std::vector<std::size_t> offsets;
  std::string text;
};

// Calls emit(gram, weight) for the character n-grams of s; weight = (i+1)^(-position_decay) for
// an n-gram starting at code point i when `weighted`, else 1. The views point into s.
template <typename Emit>
void ForEachCharNGram(std::string_view s, const BaseVectorizerOptions& b, bool whole_if_short,
                      bool weighted, std::vector<std::size_t>* off, Emit&& emit) {
  CodePointOffsets(s, off);
  const std::vector<std::size_t>& o = *off;
  const int len = static_cast<int>(o.size()) - 1;
  for (int n = b.ngram_min; n <= b.ngram_max; ++n) {
    if (len < n) {
      // A word shorter than n counts once, whole (sklearn's char_wb rule).
      if (whole_if_short && n == b.ngram_min && len > 0) emit(s, 1.0);
      break;
    }
    for (int i = 0; i + n <= len; ++i) {
      emit(s.substr(o[i], o[i + n] - o[i]), weighted ? std::pow(i + 1.0, -b.position_decay) : 1.0);
    }
  }
}

// Calls emit(gram, weight) for every n-gram of base in a cleaned text and its words, in a fixed
// order (the order AppendNGrams lists them). A gram is a view, valid only during the call: into
// `clean` where possible (a word n-gram whose words are separated by single blanks in `clean`
// is that stretch of it), else into scratch->text. weight: the position weight for char_wb with
// `weighted`, else 1. No allocation once the scratch buffers have grown: this is the inner loop
// of TransformOne (one query's latency) and of Fit.
template <typename Emit>
void ForEachNGram(std::string_view clean, const std::vector<std::string_view>& words,
                  const BaseVectorizerOptions& base, bool weighted, NGramScratch* scratch,
                  Emit&& emit) {
  switch (base.analyzer) {
    case Analyzer::kWord:
      for (int n = base.ngram_min; n <= base.ngram_max; ++n) {
        for (std::size_t i = 0; i + n <= words.size(); ++i) {
          const std::string_view first = words[i], last = words[i + n - 1];
          bool contiguous = true;
          for (int k = 1; k < n && contiguous; ++k) {
            const std::string_view prev = words[i + k - 1];
            const char* gap = prev.data() + prev.size();
            contiguous = words[i + k].data() == gap + 1 && gap >= clean.data() &&
                         gap < clean.data() + clean.size() && *gap == ' ';
          }
          if (contiguous) {
            emit(std::string_view(first.data(), static_cast<std::size_t>(last.data() + last.size() -
                                                                         first.data())),
                 1.0);
          } else {
            std::string& g = scratch->text;
            g.assign(first);
            for (int k = 1; k < n; ++k) (g += ' ') += words[i + k];
            emit(std::string_view(g), 1.0);
          }
        }
      }
      break;
    case Analyzer::kChar:
      ForEachCharNGram(clean, base, false, false, &scratch->offsets, emit);
      break;
    case Analyzer::kCharWb: {
      std::string& marked = scratch->text;
      for (const std::string_view w : words) {
        marked.assign(w);
        marked += '#';
        ForEachCharNGram(marked, base, true, weighted, &scratch->offsets, emit);
      }
      break;
    }
  }
}

// The n-grams of ForEachNGram as strings; weights (optional, only for char_wb): the position
// weight of every n-gram appended.
void AppendNGrams(const std::string& clean, const std::vector<std::string_view>& words,
                  const BaseVectorizerOptions& base, std::vector<std::string>* out,
                  std::vector<double>* weights = nullptr) {
  NGramScratch scratch;
  const bool weighted = weights != nullptr && base.analyzer == Analyzer::kCharWb;
  ForEachNGram(clean, words, base, weighted, &scratch, [&](std::string_view g, double w) {
    out->emplace_back(g);
    if (weighted) weights->push_back(w);
  });
}

}  // namespace

Analyzer ParseAnalyzer(const std::string& name) {
  if (name == "word") return Analyzer::kWord;
  if (name == "char") return Analyzer::kChar;
  if (name == "char_wb") return Analyzer::kCharWb;
  Bad("analyzer must be word, char or char_wb, got '" + name + "'");
}

const char* AnalyzerName(Analyzer a) noexcept {
  switch (a) {
    case Analyzer::kWord:
      return "word";
    case Analyzer::kChar:
      return "char";
    case Analyzer::kCharWb:
      return "char_wb";
  }
  return "?";
}

void BaseVectorizerOptions::Validate() const {
  if (ngram_min < 1 || ngram_max < ngram_min || ngram_max > 8) {
    Bad(StrFormat("ngram range must satisfy 1 <= min <= max <= 8, got (%d, %d)", ngram_min,
                  ngram_max));
  }
  if (min_df < 1) Bad("min_df must be >= 1");
  if (!(max_df_ratio > 0 && max_df_ratio <= 1)) Bad("max_df_ratio must be in (0, 1]");
  if (max_features < 0) Bad("max_features must be >= 0");
  if (!(std::isfinite(position_decay) && position_decay >= 0)) {
    Bad(StrFormat("position_decay must be finite and >= 0, got %g", position_decay));
  }
  if (position_decay != 0 && analyzer != Analyzer::kCharWb) {
    Bad(StrFormat("position_decay applies only to the char_wb analyzer, got %s with decay %g",
                  AnalyzerName(analyzer), position_decay));
  }
}

std::vector<BaseVectorizerOptions> TextVectorizerOptions::DefaultBases() {
  BaseVectorizerOptions word, chars;
  word.analyzer = Analyzer::kWord;
  word.ngram_min = 1, word.ngram_max = 2;
  chars.analyzer = Analyzer::kCharWb;
  chars.ngram_min = chars.ngram_max = 3;
  return {word, chars};
}

void TextVectorizerOptions::Validate() const {
  if (bases.empty()) Bad("at least one base vectorizer is needed");
  for (const BaseVectorizerOptions& b : bases) b.Validate();
  if (NeedsUnicode(*this)) Unicode();
}

namespace text_detail {

std::string Clean(std::string_view text, const TextVectorizerOptions& opts, std::int64_t doc) {
  const bool lower = opts.lowercase;
  const UnicodeCtype* u =
      lower && opts.case_mapping == CaseMapping::kUnicode ? &Unicode() : nullptr;
  std::string out;
  out.reserve(text.size());
  bool pending_blank = false;
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp;
    int n = DecodeUtf8(text, i, &cp);
    if (n == 0) {
      if (opts.invalid_utf8 == TextVectorizerOptions::InvalidUtf8::kError) {
        Bad(StrFormat("text %lld: invalid UTF-8 at byte %zu", static_cast<long long>(doc), i));
      }
      cp = 0xFFFD;
      n = 1;
    }
    i += n;
    if (IsBlank(cp)) {
      pending_blank = true;
      continue;
    }
    if (pending_blank && !out.empty()) out.push_back(' ');
    pending_blank = false;
    if (lower) cp = u != nullptr ? UnicodeLower(cp, *u) : Lower(cp);
    AppendUtf8(cp, &out);
  }
  return out;
}

std::vector<std::string_view> Words(std::string_view clean, Tokenizer tokenizer) {
  std::vector<std::string_view> words;
  if (tokenizer == Tokenizer::kUnicodeWord) {
    UnicodeWords(clean, &words);
    return words;
  }
  for (std::size_t i = 0; i < clean.size();) {
    const std::size_t j = std::min(clean.find(' ', i), clean.size());
    if (j > i) words.push_back(clean.substr(i, j - i));
    i = j + 1;
  }
  return words;
}

std::vector<std::string> NGramsOfClean(const std::string& clean, const BaseVectorizerOptions& base,
                                       Tokenizer tokenizer) {
  std::vector<std::string> out;
  AppendNGrams(clean, Words(clean, tokenizer), base, &out);
  return out;
}

std::vector<std::string> NGrams(std::string_view text, const BaseVectorizerOptions& base,
                                const TextVectorizerOptions& opts) {
  return NGramsOfClean(Clean(text, opts, 0), base, opts.tokenizer);
}

}  // namespace text_detail

// ----- the vectorizer -------------------------------------------------------------------------

struct TextVectorizer::Impl {
  TextVectorizerOptions opts;
  struct Base {
    std::vector<std::string> names;  // feature id -> n-gram (lexicographic order)
    std::vector<float> idf;
    // n-gram -> feature id, keyed by views into `names` (so a lookup needs no std::string):
    // `names` must not change after BuildIndex. Impl is never copied, and moving a Base keeps
    // the strings where they are.
    std::unordered_map<std::string_view, Index> ids;
    Index offset = 0;  // first column of this block in the stacked row
  };
  std::vector<Base> bases;
  Index n_features = 0;

  void BuildIndex() {
    n_features = 0;
    for (Base& b : bases) {
      b.ids.clear();
      b.ids.reserve(b.names.size());
      for (std::size_t j = 0; j < b.names.size(); ++j)
        b.ids.emplace(std::string_view(b.names[j]), static_cast<Index>(j));
      b.offset = n_features;
      n_features += static_cast<Index>(b.names.size());
    }
  }

  // N-grams of a cleaned text and its words for base k (a document is cleaned and split once,
  // not once per base).
  std::vector<std::string> Grams(const std::string& clean,
                                 const std::vector<std::string_view>& words, std::size_t k,
                                 std::vector<double>* weights = nullptr) const {
    std::vector<std::string> out;
    AppendNGrams(clean, words, opts.bases[k], &out, weights);
    return out;
  }
};

TextVectorizer::TextVectorizer() : impl_(std::make_unique<Impl>()) {}
TextVectorizer::~TextVectorizer() = default;
TextVectorizer::TextVectorizer(TextVectorizer&&) noexcept = default;
TextVectorizer& TextVectorizer::operator=(TextVectorizer&&) noexcept = default;

TextVectorizer TextVectorizer::Fit(const std::vector<std::string>& corpus,
                                   const TextVectorizerOptions& opts, const Context& ctx) {
  opts.Validate();
  TextVectorizer v;
  Impl& m = *v.impl_;
  m.opts = opts;
  const std::size_t nb = opts.bases.size();
  const std::int64_t n = static_cast<std::int64_t>(corpus.size());
  const int threads = ctx.NumThreads();
  const int workers = std::max(1, NumWorkers(n, threads, 256));
  // Document frequencies per worker and base, merged afterwards.
  std::vector<std::vector<std::unordered_map<std::string, std::int64_t>>> df(
      workers, std::vector<std::unordered_map<std::string, std::int64_t>>(nb));
  ParallelFor(
      n, threads,
      [&](std::int64_t d, int w) {
        const std::string clean = text_detail::Clean(corpus[d], opts, d);
        const std::vector<std::string_view> words = text_detail::Words(clean, opts.tokenizer);
        for (std::size_t k = 0; k < nb; ++k) {
          std::vector<std::string> g = m.Grams(clean, words, k);
          std::sort(g.begin(), g.end());
          g.erase(std::unique(g.begin(), g.end()), g.end());
          for (std::string& s : g) ++df[w][k][std::move(s)];
        }
      },
      256);
  m.bases.resize(nb);
  for (std::size_t k = 0; k < nb; ++k) {
    const BaseVectorizerOptions& b = opts.bases[k];
    std::unordered_map<std::string, std::int64_t>& all = df[0][k];
    for (int w = 1; w < workers; ++w) {
      for (auto& [s, c] : df[w][k]) all[s] += c;
      df[w][k].clear();
    }
    std::vector<std::pair<std::string, std::int64_t>> kept;
    for (auto& [s, c] : all) {
      if (c >= b.min_df && static_cast<double>(c) <= b.max_df_ratio * static_cast<double>(n)) {
        kept.emplace_back(s, c);
      }
    }
    all.clear();
    if (b.max_features > 0 && static_cast<std::int64_t>(kept.size()) > b.max_features) {
      std::sort(kept.begin(), kept.end(), [](const auto& x, const auto& y) {
        return x.second != y.second ? x.second > y.second : x.first < y.first;
      });
      kept.resize(b.max_features);
    }
    std::sort(kept.begin(), kept.end());
    Impl::Base& base = m.bases[k];
    for (auto& [s, c] : kept) {
      const double idf = std::max(std::log(static_cast<double>(n) /
                                           (static_cast<double>(c) + (b.smooth_idf ? 1.0 : 0.0))),
                                  0.0) +
                         (b.add_one_idf ? 1.0 : 0.0);
      base.names.push_back(std::move(s));
      base.idf.push_back(static_cast<float>(idf));
    }
  }
  m.BuildIndex();
  return v;
}

void TextVectorizer::TransformOne(std::string_view text, std::vector<Index>* indices,
                                  std::vector<float>* values) const {
  const Impl& m = *impl_;
  const std::string clean = text_detail::Clean(text, m.opts, 0);
  const std::vector<std::string_view> words = text_detail::Words(clean, m.opts.tokenizer);
  const std::size_t first = indices->size();
  std::vector<Index> ids;
  std::vector<std::pair<Index, double>> weighted;
  NGramScratch scratch;
  for (std::size_t k = 0; k < m.bases.size(); ++k) {
    const Impl::Base& base = m.bases[k];
    const BaseVectorizerOptions& b = m.opts.bases[k];
    const bool decay = b.position_decay != 0;
    ids.clear();
    weighted.clear();
    ForEachNGram(clean, words, b, decay, &scratch, [&](std::string_view g, double w) {
      const auto it = base.ids.find(g);
      if (it == base.ids.end()) return;
      if (decay) {
        weighted.emplace_back(it->second, w);
      } else {
        ids.push_back(it->second);
      }
    });
    std::sort(ids.begin(), ids.end());
    // Stable: the weights of an n-gram are summed in text order, whatever the sort does.
    std::stable_sort(weighted.begin(), weighted.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (const auto& e : weighted) ids.push_back(e.first);
    const std::size_t block = indices->size();
    double norm2 = 0;
    for (std::size_t i = 0; i < ids.size();) {
      std::size_t j = i;
      while (j < ids.size() && ids[j] == ids[i]) ++j;
      const double count = static_cast<double>(j - i);
      double tf = b.binary ? 1.0 : (b.sublinear_tf ? 1.0 + std::log(count) : count);
      if (decay) {
        double w = 0;
        for (std::size_t e = i; e < j; ++e) w += weighted[e].second;
        tf = b.binary || b.sublinear_tf ? tf * (w / count) : w;
      }
      const double v = tf * base.idf[ids[i]];
      if (v != 0) {
        indices->push_back(base.offset + ids[i]);
        values->push_back(static_cast<float>(v));
        norm2 += v * v;
      }
      i = j;
    }
    if (norm2 > 0) {
      const double inv = 1.0 / std::sqrt(norm2);
      for (std::size_t e = block; e < values->size(); ++e) {
        (*values)[e] = static_cast<float>((*values)[e] * inv);
      }
    }
  }
  double norm2 = 0;
  for (std::size_t e = first; e < values->size(); ++e) {
    norm2 += static_cast<double>((*values)[e]) * (*values)[e];
  }
  if (norm2 > 0) {
    const double inv = 1.0 / std::sqrt(norm2);
    for (std::size_t e = first; e < values->size(); ++e) {
      (*values)[e] = static_cast<float>((*values)[e] * inv);
    }
  }
}

CsrMatrix TextVectorizer::Transform(const std::vector<std::string>& docs,
                                    const Context& ctx) const {
  const std::int64_t n = static_cast<std::int64_t>(docs.size());
  std::vector<std::vector<Index>> idx(docs.size());
  std::vector<std::vector<float>> val(docs.size());
  ParallelFor(
      n, ctx.NumThreads(),
      [&](std::int64_t d, int) {
        try {
          TransformOne(docs[d], &idx[d], &val[d]);
        } catch (const Error& e) {
          // Name the document (TransformOne cannot know its index).
          std::string msg = e.message();
          const std::size_t at = msg.find("text 0:");
          if (at != std::string::npos) msg.replace(at, 7, "text " + std::to_string(d) + ":");
          throw Error(e.code(), msg);
        }
      },
      64);
  CsrMatrix x;
  x.rows = static_cast<Index>(n);
  x.cols = impl_->n_features;
  x.indptr.assign(docs.size() + 1, 0);
  for (std::size_t d = 0; d < docs.size(); ++d) x.indptr[d + 1] = x.indptr[d] + idx[d].size();
  x.indices.reserve(x.indptr.back());
  x.data.reserve(x.indptr.back());
  for (std::size_t d = 0; d < docs.size(); ++d) {
    x.indices.insert(x.indices.end(), idx[d].begin(), idx[d].end());
    x.data.insert(x.data.end(), val[d].begin(), val[d].end());
  }
  return x;
}

Index TextVectorizer::n_features() const noexcept { return impl_->n_features; }

const TextVectorizerOptions& TextVectorizer::options() const noexcept { return impl_->opts; }

std::string TextVectorizer::FeatureName(Index f) const {
  for (const Impl::Base& b : impl_->bases) {
    if (f >= b.offset && f < b.offset + static_cast<Index>(b.names.size())) {
      return b.names[f - b.offset];
    }
  }
  Bad(StrFormat("feature %d outside [0, %d)", f, impl_->n_features));
}

std::string TextVectorizer::Serialize() const {
  const Impl& m = *impl_;
  std::ostringstream o;
  // Version 2 unless position_decay is used: files without it stay readable by older xmr.
  bool decay = false;
  for (const BaseVectorizerOptions& b : m.opts.bases) decay = decay || b.position_decay != 0;
  o << (decay ? "xmr-tfidf 3\n" : "xmr-tfidf 2\n") << "lowercase " << m.opts.lowercase
    << "\ncase_mapping " << (m.opts.case_mapping == CaseMapping::kBasic ? "basic" : "unicode")
    << "\ninvalid_utf8 "
    << (m.opts.invalid_utf8 == TextVectorizerOptions::InvalidUtf8::kError ? "error" : "replace")
    << "\ntokenizer " << (m.opts.tokenizer == Tokenizer::kBlank ? "blank" : "unicode_word")
    << "\nbases " << m.bases.size() << "\n";
  for (std::size_t k = 0; k < m.bases.size(); ++k) {
    const BaseVectorizerOptions& b = m.opts.bases[k];
    o << "base " << AnalyzerName(b.analyzer) << ' ' << b.ngram_min << ' ' << b.ngram_max << ' '
      << b.min_df << ' ';
    char buf[64];
    o.write(buf, std::to_chars(buf, buf + 64, b.max_df_ratio).ptr - buf);
    o << ' ' << b.max_features << ' ' << b.binary << ' ' << b.sublinear_tf << ' ' << b.smooth_idf
      << ' ' << b.add_one_idf << ' ';
    if (decay) {
      o.write(buf, std::to_chars(buf, buf + 64, b.position_decay).ptr - buf);
      o << ' ';
    }
    o << m.bases[k].names.size() << '\n';
    for (std::size_t j = 0; j < m.bases[k].names.size(); ++j) {
      o.write(buf, std::to_chars(buf, buf + 64, m.bases[k].idf[j]).ptr - buf);
      o << '\t' << m.bases[k].names[j] << '\n';
    }
  }
  return o.str();
}

TextVectorizer TextVectorizer::Deserialize(const std::string& s) {
  std::istringstream in(s);
  std::string line;
  int lineno = 0;
  auto next = [&]() -> std::string& {
    if (!std::getline(in, line)) Corrupt(StrFormat("truncated at line %d", lineno + 1));
    ++lineno;
    return line;
  };
  // Version 1 predates case_mapping and tokenizer: it was written with kBasic and kBlank.
  // Version 3 adds position_decay to the base lines (absent = 0).
  const std::string version = next();
  if (version != "xmr-tfidf 1" && version != "xmr-tfidf 2" && version != "xmr-tfidf 3") {
    Corrupt("not an xmr tfidf vectorizer (bad first line)");
  }
  const bool v1 = version == "xmr-tfidf 1";
  const bool v3 = version == "xmr-tfidf 3";
  TextVectorizer v;
  Impl& m = *v.impl_;
  int flag = 0;
  std::string word, mode;
  std::size_t nb = 0;
  if (!(std::istringstream(next()) >> word >> flag) || word != "lowercase") {
    Corrupt(StrFormat("line %d: expected 'lowercase 0|1'", lineno));
  }
  m.opts.lowercase = flag != 0;
  m.opts.case_mapping = CaseMapping::kBasic;
  if (!v1) {
    if (!(std::istringstream(next()) >> word >> mode) || word != "case_mapping" ||
        (mode != "basic" && mode != "unicode")) {
      Corrupt(StrFormat("line %d: expected 'case_mapping basic|unicode'", lineno));
    }
    m.opts.case_mapping = mode == "basic" ? CaseMapping::kBasic : CaseMapping::kUnicode;
  }
  if (!(std::istringstream(next()) >> word >> mode) || word != "invalid_utf8" ||
      (mode != "error" && mode != "replace")) {
    Corrupt(StrFormat("line %d: expected 'invalid_utf8 error|replace'", lineno));
  }
  m.opts.invalid_utf8 = mode == "error" ? TextVectorizerOptions::InvalidUtf8::kError
                                        : TextVectorizerOptions::InvalidUtf8::kReplace;
  m.opts.tokenizer = Tokenizer::kBlank;
  if (!v1) {
    if (!(std::istringstream(next()) >> word >> mode) || word != "tokenizer" ||
        (mode != "blank" && mode != "unicode_word")) {
      Corrupt(StrFormat("line %d: expected 'tokenizer blank|unicode_word'", lineno));
    }
    m.opts.tokenizer = mode == "blank" ? Tokenizer::kBlank : Tokenizer::kUnicodeWord;
  }
  if (NeedsUnicode(m.opts)) Unicode();  // fail now (kNotSupported), not at the first Transform
  if (!(std::istringstream(next()) >> word >> nb) || word != "bases" || nb == 0 || nb > 64) {
    Corrupt(StrFormat("line %d: expected 'bases N' with 1 <= N <= 64", lineno));
  }
  m.opts.bases.assign(nb, BaseVectorizerOptions{});
  m.bases.resize(nb);
  for (std::size_t k = 0; k < nb; ++k) {
    BaseVectorizerOptions& b = m.opts.bases[k];
    std::string analyzer;
    int binary = 0, sub = 0, smooth = 0, add_one = 0;
    std::size_t count = 0;
    std::istringstream ls(next());
    if (!(ls >> word >> analyzer >> b.ngram_min >> b.ngram_max >> b.min_df >> b.max_df_ratio >>
          b.max_features >> binary >> sub >> smooth >> add_one) ||
        (v3 && !(ls >> b.position_decay)) || !(ls >> count) || word != "base") {
      Corrupt(StrFormat("line %d: malformed base vectorizer line", lineno));
    }
    try {
      b.analyzer = ParseAnalyzer(analyzer);
      b.Validate();
    } catch (const Error& e) {
      Corrupt(StrFormat("line %d: %s", lineno, e.message().c_str()));
    }
    b.binary = binary, b.sublinear_tf = sub, b.smooth_idf = smooth, b.add_one_idf = add_one;
    Impl::Base& base = m.bases[k];
    for (std::size_t j = 0; j < count; ++j) {
      const std::string& l = next();
      const std::size_t tab = l.find('\t');
      float idf = 0;
      const auto r =
          std::from_chars(l.data(), l.data() + (tab == std::string::npos ? 0 : tab), idf);
      if (tab == std::string::npos || r.ec != std::errc() || r.ptr != l.data() + tab ||
          !std::isfinite(idf)) {
        Corrupt(StrFormat("line %d: expected '<idf>\\t<n-gram>'", lineno));
      }
      // A fitted idf is at most log(documents) + 1 (< 50); a huge one would overflow float
      // tf-idf values (found by fuzz_vocab: idf 3.4e38 gave inf). Bound it far above any fit.
      if (!(idf >= 0.0f && idf <= kMaxIdf)) {
        Corrupt(StrFormat("line %d: idf %g outside [0, %g]", lineno, static_cast<double>(idf),
                          static_cast<double>(kMaxIdf)));
      }
      std::string name = l.substr(tab + 1);
      if (!base.names.empty() && !(base.names.back() < name)) {
        Corrupt(StrFormat("line %d: n-grams not in strictly increasing order", lineno));
      }
      base.names.push_back(std::move(name));
      base.idf.push_back(idf);
    }
  }
  m.BuildIndex();
  return v;
}

}  // namespace xmr
