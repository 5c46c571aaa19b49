// QAC model: (previous query, prefix) features, label tree from the label strings, XR-Linear
// training on one-hot targets, prefix-restricted beam search, one model file.
#include "xmr/qac_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/parallel.h"
#include "xmr/error.h"
#include "xmr/text_model.h"  // kLabelNamesAttachment (same layout as text models)

namespace xmr {

struct QacModel::State {
  XLinearModel model;
  QacModelOptions opts;
  std::shared_ptr<const TextVectorizer> prev;
  std::shared_ptr<const TextVectorizer> prefix;
  std::vector<std::string> labels;
  Index d_prev = 0;
  std::vector<std::int64_t> freq;  // empty: no prior (old model file)
  // Prior term per label, prior_beta * log(1 + freq), and its exp; empty when the prior is off.
  std::vector<double> prior_log;
  std::vector<double> prior_mult;
  bool default_additive = false;  // the model's post-processor gives log-domain scores
};

namespace {

constexpr char kFormatLine[] = "xmr-qac 1";

[[noreturn]] void Bad(const std::string& msg) { throw Error(ErrorCode::kInvalidArgument, msg); }

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '-') c = '_';
  }
  return s;
}

TextVectorizerOptions OneBase(const BaseVectorizerOptions& base) {
  TextVectorizerOptions o;
  o.bases = {base};
  o.invalid_utf8 = TextVectorizerOptions::InvalidUtf8::kReplace;
  return o;
}

// ----- options as text --------------------------------------------------------------------------

void PutBase(const std::string& key, const BaseVectorizerOptions& b, std::string* s) {
  *s += StrFormat("%s.analyzer=%s\n", key.c_str(), AnalyzerName(b.analyzer));
  *s += StrFormat("%s.ngram_min=%d\n%s.ngram_max=%d\n", key.c_str(), b.ngram_min, key.c_str(),
                  b.ngram_max);
  *s += StrFormat("%s.min_df=%lld\n%s.max_df_ratio=%.17g\n%s.max_features=%lld\n", key.c_str(),
                  static_cast<long long>(b.min_df), key.c_str(), b.max_df_ratio, key.c_str(),
                  static_cast<long long>(b.max_features));
  *s += StrFormat("%s.binary=%d\n%s.sublinear_tf=%d\n%s.smooth_idf=%d\n%s.add_one_idf=%d\n",
                  key.c_str(), b.binary, key.c_str(), b.sublinear_tf, key.c_str(), b.smooth_idf,
                  key.c_str(), b.add_one_idf);
  *s += StrFormat("%s.position_decay=%.17g\n", key.c_str(), b.position_decay);
}

void PutKMeans(const std::string& key, const IndexerOptions& k, std::string* s) {
  *s += StrFormat("%s.nr_splits=%d\n%s.max_leaf_size=%d\n%s.kmeans_max_iter=%d\n%s.spherical=%d\n",
                  key.c_str(), k.nr_splits, key.c_str(), k.max_leaf_size, key.c_str(),
                  k.kmeans_max_iter, key.c_str(), k.spherical);
}

// Calls fn(line) for every '\n'-separated line of text (a last line without '\n' included).
template <typename Fn>
void ForEachLine(const std::string& text, Fn&& fn) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    fn(text.substr(start, nl - start));
    start = nl + 1;
  }
}

// Key-value lines -> map; throws kCorruption on a line without '='.
std::map<std::string, std::string> ParseLines(const std::string& text, const std::string& what) {
  std::map<std::string, std::string> kv;
  ForEachLine(text, [&](const std::string& line) {
    if (line.empty()) return;
    const std::size_t eq = line.find('=');
    XMR_EXPECTS(eq != std::string::npos, ErrorCode::kCorruption,
                what + ": option line without '=': " + line.substr(0, 60));
    kv[line.substr(0, eq)] = line.substr(eq + 1);
  });
  return kv;
}

class OptionReader {
 public:
  OptionReader(std::map<std::string, std::string> kv, std::string what)
      : kv_(std::move(kv)), what_(std::move(what)) {}
  const std::string* Find(const std::string& key) const {
    const auto it = kv_.find(key);
    return it == kv_.end() ? nullptr : &it->second;
  }
  const std::string& Need(const std::string& key) const {
    const std::string* v = Find(key);
    XMR_EXPECTS(v != nullptr, ErrorCode::kCorruption, what_ + ": missing option " + key);
    return *v;
  }
  template <typename T>
  void Num(const std::string& key, T* out) const {
    const std::string* v = Find(key);
    if (v == nullptr) return;
    char* end = nullptr;
    const double d = std::strtod(v->c_str(), &end);
    XMR_EXPECTS(!v->empty() && end == v->c_str() + v->size() && std::isfinite(d),
                ErrorCode::kCorruption, what_ + ": bad value of " + key + ": " + *v);
    // Converting an out-of-range double is undefined behaviour: check the range first.
    XMR_EXPECTS(d >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
                    d <= static_cast<double>(std::numeric_limits<T>::max()),
                ErrorCode::kCorruption, what_ + ": value of " + key + " out of range: " + *v);
    *out = static_cast<T>(d);
  }
  void Bool(const std::string& key, bool* out) const {
    int v = *out;
    Num(key, &v);
    *out = v != 0;
  }
  void Base(const std::string& key, BaseVectorizerOptions* b) const {
    if (const std::string* a = Find(key + ".analyzer")) {
      try {
        b->analyzer = ParseAnalyzer(*a);
      } catch (const Error& e) {
        throw Error(ErrorCode::kCorruption, what_ + ": " + e.message());
      }
    }
    Num(key + ".ngram_min", &b->ngram_min);
    Num(key + ".ngram_max", &b->ngram_max);
    Num(key + ".min_df", &b->min_df);
    Num(key + ".max_df_ratio", &b->max_df_ratio);
    Num(key + ".max_features", &b->max_features);
    Bool(key + ".binary", &b->binary);
    Bool(key + ".sublinear_tf", &b->sublinear_tf);
    Bool(key + ".smooth_idf", &b->smooth_idf);
    Bool(key + ".add_one_idf", &b->add_one_idf);
    Num(key + ".position_decay", &b->position_decay);
  }
  void KMeans(const std::string& key, IndexerOptions* k) const {
    Num(key + ".nr_splits", &k->nr_splits);
    Num(key + ".max_leaf_size", &k->max_leaf_size);
    Num(key + ".kmeans_max_iter", &k->kmeans_max_iter);
    Bool(key + ".spherical", &k->spherical);
  }

 private:
  std::map<std::string, std::string> kv_;
  std::string what_;
};

// ----- popularity prior ------------------------------------------------------------------------

constexpr char kFreqFormatLine[] = "xmr-qac-label-freq 1";

bool AdditivePostProcessor(const std::string& name) {
  const PostProcessor::Kind k = PostProcessor::Parse(name).kind;
  return k == PostProcessor::Kind::kNoop || k == PostProcessor::Kind::kLogSigmoid ||
         k == PostProcessor::Kind::kLogHinge;
}

// prior_log[l] = beta * log(1 + freq[l]) and prior_mult[l] = its exp; both empty when beta is 0
// or there are no frequencies (the prior is off).
void BuildPrior(const std::vector<std::int64_t>& freq, float beta, std::vector<double>* prior_log,
                std::vector<double>* prior_mult) {
  prior_log->clear();
  prior_mult->clear();
  if (!(beta > 0) || freq.empty()) return;
  prior_log->resize(freq.size());
  prior_mult->resize(freq.size());
  for (std::size_t l = 0; l < freq.size(); ++l) {
    (*prior_log)[l] = static_cast<double>(beta) * std::log1p(static_cast<double>(freq[l]));
    (*prior_mult)[l] = std::exp((*prior_log)[l]);
  }
}

// Re-scores the search result *c with the prior and keeps the best top_k (score desc, then
// frequency desc, then id asc: a total order, so the result does not depend on the input order).
void Rerank(const std::vector<double>& prior_log, const std::vector<double>& prior_mult,
            const std::vector<std::int64_t>& freq, bool additive, int top_k,
            std::vector<ScoredLabel>* c) {
  for (ScoredLabel& x : *c) {
    x.score = additive ? static_cast<float>(static_cast<double>(x.score) + prior_log[x.label])
                       : static_cast<float>(static_cast<double>(x.score) * prior_mult[x.label]);
  }
  std::sort(c->begin(), c->end(), [&](const ScoredLabel& a, const ScoredLabel& b) {
    if (a.score != b.score) return a.score > b.score;
    if (freq[a.label] != freq[b.label]) return freq[a.label] > freq[b.label];
    return a.label < b.label;
  });
  if (c->size() > static_cast<std::size_t>(top_k)) c->resize(top_k);
}

std::string SerializeFreq(const std::vector<std::int64_t>& freq) {
  std::string out = std::string(kFreqFormatLine) + "\n";
  for (std::int64_t f : freq) out += StrFormat("%lld\n", static_cast<long long>(f));
  return out;
}

std::vector<std::int64_t> ParseFreq(const std::string& blob, std::size_t n,
                                    const std::string& what) {
  const std::string head = std::string(kFreqFormatLine) + "\n";
  XMR_EXPECTS(
      blob.compare(0, head.size(), head) == 0, ErrorCode::kCorruption,
      what + ": " + kQacLabelFreqAttachment + " does not start with '" + kFreqFormatLine + "'");
  std::vector<std::int64_t> freq;
  freq.reserve(n);
  std::size_t start = head.size();
  while (start < blob.size()) {
    const std::size_t nl = blob.find('\n', start);
    XMR_EXPECTS(nl != std::string::npos && nl > start, ErrorCode::kCorruption,
                what + ": damaged label frequencies");
    const std::string v = blob.substr(start, nl - start);
    char* end = nullptr;
    const long long f = std::strtoll(v.c_str(), &end, 10);
    XMR_EXPECTS(end == v.c_str() + v.size() && f >= 0, ErrorCode::kCorruption,
                what + ": bad label frequency '" + v.substr(0, 30) + "'");
    freq.push_back(f);
    start = nl + 1;
  }
  XMR_EXPECTS(freq.size() == n, ErrorCode::kCorruption,
              StrFormat("%s: %zu label frequencies for %zu labels", what.c_str(), freq.size(), n));
  return freq;
}

// ----- label strings ----------------------------------------------------------------------------

void CheckLabels(const std::vector<std::string>& labels, ErrorCode code, const std::string& what) {
  XMR_EXPECTS(!labels.empty(), code, what + ": no labels");
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    XMR_EXPECTS(!l.empty(), code, StrFormat("%s: label %zu is empty", what.c_str(), i));
    XMR_EXPECTS(l.find_first_of("\t\r\n") == std::string::npos, code,
                StrFormat("%s: label %zu contains a tab, CR or newline", what.c_str(), i));
    XMR_EXPECTS(i == 0 || labels[i - 1] < l, code,
                StrFormat("%s: labels %zu and %zu are not strictly increasing bytewise ('%s', "
                          "'%s')",
                          what.c_str(), i - 1, i, labels[i - 1].substr(0, 60).c_str(),
                          l.substr(0, 60).c_str()));
  }
}

std::string JoinLabels(const std::vector<std::string>& labels) {
  std::string s;
  for (const std::string& l : labels) {
    s += l;
    s += '\n';
  }
  return s;
}

std::vector<std::string> SplitLabels(const std::string& blob, const std::string& what) {
  std::vector<std::string> labels;
  std::size_t start = 0;
  while (start < blob.size()) {
    const std::size_t nl = blob.find('\n', start);
    XMR_EXPECTS(nl != std::string::npos, ErrorCode::kCorruption,
                what + ": the last label is not terminated");
    labels.emplace_back(blob, start, nl - start);
    start = nl + 1;
  }
  return labels;
}

// Scales the prev block (the first n_prev entries) by w and the whole row to unit norm.
void Combine(std::size_t n_prev, float w, std::vector<float>* values) {
  double norm2 = 0;
  for (std::size_t i = 0; i < values->size(); ++i) {
    if (i < n_prev) (*values)[i] *= w;
    norm2 += static_cast<double>((*values)[i]) * (*values)[i];
  }
  if (norm2 <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm2));
  for (float& v : *values) v *= inv;
}

}  // namespace

// ----- options ----------------------------------------------------------------------------------

QacIndexerKind ParseQacIndexerKind(const std::string& name) {
  const std::string n = Lower(name);
  if (n == "kmeans" || n == "k_means") return QacIndexerKind::kKMeans;
  if (n == "trie") return QacIndexerKind::kTrie;
  if (n == "hybrid") return QacIndexerKind::kHybrid;
  Bad("unknown QAC indexer '" + name + "' (valid: kmeans, trie, hybrid)");
}

const char* QacIndexerKindName(QacIndexerKind kind) noexcept {
  switch (kind) {
    case QacIndexerKind::kKMeans:
      return "kmeans";
    case QacIndexerKind::kTrie:
      return "trie";
    case QacIndexerKind::kHybrid:
      return "hybrid";
  }
  return "?";
}

QacLabelEmbedding ParseQacLabelEmbedding(const std::string& name) {
  const std::string n = Lower(name);
  if (n == "text") return QacLabelEmbedding::kText;
  if (n == "pifa") return QacLabelEmbedding::kPifa;
  if (n == "pifa_text") return QacLabelEmbedding::kPifaText;
  Bad("unknown QAC label embedding '" + name + "' (valid: text, pifa, pifa_text)");
}

const char* QacLabelEmbeddingName(QacLabelEmbedding kind) noexcept {
  switch (kind) {
    case QacLabelEmbedding::kText:
      return "text";
    case QacLabelEmbedding::kPifa:
      return "pifa";
    case QacLabelEmbedding::kPifaText:
      return "pifa_text";
  }
  return "?";
}

BaseVectorizerOptions QacModelOptions::DefaultPrevVectorizer() {
  BaseVectorizerOptions b;
  b.analyzer = Analyzer::kWord;
  b.ngram_min = b.ngram_max = 1;
  return b;
}

BaseVectorizerOptions QacModelOptions::DefaultPrefixVectorizer() {
  BaseVectorizerOptions b;
  b.analyzer = Analyzer::kChar;
  b.ngram_min = 1;
  b.ngram_max = 3;
  return b;
}

BaseVectorizerOptions QacModelOptions::DefaultLabelVectorizer() {
  BaseVectorizerOptions b;
  b.analyzer = Analyzer::kCharWb;
  b.ngram_min = 1;
  b.ngram_max = 3;
  b.position_decay = 1.0;
  return b;
}

void QacModelOptions::Validate() const {
  auto base = [](const BaseVectorizerOptions& b, const char* field) {
    try {
      b.Validate();
    } catch (const Error& e) {
      throw Error(e.code(), std::string("QacModelOptions.") + field + ": " + e.message());
    }
  };
  base(prev_vectorizer, "prev_vectorizer");
  base(prefix_vectorizer, "prefix_vectorizer");
  base(label_vectorizer, "label_vectorizer");
  XMR_EXPECTS(std::isfinite(prev_weight) && prev_weight >= 0, ErrorCode::kInvalidArgument,
              StrFormat("QacModelOptions.prev_weight must be finite and >= 0, but is %g",
                        static_cast<double>(prev_weight)));
  XMR_EXPECTS(QacIndexerKindName(indexer)[0] != '?', ErrorCode::kInvalidArgument,
              "QacModelOptions.indexer is out of range");
  XMR_EXPECTS(QacLabelEmbeddingName(label_embedding)[0] != '?', ErrorCode::kInvalidArgument,
              "QacModelOptions.label_embedding is out of range");
  XMR_EXPECTS(std::isfinite(prior_beta) && prior_beta >= 0, ErrorCode::kInvalidArgument,
              "QacModelOptions.prior_beta must be finite and >= 0");
  XMR_EXPECTS(prior_candidates >= 1, ErrorCode::kInvalidArgument,
              "QacModelOptions.prior_candidates must be >= 1");
  kmeans.Validate();
  trie.Validate();
  hybrid.Validate();
  train.Validate();
}

std::string QacModelOptions::ToString() const {
  std::string s;
  PutBase("prev_vectorizer", prev_vectorizer, &s);
  PutBase("prefix_vectorizer", prefix_vectorizer, &s);
  s += StrFormat("prev_weight=%.9g\n", static_cast<double>(prev_weight));
  PutBase("label_vectorizer", label_vectorizer, &s);
  s += StrFormat("label_embedding=%s\n", QacLabelEmbeddingName(label_embedding));
  s += StrFormat("indexer=%s\n", QacIndexerKindName(indexer));
  s += StrFormat("prior_beta=%.9g\nprior_candidates=%d\n", static_cast<double>(prior_beta),
                 prior_candidates);
  PutKMeans("kmeans", kmeans, &s);
  s += StrFormat("trie.depth=%d\n", trie.depth);
  s += StrFormat("hybrid.trie_depth=%d\n", hybrid.trie_depth);
  PutKMeans("hybrid.kmeans", hybrid.kmeans, &s);
  const std::string t = train.ToString();
  std::size_t start = 0;
  while (start < t.size()) {
    std::size_t nl = t.find('\n', start);
    if (nl == std::string::npos) nl = t.size();
    if (nl > start) s += "train." + t.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  return s;
}

// ----- model ------------------------------------------------------------------------------------

QacModel::QacModel() = default;

const XLinearModel& QacModel::model() const { return state_->model; }
const QacModelOptions& QacModel::options() const { return state_->opts; }
const std::vector<std::string>& QacModel::labels() const { return state_->labels; }
const TextVectorizer& QacModel::prev_vectorizer() const { return *state_->prev; }
const TextVectorizer& QacModel::prefix_vectorizer() const { return *state_->prefix; }
const std::vector<std::int64_t>& QacModel::label_freq() const { return state_->freq; }

QacModel QacModel::WithPrior(float prior_beta, int prior_candidates) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "QacModel::WithPrior: the model is empty");
  QacModelOptions o = state_->opts;
  o.prior_beta = prior_beta;
  o.prior_candidates = prior_candidates;
  XMR_EXPECTS(std::isfinite(prior_beta) && prior_beta >= 0 && prior_candidates >= 1,
              ErrorCode::kInvalidArgument,
              "QacModel::WithPrior: prior_beta must be finite and >= 0, prior_candidates >= 1");
  XMR_EXPECTS(prior_beta == 0 || !state_->freq.empty(), ErrorCode::kInvalidArgument,
              "QacModel::WithPrior: the model has no label frequencies (an old model file)");
  auto s = std::make_shared<State>(*state_);
  s->opts = o;
  // Keep the stored options in step (Save writes the attachment, Load reads the prior back).
  const std::string* head = s->model.Attachment(kQacAttachment);
  std::string kept;
  ForEachLine(head == nullptr ? std::string() : *head, [&](const std::string& line) {
    if (line.rfind("prior_beta=", 0) == 0 || line.rfind("prior_candidates=", 0) == 0) return;
    kept += line + "\n";
  });
  kept += StrFormat("prior_beta=%.9g\nprior_candidates=%d\n", static_cast<double>(prior_beta),
                    prior_candidates);
  s->model = s->model.WithAttachment(kQacAttachment, kept);
  BuildPrior(s->freq, prior_beta, &s->prior_log, &s->prior_mult);
  QacModel m;
  m.state_ = std::move(s);
  return m;
}

LabelRange QacModel::CompletionRange(std::string_view prefix) const {
  return PrefixRange(state_->labels, prefix);
}

void QacModel::Featurize(std::string_view prev, std::string_view prefix,
                         std::vector<Index>* indices, std::vector<float>* values) const {
  const State& s = *state_;
  indices->clear();
  values->clear();
  if (s.opts.prev_weight > 0) s.prev->TransformOne(prev, indices, values);
  const std::size_t n_prev = indices->size();
  s.prefix->TransformOne(prefix, indices, values);
  for (std::size_t i = n_prev; i < indices->size(); ++i) (*indices)[i] += s.d_prev;
  Combine(n_prev, s.opts.prev_weight, values);
}

CsrMatrix QacModel::Featurize(const QacSplit& split, const Context& ctx) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "QacModel::Featurize: the model is empty");
  const std::int64_t n = split.size();
  constexpr std::int64_t kBlock = 2048;
  const std::int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<CsrMatrix> parts(blocks);
  ParallelFor(blocks, ctx.NumThreads(), [&](std::int64_t b, int) {
    CsrMatrix& p = parts[b];
    std::vector<Index> idx;
    std::vector<float> val;
    const std::int64_t end = std::min(n, (b + 1) * kBlock);
    for (std::int64_t i = b * kBlock; i < end; ++i) {
      Featurize(split.prev(i), split.prefix(i), &idx, &val);
      p.indices.insert(p.indices.end(), idx.begin(), idx.end());
      p.data.insert(p.data.end(), val.begin(), val.end());
      p.indptr.push_back(static_cast<Offset>(p.indices.size()));
    }
  });
  CsrMatrix x;
  x.rows = static_cast<Index>(n);
  x.cols = state_->d_prev + state_->prefix->n_features();
  Offset nnz = 0;
  for (const CsrMatrix& p : parts) nnz += static_cast<Offset>(p.indices.size());
  x.indptr.reserve(n + 1);
  x.indices.reserve(nnz);
  x.data.reserve(nnz);
  for (const CsrMatrix& p : parts) {
    const Offset base = static_cast<Offset>(x.indices.size());
    for (std::size_t r = 1; r < p.indptr.size(); ++r) x.indptr.push_back(base + p.indptr[r]);
    x.indices.insert(x.indices.end(), p.indices.begin(), p.indices.end());
    x.data.insert(x.data.end(), p.data.begin(), p.data.end());
  }
  return x;
}

QacModel QacModel::Train(const QacDataset& data, const QacModelOptions& opts, const Context& ctx,
                         QacTrainReport* report) {
  return Train(data.labels, data.label_freq, data.train, opts, ctx, report);
}

QacModel QacModel::Train(const std::vector<std::string>& labels, const QacSplit& train,
                         const QacModelOptions& opts, const Context& ctx, QacTrainReport* report) {
  std::vector<std::int64_t> freq(labels.size(), 0);
  for (const QacPair& p : train.pairs) {
    if (p.label >= 0 && static_cast<std::size_t>(p.label) < freq.size()) ++freq[p.label];
  }
  return Train(labels, freq, train, opts, ctx, report);
}

QacModel QacModel::Train(const std::vector<std::string>& labels,
                         const std::vector<std::int64_t>& label_freq, const QacSplit& train,
                         const QacModelOptions& opts, const Context& ctx, QacTrainReport* report) {
  opts.Validate();
  XMR_EXPECTS(label_freq.size() == labels.size(), ErrorCode::kInvalidArgument,
              StrFormat("QacModel::Train: %zu label frequencies for %zu labels", label_freq.size(),
                        labels.size()));
  for (std::int64_t f : label_freq) {
    XMR_EXPECTS(f >= 0, ErrorCode::kInvalidArgument,
                "QacModel::Train: a label frequency is negative");
  }
  CheckLabels(labels, ErrorCode::kInvalidArgument, "QacModel::Train");
  const std::int64_t n = train.size();
  XMR_EXPECTS(n > 0, ErrorCode::kInvalidArgument, "QacModel::Train: the train split is empty");
  XMR_EXPECTS(n < (std::int64_t{1} << 31), ErrorCode::kInvalidArgument,
              "QacModel::Train: more than 2^31 - 1 examples");
  const Index n_labels = static_cast<Index>(labels.size());
  for (std::int64_t i = 0; i < n; ++i) {
    const Index l = train.label(i);
    XMR_EXPECTS(l >= 0 && l < n_labels, ErrorCode::kInvalidArgument,
                StrFormat("QacModel::Train: example %lld has label %d, outside [0, %d)",
                          static_cast<long long>(i), l, n_labels));
  }
  QacTrainReport rep;
  Timer total;

  // Featurisation: both vectorizers fitted on the train split.
  Timer timer;
  std::vector<std::string> prevs;
  prevs.reserve(train.pairs.size());
  for (const QacPair& p : train.pairs) prevs.push_back(p.prev);
  std::vector<std::string> prefixes;
  prefixes.reserve(n);
  for (std::int64_t i = 0; i < n; ++i) prefixes.emplace_back(train.prefix(i));
  auto state = std::make_shared<State>();
  state->opts = opts;
  state->labels = labels;
  state->prev = std::make_shared<TextVectorizer>(
      TextVectorizer::Fit(prevs, OneBase(opts.prev_vectorizer), ctx));
  state->prefix = std::make_shared<TextVectorizer>(
      TextVectorizer::Fit(prefixes, OneBase(opts.prefix_vectorizer), ctx));
  std::vector<std::string>().swap(prevs);
  std::vector<std::string>().swap(prefixes);
  state->d_prev = state->prev->n_features();
  XMR_EXPECTS(static_cast<std::int64_t>(state->d_prev) + state->prefix->n_features() <
                  (std::int64_t{1} << 31) - 1,
              ErrorCode::kInvalidArgument, "QacModel::Train: too many features");
  const Index d = state->d_prev + state->prefix->n_features();
  // A model view of the state for Featurize (which needs only the vectorizers).
  QacModel tmp;
  tmp.state_ = state;
  const CsrMatrix x = tmp.Featurize(train, ctx);
  CsrMatrix y;
  y.rows = static_cast<Index>(n);
  y.cols = n_labels;
  y.indptr.resize(n + 1);
  y.indices.resize(n);
  y.data.assign(n, 1.0f);
  for (std::int64_t i = 0; i < n; ++i) {
    y.indptr[i + 1] = i + 1;
    y.indices[i] = train.label(i);
  }
  rep.featurize_seconds = timer.Seconds();
  Log(ctx, StrFormat("qac: featurised %lld examples: %d + %d features, %.1f nonzeros per row, "
                     "%.2fs",
                     static_cast<long long>(n), state->d_prev, state->prefix->n_features(),
                     static_cast<double>(x.nnz()) / static_cast<double>(n), rep.featurize_seconds));

  // Label tree.
  timer.Reset();
  ClusterChain chain;
  if (opts.indexer == QacIndexerKind::kTrie) {
    chain = TrieIndexer(labels, opts.trie);
  } else {
    CsrMatrix emb;
    CsrMatrix z;
    if (opts.label_embedding != QacLabelEmbedding::kPifa) {
      const TextVectorizer lv = TextVectorizer::Fit(labels, OneBase(opts.label_vectorizer), ctx);
      z = lv.Transform(labels, ctx);
    }
    if (opts.label_embedding == QacLabelEmbedding::kText) {
      emb = std::move(z);
    } else if (opts.label_embedding == QacLabelEmbedding::kPifa) {
      emb = PifaEmbedding(x.view(), y.view(), ctx);
    } else {
      LabelEmbeddingOptions le;
      le.kind = LabelEmbeddingKind::kPifaLfConcat;
      const CsrView zv = z.view();
      emb = LabelEmbedding(x.view(), y.view(), &zv, le, ctx);
    }
    chain = opts.indexer == QacIndexerKind::kKMeans
                ? HierarchicalKMeans(emb.view(), opts.kmeans, ctx)
                : HybridIndexer(labels, emb.view(), opts.hybrid, ctx);
  }
  rep.index_seconds = timer.Seconds();
  Log(ctx, StrFormat("qac: %s indexer: %d levels, %.2fs", QacIndexerKindName(opts.indexer),
                     chain.depth(), rep.index_seconds));

  timer.Reset();
  XLinearModel model = TrainWithTree(x.view(), y.view(), chain, opts.train, ctx, &rep.train);
  rep.train_seconds = timer.Seconds();

  model = model.WithAttachment(kQacAttachment, std::string(kFormatLine) + "\n" + opts.ToString());
  model = model.WithAttachment(kQacPrevVectorizerAttachment, state->prev->Serialize());
  model = model.WithAttachment(kQacPrefixVectorizerAttachment, state->prefix->Serialize());
  model = model.WithAttachment(kLabelNamesAttachment, JoinLabels(labels));
  model = model.WithAttachment(kQacLabelFreqAttachment, SerializeFreq(label_freq));
  state->freq = label_freq;
  state->default_additive = AdditivePostProcessor(model.meta().post_processor);
  BuildPrior(state->freq, opts.prior_beta, &state->prior_log, &state->prior_mult);
  state->model = std::move(model);
  QacModel m;
  m.state_ = std::move(state);
  rep.n_examples = n;
  rep.n_labels = n_labels;
  rep.n_features = d;
  rep.tree_depth = chain.depth();
  rep.total_seconds = total.Seconds();
  if (report != nullptr) *report = std::move(rep);
  return m;
}

QacModel QacModel::Load(const std::string& path, LoadMode mode) {
  XLinearModel model = LoadModel(path, mode);
  const std::string* head = model.Attachment(kQacAttachment);
  XMR_EXPECTS(head != nullptr, ErrorCode::kInvalidArgument,
              path + ": not a QAC model (it has no '" + kQacAttachment +
                  "' attachment); train one with QacModel::Train");
  const std::string format(kFormatLine);
  XMR_EXPECTS(head->compare(0, format.size() + 1, format + "\n") == 0, ErrorCode::kCorruption,
              path + ": QAC attachment does not start with '" + format + "'");
  auto state = std::make_shared<State>();
  const OptionReader r(ParseLines(head->substr(format.size() + 1), path), path);
  QacModelOptions& o = state->opts;
  try {
    o.indexer = ParseQacIndexerKind(r.Need("indexer"));
    o.label_embedding = ParseQacLabelEmbedding(r.Need("label_embedding"));
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kCorruption) throw;
    throw Error(ErrorCode::kCorruption, path + ": " + e.message());
  }
  r.Num("prev_weight", &o.prev_weight);
  o.prior_beta = 0;  // files written before the prior existed
  r.Num("prior_beta", &o.prior_beta);
  r.Num("prior_candidates", &o.prior_candidates);
  XMR_EXPECTS(std::isfinite(o.prior_beta) && o.prior_beta >= 0 && o.prior_candidates >= 1,
              ErrorCode::kCorruption, path + ": bad prior_beta or prior_candidates");
  XMR_EXPECTS(
      r.Find("prev_weight") != nullptr && std::isfinite(o.prev_weight) && o.prev_weight >= 0,
      ErrorCode::kCorruption, path + ": missing or bad prev_weight");
  r.Base("label_vectorizer", &o.label_vectorizer);
  r.KMeans("kmeans", &o.kmeans);
  r.Num("trie.depth", &o.trie.depth);
  r.Num("hybrid.trie_depth", &o.hybrid.trie_depth);
  r.KMeans("hybrid.kmeans", &o.hybrid.kmeans);
  const ModelMeta& meta = model.meta();
  o.train.bias = meta.bias;
  o.train.post_processor = meta.post_processor;
  o.train.beam_size = meta.beam_size;
  o.train.top_k = meta.top_k;

  auto vectorizer = [&](const char* name) {
    const std::string* blob = model.Attachment(name);
    XMR_EXPECTS(blob != nullptr, ErrorCode::kCorruption,
                path + ": QAC model without its '" + name + "' attachment");
    try {
      return std::make_shared<const TextVectorizer>(TextVectorizer::Deserialize(*blob));
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kCorruption) throw;
      throw Error(ErrorCode::kCorruption, path + ": " + name + ": " + e.message());
    }
  };
  state->prev = vectorizer(kQacPrevVectorizerAttachment);
  state->prefix = vectorizer(kQacPrefixVectorizerAttachment);
  XMR_EXPECTS(
      state->prev->options().bases.size() == 1 && state->prefix->options().bases.size() == 1,
      ErrorCode::kCorruption, path + ": QAC vectorizers must have one base each");
  o.prev_vectorizer = state->prev->options().bases[0];
  o.prefix_vectorizer = state->prefix->options().bases[0];
  state->d_prev = state->prev->n_features();
  XMR_EXPECTS(
      static_cast<std::int64_t>(state->d_prev) + state->prefix->n_features() == model.n_features(),
      ErrorCode::kCorruption,
      StrFormat("%s: the vectorizers have %d + %d features but the model %d", path.c_str(),
                state->d_prev, state->prefix->n_features(), model.n_features()));
  const std::string* names = model.Attachment(kLabelNamesAttachment);
  XMR_EXPECTS(names != nullptr, ErrorCode::kCorruption, path + ": QAC model without labels");
  state->labels = SplitLabels(*names, path);
  XMR_EXPECTS(state->labels.size() == static_cast<std::size_t>(model.n_labels()),
              ErrorCode::kCorruption,
              StrFormat("%s: %zu label strings for %d labels", path.c_str(), state->labels.size(),
                        model.n_labels()));
  CheckLabels(state->labels, ErrorCode::kCorruption, path);
  if (const std::string* freq = model.Attachment(kQacLabelFreqAttachment)) {
    state->freq = ParseFreq(*freq, state->labels.size(), path);
  }
  XMR_EXPECTS(o.prior_beta == 0 || !state->freq.empty(), ErrorCode::kCorruption,
              path + ": prior_beta > 0 but no '" + kQacLabelFreqAttachment + "' attachment");
  state->default_additive = AdditivePostProcessor(model.meta().post_processor);
  BuildPrior(state->freq, o.prior_beta, &state->prior_log, &state->prior_mult);
  state->model = std::move(model);
  QacModel m;
  m.state_ = std::move(state);
  return m;
}

void QacModel::Save(const std::string& path) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "QacModel::Save: the model is empty");
  SaveModel(state_->model, path);
}

std::vector<std::vector<Index>> QacModel::CompleteAll(
    const QacSplit& split, const PredictOptions& opts, const Context& ctx,
    std::vector<std::vector<float>>* scores) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "QacModel::CompleteAll: the model is empty");
  opts.Validate();
  const std::int64_t n = split.size();
  std::vector<std::vector<Index>> out(n);
  if (scores != nullptr) scores->assign(n, {});
  if (n == 0) return out;
  const CsrMatrix x = Featurize(split, ctx);
  std::vector<LabelRange> ranges(n);
  for (std::int64_t i = 0; i < n; ++i) ranges[i] = CompletionRange(split.prefix(i));
  const State& s = *state_;
  const bool prior = !s.prior_log.empty();
  PredictOptions wide = opts;
  if (prior) wide.top_k = std::max(opts.top_k, s.opts.prior_candidates);
  const CsrMatrix p = xmr::Predict(s.model, x.view(), wide, ranges, ctx);
  if (!prior) {
    for (std::int64_t i = 0; i < n; ++i) {
      out[i].assign(p.indices.begin() + p.indptr[i], p.indices.begin() + p.indptr[i + 1]);
      if (scores != nullptr) {
        (*scores)[i].assign(p.data.begin() + p.indptr[i], p.data.begin() + p.indptr[i + 1]);
      }
    }
    return out;
  }
  const bool additive =
      opts.post_processor.empty() ? s.default_additive : AdditivePostProcessor(opts.post_processor);
  ParallelFor(
      n, ctx.NumThreads(),
      [&](std::int64_t i, int) {
        std::vector<ScoredLabel> c;
        c.reserve(p.indptr[i + 1] - p.indptr[i]);
        for (Offset j = p.indptr[i]; j < p.indptr[i + 1]; ++j)
          c.push_back({p.indices[j], p.data[j]});
        Rerank(s.prior_log, s.prior_mult, s.freq, additive, opts.top_k, &c);
        out[i].resize(c.size());
        for (std::size_t r = 0; r < c.size(); ++r) out[i][r] = c[r].label;
        if (scores != nullptr) {
          (*scores)[i].resize(c.size());
          for (std::size_t r = 0; r < c.size(); ++r) (*scores)[i][r] = c[r].score;
        }
      },
      /*grain=*/256);
  return out;
}

// ----- searcher ---------------------------------------------------------------------------------

namespace {
const XLinearModel& NonEmptyModel(const QacModel& m) {
  XMR_EXPECTS(!m.empty(), ErrorCode::kInvalidArgument, "QacSearcher: the model is empty");
  return m.model();
}
}  // namespace

QacSearcher::QacSearcher(const QacModel& model)
    : model_(model),
      searcher_(NonEmptyModel(model)),
      default_opts_(DefaultPredictOptions(model.model())) {}

void QacSearcher::Complete(std::string_view prev, std::string_view prefix,
                           const PredictOptions& opts, std::vector<ScoredLabel>* out) {
  model_.Featurize(prev, prefix, &indices_, &values_);
  SparseVecView q;
  q.nnz = static_cast<Index>(indices_.size());
  q.indices = indices_.data();
  q.data = values_.data();
  const QacModel::State& s = *model_.state_;
  if (s.prior_log.empty()) {
    searcher_.Search(q, opts, model_.CompletionRange(prefix), out);
    return;
  }
  opts.Validate();
  wide_opts_.beam_size = opts.beam_size;
  wide_opts_.top_k = std::max(opts.top_k, s.opts.prior_candidates);
  wide_opts_.post_processor = opts.post_processor;
  searcher_.Search(q, wide_opts_, model_.CompletionRange(prefix), out);
  const bool additive =
      opts.post_processor.empty() ? s.default_additive : AdditivePostProcessor(opts.post_processor);
  Rerank(s.prior_log, s.prior_mult, s.freq, additive, opts.top_k, out);
}

void QacSearcher::Complete(std::string_view prev, std::string_view prefix, int k,
                           std::vector<ScoredLabel>* out) {
  if (k <= 0) {
    out->clear();
    return;
  }
  default_opts_.top_k = k;
  Complete(prev, prefix, default_opts_, out);
}

std::vector<ScoredLabel> QacSearcher::Complete(std::string_view prev, std::string_view prefix,
                                               int k) {
  std::vector<ScoredLabel> out;
  Complete(prev, prefix, k, &out);
  return out;
}

}  // namespace xmr
