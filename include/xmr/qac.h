// Session-aware query autocompletion (QAC): data sets built from query logs, QAC metrics, and
// the most-popular-completion baseline.
//
// Task: the input is (previous query, the first characters typed of the next query); the labels
// are the full queries seen in training; the answer is a ranked list of completions.
//
//   QacDataOptions opts;                                   // defaults documented below
//   QacDataset d = BuildQacDatasetFromFile("aol_2006_1M_queries.txt.xz", opts, ctx);
//   MostPopularCompleter mpc(d.labels, d.label_freq);
//   std::vector<std::vector<Index>> ranked = mpc.CompleteAll(d.test, 10, /*threads=*/0);
//   QacMetrics m = EvaluateQac(d.test, ranked, d.labels);
//   std::fputs(m.Table().c_str(), stdout);
//
// Text: queries are byte strings that must be valid UTF-8; "characters" and prefix lengths count
// Unicode code points; strings are compared and sorted bytewise (unsigned bytes), which for
// UTF-8 is code point order, so the labels starting with a prefix form one contiguous id range.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "xmr/context.h"
#include "xmr/sparse.h"

namespace xmr {

// ----- normalisation and pair rule ------------------------------------------------------------

/// How raw log queries are cleaned. Blanks are the ASCII space, \t, \n, \v, \f and \r.
struct QueryNormalization {
  /// Trim blanks at both ends and replace every run of blanks inside by one space.
  bool collapse_blanks = true;
  /// Map ASCII 'A'-'Z' to 'a'-'z' (other bytes, including all non-ASCII text, are kept).
  bool lowercase_ascii = true;
  /// Drop queries longer than this many code points after cleaning; 0 = no limit.
  int max_chars = 0;
  /// @throws Error(kInvalidArgument) naming the field when max_chars < 0.
  void Validate() const;
};

/// The cleaned query, or "" when it is dropped: empty after cleaning, not valid UTF-8, or longer
/// than opts.max_chars code points. Pure function, thread-safe.
std::string NormalizeQuery(std::string_view raw, const QueryNormalization& opts = {});

/// Which consecutive (previous, next) queries form a training / test pair. The two queries must
/// always be distinct (after normalisation); the rule says what else is required.
enum class PairRule {
  kDistinct,    ///< nothing else: every two consecutive distinct queries
  kSharedWord,  ///< they share at least min_shared_words distinct words (blank-separated tokens)
};
/// "distinct" | "shared_word". @throws Error(kInvalidArgument).
PairRule ParsePairRule(const std::string& name);
const char* PairRuleName(PairRule rule) noexcept;

/// Where the label set (the candidate completions) comes from. Always the train split only.
enum class LabelSource {
  /// The distinct next queries of the train pairs; label_freq = number of train pairs whose next
  /// query is the label.
  kTrainNext,
  /// Every distinct query of the train part: all kept train rows of a log (label_freq = number of
  /// train rows equal to it), or every prev and next of the train pairs for pair input
  /// (label_freq = number of times it appears there).
  kTrainAll,
};
/// "train_next" | "train_all". @throws Error(kInvalidArgument).
LabelSource ParseLabelSource(const std::string& name);
const char* LabelSourceName(LabelSource source) noexcept;

/// Options of the QAC data builders. Every field has a documented default.
struct QacDataOptions {
  QueryNormalization normalization;
  /// File builder only: the first line is a header (the AOL file's "Query") and is skipped.
  bool skip_header = true;
  PairRule pair_rule = PairRule::kSharedWord;
  /// For kSharedWord: number of distinct words of the next query that must also occur in the
  /// previous one (>= 1).
  int min_shared_words = 1;
  /// Split by time: a log's first floor(train_fraction * rows) rows are the train part, the rest
  /// the test part; a pair belongs to the part of its next query's row (so a pair straddling the
  /// boundary is a test pair). For pair input, the first floor(train_fraction * pairs) accepted
  /// pairs are train. In (0, 1]. Note: the AOL log is sorted by user, then time, so on it this
  /// split is mostly by user (the test part is the last users' queries), not by calendar time.
  double train_fraction = 0.9;
  LabelSource label_source = LabelSource::kTrainNext;
  /// Keep only the max_labels most frequent labels (label_freq descending, ties bytewise smaller
  /// first); train pairs whose next query is then not a label are dropped. 0 = all.
  Index max_labels = 0;
  /// Test pairs whose next query is not a label: false (default) drops them; true keeps them with
  /// label kNoLabel, so that metrics count them as misses. Counted in QacDataStats either way.
  bool keep_unknown_test = false;
  /// Examples are made for prefix lengths 1..min(code points of the next query, max_prefix_len);
  /// 0 = up to the whole query.
  int max_prefix_len = 8;
  /// Caps on the number of pairs kept per split (0 = no cap). When a split has more, a uniform
  /// sample without replacement is kept, in log order. Applied after the label set and
  /// label_freq are fixed from all train pairs, and after unknown test pairs were dropped.
  std::int64_t max_train_pairs = 0;
  std::int64_t max_test_pairs = 0;
  /// Seed of that sampling (std::mt19937_64; train is sampled first, then test).
  std::uint64_t seed = 0;
  /// @throws Error(kInvalidArgument) naming the field that is out of range.
  void Validate() const;
};

/// True when (prev, next), both already normalised, form a pair under opts.pair_rule and
/// opts.min_shared_words (never when prev == next or one of them is empty). Thread-safe.
bool AcceptPair(std::string_view prev, std::string_view next, const QacDataOptions& opts);

// ----- data set -------------------------------------------------------------------------------

/// Label id of a query that is not in the label set.
inline constexpr Index kNoLabel = -1;

/// One (previous query, next query) pair.
struct QacPair {
  std::string prev;
  std::string next;
  /// Id of `next` in QacDataset::labels, or kNoLabel (unknown test query; ignored on input).
  Index label = kNoLabel;
  /// Time position: 0-based data row of `next` in the log (header excluded) or in sessions.tsv,
  /// or the pair's index for pair input.
  std::int64_t row = 0;
  /// Session id where the source has one (TREC), else -1.
  std::int64_t session = -1;
};

/// One example: pair `pair` of its split, with the first prefix_len code points
/// (= prefix_bytes bytes) of the next query typed.
struct QacExample {
  std::int32_t pair = 0;
  std::int32_t prefix_len = 0;
  std::int32_t prefix_bytes = 0;
  Index label = kNoLabel;  ///< copy of the pair's label
};

/// The pairs of one split and their examples. Examples are grouped by pair (in pair order) and,
/// within a pair, ordered by prefix length. Accessors return views into `pairs`, valid while the
/// split is alive and unchanged.
struct QacSplit {
  std::vector<QacPair> pairs;
  std::vector<QacExample> examples;

  std::int64_t size() const { return static_cast<std::int64_t>(examples.size()); }
  std::string_view prev(std::int64_t i) const { return pairs[examples[i].pair].prev; }
  std::string_view next(std::int64_t i) const { return pairs[examples[i].pair].next; }
  std::string_view prefix(std::int64_t i) const {
    return std::string_view(pairs[examples[i].pair].next).substr(0, examples[i].prefix_bytes);
  }
  int prefix_len(std::int64_t i) const { return examples[i].prefix_len; }
  Index label(std::int64_t i) const { return examples[i].label; }
};

/// What the builder read, kept and dropped (counts of rows and pairs).
struct QacDataStats {
  /// Data rows read (log), or pairs given (pair input; the "rows" fields then count pairs).
  std::int64_t rows = 0;
  std::int64_t rows_dropped = 0;           ///< rows NormalizeQuery dropped (empty, invalid, long)
  std::int64_t rows_invalid_utf8 = 0;      ///< of which not valid UTF-8
  std::int64_t train_rows = 0;             ///< rows in the train part (pair input: train pairs)
  std::int64_t candidate_pairs = 0;        ///< consecutive kept rows that differ
  std::int64_t train_pairs = 0;            ///< accepted by the pair rule, train part
  std::int64_t test_pairs = 0;             ///< accepted by the pair rule, test part
  std::int64_t train_pairs_unlabeled = 0;  ///< train pairs dropped by max_labels
  std::int64_t test_pairs_known = 0;       ///< test pairs whose next query is a label
  std::int64_t test_pairs_unknown = 0;     ///< test pairs whose next query is not a label
  /// test_pairs_known / (known + unknown); 0 when there are no test pairs.
  double test_label_coverage() const {
    const std::int64_t n = test_pairs_known + test_pairs_unknown;
    return n == 0 ? 0.0 : static_cast<double>(test_pairs_known) / static_cast<double>(n);
  }
  /// One line: "rows 999999 (dropped 0, invalid UTF-8 0, train part 899999), candidate pairs
  /// ..., test pairs known 611 / unknown 12169 (coverage 4.78%)".
  std::string Summary() const;
};

/// A QAC data set. labels are distinct, sorted bytewise; label id = position in that order.
/// Plain value type; const access is thread-safe.
struct QacDataset {
  std::vector<std::string> labels;
  /// label_freq[l] = train frequency of label l (see LabelSource), >= 1 for built data sets.
  std::vector<std::int64_t> label_freq;
  QacSplit train;  ///< every train pair has a label
  QacSplit test;   ///< labels may be kNoLabel only with keep_unknown_test
  QacDataStats stats;

  Index n_labels() const { return static_cast<Index>(labels.size()); }
  /// Id of `query` (binary search), or kNoLabel.
  Index LabelId(std::string_view query) const;
};

/// Builds a data set from a query log, one query per element, in time order (consecutive rows
/// approximate sessions). Rows are normalised; a dropped row forms no pair with either neighbour.
/// Pairs are consecutive kept rows accepted by AcceptPair; then split, labels, unknown test pairs,
/// caps and prefix examples follow the options. Deterministic for given rows and options.
/// @throws Error(kInvalidArgument) for invalid options or more than 2^31 - 1 pairs in a split.
QacDataset BuildQacDataset(const std::vector<std::string>& rows, const QacDataOptions& opts = {});

/// Same, reading the rows from a text file (plain, .gz or .xz; one query per line, first line
/// skipped when opts.skip_header). Reads the file twice (first to count its rows, for the split),
/// holding only the accepted pairs in memory. Logs progress through ctx.
/// @throws Error(kIoError / kCorruption) from reading, Error(kInvalidArgument) as above.
QacDataset BuildQacDatasetFromFile(const std::string& path, const QacDataOptions& opts = {},
                                   const Context& ctx = {});

/// Same, from ready pairs (e.g. ReadTrecSessionPairs): each prev/next is normalised (pairs with a
/// dropped side are dropped and counted in rows_dropped), pairs failing AcceptPair are dropped,
/// then the first floor(train_fraction * accepted) pairs are train, the rest test. The pairs'
/// row and session are kept; their label is recomputed.
QacDataset BuildQacDatasetFromPairs(const std::vector<QacPair>& pairs,
                                    const QacDataOptions& opts = {});

/// Reads the TREC 2013 Session Track table sessions.tsv (header line, then tab-separated
/// `session, topic, position, kind, starttime, query, clicked_ranks`, rows grouped by session in
/// position order) and returns the pairs of consecutive queries of one session, normalised with
/// `norm`, that are distinct; a query that normalises to "" breaks the chain. No other pair rule
/// is applied. row = 0-based data row of the next query, session = the session column.
/// @throws Error(kIoError) if unreadable, Error(kCorruption) "<path>:<line>: ..." for a row with
/// fewer than 6 fields or a non-integer session.
std::vector<QacPair> ReadTrecSessionPairs(const std::string& path,
                                          const QueryNormalization& norm = {});

// ----- metrics --------------------------------------------------------------------------------

/// Options of the QAC metrics.
struct QacMetricsOptions {
  /// Cut-offs of success@k (each >= 1).
  std::vector<int> success_k = {1, 3, 5, 10};
  /// MRR@mrr_k and BLEU over the top bleu_k completions (each >= 1).
  int mrr_k = 10;
  int bleu_k = 10;
  /// The headline row averages the per-prefix-length values over these lengths (1 <= min <= max).
  int avg_min_prefix_len = 1;
  int avg_max_prefix_len = 8;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

/// Mean metric values over a set of examples, as fractions in [0, 1].
struct QacMetricsRow {
  std::int64_t n = 0;           ///< examples averaged
  double mrr = 0;               ///< MRR@mrr_k
  std::vector<double> success;  ///< success[j] = success@success_k[j]
  double bleu = 0;              ///< rank-weighted BLEU, see QacEvaluator
};

/// Metrics by prefix length plus two summaries.
struct QacMetrics {
  QacMetricsOptions options;
  /// by_prefix_len[p - 1] = mean over the examples of prefix length p, for p = 1..the largest
  /// length seen (rows with n == 0 are all zero).
  std::vector<QacMetricsRow> by_prefix_len;
  /// The headline: unweighted mean of the by_prefix_len rows with lengths in
  /// [avg_min_prefix_len, avg_max_prefix_len] and n > 0 (each length counts once, whatever its
  /// example count; n = total examples of those lengths). "MRR@10 averaged over prefix lengths
  /// 1-8" is averaged.mrr with the defaults.
  QacMetricsRow averaged;
  /// Mean over all examples (every example counts once).
  QacMetricsRow overall;
  /// Fixed-width table: header, one line per prefix length, then "avg 1-8" and "all".
  std::string Table() const;
};

/// Accumulates per-example QAC metrics. For one example with truth t (the next query) and
/// ranked completions c_1, c_2, ... (best first):
///   hit rank h = the first r with c_r == t (bytewise), or none;
///   MRR@K      = 1/h if h <= K, else 0;   success@k = 1 if h <= k, else 0;
///   BLEU       = sum_{r=1..m} (1/r) * SentenceBleu(c_r, t) / sum_{r=1..m} (1/r), with
///                m = min(bleu_k, number of completions); 0 when there are none.
/// Examples with prefix_len < 1 are rejected. Not thread-safe; use one per thread and Merge.
class QacEvaluator {
 public:
  /// @throws Error(kInvalidArgument) for invalid options.
  explicit QacEvaluator(const QacMetricsOptions& opts = {});
  /// Adds one example. @throws Error(kInvalidArgument) when prefix_len < 1.
  void Add(int prefix_len, std::string_view truth, const std::vector<std::string_view>& ranked);
  void Add(int prefix_len, std::string_view truth, const std::vector<std::string>& ranked);
  /// Adds one example whose hit rank (1-based; 0 = no hit) and BLEU are already known.
  void AddScored(int prefix_len, int hit_rank, double bleu);
  /// Adds another evaluator's examples (same options required, else kInvalidArgument).
  void Merge(const QacEvaluator& other);
  QacMetrics Result() const;

 private:
  struct Sums {
    std::int64_t n = 0;
    double rr = 0, bleu = 0;
    std::vector<std::int64_t> success;
  };
  QacMetricsOptions opts_;
  int max_k_ = 0;
  std::vector<Sums> sums_;  // [prefix_len - 1]
};

/// Sentence BLEU of `candidate` against one `reference`, over words (runs of non-blank bytes),
/// n-grams n = 1..4 with uniform weights, smoothed by adding one to the numerator and the
/// denominator of the precisions of n >= 2 (Lin & Och 2004, "BLEU+1"):
///   p_1 = m_1 / c_1,  p_n = (m_n + 1) / (c_n + 1) for n = 2..4,
///   BLEU = BP * exp(sum_n log(p_n) / 4),  BP = min(1, exp(1 - |ref| / |cand|)),
/// where c_n = number of candidate n-grams, m_n = those matched in the reference with clipped
/// counts, |.| = word counts. 0 when the candidate has no word or p_1 = 0; 1 for an exact match.
double SentenceBleu(std::string_view candidate, std::string_view reference);

/// Metrics of `ranked[i]` (label ids, best first) for example i of `split`. Hits compare ids
/// with the example's label (kNoLabel never hits); BLEU uses labels[id] against the pair's next
/// query. Examples run on `threads` workers (<= 0: all); the result does not depend on it.
/// @throws Error(kInvalidArgument) if ranked.size() != split.size() or an id is outside labels.
QacMetrics EvaluateQac(const QacSplit& split, const std::vector<std::vector<Index>>& ranked,
                       const std::vector<std::string>& labels, const QacMetricsOptions& opts = {},
                       int threads = 1);
/// Same with completion strings (hits compare strings with the pair's next query).
QacMetrics EvaluateQac(const QacSplit& split, const std::vector<std::vector<std::string>>& ranked,
                       const QacMetricsOptions& opts = {}, int threads = 1);

// ----- most-popular completion ----------------------------------------------------------------

/// The most-popular-completion baseline: the top-k labels that start with the typed prefix, by
/// train frequency (descending; ties: smaller label id). It ignores the previous query.
///
/// Structure: labels are stored in one byte buffer in their (bytewise sorted) id order, so the
/// labels extending a prefix are one id range [lo, hi), found by binary search inside a bucket of
/// a 65,536-entry table on the first two bytes. Top-k over a range pops range minima of the
/// popularity rank with a heap of sub-ranges (k + 1 entries), each minimum an O(1) range-minimum
/// query (in-block 64-bit stack masks + a sparse table over blocks of 64 labels).
/// Query cost: O(|prefix| log L + k log k). Memory: about 28 bytes per label plus the label bytes
/// plus 256 KiB.
/// Thread safety: immutable after construction; every const method may be called concurrently.
class MostPopularCompleter {
 public:
  MostPopularCompleter() = default;
  /// labels: strictly increasing bytewise (as QacDataset::labels); freq: same size, each >= 0.
  /// Copies both. @throws Error(kInvalidArgument) otherwise, or for 2^31 or more labels.
  MostPopularCompleter(const std::vector<std::string>& labels,
                       const std::vector<std::int64_t>& freq);
  explicit MostPopularCompleter(const QacDataset& data)
      : MostPopularCompleter(data.labels, data.label_freq) {}

  Index size() const { return static_cast<Index>(freq_.size()); }
  std::string_view label(Index id) const {
    return std::string_view(chars_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  std::int64_t freq(Index id) const { return freq_[id]; }

  /// The id range [lo, hi) of the labels that start with `prefix` (lo == hi when none; the whole
  /// range for an empty prefix).
  std::pair<Index, Index> PrefixRange(std::string_view prefix) const;
  /// Replaces *out by the ids of the (at most) k most popular labels extending `prefix`, best
  /// first. k <= 0 gives none.
  void Complete(std::string_view prefix, int k, std::vector<Index>* out) const;
  std::vector<Index> Complete(std::string_view prefix, int k) const;
  /// Complete(split.prefix(i), k) for every example of `split`, on `threads` workers (<= 0: all).
  std::vector<std::vector<Index>> CompleteAll(const QacSplit& split, int k, int threads = 1) const;
  /// Bytes held by the structure.
  std::size_t MemoryBytes() const;

 private:
  Index RangeMin(Index l, Index r) const;  // id of the best rank in [l, r], inclusive
  Index InBlockMin(Index l, Index r) const;

  std::string chars_;
  std::vector<std::int64_t> offsets_;  // size L + 1
  std::vector<std::int64_t> freq_;
  std::vector<std::uint32_t> rank_;         // popularity rank: 0 = most popular
  std::vector<std::uint64_t> mask_;         // in-block stack masks
  std::vector<std::vector<Index>> blocks_;  // sparse table over block minima
  std::vector<Index> bucket_;               // 65,537 first ids per two-byte key
};

}  // namespace xmr
