// Text models: XR-Linear + the fitted TF-IDF vectorizer + label names, one model file.
#include "xmr/text_model.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "xmr/error.h"

namespace xmr {
namespace {

// The first problem with `names` as label names of a model with n_labels labels, or "".
std::string CheckNames(const std::vector<std::string>& names, Index n_labels) {
  if (names.size() != static_cast<std::size_t>(n_labels)) {
    return StrFormat("%zu label names for %d labels", names.size(), n_labels);
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string& n = names[i];
    if (n.empty()) return StrFormat("label %zu has an empty name", i);
    if (n.find_first_of("\t\r\n") != std::string::npos) {
      return StrFormat("label %zu's name '%s' contains a tab, CR or newline", i,
                       n.substr(0, 60).c_str());
    }
  }
  return "";
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) {
    s += n;
    s += '\n';
  }
  return s;
}

}  // namespace

std::vector<std::string> LabelNames(const XLinearModel& model) {
  std::vector<std::string> names;
  const std::string* blob = model.Attachment(kLabelNamesAttachment);
  if (blob == nullptr) return names;
  std::size_t start = 0;
  while (start < blob->size()) {
    const std::size_t nl = blob->find('\n', start);
    XMR_EXPECTS(nl != std::string::npos, ErrorCode::kCorruption,
                "model label names: the last name is not terminated");
    names.emplace_back(*blob, start, nl - start);
    start = nl + 1;
  }
  const std::string bad = CheckNames(names, model.n_labels());
  XMR_EXPECTS(bad.empty(), ErrorCode::kCorruption, "model label names: " + bad);
  return names;
}

XLinearModel WithLabelNames(const XLinearModel& model, const std::vector<std::string>& names) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "WithLabelNames: the model is empty");
  const std::string bad = CheckNames(names, model.n_labels());
  XMR_EXPECTS(bad.empty(), ErrorCode::kInvalidArgument, "WithLabelNames: " + bad);
  return model.WithAttachment(kLabelNamesAttachment, JoinNames(names));
}

TextModel::TextModel() : label_names_(std::make_shared<std::vector<std::string>>()) {}

TextModel::TextModel(const XLinearModel& model, std::shared_ptr<const TextVectorizer> vectorizer,
                     const std::vector<std::string>& label_names) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "TextModel: the model is empty");
  XMR_EXPECTS(vectorizer != nullptr, ErrorCode::kInvalidArgument, "TextModel: no vectorizer");
  XMR_EXPECTS(vectorizer->n_features() == model.n_features(), ErrorCode::kInvalidArgument,
              StrFormat("TextModel: the vectorizer has %d features but the model %d",
                        vectorizer->n_features(), model.n_features()));
  XLinearModel m = model.WithAttachment(kVectorizerAttachment, vectorizer->Serialize());
  if (!label_names.empty()) m = WithLabelNames(m, label_names);
  label_names_ = std::make_shared<std::vector<std::string>>(LabelNames(m));
  model_ = std::move(m);
  vectorizer_ = std::move(vectorizer);
}

TextModel TextModel::Train(const std::vector<std::string>& texts, const CsrView& y,
                           const TextTrainOptions& opts, const Context& ctx, TrainReport* report,
                           const std::vector<std::string>& label_names,
                           const std::vector<std::string>* label_texts) {
  XMR_EXPECTS(static_cast<std::size_t>(y.rows) == texts.size(), ErrorCode::kInvalidArgument,
              StrFormat("TextModel::Train: %zu texts but y has %d rows", texts.size(), y.rows));
  XMR_EXPECTS(
      label_names.empty() || label_names.size() == static_cast<std::size_t>(y.cols),
      ErrorCode::kInvalidArgument,
      StrFormat("TextModel::Train: %zu label names for %d labels", label_names.size(), y.cols));
  XMR_EXPECTS(label_texts == nullptr || label_texts->size() == static_cast<std::size_t>(y.cols),
              ErrorCode::kInvalidArgument,
              StrFormat("TextModel::Train: %zu label texts for %d labels",
                        label_texts == nullptr ? 0 : label_texts->size(), y.cols));
  opts.vectorizer.Validate();
  opts.train.Validate();
  Timer timer;
  auto vec = std::make_shared<TextVectorizer>(TextVectorizer::Fit(texts, opts.vectorizer, ctx));
  const CsrMatrix x = vec->Transform(texts, ctx);
  Log(ctx,
      StrFormat("featurised %zu texts: %d features, %.1f nonzeros per row, %.2fs", texts.size(),
                x.cols, texts.empty() ? 0.0 : static_cast<double>(x.nnz()) / texts.size(),
                timer.Seconds()));
  XLinearModel model;
  if (label_texts != nullptr) {
    const CsrMatrix z = vec->Transform(*label_texts, ctx);
    model = TrainWithLabelFeatures(x.view(), y, z.view(), opts.train, ctx, report);
  } else {
    model = xmr::Train(x.view(), y, opts.train, ctx, report);
  }
  return TextModel(model, std::move(vec), label_names);
}

TextModel TextModel::Load(const std::string& path, LoadMode mode) {
  XLinearModel model = LoadModel(path, mode);
  const std::string* blob = model.Attachment(kVectorizerAttachment);
  XMR_EXPECTS(blob != nullptr, ErrorCode::kInvalidArgument,
              path +
                  ": this model was not trained from text (it has no vectorizer); "
                  "give it feature vectors instead");
  std::shared_ptr<TextVectorizer> vec;
  try {
    vec = std::make_shared<TextVectorizer>(TextVectorizer::Deserialize(*blob));
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kCorruption) throw;  // e.g. kNotSupported: no C.UTF-8 locale
    throw Error(ErrorCode::kCorruption, path + ": vectorizer: " + e.message());
  }
  XMR_EXPECTS(vec->n_features() == model.n_features(), ErrorCode::kCorruption,
              StrFormat("%s: the vectorizer has %d features but the model %d", path.c_str(),
                        vec->n_features(), model.n_features()));
  TextModel m;
  try {
    m.label_names_ = std::make_shared<std::vector<std::string>>(LabelNames(model));
  } catch (const Error& e) {
    throw Error(ErrorCode::kCorruption, path + ": " + e.message());
  }
  m.model_ = std::move(model);
  m.vectorizer_ = std::move(vec);
  return m;
}

void TextModel::Save(const std::string& path) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "TextModel::Save: the model is empty");
  SaveModel(model_, path);
}

std::string TextModel::label_name(Index label) const {
  if (label >= 0 && static_cast<std::size_t>(label) < label_names_->size()) {
    return (*label_names_)[label];
  }
  return std::to_string(label);
}

CsrMatrix TextModel::Featurize(const std::vector<std::string>& texts, const Context& ctx) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "TextModel: the model is empty");
  return vectorizer_->Transform(texts, ctx);
}

CsrMatrix TextModel::Predict(const std::vector<std::string>& texts, const PredictOptions& opts,
                             const Context& ctx) const {
  const CsrMatrix x = Featurize(texts, ctx);
  return xmr::Predict(model_, x.view(), opts, ctx);
}

namespace {
const TextModel& NonEmpty(const TextModel& m) {
  XMR_EXPECTS(!m.empty(), ErrorCode::kInvalidArgument, "TextSearcher: the model is empty");
  return m;
}
}  // namespace

TextSearcher::TextSearcher(const TextModel& model)
    : model_(NonEmpty(model)), searcher_(model.model()) {}

std::vector<ScoredLabel> TextSearcher::Search(std::string_view text, const PredictOptions& opts) {
  std::vector<ScoredLabel> out;
  Search(text, opts, &out);
  return out;
}

void TextSearcher::Search(std::string_view text, const PredictOptions& opts,
                          std::vector<ScoredLabel>* out) {
  indices_.clear();
  values_.clear();
  model_.vectorizer().TransformOne(text, &indices_, &values_);
  SparseVecView q;
  q.nnz = static_cast<Index>(indices_.size());
  q.indices = indices_.data();
  q.data = values_.data();
  searcher_.Search(q, opts, out);
}

}  // namespace xmr
