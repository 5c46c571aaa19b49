// Tests of text models: training from raw text on a synthetic topic corpus (accuracy), batch
// prediction vs. single-query search vs. Predict on the featurised text, save / load (plain
// LoadModel included), label names (WithLabelNames, LabelNames), label-feature training and the
// errors of every entry point, damaged attachments included.
#include "xmr/text_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/predict.h"

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::KeepOneIn;
using testing_util::Quiet;
using testing_util::RandomModel;
using testing_util::TempDir;

using Names = std::vector<std::string>;

// ----- a synthetic corpus: 8 topics, each with its own words ------------------------------------

const std::vector<Names>& TopicWords() {
  static const std::vector<Names> words = {
      {"guitar", "drums", "melody", "chord", "concert", "band", "singer", "album", "rhythm",
       "tempo"},
      {"football", "goal", "referee", "league", "striker", "match", "stadium", "coach", "penalty",
       "tackle"},
      {"compiler", "pointer", "kernel", "thread", "mutex", "syntax", "linker", "debugger",
       "bytecode", "template"},
      {"recipe", "oven", "butter", "flour", "simmer", "garlic", "sauce", "bake", "spoon", "pepper"},
      {"planet", "orbit", "comet", "telescope", "galaxy", "nebula", "asteroid", "rocket", "lunar",
       "cosmos"},
      {"vaccine", "doctor", "patient", "fever", "clinic", "surgery", "nurse", "dose", "symptom",
       "therapy"},
      {"election", "senate", "ballot", "policy", "minister", "vote", "campaign", "parliament",
       "law", "party"},
      {"glacier", "summit", "hiking", "trail", "canyon", "valley", "ridge", "camping", "boots",
       "compass"},
  };
  return words;
}
const Names& NoiseWords() {
  static const Names words = {"the", "a",    "of",   "and",  "today",
                              "new", "very", "with", "some", "about"};
  return words;
}
constexpr Index kTopics = 8;

const Names& TopicNames() {
  static const Names names = {"music", "sport",    "programming", "cooking",
                              "space", "médecine", "politics",    "outdoor life"};
  return names;
}

struct Corpus {
  Names texts;
  CsrMatrix y;
  std::vector<Index> main_topic;  // the topic most of the row's words come from
};

// n texts: 5 words of a random topic, 2 noise words, and with probability `mixed` 3 words of a
// second topic (which is then a label too), shuffled.
Corpus MakeCorpus(int n, unsigned seed, double mixed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<Index> topic(0, kTopics - 1);
  std::uniform_int_distribution<int> word(0, 9);
  std::bernoulli_distribution second(mixed);
  Corpus c;
  c.y.rows = n;
  c.y.cols = kTopics;
  for (int i = 0; i < n; ++i) {
    const Index t = topic(rng);
    Names words;
    for (int k = 0; k < 5; ++k) words.push_back(TopicWords()[t][word(rng)]);
    for (int k = 0; k < 2; ++k) words.push_back(NoiseWords()[word(rng)]);
    std::vector<Index> labels{t};
    if (second(rng)) {
      const Index u = (t + 1 + topic(rng) % (kTopics - 1)) % kTopics;
      for (int k = 0; k < 3; ++k) words.push_back(TopicWords()[u][word(rng)]);
      labels = {std::min(t, u), std::max(t, u)};
    }
    std::shuffle(words.begin(), words.end(), rng);
    std::string text;
    for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
    c.texts.push_back(text);
    c.main_topic.push_back(t);
    for (Index l : labels) {
      c.y.indices.push_back(l);
      c.y.data.push_back(1.0f);
    }
    c.y.indptr.push_back(static_cast<Offset>(c.y.indices.size()));
  }
  return c;
}

TextTrainOptions SmallTreeOptions() {
  TextTrainOptions opts;
  // 8 labels in leaves of 2 under a binary tree: a model of depth > 1.
  opts.train.indexer.max_leaf_size = 2;
  opts.train.indexer.nr_splits = 2;
  return opts;
}

// Fraction of rows whose best label is the row's main topic.
double PrecisionAt1(const CsrMatrix& pred, const std::vector<Index>& truth) {
  int hits = 0;
  for (Index i = 0; i < pred.rows; ++i) {
    if (pred.indptr[i + 1] > pred.indptr[i] && pred.indices[pred.indptr[i]] == truth[i]) ++hits;
  }
  return pred.rows == 0 ? 0.0 : static_cast<double>(hits) / pred.rows;
}

// Expects model.Predict, TextSearcher::Search and xmr::Predict on model.Featurize to agree
// exactly on `texts`, and returns the batch prediction.
CsrMatrix ExpectConsistentPredictions(const TextModel& model, const Names& texts,
                                      const PredictOptions& popts) {
  const Context ctx = Quiet(2);
  const CsrMatrix batch = model.Predict(texts, popts, ctx);
  const CsrMatrix x = model.Featurize(texts, ctx);
  EXPECT_EQ(x.rows, static_cast<Index>(texts.size()));
  EXPECT_EQ(x.cols, model.model().n_features());
  ExpectCsrEq(batch, xmr::Predict(model.model(), x.view(), popts, ctx));
  TextSearcher searcher(model);
  std::vector<ScoredLabel> one;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    searcher.Search(texts[i], popts, &one);
    const Offset b = batch.indptr[i];
    EXPECT_EQ(static_cast<Offset>(one.size()), batch.indptr[i + 1] - b) << "row " << i;
    if (static_cast<Offset>(one.size()) != batch.indptr[i + 1] - b) continue;
    for (std::size_t k = 0; k < one.size(); ++k) {
      EXPECT_EQ(one[k].label, batch.indices[b + k]) << "row " << i << " rank " << k;
      EXPECT_EQ(one[k].score, batch.data[b + k]) << "row " << i << " rank " << k;
    }
  }
  return batch;
}

// A model trained once for the tests that only read it.
const TextModel& Trained() {
  static const TextModel model = [] {
    const Corpus c = MakeCorpus(200, /*seed=*/1, /*mixed=*/0.2);
    return TextModel::Train(c.texts, c.y.view(), SmallTreeOptions(), Quiet(2, 7), nullptr,
                            TopicNames());
  }();
  return model;
}

// ----- training and prediction --------------------------------------------------------------

TEST(TextModel, LearnsTopicsFromText) {
  const Corpus train = MakeCorpus(200, /*seed=*/1, /*mixed=*/0.2);
  TrainReport report;
  const TextModel m = TextModel::Train(train.texts, train.y.view(), SmallTreeOptions(), Quiet(2, 7),
                                       &report, TopicNames());
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.model().n_labels(), kTopics);
  EXPECT_GE(m.model().depth(), 2);
  EXPECT_EQ(report.levels.size(), static_cast<std::size_t>(m.model().depth()));
  EXPECT_EQ(m.model().n_features(), m.vectorizer().n_features());
  EXPECT_EQ(m.label_names(), TopicNames());

  const Corpus test = MakeCorpus(100, /*seed=*/2, /*mixed=*/0.0);
  PredictOptions popts;
  popts.top_k = 3;
  const CsrMatrix pred = ExpectConsistentPredictions(m, test.texts, popts);
  EXPECT_EQ(pred.rows, 100);
  EXPECT_EQ(pred.cols, kTopics);
  // A model that ignored the text would be right about 1 time in 8.
  EXPECT_GE(PrecisionAt1(pred, test.main_topic), 0.9);
  // The training rows, mixed ones included.
  EXPECT_GE(PrecisionAt1(m.Predict(train.texts, popts, Quiet(2)), train.main_topic), 0.9);

  TextSearcher s(m);
  const std::vector<ScoredLabel> r = s.Search("the telescope saw a comet near the galaxy", popts);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(m.label_name(r[0].label), "space");
  const std::vector<ScoredLabel> r2 = s.Search("GARLIC Butter sauce, simmer", popts);
  ASSERT_FALSE(r2.empty());
  EXPECT_EQ(m.label_name(r2[0].label), "cooking");
}

TEST(TextModel, TrainingIsDeterministic) {
  const Corpus c = MakeCorpus(200, /*seed=*/1, /*mixed=*/0.2);
  const TextModel a = TextModel::Train(c.texts, c.y.view(), SmallTreeOptions(), Quiet(1, 7));
  const Corpus test = MakeCorpus(50, /*seed=*/3, /*mixed=*/0.1);
  ExpectCsrEq(a.Predict(test.texts, {}, Quiet(1)), Trained().Predict(test.texts, {}, Quiet(2)));
}

TEST(TextModel, SearchHandlesEmptyAndUnknownText) {
  const TextModel& m = Trained();
  TextSearcher s(m);
  PredictOptions popts;
  popts.top_k = 2;
  const Names odd = {"", "   ", "zzzz qqqq", "guitar", "\tguitar\n"};
  ExpectConsistentPredictions(m, odd, popts);
  // Invalid UTF-8 is an argument error (default vectorizer options).
  ExpectError([&] { s.Search("bad \xFF byte", popts); }, ErrorCode::kInvalidArgument, {});
  PredictOptions bad;
  bad.top_k = 0;
  ExpectError([&] { s.Search("guitar", bad); }, ErrorCode::kInvalidArgument, {});
}

// ----- save / load ----------------------------------------------------------------------------

TEST(TextModel, SaveLoadRoundTripGivesIdenticalPredictions) {
  const TextModel& m = Trained();
  TempDir dir;
  const std::string path = dir.File("text.xmr");
  m.Save(path);
  const Corpus test = MakeCorpus(60, /*seed=*/4, /*mixed=*/0.3);
  PredictOptions popts;
  popts.top_k = 4;
  popts.beam_size = 2;
  const CsrMatrix want = m.Predict(test.texts, popts, Quiet(2));
  for (LoadMode mode : {LoadMode::kRead, LoadMode::kMmap}) {
    const TextModel back = TextModel::Load(path, mode);
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(back.label_names(), TopicNames());
    EXPECT_EQ(back.label_name(5), "médecine");
    EXPECT_EQ(back.vectorizer().Serialize(), m.vectorizer().Serialize());
    ExpectCsrEq(back.Featurize(test.texts), m.Featurize(test.texts));
    ExpectCsrEq(ExpectConsistentPredictions(back, test.texts, popts), want);
  }
  // Saving a loaded model again keeps everything.
  const TextModel back = TextModel::Load(path);
  back.Save(dir.File("again.xmr"));
  const TextModel again = TextModel::Load(dir.File("again.xmr"));
  EXPECT_EQ(again.label_names(), TopicNames());
  ExpectCsrEq(again.Predict(test.texts, popts), want);
}

TEST(TextModel, PlainLoadModelReadsATextModel) {
  const TextModel& m = Trained();
  TempDir dir;
  m.Save(dir.File("text.xmr"));
  const XLinearModel plain = LoadModel(dir.File("text.xmr"));
  const std::string* vec = plain.Attachment(kVectorizerAttachment);
  ASSERT_NE(vec, nullptr);
  EXPECT_EQ(*vec, m.vectorizer().Serialize());
  ASSERT_NE(plain.Attachment("xmr.vectorizer"), nullptr);
  EXPECT_NE(plain.Attachment("xmr.label_names"), nullptr);
  EXPECT_EQ(plain.AttachmentNames(), (Names{"xmr.label_names", "xmr.vectorizer"}));
  EXPECT_EQ(LabelNames(plain), TopicNames());
  const Corpus test = MakeCorpus(40, /*seed=*/5, /*mixed=*/0.0);
  const CsrMatrix x = m.Featurize(test.texts);
  ExpectCsrEq(xmr::Predict(plain, x.view(), {}), m.Predict(test.texts, {}));
}

TEST(TextModel, LoadOfAModelWithoutVectorizerIsAnArgumentError) {
  TempDir dir;
  const XLinearModel plain = RandomModel(3, {2, 6}, 20, KeepOneIn(2, true));
  SaveModel(plain, dir.File("plain.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("plain.xmr")); }, ErrorCode::kInvalidArgument,
              {"plain.xmr", "not trained from text", "vectorizer"});
  // Label names alone do not make a text model.
  SaveModel(WithLabelNames(plain, {"a", "b", "c", "d", "e", "f"}), dir.File("named.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("named.xmr")); }, ErrorCode::kInvalidArgument,
              {"named.xmr", "vectorizer"});
  ExpectError([&] { TextModel::Load(dir.File("missing.xmr")); }, ErrorCode::kIoError, {});
}

// ----- label names ----------------------------------------------------------------------------

TEST(LabelNames, EmptyForAModelWithoutNames) {
  const XLinearModel plain = RandomModel(3, {2, 6}, 20, KeepOneIn(2, true));
  EXPECT_TRUE(LabelNames(plain).empty());
  const Corpus c = MakeCorpus(100, /*seed=*/6, /*mixed=*/0.0);
  const TextModel m = TextModel::Train(c.texts, c.y.view(), {}, Quiet(2));
  EXPECT_TRUE(m.label_names().empty());
  EXPECT_TRUE(LabelNames(m.model()).empty());
  EXPECT_EQ(m.model().Attachment(kLabelNamesAttachment), nullptr);
  EXPECT_EQ(m.label_name(3), "3");
  EXPECT_EQ(m.label_name(-1), "-1");
  TempDir dir;
  m.Save(dir.File("m.xmr"));
  const TextModel back = TextModel::Load(dir.File("m.xmr"));
  EXPECT_TRUE(back.label_names().empty());
  EXPECT_EQ(back.label_name(7), "7");
}

TEST(LabelNames, WithLabelNamesStoresAndReplacesNames) {
  const XLinearModel plain = RandomModel(3, {2, 3}, 10, KeepOneIn(2, true));
  const Names names{"alpha beta", "γάμμα", "x,y"};
  const XLinearModel named = WithLabelNames(plain, names);
  EXPECT_EQ(LabelNames(named), names);
  EXPECT_TRUE(LabelNames(plain).empty());  // the original is unchanged
  const XLinearModel renamed = WithLabelNames(named, {"1", "2", "3"});
  EXPECT_EQ(LabelNames(renamed), (Names{"1", "2", "3"}));
  TempDir dir;
  SaveModel(named, dir.File("n.xmr"));
  EXPECT_EQ(LabelNames(LoadModel(dir.File("n.xmr"))), names);
  EXPECT_EQ(LabelNames(LoadModel(dir.File("n.xmr"), LoadMode::kMmap)), names);
}

TEST(LabelNames, WithLabelNamesRejectsBadNames) {
  const XLinearModel plain = RandomModel(3, {2, 3}, 10, KeepOneIn(2, true));
  ExpectError(
      [&] {
        WithLabelNames(plain, {"a", "b"});
      },
      ErrorCode::kInvalidArgument, {"2 label names for 3 labels"});
  ExpectError(
      [&] {
        WithLabelNames(plain, {"a", "b", "c", "d"});
      },
      ErrorCode::kInvalidArgument, {"4", "3 labels"});
  ExpectError([&] { WithLabelNames(plain, {}); }, ErrorCode::kInvalidArgument, {"0", "3 labels"});
  ExpectError(
      [&] {
        WithLabelNames(plain, {"a", "", "c"});
      },
      ErrorCode::kInvalidArgument, {"label 1", "empty"});
  ExpectError(
      [&] {
        WithLabelNames(plain, {"a", "b", "c\td"});
      },
      ErrorCode::kInvalidArgument, {"label 2", "tab"});
  ExpectError(
      [&] {
        WithLabelNames(plain, {"a\nb", "b", "c"});
      },
      ErrorCode::kInvalidArgument, {"label 0", "newline"});
  ExpectError(
      [&] {
        WithLabelNames(plain, {"a", "b\r", "c"});
      },
      ErrorCode::kInvalidArgument, {"label 1"});
  ExpectError([&] { WithLabelNames(XLinearModel(), {"a"}); }, ErrorCode::kInvalidArgument,
              {"empty"});
}

TEST(LabelNames, DamagedAttachmentIsCorruption) {
  const TextModel& m = Trained();
  TempDir dir;
  // One name short.
  const XLinearModel short_names =
      m.model().WithAttachment(kLabelNamesAttachment, "a\nb\nc\nd\ne\nf\ng\n");
  ExpectError([&] { LabelNames(short_names); }, ErrorCode::kCorruption, {"7", "8 labels"});
  SaveModel(short_names, dir.File("short.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("short.xmr")); }, ErrorCode::kCorruption,
              {"short.xmr", "label names"});
  // The plain loader does not look at the names.
  EXPECT_NO_THROW(LoadModel(dir.File("short.xmr")));
  // Unterminated last name, and an empty name.
  SaveModel(m.model().WithAttachment(kLabelNamesAttachment, "a\nb\nc\nd\ne\nf\ng\nh"),
            dir.File("unterminated.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("unterminated.xmr")); }, ErrorCode::kCorruption,
              {"unterminated.xmr", "label names"});
  SaveModel(m.model().WithAttachment(kLabelNamesAttachment, "a\nb\n\nd\ne\nf\ng\nh\n"),
            dir.File("empty_name.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("empty_name.xmr")); }, ErrorCode::kCorruption,
              {"empty_name.xmr", "empty name"});
  // A damaged vectorizer, and one that does not fit the model.
  SaveModel(m.model().WithAttachment(kVectorizerAttachment, "not a vectorizer"),
            dir.File("badvec.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("badvec.xmr")); }, ErrorCode::kCorruption,
              {"badvec.xmr", "vectorizer"});
  const TextVectorizer other = TextVectorizer::Fit({"one two", "three"}, {});
  ASSERT_NE(other.n_features(), m.model().n_features());
  SaveModel(m.model().WithAttachment(kVectorizerAttachment, other.Serialize()),
            dir.File("othervec.xmr"));
  ExpectError([&] { TextModel::Load(dir.File("othervec.xmr")); }, ErrorCode::kCorruption,
              {"othervec.xmr", "features"});
}

// ----- construction and training errors --------------------------------------------------------

TEST(TextModel, ConstructorJoinsPartsAndChecksThem) {
  const TextModel& trained = Trained();
  auto vec = std::make_shared<TextVectorizer>(
      TextVectorizer::Deserialize(trained.vectorizer().Serialize()));
  // Names from the model's attachment are kept when none are given.
  const TextModel kept(trained.model(), vec);
  EXPECT_EQ(kept.label_names(), TopicNames());
  // Given names replace them.
  Names renamed = TopicNames();
  renamed[0] = "songs";
  const TextModel joined(trained.model(), vec, renamed);
  EXPECT_EQ(joined.label_names(), renamed);
  EXPECT_EQ(LabelNames(joined.model()), renamed);
  EXPECT_EQ(joined.label_name(0), "songs");
  const Corpus test = MakeCorpus(30, /*seed=*/8, /*mixed=*/0.0);
  ExpectCsrEq(joined.Predict(test.texts, {}), trained.Predict(test.texts, {}));

  // A matrix-trained model joined with a vectorizer of the same width.
  const XLinearModel plain =
      RandomModel(5, {2, 4}, vec->n_features(), KeepOneIn(3, true), ModelMeta{});
  const TextModel fresh(plain, vec, {"w", "x", "y", "z"});
  EXPECT_NE(fresh.model().Attachment(kVectorizerAttachment), nullptr);
  EXPECT_EQ(fresh.label_names(), (Names{"w", "x", "y", "z"}));
  ExpectConsistentPredictions(fresh, test.texts, {});

  // Mismatches.
  const XLinearModel narrow = RandomModel(5, {2, 4}, 17, KeepOneIn(3, true));
  ExpectError([&] { TextModel(narrow, vec); }, ErrorCode::kInvalidArgument,
              {"features", "17", std::to_string(vec->n_features())});
  ExpectError([&] { TextModel(plain, nullptr); }, ErrorCode::kInvalidArgument, {"vectorizer"});
  ExpectError([&] { TextModel(XLinearModel(), vec); }, ErrorCode::kInvalidArgument, {"empty"});
  ExpectError(
      [&] {
        TextModel(plain, vec, {"w", "x"});
      },
      ErrorCode::kInvalidArgument, {"2 label names for 4 labels"});
  ExpectError(
      [&] {
        TextModel(plain, vec, {"w", "x\ty", "y", "z"});
      },
      ErrorCode::kInvalidArgument, {"label 1"});
}

TEST(TextModel, EmptyModel) {
  const TextModel empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_TRUE(empty.label_names().empty());
  EXPECT_EQ(empty.label_name(2), "2");
  ExpectError([&] { TextSearcher s(empty); }, ErrorCode::kInvalidArgument, {"empty"});
  TempDir dir;
  ExpectError([&] { empty.Save(dir.File("e.xmr")); }, ErrorCode::kInvalidArgument, {"empty"});
  ExpectError([&] { empty.Predict({"a"}, {}); }, ErrorCode::kInvalidArgument, {"empty"});
  // Assignable.
  TextModel m;
  m = Trained();
  EXPECT_FALSE(m.empty());
  EXPECT_EQ(m.label_names(), TopicNames());
}

TEST(TextModel, TrainChecksItsArguments) {
  const Corpus c = MakeCorpus(40, /*seed=*/9, /*mixed=*/0.0);
  const TextTrainOptions opts;
  Names fewer(c.texts.begin(), c.texts.end() - 1);
  ExpectError([&] { TextModel::Train(fewer, c.y.view(), opts, Quiet()); },
              ErrorCode::kInvalidArgument, {"39 texts", "40 rows"});
  ExpectError(
      [&] {
        TextModel::Train(c.texts, c.y.view(), opts, Quiet(), nullptr, {"a", "b"});
      },
      ErrorCode::kInvalidArgument, {"2 label names for 8 labels"});
  Names bad_names = TopicNames();
  bad_names[3] = "";
  ExpectError([&] { TextModel::Train(c.texts, c.y.view(), opts, Quiet(), nullptr, bad_names); },
              ErrorCode::kInvalidArgument, {"label 3", "empty"});
  const Names label_texts{"only", "three", "texts"};
  ExpectError(
      [&] { TextModel::Train(c.texts, c.y.view(), opts, Quiet(), nullptr, {}, &label_texts); },
      ErrorCode::kInvalidArgument, {"3 label texts for 8 labels"});
  TextTrainOptions lf = opts;
  lf.train.label_embedding.kind = LabelEmbeddingKind::kPifaLfConcat;
  ExpectError([&] { TextModel::Train(c.texts, c.y.view(), lf, Quiet()); },
              ErrorCode::kInvalidArgument, {"label features"});
  TextTrainOptions bad_vec = opts;
  bad_vec.vectorizer.bases[0].ngram_min = 0;
  ExpectError([&] { TextModel::Train(c.texts, c.y.view(), bad_vec, Quiet()); },
              ErrorCode::kInvalidArgument, {});
}

// ----- training with label texts --------------------------------------------------------------

Names LabelTexts() {
  Names t;
  for (const Names& words : TopicWords()) {
    std::string s;
    for (const std::string& w : words) s += (s.empty() ? "" : " ") + w;
    t.push_back(s);
  }
  return t;
}

TEST(TextModel, TrainsWithLabelTexts) {
  const Corpus train = MakeCorpus(200, /*seed=*/1, /*mixed=*/0.2);
  const Names label_texts = LabelTexts();
  TextTrainOptions opts = SmallTreeOptions();
  opts.train.label_embedding.kind = LabelEmbeddingKind::kPifaLfConcat;
  TrainReport report;
  const TextModel m = TextModel::Train(train.texts, train.y.view(), opts, Quiet(2, 7), &report,
                                       TopicNames(), &label_texts);
  EXPECT_EQ(m.model().n_labels(), kTopics);
  EXPECT_GE(m.model().depth(), 2);
  EXPECT_EQ(m.label_names(), TopicNames());
  const Corpus test = MakeCorpus(100, /*seed=*/2, /*mixed=*/0.0);
  EXPECT_GE(PrecisionAt1(ExpectConsistentPredictions(m, test.texts, {}), test.main_topic), 0.9);
  TempDir dir;
  m.Save(dir.File("lf.xmr"));
  ExpectCsrEq(TextModel::Load(dir.File("lf.xmr")).Predict(test.texts, {}),
              m.Predict(test.texts, {}));

  // With kPifa the label texts are checked but unused: the same model as without them.
  const TextModel pifa = TextModel::Train(train.texts, train.y.view(), SmallTreeOptions(),
                                          Quiet(2, 7), nullptr, TopicNames(), &label_texts);
  ExpectCsrEq(pifa.Predict(test.texts, {}), Trained().Predict(test.texts, {}));
}

}  // namespace
}  // namespace xmr
