// QAC data sets: query normalisation, the pair rule, the log / pair / TREC builders.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_map>

#include "core/log.h"
#include "core/utf8.h"
#include "io/stream.h"
#include "qac/qac_internal.h"
#include "xmr/error.h"
#include "xmr/qac.h"

namespace xmr {

using qac_internal::CountCodePoints;
using qac_internal::IsBlank;
using qac_internal::IsLeadByte;
using qac_internal::SplitWords;

// ----- options --------------------------------------------------------------------------------

void QueryNormalization::Validate() const {
  XMR_EXPECTS(max_chars >= 0, ErrorCode::kInvalidArgument,
              "QueryNormalization.max_chars must be >= 0, got " + std::to_string(max_chars));
}

void QacDataOptions::Validate() const {
  normalization.Validate();
  XMR_EXPECTS(
      min_shared_words >= 1, ErrorCode::kInvalidArgument,
      "QacDataOptions.min_shared_words must be >= 1, got " + std::to_string(min_shared_words));
  XMR_EXPECTS(
      train_fraction > 0.0 && train_fraction <= 1.0, ErrorCode::kInvalidArgument,
      "QacDataOptions.train_fraction must be in (0, 1], got " + std::to_string(train_fraction));
  XMR_EXPECTS(max_labels >= 0, ErrorCode::kInvalidArgument,
              "QacDataOptions.max_labels must be >= 0, got " + std::to_string(max_labels));
  XMR_EXPECTS(max_prefix_len >= 0, ErrorCode::kInvalidArgument,
              "QacDataOptions.max_prefix_len must be >= 0, got " + std::to_string(max_prefix_len));
  XMR_EXPECTS(
      max_train_pairs >= 0, ErrorCode::kInvalidArgument,
      "QacDataOptions.max_train_pairs must be >= 0, got " + std::to_string(max_train_pairs));
  XMR_EXPECTS(max_test_pairs >= 0, ErrorCode::kInvalidArgument,
              "QacDataOptions.max_test_pairs must be >= 0, got " + std::to_string(max_test_pairs));
}

PairRule ParsePairRule(const std::string& name) {
  if (name == "distinct") return PairRule::kDistinct;
  if (name == "shared_word") return PairRule::kSharedWord;
  throw Error(ErrorCode::kInvalidArgument,
              "unknown pair rule \"" + name + "\" (expected distinct or shared_word)");
}

const char* PairRuleName(PairRule rule) noexcept {
  return rule == PairRule::kDistinct ? "distinct" : "shared_word";
}

LabelSource ParseLabelSource(const std::string& name) {
  if (name == "train_next") return LabelSource::kTrainNext;
  if (name == "train_all") return LabelSource::kTrainAll;
  throw Error(ErrorCode::kInvalidArgument,
              "unknown label source \"" + name + "\" (expected train_next or train_all)");
}

const char* LabelSourceName(LabelSource source) noexcept {
  return source == LabelSource::kTrainNext ? "train_next" : "train_all";
}

// ----- normalisation and pairs ----------------------------------------------------------------

namespace {

enum class Drop { kKept, kEmpty, kInvalidUtf8, kTooLong };

Drop NormalizeInto(std::string_view raw, const QueryNormalization& opts, std::string* out) {
  out->clear();
  if (FirstInvalidUtf8(raw) != std::string_view::npos) return Drop::kInvalidUtf8;
  out->reserve(raw.size());
  bool pending_blank = false;
  for (char c : raw) {
    if (opts.collapse_blanks && IsBlank(c)) {
      pending_blank = !out->empty();
      continue;
    }
    if (pending_blank) {
      out->push_back(' ');
      pending_blank = false;
    }
    if (opts.lowercase_ascii && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out->push_back(c);
  }
  if (out->empty()) return Drop::kEmpty;
  if (opts.max_chars > 0 && CountCodePoints(*out) > static_cast<std::size_t>(opts.max_chars)) {
    out->clear();
    return Drop::kTooLong;
  }
  return Drop::kKept;
}

void SortedDistinctWords(std::string_view s, std::vector<std::string_view>* words) {
  words->clear();
  SplitWords(s, words);
  std::sort(words->begin(), words->end());
  words->erase(std::unique(words->begin(), words->end()), words->end());
}

}  // namespace

std::string NormalizeQuery(std::string_view raw, const QueryNormalization& opts) {
  std::string out;
  NormalizeInto(raw, opts, &out);
  return out;
}

bool AcceptPair(std::string_view prev, std::string_view next, const QacDataOptions& opts) {
  if (prev.empty() || next.empty() || prev == next) return false;
  if (opts.pair_rule == PairRule::kDistinct) return true;
  std::vector<std::string_view> a, b;
  SortedDistinctWords(prev, &a);
  SortedDistinctWords(next, &b);
  int shared = 0;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (a[i] < b[j]) {
      ++i;
    } else if (b[j] < a[i]) {
      ++j;
    } else {
      if (++shared >= opts.min_shared_words) return true;
      ++i, ++j;
    }
  }
  return false;
}

std::string QacDataStats::Summary() const {
  return StrFormat(
      "rows %lld (dropped %lld, invalid UTF-8 %lld, train part %lld), candidate pairs %lld, "
      "pairs %lld train / %lld test, train pairs without label %lld, test pairs known %lld / "
      "unknown %lld (coverage %.2f%%)",
      static_cast<long long>(rows), static_cast<long long>(rows_dropped),
      static_cast<long long>(rows_invalid_utf8), static_cast<long long>(train_rows),
      static_cast<long long>(candidate_pairs), static_cast<long long>(train_pairs),
      static_cast<long long>(test_pairs), static_cast<long long>(train_pairs_unlabeled),
      static_cast<long long>(test_pairs_known), static_cast<long long>(test_pairs_unknown),
      100.0 * test_label_coverage());
}

Index QacDataset::LabelId(std::string_view query) const {
  const auto it = std::lower_bound(labels.begin(), labels.end(), query,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  if (it == labels.end() || *it != query) return kNoLabel;
  return static_cast<Index>(it - labels.begin());
}

// ----- builders -------------------------------------------------------------------------------

namespace {

using FreqMap = std::unordered_map<std::string, std::int64_t>;

// Turns rows of a log, one at a time, into accepted pairs of the train and test parts.
class LogPairCollector {
 public:
  LogPairCollector(const QacDataOptions& opts, std::int64_t n_rows)
      : opts_(opts),
        n_train_rows_(static_cast<std::int64_t>(std::floor(opts.train_fraction * n_rows))) {}

  void Add(std::string_view raw) {
    const std::int64_t r = stats.rows++;
    const bool train = r < n_train_rows_;
    if (train) ++stats.train_rows;
    const Drop d = NormalizeInto(raw, opts_.normalization, &cur_);
    if (d != Drop::kKept) {
      ++stats.rows_dropped;
      if (d == Drop::kInvalidUtf8) ++stats.rows_invalid_utf8;
      has_prev_ = false;
      return;
    }
    if (train && opts_.label_source == LabelSource::kTrainAll) ++train_row_freq[cur_];
    if (has_prev_ && prev_ != cur_) {
      ++stats.candidate_pairs;
      if (AcceptPair(prev_, cur_, opts_)) {
        QacPair p;
        p.prev = prev_;
        p.next = cur_;
        p.row = r;
        (train ? train_pairs : test_pairs).push_back(std::move(p));
        ++(train ? stats.train_pairs : stats.test_pairs);
      }
    }
    prev_.swap(cur_);
    has_prev_ = true;
  }

  QacDataStats stats;
  std::vector<QacPair> train_pairs, test_pairs;
  FreqMap train_row_freq;  // kTrainAll only

 private:
  const QacDataOptions& opts_;
  const std::int64_t n_train_rows_;
  std::string prev_, cur_;
  bool has_prev_ = false;
};

// Keeps a uniform sample of `cap` elements of *v (if it has more), in their original order.
void SampleInPlace(std::vector<QacPair>* v, std::int64_t cap, std::mt19937_64* rng) {
  const std::int64_t n = static_cast<std::int64_t>(v->size());
  if (cap <= 0 || n <= cap) return;
  std::vector<std::int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  for (std::int64_t i = 0; i < cap; ++i) {
    std::uniform_int_distribution<std::int64_t> pick(i, n - 1);
    std::swap(idx[i], idx[pick(*rng)]);
  }
  idx.resize(cap);
  std::sort(idx.begin(), idx.end());
  std::vector<QacPair> kept;
  kept.reserve(cap);
  for (std::int64_t i : idx) kept.push_back(std::move((*v)[i]));
  v->swap(kept);
}

void MakeExamples(int max_prefix_len, QacSplit* split, const char* name) {
  XMR_EXPECTS(split->pairs.size() <= static_cast<std::size_t>(std::numeric_limits<Index>::max()),
              ErrorCode::kInvalidArgument,
              std::string("QAC data: too many ") + name + " pairs (" +
                  std::to_string(split->pairs.size()) + "); cap them with max_" + name + "_pairs");
  split->examples.clear();
  for (std::size_t p = 0; p < split->pairs.size(); ++p) {
    const QacPair& pair = split->pairs[p];
    const std::string& s = pair.next;
    int len = 0;
    for (std::size_t b = 1; b <= s.size(); ++b) {
      if (b < s.size() && !IsLeadByte(s[b])) continue;  // b is not a code point boundary
      ++len;
      if (max_prefix_len > 0 && len > max_prefix_len) break;
      QacExample e;
      e.pair = static_cast<std::int32_t>(p);
      e.prefix_len = len;
      e.prefix_bytes = static_cast<std::int32_t>(b);
      e.label = pair.label;
      split->examples.push_back(e);
    }
  }
}

// Label set, label ids, unknown test pairs, caps and examples. `all_freq` holds the kTrainAll
// counts (ignored for kTrainNext).
QacDataset Assemble(std::vector<QacPair> train, std::vector<QacPair> test, QacDataStats stats,
                    const FreqMap& all_freq, const QacDataOptions& opts) {
  QacDataset d;
  d.stats = stats;
  std::vector<std::pair<std::string, std::int64_t>> counted;
  if (opts.label_source == LabelSource::kTrainNext) {
    std::vector<const std::string*> next(train.size());
    for (std::size_t i = 0; i < train.size(); ++i) next[i] = &train[i].next;
    std::sort(next.begin(), next.end(),
              [](const std::string* a, const std::string* b) { return *a < *b; });
    for (std::size_t i = 0; i < next.size();) {
      std::size_t j = i;
      while (j < next.size() && *next[j] == *next[i]) ++j;
      counted.emplace_back(*next[i], static_cast<std::int64_t>(j - i));
      i = j;
    }
  } else {
    counted.assign(all_freq.begin(), all_freq.end());
  }
  if (opts.max_labels > 0 && counted.size() > static_cast<std::size_t>(opts.max_labels)) {
    auto more_popular = [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    };
    std::nth_element(counted.begin(), counted.begin() + opts.max_labels, counted.end(),
                     more_popular);
    counted.resize(opts.max_labels);
  }
  std::sort(counted.begin(), counted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  d.labels.reserve(counted.size());
  d.label_freq.reserve(counted.size());
  for (auto& c : counted) {
    d.labels.push_back(std::move(c.first));
    d.label_freq.push_back(c.second);
  }
  counted = {};

  std::vector<QacPair> kept;
  kept.reserve(train.size());
  for (QacPair& p : train) {
    p.label = d.LabelId(p.next);
    if (p.label == kNoLabel) {
      ++d.stats.train_pairs_unlabeled;
    } else {
      kept.push_back(std::move(p));
    }
  }
  train.swap(kept);
  kept.clear();
  for (QacPair& p : test) {
    p.label = d.LabelId(p.next);
    ++(p.label == kNoLabel ? d.stats.test_pairs_unknown : d.stats.test_pairs_known);
    if (p.label != kNoLabel || opts.keep_unknown_test) kept.push_back(std::move(p));
  }
  test.swap(kept);
  kept = {};

  std::mt19937_64 rng(opts.seed);
  SampleInPlace(&train, opts.max_train_pairs, &rng);
  SampleInPlace(&test, opts.max_test_pairs, &rng);
  d.train.pairs = std::move(train);
  d.test.pairs = std::move(test);
  MakeExamples(opts.max_prefix_len, &d.train, "train");
  MakeExamples(opts.max_prefix_len, &d.test, "test");
  return d;
}

}  // namespace

QacDataset BuildQacDataset(const std::vector<std::string>& rows, const QacDataOptions& opts) {
  opts.Validate();
  LogPairCollector c(opts, static_cast<std::int64_t>(rows.size()));
  for (const std::string& r : rows) c.Add(r);
  return Assemble(std::move(c.train_pairs), std::move(c.test_pairs), c.stats, c.train_row_freq,
                  opts);
}

QacDataset BuildQacDatasetFromFile(const std::string& path, const QacDataOptions& opts,
                                   const Context& ctx) {
  opts.Validate();
  const Timer timer;
  std::int64_t lines = 0;
  {
    detail::LineReader in(path);
    std::string_view line;
    while (in.Next(&line)) ++lines;
  }
  const std::int64_t n_rows = std::max<std::int64_t>(0, lines - (opts.skip_header ? 1 : 0));
  Log(ctx, StrFormat("qac: %s has %lld query rows", path.c_str(), static_cast<long long>(n_rows)));
  LogPairCollector c(opts, n_rows);
  {
    detail::LineReader in(path);
    std::string_view line;
    if (opts.skip_header) in.Next(&line);
    while (in.Next(&line)) c.Add(line);
  }
  QacDataset d =
      Assemble(std::move(c.train_pairs), std::move(c.test_pairs), c.stats, c.train_row_freq, opts);
  Log(ctx,
      StrFormat("qac: %s; %d labels, %lld train / %lld test examples in %.2fs",
                d.stats.Summary().c_str(), d.n_labels(), static_cast<long long>(d.train.size()),
                static_cast<long long>(d.test.size()), timer.Seconds()));
  return d;
}

QacDataset BuildQacDatasetFromPairs(const std::vector<QacPair>& pairs, const QacDataOptions& opts) {
  opts.Validate();
  QacDataStats stats;
  std::vector<QacPair> accepted;
  std::string prev, next;
  for (const QacPair& p : pairs) {
    ++stats.rows;
    const Drop a = NormalizeInto(p.prev, opts.normalization, &prev);
    const Drop b = NormalizeInto(p.next, opts.normalization, &next);
    if (a != Drop::kKept || b != Drop::kKept) {
      ++stats.rows_dropped;
      if (a == Drop::kInvalidUtf8 || b == Drop::kInvalidUtf8) ++stats.rows_invalid_utf8;
      continue;
    }
    if (prev == next) continue;
    ++stats.candidate_pairs;
    if (!AcceptPair(prev, next, opts)) continue;
    QacPair q;
    q.prev = prev;
    q.next = next;
    q.row = p.row;
    q.session = p.session;
    accepted.push_back(std::move(q));
  }
  const std::size_t n_train = static_cast<std::size_t>(
      std::floor(opts.train_fraction * static_cast<double>(accepted.size())));
  std::vector<QacPair> train(std::make_move_iterator(accepted.begin()),
                             std::make_move_iterator(accepted.begin() + n_train));
  std::vector<QacPair> test(std::make_move_iterator(accepted.begin() + n_train),
                            std::make_move_iterator(accepted.end()));
  stats.train_rows = static_cast<std::int64_t>(train.size());
  stats.train_pairs = static_cast<std::int64_t>(train.size());
  stats.test_pairs = static_cast<std::int64_t>(test.size());
  FreqMap all_freq;
  if (opts.label_source == LabelSource::kTrainAll) {
    for (const QacPair& p : train) {
      ++all_freq[p.prev];
      ++all_freq[p.next];
    }
  }
  return Assemble(std::move(train), std::move(test), stats, all_freq, opts);
}

std::vector<QacPair> ReadTrecSessionPairs(const std::string& path, const QueryNormalization& norm) {
  norm.Validate();
  detail::LineReader in(path);
  std::string_view line;
  std::vector<QacPair> out;
  if (!in.Next(&line)) return out;  // header
  std::vector<std::string_view> fields;
  std::string prev, cur;
  bool has_prev = false;
  std::int64_t prev_session = -1;
  std::int64_t row = -1;
  while (in.Next(&line)) {
    ++row;
    fields.clear();
    for (std::size_t start = 0;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    const std::string where = path + ":" + std::to_string(in.line_number()) + ": ";
    XMR_EXPECTS(fields.size() >= 6, ErrorCode::kCorruption,
                where +
                    "expected 7 tab-separated fields (session, topic, position, kind, "
                    "starttime, query, clicked_ranks), got " +
                    std::to_string(fields.size()));
    std::int64_t session = 0;
    const std::string_view s = fields[0];
    const auto res = std::from_chars(s.data(), s.data() + s.size(), session);
    XMR_EXPECTS(res.ec == std::errc() && res.ptr == s.data() + s.size(), ErrorCode::kCorruption,
                where + "session \"" + std::string(s) + "\" is not an integer");
    if (session != prev_session) has_prev = false;
    prev_session = session;
    if (NormalizeInto(fields[5], norm, &cur) != Drop::kKept) {
      has_prev = false;
      continue;
    }
    if (has_prev && prev != cur) {
      QacPair p;
      p.prev = prev;
      p.next = cur;
      p.row = row;
      p.session = session;
      out.push_back(std::move(p));
    }
    prev.swap(cur);
    has_prev = true;
  }
  return out;
}

}  // namespace xmr
