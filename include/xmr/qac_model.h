// Session-aware query autocompletion with XR-Linear (Yadav et al., KDD 2021; xr-linear.md §8).
//
// Input: (previous query, typed prefix of the next query). Labels: the full queries of a
// QacDataset (bytewise sorted, label id = position). Answer: ranked completions, every one of
// which starts with the typed prefix (the beam search is restricted to PrefixRange(labels,
// prefix), so a label outside that range is never returned).
//
//   QacDataset d = BuildQacDatasetFromFile(path, data_opts, ctx);
//   QacModel m = QacModel::Train(d, QacModelOptions{}, ctx);    // hybrid trie + k-means tree
//   m.Save("qac.xmr");
//   QacSearcher s(QacModel::Load("qac.xmr"));                    // one per serving thread
//   std::vector<ScoredLabel> out;
//   s.Complete("cheap flights", "hot", 10, &out);               // "hotels in paris", ...
//   for (ScoredLabel c : out) puts(s.model().label(c.label).data());
//
// Features of one example, d = d_prev + d_prefix columns:
//   [ prev_weight * tfidf_prev(previous query) | tfidf_prefix(prefix) ], L2-normalised,
// where each block is the L2-normalised TF-IDF row of its own vectorizer (defaults: word
// unigrams for the previous query, character 1-3-grams of the whole prefix). Both vectorizers
// are fitted on the training split only (the previous queries of its pairs, and its prefixes).
//
// The label tree is built from label embeddings (default: position-weighted char_wb TF-IDF of
// the label strings, so labels sharing their first characters end up close) by one of three
// indexers: balanced k-means (plain XR-Linear), a character trie, or the hybrid trie + k-means
// (default). Training is TrainWithTree on one-hot targets (one example per (pair, prefix
// length), its label the pair's next query).
//
// A QAC model is an ordinary model file: the XR-Linear weights plus attachments
// "xmr.qac" (format line and options), "xmr.qac.prev_vectorizer", "xmr.qac.prefix_vectorizer"
// and "xmr.label_names" (the label strings, as text models store them).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xmr/context.h"
#include "xmr/indexer.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/qac.h"
#include "xmr/sparse.h"
#include "xmr/text.h"
#include "xmr/train.h"

namespace xmr {

/// Attachment names of a QAC model file (besides kLabelNamesAttachment of text_model.h).
inline constexpr char kQacAttachment[] = "xmr.qac";
inline constexpr char kQacPrevVectorizerAttachment[] = "xmr.qac.prev_vectorizer";
inline constexpr char kQacPrefixVectorizerAttachment[] = "xmr.qac.prefix_vectorizer";
/// Training frequency of every label (the popularity prior); absent in files written before the
/// prior existed, which then load with prior_beta 0.
inline constexpr char kQacLabelFreqAttachment[] = "xmr.qac.label_freq";

/// Which label tree the QAC model is trained on.
enum class QacIndexerKind {
  kKMeans,  ///< HierarchicalKMeans on the label embeddings (plain XR-Linear)
  kTrie,    ///< TrieIndexer over the label strings (embeddings unused)
  kHybrid,  ///< HybridIndexer: trie on top, balanced k-means inside each trie node (default)
};
/// "kmeans" | "trie" | "hybrid". @throws Error(kInvalidArgument) listing the valid names.
QacIndexerKind ParseQacIndexerKind(const std::string& name);
const char* QacIndexerKindName(QacIndexerKind kind) noexcept;

/// The label embeddings the k-means part of the kKMeans and kHybrid indexers clusters.
enum class QacLabelEmbedding {
  kText,      ///< TF-IDF of the label strings by label_vectorizer (default)
  kPifa,      ///< PIFA: mean of the feature rows of each label's training examples
  kPifaText,  ///< [PIFA | text] (LabelEmbedding kPifaLfConcat); labels without examples
              ///< keep only the text part
};
/// "text" | "pifa" | "pifa_text". @throws Error(kInvalidArgument) listing the valid names.
QacLabelEmbedding ParseQacLabelEmbedding(const std::string& name);
const char* QacLabelEmbeddingName(QacLabelEmbedding kind) noexcept;

/// Options of QacModel::Train. Every field has a documented default.
struct QacModelOptions {
  /// Vectorizer of the previous query. Default: word unigrams, TF-IDF (smooth idf).
  BaseVectorizerOptions prev_vectorizer = DefaultPrevVectorizer();
  /// Vectorizer of the typed prefix. Default: analyzer char, 1-3-grams, TF-IDF.
  BaseVectorizerOptions prefix_vectorizer = DefaultPrefixVectorizer();
  /// Factor on the (unit-norm) previous-query block before the row is L2-normalised (>= 0,
  /// finite; 0 drops the previous query: a context-free model). 1 = both blocks weigh the same.
  float prev_weight = 1.0f;

  /// Vectorizer of the label strings for kText / kPifaText embeddings. Default: char_wb
  /// 1-3-grams with position_decay 1 (an n-gram at word position i weighs 1 / (i + 1)).
  BaseVectorizerOptions label_vectorizer = DefaultLabelVectorizer();
  QacLabelEmbedding label_embedding = QacLabelEmbedding::kText;

  QacIndexerKind indexer = QacIndexerKind::kHybrid;
  /// kKMeans: the k-means tree.
  IndexerOptions kmeans;
  /// kTrie: trie levels above the labels (everything below is one flat leaf cluster). Default 3.
  TrieIndexerOptions trie;
  /// kHybrid: trie levels and the k-means inside each trie node (defaults of
  /// HybridIndexerOptions: trie_depth 2, 16-ary tree, leaves of at most 100 labels).
  HybridIndexerOptions hybrid;

  /// Popularity prior. XR-Linear's one-vs-rest label scores ignore how often a label occurs; the
  /// completions are therefore re-ranked with the label's training frequency f (stored in the
  /// model): the restricted beam search returns the top max(top_k, prior_candidates) labels,
  /// each gets
  ///   log(score') = log(score) + prior_beta * log(1 + f),
  /// and the best top_k by score' are returned (ties: higher model score, then smaller id).
  /// That is, score' = score * (1 + f)^prior_beta for the multiplicative post-processors
  /// (sigmoid, lP-hinge: scores in [0, 1]) and score' = score + prior_beta * log(1 + f) for the
  /// additive ones (noop, log-*), whose scores are already logarithms. The reported scores are
  /// score'. prior_beta 0 = no prior (plain XR-Linear ranking, no wider candidate set).
  /// Default: kDefaultPriorBeta = 2, chosen on a validation split carved from the AOL training
  /// pairs, never on test data (bench/bench_qac.cc --tune-beta: distinct pairs, 20k labels,
  /// hybrid indexer fitted on the first 90% of the train pairs, evaluated on the last 10%):
  /// MRR@10 averaged over prefix lengths 1-8 went 0.5280 (beta 0), 0.5336 (0.5), 0.5359 (1),
  /// 0.5371 (1.5), 0.5374 (2), 0.5374 (3). Both may be changed after training
  /// (QacModel::WithPrior).
  static constexpr float kDefaultPriorBeta = 2.0f;
  float prior_beta = kDefaultPriorBeta;
  /// Candidates re-ranked by the prior (>= 1; fewer than top_k means top_k). Default 200, chosen
  /// on the same validation split (beta 2, hybrid): MRR@10 avg 1-8 0.5374 (50 candidates),
  /// 0.5385 (100), 0.5386 (200), 0.5386 (400); a wider set costs ~40 us p99 per keystroke.
  static constexpr int kDefaultPriorCandidates = 200;
  int prior_candidates = kDefaultPriorCandidates;

  /// Solver, negative sampling, bias, post-processor (TrainOptions; its indexer and
  /// label_embedding fields are unused: the tree comes from the fields above). beam_size and
  /// top_k are the defaults stored in the model and used by QacSearcher::Complete(.., k, ..).
  TrainOptions train;

  static BaseVectorizerOptions DefaultPrevVectorizer();
  static BaseVectorizerOptions DefaultPrefixVectorizer();
  static BaseVectorizerOptions DefaultLabelVectorizer();
  /// @throws Error(kInvalidArgument) naming the field that is out of range.
  void Validate() const;
  /// "key=value" lines of every field (stored in the model file; informational except for
  /// prev_weight, indexer, label_embedding, prior_beta and prior_candidates, which Load reads
  /// back).
  std::string ToString() const;
};

/// Timings and sizes of QacModel::Train (wall-clock seconds, monotonic clock).
struct QacTrainReport {
  std::int64_t n_examples = 0;  ///< training examples (rows of x)
  Index n_labels = 0;
  Index n_features = 0;          ///< d_prev + d_prefix
  double featurize_seconds = 0;  ///< fitting both vectorizers and building x, y
  double index_seconds = 0;      ///< label embeddings + the indexer
  double train_seconds = 0;      ///< TrainWithTree
  double total_seconds = 0;
  int tree_depth = 0;  ///< levels of the label tree, labels included
  TrainReport train;   ///< TrainWithTree's own breakdown
};

/// A trained QAC model: XR-Linear model + the two fitted vectorizers + the label strings.
/// Immutable; copies are cheap (shared). All const methods are thread-safe.
class QacModel {
 public:
  QacModel();  ///< empty; only assignable

  /// Trains on `train` with candidate completions `labels` (strictly increasing bytewise,
  /// non-empty valid UTF-8 without tab / CR / newline, as QacDataset::labels). Every train
  /// example's label must be in [0, labels.size()). Progress on stderr when ctx.verbose > 0;
  /// report (optional, caller-owned) is overwritten with the run's timings.
  /// @throws Error(kInvalidArgument) on bad options, unsorted / bad labels, an example without a
  ///         valid label, an empty split, or as the vectorizers, indexers and TrainWithTree do.
  static QacModel Train(const std::vector<std::string>& labels, const QacSplit& train,
                        const QacModelOptions& opts = {}, const Context& ctx = {},
                        QacTrainReport* report = nullptr);
  /// Same with the label frequencies of the popularity prior given (label_freq.size() ==
  /// labels.size(), every entry >= 0); the overload above counts the train pairs of each label.
  static QacModel Train(const std::vector<std::string>& labels,
                        const std::vector<std::int64_t>& label_freq, const QacSplit& train,
                        const QacModelOptions& opts = {}, const Context& ctx = {},
                        QacTrainReport* report = nullptr);
  /// Train(data.labels, data.label_freq, data.train, ...).
  static QacModel Train(const QacDataset& data, const QacModelOptions& opts = {},
                        const Context& ctx = {}, QacTrainReport* report = nullptr);

  /// Loads a file written by Save (see LoadModel for `mode`, I/O and checksum errors).
  /// @throws Error(kInvalidArgument) if the file holds a model that is not a QAC model (no
  ///         "xmr.qac" attachment); Error(kCorruption) if its QAC attachments are damaged or do
  ///         not fit the weights.
  static QacModel Load(const std::string& path, LoadMode mode = LoadMode::kRead);
  /// Saves weights and attachments atomically (temporary file + rename; see SaveModel).
  /// @throws Error(kInvalidArgument) for an empty model; Error(kIoError) as SaveModel.
  void Save(const std::string& path) const;

  bool empty() const { return state_ == nullptr; }
  /// The XR-Linear model (carrying all attachments). Requires !empty() for the accessors below.
  const XLinearModel& model() const;
  const QacModelOptions& options() const;
  const std::vector<std::string>& labels() const;
  Index n_labels() const { return static_cast<Index>(labels().size()); }
  std::string_view label(Index id) const { return labels()[id]; }
  const TextVectorizer& prev_vectorizer() const;
  const TextVectorizer& prefix_vectorizer() const;
  /// Training frequency of each label (the popularity prior); empty for a model file written
  /// before the prior existed.
  const std::vector<std::int64_t>& label_freq() const;

  /// A copy of this model (weights shared) with options().prior_beta and prior_candidates
  /// replaced; Save stores them. @throws Error(kInvalidArgument) for an empty model, beta < 0
  /// or not finite, candidates < 1, or beta > 0 on a model without label frequencies.
  QacModel WithPrior(float prior_beta, int prior_candidates) const;

  /// Ids of the labels that extend `prefix` (PrefixRange over the sorted labels).
  LabelRange CompletionRange(std::string_view prefix) const;
  /// The feature row of (prev, prefix): replaces *indices / *values (sorted indices, unit L2
  /// norm unless both blocks are empty). Invalid UTF-8 bytes count as U+FFFD (never throws on
  /// text). Reuses the vectors' capacity.
  void Featurize(std::string_view prev, std::string_view prefix, std::vector<Index>* indices,
                 std::vector<float>* values) const;
  /// split.size() x n_features rows, row i = Featurize(split.prev(i), split.prefix(i)).
  /// Runs on ctx.threads.
  CsrMatrix Featurize(const QacSplit& split, const Context& ctx = {}) const;

  /// Completions of every example of `split`, best first: result[i] holds at most opts.top_k
  /// label ids, all in CompletionRange(split.prefix(i)) (empty when no label extends it).
  /// opts as Predict (DefaultPredictOptions(model()) gives the model's). Uses ctx.threads; the
  /// result does not depend on the thread count and equals QacSearcher::Complete per example.
  /// Ranking and scores include the popularity prior (options().prior_beta).
  /// scores (optional) receives the matching scores.
  /// @throws Error(kInvalidArgument) for an empty model or bad options.
  std::vector<std::vector<Index>> CompleteAll(
      const QacSplit& split, const PredictOptions& opts, const Context& ctx = {},
      std::vector<std::vector<float>>* scores = nullptr) const;

 private:
  friend class QacSearcher;
  struct State;
  std::shared_ptr<const State> state_;
};

/// Single-query completion for serving: featurisation + restricted beam search. One per serving
/// thread (not thread-safe itself; any number may share one QacModel, whose copy it keeps).
/// The searcher's own buffers are reused, so steady-state queries allocate only inside the
/// vectorizers' n-gram extraction.
class QacSearcher {
 public:
  /// @throws Error(kInvalidArgument) if the model is empty.
  explicit QacSearcher(const QacModel& model);

  /// Replaces *out by at most opts.top_k completions of `prefix` after `prev`, best first, all
  /// extending `prefix` (same labels and scores as CompleteAll for that example).
  /// @throws Error(kInvalidArgument) on bad options.
  void Complete(std::string_view prev, std::string_view prefix, const PredictOptions& opts,
                std::vector<ScoredLabel>* out);
  /// Same with the model's default beam size and post-processor and top_k = k (k <= 0: none).
  void Complete(std::string_view prev, std::string_view prefix, int k,
                std::vector<ScoredLabel>* out);
  std::vector<ScoredLabel> Complete(std::string_view prev, std::string_view prefix, int k);

  const QacModel& model() const { return model_; }

 private:
  QacModel model_;
  Searcher searcher_;
  PredictOptions default_opts_;
  std::vector<Index> indices_;
  std::vector<float> values_;
  PredictOptions wide_opts_;
};

}  // namespace xmr
