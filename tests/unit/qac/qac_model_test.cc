#include "xmr/qac_model.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/qac_log.h"
#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/qac.h"
#include "xmr/text_model.h"
#include "xmr/train.h"

namespace xmr {
namespace {

using testing_util::ExpectError;
using testing_util::Quiet;
using testing_util::TempDir;

bool PathExists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

std::string TrecPath() {
  return std::string(XMR_SOURCE_DIR) + "/../shared/data/trec-session-2013/sessions.tsv";
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

QacDataset SyntheticData() {
  QacDataOptions o;
  o.pair_rule = PairRule::kDistinct;
  o.skip_header = false;
  o.train_fraction = 0.8;
  return BuildQacDataset(testing_util::SyntheticQacLog(400, 7), o);
}

QacModelOptions SmallOptions(QacIndexerKind kind) {
  QacModelOptions o;
  o.indexer = kind;
  o.kmeans.nr_splits = 2;
  o.kmeans.max_leaf_size = 4;
  o.trie.depth = 2;
  o.hybrid.trie_depth = 1;
  o.hybrid.kmeans = o.kmeans;
  return o;
}

const QacIndexerKind kKinds[] = {QacIndexerKind::kKMeans, QacIndexerKind::kTrie,
                                 QacIndexerKind::kHybrid};

// Every completion of every example extends the example's prefix; returns the number checked.
std::int64_t ExpectPrefixConstraint(const QacModel& m, const QacSplit& split,
                                    const std::vector<std::vector<Index>>& ranked) {
  std::int64_t checked = 0;
  for (std::int64_t i = 0; i < split.size(); ++i) {
    for (Index id : ranked[i]) {
      EXPECT_GE(id, 0);
      EXPECT_TRUE(StartsWith(m.label(id), split.prefix(i)))
          << "example " << i << ": '" << m.label(id) << "' does not extend '" << split.prefix(i)
          << "'";
      ++checked;
    }
  }
  return checked;
}

// QacSearcher returns the batch answers (ids and scores) for every example.
void ExpectSearcherMatchesBatch(const QacModel& m, const QacSplit& split,
                                const PredictOptions& opts) {
  std::vector<std::vector<float>> scores;
  const auto batch = m.CompleteAll(split, opts, Quiet(2), &scores);
  QacSearcher s(m);
  std::vector<ScoredLabel> out;
  for (std::int64_t i = 0; i < split.size(); ++i) {
    s.Complete(split.prev(i), split.prefix(i), opts, &out);
    ASSERT_EQ(out.size(), batch[i].size()) << "example " << i;
    for (std::size_t r = 0; r < out.size(); ++r) {
      EXPECT_EQ(out[r].label, batch[i][r]) << "example " << i << " rank " << r;
      EXPECT_EQ(out[r].score, scores[i][r]) << "example " << i << " rank " << r;
    }
  }
}

TEST(QacModel, NamesRoundTrip) {
  for (QacIndexerKind k : kKinds) EXPECT_EQ(ParseQacIndexerKind(QacIndexerKindName(k)), k);
  EXPECT_EQ(ParseQacIndexerKind("K-Means"), QacIndexerKind::kKMeans);
  for (QacLabelEmbedding e :
       {QacLabelEmbedding::kText, QacLabelEmbedding::kPifa, QacLabelEmbedding::kPifaText}) {
    EXPECT_EQ(ParseQacLabelEmbedding(QacLabelEmbeddingName(e)), e);
  }
  ExpectError([] { ParseQacIndexerKind("tree"); }, ErrorCode::kInvalidArgument, {"tree", "hybrid"});
  ExpectError([] { ParseQacLabelEmbedding("x"); }, ErrorCode::kInvalidArgument, {"pifa_text"});
}

TEST(QacModel, SyntheticEveryIndexer) {
  const QacDataset d = SyntheticData();
  ASSERT_GT(d.test.size(), 100);
  const MostPopularCompleter mpc(d);
  const QacMetrics base = EvaluateQac(d.test, mpc.CompleteAll(d.test, 10), d.labels);
  for (QacIndexerKind kind : kKinds) {
    SCOPED_TRACE(QacIndexerKindName(kind));
    QacTrainReport rep;
    const QacModel m = QacModel::Train(d, SmallOptions(kind), Quiet(2), &rep);
    EXPECT_EQ(rep.n_examples, d.train.size());
    EXPECT_EQ(rep.n_labels, d.n_labels());
    EXPECT_EQ(rep.n_features, m.model().n_features());
    EXPECT_GE(rep.tree_depth, 2);
    EXPECT_EQ(m.n_labels(), d.n_labels());
    PredictOptions po = DefaultPredictOptions(m.model());
    const auto ranked = m.CompleteAll(d.test, po, Quiet(2));
    EXPECT_GT(ExpectPrefixConstraint(m, d.test, ranked), d.test.size());
    const QacMetrics q = EvaluateQac(d.test, ranked, d.labels);
    // The previous query decides the follow-up: the model must beat popularity clearly.
    EXPECT_GT(q.averaged.mrr, base.averaged.mrr + 0.1) << q.Table();
    ExpectSearcherMatchesBatch(m, d.test, po);
  }
}

TEST(QacModel, TrecSessionsEveryIndexerAndEmbedding) {
  const std::string path = TrecPath();
  if (!PathExists(path)) GTEST_SKIP() << path << " not available";
  QacDataOptions o;
  o.pair_rule = PairRule::kDistinct;
  o.label_source = LabelSource::kTrainAll;
  o.keep_unknown_test = true;  // every test example is checked, known or not
  o.max_prefix_len = 0;        // every prefix length
  const QacDataset d = BuildQacDatasetFromPairs(ReadTrecSessionPairs(path), o);
  ASSERT_GT(d.n_labels(), 50);
  ASSERT_GT(d.test.size(), 200);
  for (QacIndexerKind kind : kKinds) {
    for (QacLabelEmbedding emb :
         {QacLabelEmbedding::kText, QacLabelEmbedding::kPifa, QacLabelEmbedding::kPifaText}) {
      if (kind == QacIndexerKind::kTrie && emb != QacLabelEmbedding::kText) continue;
      SCOPED_TRACE(std::string(QacIndexerKindName(kind)) + "/" + QacLabelEmbeddingName(emb));
      QacModelOptions mo = SmallOptions(kind);
      mo.label_embedding = emb;
      const QacModel m = QacModel::Train(d, mo, Quiet(2));
      PredictOptions po = DefaultPredictOptions(m.model());
      po.top_k = 20;
      const auto ranked = m.CompleteAll(d.test, po, Quiet(2));
      ExpectPrefixConstraint(m, d.test, ranked);
      // Prefixes with at least one completion get at least one answer from the trie.
      if (kind == QacIndexerKind::kTrie) {
        for (std::int64_t i = 0; i < d.test.size(); ++i) {
          if (!m.CompletionRange(d.test.prefix(i)).empty()) {
            EXPECT_FALSE(ranked[i].empty()) << d.test.prefix(i);
          }
        }
      }
      ExpectSearcherMatchesBatch(m, d.test, po);
    }
  }
}

TEST(QacModel, SaveLoadRoundTrip) {
  const QacDataset d = SyntheticData();
  TempDir dir;
  for (QacIndexerKind kind : kKinds) {
    SCOPED_TRACE(QacIndexerKindName(kind));
    QacModelOptions mo = SmallOptions(kind);
    mo.prev_weight = 0.75f;
    mo.train.beam_size = 7;
    const QacModel m = QacModel::Train(d, mo, Quiet(2));
    const std::string file = dir.File(std::string(QacIndexerKindName(kind)) + ".xmr");
    m.Save(file);
    for (LoadMode mode : {LoadMode::kRead, LoadMode::kMmap}) {
      const QacModel l = QacModel::Load(file, mode);
      EXPECT_EQ(l.labels(), m.labels());
      EXPECT_EQ(l.options().indexer, kind);
      EXPECT_EQ(l.options().prev_weight, 0.75f);
      EXPECT_EQ(l.options().train.beam_size, 7);
      EXPECT_EQ(l.options().hybrid.trie_depth, mo.hybrid.trie_depth);
      EXPECT_EQ(l.options().label_vectorizer.position_decay, 1.0);
      EXPECT_EQ(l.prev_vectorizer().Serialize(), m.prev_vectorizer().Serialize());
      EXPECT_EQ(l.prefix_vectorizer().Serialize(), m.prefix_vectorizer().Serialize());
      const PredictOptions po = DefaultPredictOptions(l.model());
      EXPECT_EQ(po.beam_size, 7);
      std::vector<std::vector<float>> s1, s2;
      EXPECT_EQ(l.CompleteAll(d.test, po, Quiet(1), &s1), m.CompleteAll(d.test, po, Quiet(2), &s2));
      EXPECT_EQ(s1, s2);
      QacSearcher a(m), b(l);
      for (std::int64_t i = 0; i < d.test.size(); i += 7) {
        const auto ra = a.Complete(d.test.prev(i), d.test.prefix(i), 10);
        const auto rb = b.Complete(d.test.prev(i), d.test.prefix(i), 10);
        ASSERT_EQ(ra.size(), rb.size());
        for (std::size_t r = 0; r < ra.size(); ++r) {
          EXPECT_EQ(ra[r].label, rb[r].label);
          EXPECT_EQ(ra[r].score, rb[r].score);
        }
      }
    }
  }
}

TEST(QacModel, Featurize) {
  const QacDataset d = SyntheticData();
  QacModelOptions mo = SmallOptions(QacIndexerKind::kTrie);
  const QacModel m = QacModel::Train(d, mo, Quiet(1));
  const Index d_prev = m.prev_vectorizer().n_features();
  EXPECT_EQ(m.model().n_features(), d_prev + m.prefix_vectorizer().n_features());
  std::vector<Index> idx;
  std::vector<float> val;
  m.Featurize("apple", "pi", &idx, &val);
  ASSERT_FALSE(idx.empty());
  double norm2 = 0, prev2 = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(idx[i - 1], idx[i]);
    }
    norm2 += val[i] * val[i];
    if (idx[i] < d_prev) prev2 += val[i] * val[i];
  }
  EXPECT_NEAR(norm2, 1.0, 1e-5);
  EXPECT_NEAR(prev2, 0.5, 1e-5);  // both blocks weigh the same by default
  // Unknown words and an invalid UTF-8 byte never throw; an unknown previous query leaves only
  // the prefix block.
  m.Featurize("zzzz \xff", "p", &idx, &val);
  for (Index i : idx) EXPECT_GE(i, d_prev);
  // The batch rows are the single rows.
  const CsrMatrix x = m.Featurize(d.test, Quiet(2));
  ASSERT_EQ(x.rows, d.test.size());
  for (std::int64_t i = 0; i < d.test.size(); i += 11) {
    m.Featurize(d.test.prev(i), d.test.prefix(i), &idx, &val);
    const SparseVecView r = x.view().row(static_cast<Index>(i));
    ASSERT_EQ(static_cast<std::size_t>(r.nnz), idx.size());
    for (Index k = 0; k < r.nnz; ++k) {
      EXPECT_EQ(r.indices[k], idx[k]);
      EXPECT_EQ(r.data[k], val[k]);
    }
  }
  // prev_weight 0: a context-free model, features of the prefix only.
  mo.prev_weight = 0;
  const QacModel m0 = QacModel::Train(d, mo, Quiet(1));
  m0.Featurize("apple", "pi", &idx, &val);
  for (Index i : idx) EXPECT_GE(i, m0.prev_vectorizer().n_features());
  // No completion for an unknown prefix; none for k <= 0.
  QacSearcher s(m);
  EXPECT_TRUE(s.Complete("apple", "zzz", 10).empty());
  EXPECT_TRUE(s.Complete("apple", "p", 0).empty());
  EXPECT_LE(s.Complete("apple", "p", 3).size(), 3u);
}

TEST(QacModel, Errors) {
  const QacDataset d = SyntheticData();
  const Context ctx = Quiet(1);
  QacModelOptions bad;
  bad.prev_weight = -1;
  ExpectError([&] { QacModel::Train(d, bad, ctx); }, ErrorCode::kInvalidArgument, {"prev_weight"});
  bad = QacModelOptions{};
  bad.prefix_vectorizer.ngram_max = 0;
  ExpectError([&] { QacModel::Train(d, bad, ctx); }, ErrorCode::kInvalidArgument,
              {"prefix_vectorizer"});
  std::vector<std::string> unsorted = d.labels;
  std::swap(unsorted[0], unsorted[1]);
  ExpectError([&] { QacModel::Train(unsorted, d.train, {}, ctx); }, ErrorCode::kInvalidArgument,
              {"strictly increasing"});
  QacSplit broken = d.train;
  broken.examples[3].label = d.n_labels();
  ExpectError([&] { QacModel::Train(d.labels, broken, {}, ctx); }, ErrorCode::kInvalidArgument,
              {"example 3"});
  ExpectError([&] { QacModel::Train(d.labels, QacSplit{}, {}, ctx); }, ErrorCode::kInvalidArgument,
              {"empty"});
  ExpectError([&] { QacModel().Save("/tmp/never.xmr"); }, ErrorCode::kInvalidArgument, {"empty"});
  ExpectError([&] { QacSearcher s{QacModel()}; }, ErrorCode::kInvalidArgument, {"empty"});

  TempDir dir;
  // A plain XR-Linear model file is not a QAC model.
  const XLinearModel plain =
      Train(testing_util::RandomCsr(40, 8, 0.5, 1).view(),
            testing_util::RandomBinaryCsr(40, 5, 0.3, 2).view(), TrainOptions{}, ctx);
  SaveModel(plain, dir.File("plain.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("plain.xmr")); }, ErrorCode::kInvalidArgument,
              {"not a QAC model"});
  ExpectError([&] { QacModel::Load(dir.File("missing.xmr")); }, ErrorCode::kIoError, {});
  // Damaged QAC attachments are corruption.
  const QacModel m = QacModel::Train(d, SmallOptions(QacIndexerKind::kTrie), ctx);
  SaveModel(m.model().WithAttachment(kQacAttachment, "xmr-qac 99\n"), dir.File("v99.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("v99.xmr")); }, ErrorCode::kCorruption, {"xmr-qac"});
  SaveModel(m.model().WithAttachment(kLabelNamesAttachment, "a\n"), dir.File("l.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("l.xmr")); }, ErrorCode::kCorruption, {"label"});
  SaveModel(m.model().WithAttachment(kQacPrefixVectorizerAttachment, "junk"), dir.File("v.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("v.xmr")); }, ErrorCode::kCorruption, {});
  // Bad predict options.
  PredictOptions po;
  po.beam_size = 0;
  ExpectError([&] { m.CompleteAll(d.test, po, ctx); }, ErrorCode::kInvalidArgument, {});
}

// ----- popularity prior -------------------------------------------------------------------------

QacModelOptions PriorOptions(QacIndexerKind kind, float beta) {
  QacModelOptions o = SmallOptions(kind);
  o.prior_beta = beta;
  o.prior_candidates = 20;
  o.train.top_k = 5;
  return o;
}

// The completions without any prior: the restricted beam search itself (the pre-prior code path).
std::vector<std::vector<ScoredLabel>> RawSearch(const QacModel& m, const QacSplit& split,
                                                const PredictOptions& opts) {
  const CsrMatrix x = m.Featurize(split, Quiet(1));
  std::vector<LabelRange> ranges;
  for (std::int64_t i = 0; i < split.size(); ++i)
    ranges.push_back(m.CompletionRange(split.prefix(i)));
  const CsrMatrix p = Predict(m.model(), x.view(), opts, ranges, Quiet(1));
  std::vector<std::vector<ScoredLabel>> out(split.size());
  for (std::int64_t i = 0; i < split.size(); ++i) {
    for (Offset j = p.indptr[i]; j < p.indptr[i + 1]; ++j)
      out[i].push_back({p.indices[j], p.data[j]});
  }
  return out;
}

TEST(QacModelPrior, BetaZeroIsThePlainSearch) {
  const QacDataset d = SyntheticData();
  for (QacIndexerKind kind : kKinds) {
    SCOPED_TRACE(QacIndexerKindName(kind));
    const QacModel m = QacModel::Train(d, PriorOptions(kind, 0), Quiet(2));
    EXPECT_EQ(m.options().prior_beta, 0.0f);
    EXPECT_EQ(m.label_freq(), d.label_freq);
    const PredictOptions po = DefaultPredictOptions(m.model());
    const auto raw = RawSearch(m, d.test, po);
    std::vector<std::vector<float>> scores;
    const auto got = m.CompleteAll(d.test, po, Quiet(2), &scores);
    for (std::int64_t i = 0; i < d.test.size(); ++i) {
      ASSERT_EQ(got[i].size(), raw[i].size());
      for (std::size_t r = 0; r < raw[i].size(); ++r) {
        EXPECT_EQ(got[i][r], raw[i][r].label);
        EXPECT_EQ(scores[i][r], raw[i][r].score);
      }
    }
    // Switching the prior on and off again gives the same answers.
    const QacModel back = m.WithPrior(0.7f, 20).WithPrior(0, 20);
    EXPECT_EQ(back.CompleteAll(d.test, po, Quiet(1)), got);
  }
}

TEST(QacModelPrior, RerankSearcherMatchesBatchAndConstraintHolds) {
  const QacDataset d = SyntheticData();
  for (QacIndexerKind kind : kKinds) {
    SCOPED_TRACE(QacIndexerKindName(kind));
    const QacModel m = QacModel::Train(d, PriorOptions(kind, 0.8f), Quiet(2));
    ASSERT_EQ(m.options().prior_beta, 0.8f);
    const PredictOptions po = DefaultPredictOptions(m.model());
    ASSERT_EQ(po.top_k, 5);
    std::vector<std::vector<float>> scores;
    const auto got = m.CompleteAll(d.test, po, Quiet(2), &scores);
    EXPECT_GT(ExpectPrefixConstraint(m, d.test, got), 0);
    ExpectSearcherMatchesBatch(m, d.test, po);
    // The answer is the best top_k of the 20 raw candidates by score * (1 + f)^beta (hinge
    // post-processor: multiplicative).
    PredictOptions wide = po;
    wide.top_k = 20;
    const auto raw = RawSearch(m, d.test, wide);
    for (std::int64_t i = 0; i < d.test.size(); ++i) {
      std::vector<ScoredLabel> c = raw[i];
      for (ScoredLabel& x : c) {
        x.score = static_cast<float>(
            static_cast<double>(x.score) *
            std::exp(0.8 * std::log1p(static_cast<double>(d.label_freq[x.label]))));
      }
      std::sort(c.begin(), c.end(), [&](const ScoredLabel& a, const ScoredLabel& b) {
        if (a.score != b.score) return a.score > b.score;
        if (d.label_freq[a.label] != d.label_freq[b.label]) {
          return d.label_freq[a.label] > d.label_freq[b.label];
        }
        return a.label < b.label;
      });
      if (c.size() > 5) c.resize(5);
      ASSERT_EQ(got[i].size(), c.size()) << "example " << i;
      for (std::size_t r = 0; r < c.size(); ++r) {
        EXPECT_EQ(got[i][r], c[r].label) << "example " << i << " rank " << r;
        EXPECT_FLOAT_EQ(scores[i][r], c[r].score);
      }
    }
    // Other options and a single searcher reused across k.
    PredictOptions po2 = po;
    po2.top_k = 2;
    po2.beam_size = 3;
    ExpectSearcherMatchesBatch(m, d.test, po2);
    po2.post_processor = "log-sigmoid";  // additive post-processor
    ExpectSearcherMatchesBatch(m, d.test, po2);
    EXPECT_GT(ExpectPrefixConstraint(m, d.test, m.CompleteAll(d.test, po2, Quiet(1))), 0);
  }
}

TEST(QacModelPrior, SaveLoadKeepsFrequenciesAndBeta) {
  const QacDataset d = SyntheticData();
  TempDir dir;
  const QacModel m = QacModel::Train(d, PriorOptions(QacIndexerKind::kHybrid, 0.6f), Quiet(2))
                         .WithPrior(1.25f, 17);
  const std::string file = dir.File("prior.xmr");
  m.Save(file);
  for (LoadMode mode : {LoadMode::kRead, LoadMode::kMmap}) {
    const QacModel l = QacModel::Load(file, mode);
    EXPECT_EQ(l.label_freq(), d.label_freq);
    EXPECT_EQ(l.options().prior_beta, 1.25f);
    EXPECT_EQ(l.options().prior_candidates, 17);
    const PredictOptions po = DefaultPredictOptions(l.model());
    std::vector<std::vector<float>> s1, s2;
    EXPECT_EQ(l.CompleteAll(d.test, po, Quiet(1), &s1), m.CompleteAll(d.test, po, Quiet(2), &s2));
    EXPECT_EQ(s1, s2);
  }
  // Frequencies counted from the pairs when only labels and a split are given.
  const QacModel c =
      QacModel::Train(d.labels, d.train, PriorOptions(QacIndexerKind::kTrie, 1), Quiet(1));
  std::vector<std::int64_t> counts(d.labels.size(), 0);
  for (const QacPair& p : d.train.pairs) ++counts[p.label];
  EXPECT_EQ(c.label_freq(), counts);
}

TEST(QacModelPrior, OldFormatModelLoadsWithoutPrior) {
  const QacDataset d = SyntheticData();
  TempDir dir;
  const QacModel m = QacModel::Train(d, PriorOptions(QacIndexerKind::kHybrid, 0.9f), Quiet(2));
  // A file as written before the prior existed: no frequencies, no prior_* option lines.
  const XLinearModel& xm = m.model();
  std::vector<CscMatrix> w;
  for (int t = 0; t < xm.depth(); ++t) w.push_back(xm.Weights(t));
  std::string head;
  const std::string& cur = *xm.Attachment(kQacAttachment);
  std::size_t start = 0;
  while (start < cur.size()) {
    std::size_t nl = cur.find('\n', start);
    if (nl == std::string::npos) nl = cur.size();
    const std::string line = cur.substr(start, nl - start);
    start = nl + 1;
    if (line.rfind("prior_", 0) != 0) head += line + "\n";
  }
  ASSERT_EQ(head.find("prior"), std::string::npos);
  XLinearModel old = XLinearModel::FromWeights(xm.chain(), w, xm.meta());
  for (const char* name :
       {kQacPrevVectorizerAttachment, kQacPrefixVectorizerAttachment, kLabelNamesAttachment}) {
    old = old.WithAttachment(name, *xm.Attachment(name));
  }
  SaveModel(old.WithAttachment(kQacAttachment, head), dir.File("old.xmr"));
  const QacModel l = QacModel::Load(dir.File("old.xmr"));
  EXPECT_EQ(l.options().prior_beta, 0.0f);
  EXPECT_TRUE(l.label_freq().empty());
  const PredictOptions po = DefaultPredictOptions(l.model());
  EXPECT_EQ(l.CompleteAll(d.test, po, Quiet(1)),
            m.WithPrior(0, 20).CompleteAll(d.test, po, Quiet(1)));
  ExpectSearcherMatchesBatch(l, d.test, po);
  ExpectError([&] { l.WithPrior(0.5f, 20); }, ErrorCode::kInvalidArgument, {"frequencies"});
  // prior_beta > 0 without frequencies, or damaged frequencies, are corruption.
  SaveModel(old.WithAttachment(kQacAttachment, head + "prior_beta=1\n"), dir.File("nofreq.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("nofreq.xmr")); }, ErrorCode::kCorruption,
              {"prior_beta"});
  SaveModel(m.model().WithAttachment(kQacLabelFreqAttachment, "xmr-qac-label-freq 1\n3\n"),
            dir.File("short.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("short.xmr")); }, ErrorCode::kCorruption,
              {"frequencies"});
  SaveModel(m.model().WithAttachment(kQacLabelFreqAttachment, "junk"), dir.File("junk.xmr"));
  ExpectError([&] { QacModel::Load(dir.File("junk.xmr")); }, ErrorCode::kCorruption, {});
}

// Found by fuzz_model: a numeric option beyond its type's range (kmeans.max_leaf_size=9e9) was
// converted with static_cast, undefined behaviour; it is now corruption naming the option.
TEST(QacModel, OptionValueOutOfRangeIsCorruption) {
  const QacDataset d = SyntheticData();
  TempDir dir;
  const QacModel m = QacModel::Train(d, PriorOptions(QacIndexerKind::kHybrid, 0.9f), Quiet(2));
  const std::string& opts = *m.model().Attachment(kQacAttachment);
  for (const char* line : {"kmeans.max_leaf_size=9e9\n", "prior_candidates=-3e10\n"}) {
    SaveModel(m.model().WithAttachment(kQacAttachment, opts + line), dir.File("range.xmr"));
    ExpectError([&] { QacModel::Load(dir.File("range.xmr")); }, ErrorCode::kCorruption,
                {"out of range"});
  }
}

TEST(QacModelPrior, Errors) {
  const QacDataset d = SyntheticData();
  const Context ctx = Quiet(1);
  QacModelOptions bad = SmallOptions(QacIndexerKind::kTrie);
  bad.prior_beta = -0.5f;
  ExpectError([&] { QacModel::Train(d, bad, ctx); }, ErrorCode::kInvalidArgument, {"prior_beta"});
  bad.prior_beta = 0.5f;
  bad.prior_candidates = 0;
  ExpectError([&] { QacModel::Train(d, bad, ctx); }, ErrorCode::kInvalidArgument,
              {"prior_candidates"});
  const std::vector<std::int64_t> short_freq(d.labels.size() - 1, 1);
  ExpectError([&] { QacModel::Train(d.labels, short_freq, d.train, {}, ctx); },
              ErrorCode::kInvalidArgument, {"frequencies"});
  const QacModel m = QacModel::Train(d, SmallOptions(QacIndexerKind::kTrie), ctx);
  ExpectError([&] { m.WithPrior(-1, 10); }, ErrorCode::kInvalidArgument, {"prior_beta"});
  ExpectError([&] { QacModel().WithPrior(0, 10); }, ErrorCode::kInvalidArgument, {"empty"});
}

}  // namespace
}  // namespace xmr
