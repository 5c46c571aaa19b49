// Models that answer raw text: an XR-Linear model together with the TF-IDF vectorizer it was
// trained behind and the names of its labels, saved in one model file.
//
//   TextDataset d = ReadTextTsv("train.tsv");                 // "labels<TAB>text" lines
//   TextModel m = TextModel::Train(d.texts, d.y.view(), {}, ctx, nullptr, d.label_names);
//   m.Save("model.xmr");
//   TextSearcher s(TextModel::Load("model.xmr"));
//   for (ScoredLabel l : s.Search("echo with screen", {})) puts(s.model().label_name(l.label));
//
// The vectorizer and the label names travel as attachments of the model file (names
// "xmr.vectorizer" and "xmr.label_names", see XLinearModel::Attachment), so a text model is an
// ordinary model file: LoadModel() reads it too (and ignores the text parts), and a model
// trained on matrices can be given label names with WithLabelNames().
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "xmr/context.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/sparse.h"
#include "xmr/text.h"
#include "xmr/train.h"

namespace xmr {

/// Attachment names used by text models.
inline constexpr char kVectorizerAttachment[] = "xmr.vectorizer";
inline constexpr char kLabelNamesAttachment[] = "xmr.label_names";

/// The label names stored in `model` (index = label id), or an empty vector if it has none.
/// @throws Error(kCorruption) if the stored list does not have one name per label.
std::vector<std::string> LabelNames(const XLinearModel& model);
/// A copy of `model` carrying `names` (one per label; non-empty, without tab, CR or newline,
/// which would break the TSV and line formats names are printed in).
/// @throws Error(kInvalidArgument) naming the first bad name or the count mismatch.
XLinearModel WithLabelNames(const XLinearModel& model, const std::vector<std::string>& names);

/// Options of TextModel::Train: featurisation, then XR-Linear training.
struct TextTrainOptions {
  TextVectorizerOptions vectorizer;
  TrainOptions train;
};

/// An immutable model from raw text to labels. Copies are cheap (shared); all const methods are
/// thread-safe.
class TextModel {
 public:
  TextModel();  ///< empty; only assignable

  /// Joins parts: vectorizer->n_features() must equal model.n_features(); label_names empty or
  /// one per label. The model returned by model() carries both as attachments.
  /// @throws Error(kInvalidArgument) on a mismatch or a bad label name.
  TextModel(const XLinearModel& model, std::shared_ptr<const TextVectorizer> vectorizer,
            const std::vector<std::string>& label_names = {});

  /// Fits the vectorizer on `texts`, featurises them and trains (TrainWithLabelFeatures when
  /// label_texts is given: each label's own text, featurised with the same vectorizer, is the
  /// label-feature side of opts.train.label_embedding). y: texts.size() x L binary CSR.
  /// Progress goes to stderr when ctx.verbose > 0; report as for Train().
  /// @throws as TextVectorizer::Fit and Train; Error(kInvalidArgument) if y.rows !=
  ///         texts.size(), label_names is neither empty nor y.cols long, or label_texts is not
  ///         y.cols long.
  static TextModel Train(const std::vector<std::string>& texts, const CsrView& y,
                         const TextTrainOptions& opts, const Context& ctx = {},
                         TrainReport* report = nullptr,
                         const std::vector<std::string>& label_names = {},
                         const std::vector<std::string>* label_texts = nullptr);

  /// Loads a model file written by Save (see LoadModel for `mode` and errors).
  /// @throws Error(kInvalidArgument) if the file's model was not trained from text (it has no
  ///         vectorizer; use LoadModel); Error(kCorruption) if its attachments are damaged or do
  ///         not fit the model.
  static TextModel Load(const std::string& path, LoadMode mode = LoadMode::kRead);
  /// Saves model() (weights, vectorizer and label names) atomically; see SaveModel.
  void Save(const std::string& path) const;

  bool empty() const { return vectorizer_ == nullptr; }
  const XLinearModel& model() const { return model_; }
  const TextVectorizer& vectorizer() const { return *vectorizer_; }
  const std::vector<std::string>& label_names() const { return *label_names_; }
  /// Name of a label, or its decimal id when the model has no names.
  std::string label_name(Index label) const;

  /// texts.size() x n_features TF-IDF rows (L2-normalised), as the model was trained on.
  CsrMatrix Featurize(const std::vector<std::string>& texts, const Context& ctx = {}) const;
  /// Featurize + batch Predict (see Predict() for the result's layout).
  CsrMatrix Predict(const std::vector<std::string>& texts, const PredictOptions& opts,
                    const Context& ctx = {}) const;

 private:
  XLinearModel model_;
  std::shared_ptr<const TextVectorizer> vectorizer_;
  std::shared_ptr<const std::vector<std::string>> label_names_;
};

/// Single-query search from raw text (featurisation included) for real-time serving: one per
/// serving thread, reused across queries (not thread-safe itself; any number may share one
/// TextModel). Allocation-free per query once its buffers have grown.
class TextSearcher {
 public:
  /// @throws Error(kInvalidArgument) if the model is empty.
  explicit TextSearcher(const TextModel& model);
  /// Top-k labels of `text`, best first; same result as the same row of TextModel::Predict.
  /// @throws Error(kInvalidArgument) on bad text (see TextVectorizer) or bad options.
  std::vector<ScoredLabel> Search(std::string_view text, const PredictOptions& opts);
  void Search(std::string_view text, const PredictOptions& opts, std::vector<ScoredLabel>* out);
  const TextModel& model() const { return model_; }

 private:
  TextModel model_;
  Searcher searcher_;
  std::vector<Index> indices_;
  std::vector<float> values_;
};

}  // namespace xmr
