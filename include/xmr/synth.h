// Synthetic XMC data shaped like the standard large benchmarks (Wiki-500K, Amazon-670K,
// Amazon-3M), for measuring xmr at 10^5-10^7 labels where no real data is at hand.
//
// The model behind a data set (all of it drawn from `seed`):
//  * Labels have a popularity rank; rank r (0-based) is drawn with probability proportional to
//    (r + 1)^-label_exponent, so label frequencies follow a power law. Label ids are a random
//    permutation of the ranks, as in real data.
//  * Labels fall into topics of about `topic_size` labels (rank r is in topic r mod T, so every
//    topic holds head and tail labels). A row draws its first label from the power law and each
//    further one, with probability `topic_cooccurrence`, from a topic already in the row
//    (in-topic probabilities proportional to the same power law), else from the power law again.
//    The number of labels of a row is 1 + Poisson(G), G ~ Gamma(2, (labels_per_row - 1) / 2):
//    a heavy-ish tail with the right mean.
//  * Each label has a signature of `signature_size` features and each topic a profile of
//    4 * signature_size features (ids hashed from the seed into a pool of `feature_pool`
//    features, the rarest of the background; weights Zipfian within the set).
//    A row's tokens are, with probability `signal`, drawn from one of its labels' signature or
//    topic profile (half each), and otherwise from a Zipfian background over all features
//    (exponent `feature_exponent`, ids permuted). Tokens are drawn until the row has its target
//    number of distinct features, nnz_per_row * LogNormal(0, 0.5) (mean nnz_per_row).
//  * Values are TF-IDF, (1 + ln tf) * idf, with the idf each feature is expected to have under
//    this model (computed up front, so rows can be streamed), and rows are L2-normalised.
// Every row is drawn from its own seed (seed, split, row index), so a data set is the same
// bit for bit whatever the thread count or block size, and a row's length is known before the
// row is drawn (which lets the .xmb writer stream).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xmr/context.h"
#include "xmr/io.h"
#include "xmr/sparse.h"

namespace xmr {

/// Shape and generator knobs of a synthetic data set.
struct SynthSpec {
  std::string name = "custom";
  Index n_train = 10000;          ///< rows of the training split (>= 0)
  Index n_test = 2000;            ///< rows of the test split (>= 0)
  Index n_features = 100000;      ///< feature dimension d (>= 1)
  Index n_labels = 10000;         ///< label dimension L (>= 1)
  double nnz_per_row = 100;       ///< mean distinct features per row (>= 1, <= d)
  double labels_per_row = 5;      ///< mean labels per row (>= 1, <= L)
  double label_exponent = 0.8;    ///< label frequency ~ rank^-label_exponent (in [0, 3])
  double feature_exponent = 1.0;  ///< Zipf exponent of the background words (in [0, 3])
  double signal = 0.5;            ///< share of tokens drawn from the row's labels (in [0, 1])
  Index signature_size = 24;      ///< features per label signature (>= 1)
  Index topic_size = 64;          ///< labels per topic (>= 1)
  /// Label signatures and topic profiles draw from this many features (the rarest of the
  /// background), 0 = all. Presets scale it with the labels, so that a label shares its
  /// signature features with as many others at any --scale.
  Index feature_pool = 0;
  double topic_cooccurrence = 0.7;  ///< P(extra label from a topic already in the row)
  std::uint64_t seed = 1;
  /// @throws Error(kInvalidArgument) naming the first field out of range.
  void Validate() const;
  /// One line: "name: train N, test M, d D, L L, nnz/row ..., labels/row ..., exponent ...".
  std::string Describe() const;
};

/// The presets: "wiki500k", "amazon670k", "amazon3m" (shapes of the real sets; see
/// SynthPreset) and "tiny" (a few thousand rows, for tests and smoke runs).
std::vector<std::string> SynthPresetNames();

/// A preset with its rows (train and test) and labels multiplied by `scale` (> 0; at least one
/// row and label are kept); features, nnz per row and labels per row stay those of the real set,
/// and the feature pool of the signatures scales with the labels (same difficulty at any scale).
/// @throws Error(kInvalidArgument) for an unknown name (the message lists the presets) or a
///         scale <= 0 or one that makes more than 2^31 - 1 rows or labels.
SynthSpec SynthPreset(const std::string& name, double scale = 1.0);

enum class SynthSplit { kTrain, kTest };

/// Draws rows of a spec. Construction builds O(n_labels + n_features) tables (about
/// 24 bytes per label and 20 per feature) and takes O(L * signature_size) time.
/// Thread safety: const methods may be called concurrently.
class SynthGenerator {
 public:
  /// @throws Error(kInvalidArgument) if spec.Validate() does.
  explicit SynthGenerator(const SynthSpec& spec);
  ~SynthGenerator();
  SynthGenerator(const SynthGenerator&) = delete;
  SynthGenerator& operator=(const SynthGenerator&) = delete;

  const SynthSpec& spec() const noexcept;
  Index rows(SynthSplit split) const noexcept;
  /// Number of features / labels row `row` of `split` will have (known before drawing it).
  Index RowNnz(SynthSplit split, Index row) const;
  Index RowLabels(SynthSplit split, Index row) const;
  /// Rows [begin, end) of a split (x: TF-IDF, L2-normalised, sorted ids; y: 1.0 per label).
  /// @throws Error(kInvalidArgument) if the range is outside [0, rows(split)].
  Dataset Generate(SynthSplit split, Index begin, Index end, const Context& ctx = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// A whole split in memory.
Dataset Synthesize(const SynthSpec& spec, SynthSplit split, const Context& ctx = {});

/// What WriteSynthetic writes for each split, as "<prefix>.<train|test>.<suffix>".
struct SynthOutput {
  bool text = true;  ///< ".txt": XMLRepository text (features and labels)
  bool xmb = false;  ///< ".X.xmb" and ".Y.xmb": xmr binary matrices
  bool npz = false;  ///< ".X.npz" and ".Y.npz": scipy CSR, as PECOS loads them (not streamed:
                     ///< the split is built in memory first)
  Index block_rows = 16384;  ///< rows drawn per block (memory ~ block_rows * nnz_per_row * 8 B)
};

/// Writes both splits, streaming text and .xmb block by block (only one block in memory);
/// every file is written atomically. Progress (rows, rate) goes to stderr if ctx.verbose > 0.
/// Returns the paths written.
/// @throws Error(kInvalidArgument) for a bad spec, Error(kIoError) on write failures.
std::vector<std::string> WriteSynthetic(const SynthSpec& spec, const std::string& prefix,
                                        const SynthOutput& out = {}, const Context& ctx = {});

/// Shape statistics of a data set, the quantities the presets target.
struct DataShape {
  Index rows = 0;
  double nnz_per_row = 0;
  double labels_per_row = 0;
  Index labels_used = 0;  ///< labels with at least one row
  /// Least-squares slope of ln(frequency) against ln(rank) over the labels seen at least
  /// `min_count` times (sorted by frequency), negated: the power-law exponent. 0 if fewer than
  /// 10 labels qualify.
  double label_exponent = 0;
};
/// @throws Error(kInvalidArgument) if x.rows != y.rows.
DataShape MeasureShape(const CsrView& x, const CsrView& y, Index min_count = 10);

}  // namespace xmr
