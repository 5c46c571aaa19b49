// Product-retrieval bench on real text (issue 5), built on debian-deps from ../shared/data:
//   related  package text (title x2 + description) -> the packages it depends on
//   search   package title alone (a short, query-like text) -> the same dependency items
//   debtags  debian-debtags from raw text (xmr's TextVectorizer) vs the bundled *_bow matrices
// The items' own text (debdeps_labels.tsv) is the label side of both debian-deps tasks: label
// features for the indexer (--label-emb concat / convex) and a query -> item TF-IDF cosine
// baseline (cos). For each task and feature set (word 1-2-grams, char_wb 3-grams, both stacked;
// TF-IDF fitted on the training texts) it trains xmr (options chosen per task by the --tune-*
// grid on a held-out tenth of train; predicted with beam 10 and --extra-beam), a flat
// one-vs-rest model (the same solver on ClusterChain::Flat, no tree; 'both' features, see
// Args::flat_tasks) and a TF-IDF cosine kNN over the training instances (k chosen on the same
// held-out tenth, grouped by source package as the test split is), and reports P@1, R@10,
// R@100, train seconds and batch predict q/s. The test split is only used for the reported
// figures. Latency: raw text -> TransformOne -> Searcher::Search(top-10) on one thread, per
// query, for the stacked models.
//
//   bench_retrieval [--data-dir ../shared/data] [--threads 2] [--tasks related,search,debtags]
//                   [--out FILE.json] [--latency-queries 2000] [--quick] ...  (see --help)
//
// Markdown tables go to stdout, progress to stderr (unless --quiet), and one JSON object per
// measurement to --out (JSON lines; the first line describes the machine and the options).
// Exit status: 0 on success, 2 for a bad command line, 1 for any failure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.h"       // for Log, StrFormat, Timer
#include "core/parallel.h"  // for ParallelFor, NumWorkers
#include "io/stream.h"      // for detail::ReadWholeFile (xz-aware)
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/sparse.h"
#include "xmr/text.h"
#include "xmr/train.h"

namespace {

using namespace xmr;

const char kUsage[] =
    "usage: bench_retrieval [--data-dir DIR] [--threads N] [--tasks related,search,debtags]\n"
    "                       [--out FILE] [--latency-queries N] [--quick] [--quiet]\n"
    "                       [--sets word,char,both] [--methods xmr,lf,flat,knn,cos]\n"
    "                       [--flat-sets both] [--flat-tasks related,search] [--flat-max-iter 10]\n"
    "                       [--knn-ks 5,10,20,50,100,200] [--beam 10] [--extra-beam 50]\n"
    "                       [--min-df 2] [--sublinear 1] [--tokenizer blank|unicode_word]\n"
    "                       [--word-ngrams 1-2] [--char-ngrams 3-3]\n"
    "                       [--debtags-sets word,char,both] [--predict-repeats 3] [--seed 0]\n"
    "                       [--neg tfn|man|tfn+man] [--nr-splits 16] [--max-leaf-size 100]\n"
    "                       [--cp 1] [--threshold 0.1] [--label-emb pifa|concat|convex]\n"
    "                       [--tune-cp 1,4] [--tune-nr-splits 16,64] [--tune-label-emb "
    "pifa,concat]\n"
    "                       [--tune-post l3-hinge,sigmoid]\n"
    "  --neg ... --label-emb  xmr training (flat one-vs-rest shares --cp and --threshold only);\n"
    "                     --label-emb: PIFA alone or with each item's text (concat / convex)\n"
    "  --flat-max-iter N  the flat baseline's solver passes (0 = TrainOptions', 100; 10 gives the\n"
    "                     same R@10 on the related sample, 53.87 vs 53.85, 4.5x faster)\n"
    "  --verbose 2        also log the solvers' statistics (passes, visits)\n"
    "  --tune-*           xmr grid: the values with the best R@10 on the held-out tenth of train\n"
    "                     (trained on the rest, 'both' features) replace the options above;\n"
    "                     default cp 1,4 x nr-splits 16,64 x label-emb pifa,concat; none = off\n"
    "  --quick            every 8th train/test row of each data set, 200 latency queries\n"
    "  --flat-sets        feature sets the flat one-vs-rest baseline runs on ('all' = --sets)\n"
    "  --methods          lf = xmr indexed on [PIFA | item-text TF-IDF] (--label-emb concat),\n"
    "                     cos = query -> item-text TF-IDF cosine\n"
    "  --extra-beam N     also predict each xmr model with beam N (0 = no)\n"
    "  --knn-ks           k values tried on the held-out slice of train (best R@10 is used)\n";

// ----- small helpers ----------------------------------------------------------------------------

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    const size_t j = s.find(sep, i);
    out.push_back(s.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out;
}

// FNV-1a: a split that is the same on every platform (std::hash is not).
std::uint64_t Fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

// ----- options -----------------------------------------------------------------------------------

struct Args {
  std::string data_dir = "../shared/data";
  std::string out;
  int threads = 2;
  std::vector<std::string> tasks = {"related", "search", "debtags"};
  std::vector<std::string> sets = {"word", "char", "both"};
  std::vector<std::string> debtags_sets = {"word", "char", "both"};
  std::vector<std::string> methods = {"xmr", "lf", "flat", "knn", "cos"};
  std::vector<std::string> flat_sets = {"both"};
  // Flat one-vs-rest trains every label on every row: about an hour for related/both on 2
  // cores here (31,271 labels x 44,777 rows, 16 labels per pass in lock step, 10 passes at
  // most), much less for search.
  std::vector<std::string> flat_tasks = {"related", "search"};
  std::vector<int> knn_ks = {5, 10, 20, 50, 100, 200};
  int latency_queries = 2000;
  int beam = 10;
  int extra_beam = 50;
  int predict_repeats = 3;
  std::int64_t min_df = 2;
  bool sublinear = true;
  bool unicode_words = false;  // --tokenizer unicode_word (default blank, as PECOS)
  int word_min = 1, word_max = 2, char_min = 3, char_max = 3;
  unsigned long long seed = 0;
  bool quick = false, quiet = false;
  // xmr training (the flat baseline shares the solver options): defaults = TrainOptions'.
  std::string neg = "tfn";
  int nr_splits = 16, max_leaf_size = 100;
  float cp = 1.0f, threshold = 0.1f;
  int flat_max_iter = 10;          // the flat baseline's solver passes (0 = TrainOptions' default)
  int verbose = 1;                 // ctx.verbose (--quiet = 0; 2 adds the solvers' statistics)
  std::string label_emb = "pifa";  // xmr's label embedding: pifa | concat | convex (item text)
  // Validation grid for xmr (--tune-*): each non-empty list replaces the option above by the
  // value with the best R@10 on the held-out tenth of train (see TuneXmr); empty = not tuned.
  // Default grid: the values that mattered on the related task (cp for its extreme tail, wider
  // trees, the items' text in the label embedding); "none" = not tuned.
  std::vector<float> tune_cp = {1, 4};
  std::vector<int> tune_nr_splits = {16, 64};
  std::vector<std::string> tune_label_emb = {"pifa", "concat"};
  std::vector<std::string> tune_post;  // post-processors (prediction only: no extra training)
};

bool Tuning(const Args& a) {
  return !a.tune_cp.empty() || !a.tune_nr_splits.empty() || !a.tune_label_emb.empty() ||
         !a.tune_post.empty();
}

void ParseRange(const std::string& v, int* lo, int* hi) {
  const std::vector<std::string> p = Split(v, '-');
  if (p.size() != 2) throw std::invalid_argument(v);
  *lo = std::stoi(p[0]);
  *hi = std::stoi(p[1]);
}

bool ParseArgs(int argc, char** argv, Args* a) {
  bool latency_set = false;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--quick") {
      a->quick = true;
      continue;
    }
    if (k == "--quiet") {
      a->quiet = true;
      continue;
    }
    if (k == "--help" || k == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_retrieval: option %s needs a value\n%s", k.c_str(), kUsage);
      return false;
    }
    const std::string v = argv[++i];
    try {
      if (k == "--data-dir") {
        a->data_dir = v;
      } else if (k == "--out") {
        a->out = v;
      } else if (k == "--threads") {
        a->threads = std::stoi(v);
      } else if (k == "--tasks") {
        a->tasks = Split(v, ',');
      } else if (k == "--sets") {
        a->sets = Split(v, ',');
      } else if (k == "--debtags-sets") {
        a->debtags_sets = Split(v, ',');
      } else if (k == "--methods") {
        a->methods = Split(v, ',');
      } else if (k == "--flat-tasks") {
        a->flat_tasks = Split(v, ',');
      } else if (k == "--flat-sets") {
        a->flat_sets = Split(v, ',');
      } else if (k == "--knn-ks") {
        a->knn_ks.clear();
        for (const std::string& s : Split(v, ',')) a->knn_ks.push_back(std::stoi(s));
      } else if (k == "--latency-queries") {
        a->latency_queries = std::stoi(v);
        latency_set = true;
      } else if (k == "--extra-beam") {
        a->extra_beam = std::stoi(v);
      } else if (k == "--beam") {
        a->beam = std::stoi(v);
      } else if (k == "--neg") {
        a->neg = v;
      } else if (k == "--nr-splits") {
        a->nr_splits = std::stoi(v);
      } else if (k == "--max-leaf-size") {
        a->max_leaf_size = std::stoi(v);
      } else if (k == "--cp") {
        a->cp = std::stof(v);
      } else if (k == "--threshold") {
        a->threshold = std::stof(v);
      } else if (k == "--flat-max-iter") {
        a->flat_max_iter = std::stoi(v);
      } else if (k == "--verbose") {
        a->verbose = std::stoi(v);
      } else if (k == "--label-emb") {
        a->label_emb = v;
      } else if (k.rfind("--tune-", 0) == 0 && v == "none") {
        if (k == "--tune-cp") {
          a->tune_cp.clear();
        } else if (k == "--tune-nr-splits") {
          a->tune_nr_splits.clear();
        } else if (k == "--tune-label-emb") {
          a->tune_label_emb.clear();
        } else if (k == "--tune-post") {
          a->tune_post.clear();
        } else {
          throw std::invalid_argument(k);
        }
      } else if (k == "--tune-cp") {
        a->tune_cp.clear();
        for (const std::string& x : Split(v, ',')) a->tune_cp.push_back(std::stof(x));
      } else if (k == "--tune-nr-splits") {
        a->tune_nr_splits.clear();
        for (const std::string& x : Split(v, ',')) a->tune_nr_splits.push_back(std::stoi(x));
      } else if (k == "--tune-label-emb") {
        a->tune_label_emb = Split(v, ',');
      } else if (k == "--tune-post") {
        a->tune_post = Split(v, ',');
        for (const std::string& x : a->tune_post) PostProcessor::Parse(x);  // throws if unknown
      } else if (k == "--predict-repeats") {
        a->predict_repeats = std::stoi(v);
      } else if (k == "--min-df") {
        a->min_df = std::stoll(v);
      } else if (k == "--tokenizer") {
        if (v != "blank" && v != "unicode_word") throw std::invalid_argument(v);
        a->unicode_words = v == "unicode_word";
      } else if (k == "--sublinear") {
        a->sublinear = std::stoi(v) != 0;
      } else if (k == "--word-ngrams") {
        ParseRange(v, &a->word_min, &a->word_max);
      } else if (k == "--char-ngrams") {
        ParseRange(v, &a->char_min, &a->char_max);
      } else if (k == "--seed") {
        a->seed = std::stoull(v);
      } else {
        std::fprintf(stderr, "bench_retrieval: unknown option %s\n%s", k.c_str(), kUsage);
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bench_retrieval: bad value '%s' for %s\n", v.c_str(), k.c_str());
      return false;
    }
  }
  if (a->flat_sets.size() == 1 && a->flat_sets[0] == "all") a->flat_sets = a->sets;
  if (a->quick && !latency_set) a->latency_queries = 200;
  for (const std::string& t : a->tasks) {
    if (t != "related" && t != "search" && t != "debtags") {
      std::fprintf(stderr, "bench_retrieval: unknown task '%s' (related, search, debtags)\n",
                   t.c_str());
      return false;
    }
  }
  for (const auto* list : {&a->sets, &a->debtags_sets, &a->flat_sets}) {
    for (const std::string& s : *list) {
      if (s != "word" && s != "char" && s != "both") {
        std::fprintf(stderr, "bench_retrieval: unknown feature set '%s' (word, char, both)\n",
                     s.c_str());
        return false;
      }
    }
  }
  for (const std::string& m : a->methods) {
    if (m != "xmr" && m != "lf" && m != "flat" && m != "knn" && m != "cos") {
      std::fprintf(stderr, "bench_retrieval: unknown method '%s' (xmr, lf, flat, knn, cos)\n",
                   m.c_str());
      return false;
    }
  }
  if (a->threads < 1 || a->beam < 1 || a->extra_beam < 0 || a->predict_repeats < 1 ||
      a->flat_max_iter < 0 || a->latency_queries < 0 || a->knn_ks.empty() || a->min_df < 1) {
    std::fprintf(stderr,
                 "bench_retrieval: --threads, --beam, --predict-repeats, --min-df must be >= 1, "
                 "--latency-queries >= 0, --knn-ks not empty\n");
    return false;
  }
  for (const std::string& e : a->tune_label_emb) {
    if (e != "pifa" && e != "concat" && e != "convex") {
      std::fprintf(stderr, "bench_retrieval: unknown label embedding '%s' (pifa, concat, convex)\n",
                   e.c_str());
      return false;
    }
  }
  if (a->label_emb != "pifa" && a->label_emb != "concat" && a->label_emb != "convex") {
    std::fprintf(stderr, "bench_retrieval: --label-emb is pifa, concat or convex\n");
    return false;
  }
  for (const int k : a->knn_ks) {
    if (k < 1) {
      std::fprintf(stderr, "bench_retrieval: --knn-ks values must be >= 1\n");
      return false;
    }
  }
  return true;
}

// ----- output ------------------------------------------------------------------------------------

// JSON lines sink; a no-op without --out.
class JsonOut {
 public:
  explicit JsonOut(const std::string& path) {
    if (path.empty()) return;
    f_ = std::fopen(path.c_str(), "w");
    if (!f_) throw Error(ErrorCode::kIoError, "cannot write " + path);
  }
  ~JsonOut() {
    if (f_) std::fclose(f_);
  }
  JsonOut(const JsonOut&) = delete;
  JsonOut& operator=(const JsonOut&) = delete;
  // `body` is the inside of one object, without braces.
  void Line(const std::string& body) {
    if (!f_) return;
    std::fprintf(f_, "{%s}\n", body.c_str());
    std::fflush(f_);
  }

 private:
  FILE* f_ = nullptr;
};

// One measured method on one task and feature set: a table row and a JSON object.
struct Row {
  std::string task, features, method;
  Index n_features = 0;
  std::string param;   // "beam 10", "k 50", ...
  std::string config;  // xmr / flat: XmrConfig::Describe()
  double train_s = -1, predict_s = 0;
  Index n_queries = 0;
  Offset model_nnz = 0;
  RankingMetrics m;
};

void PrintTableHeader(bool precision_at_3_5) {
  if (precision_at_3_5) {
    std::printf(
        "| features | method   | features dim | param    | train s | predict q/s |    P@1 |    "
        "P@3 |    P@5 |   R@10 |  R@100 |\n"
        "|----------|----------|--------------|----------|---------|-------------|--------|----"
        "----|--------|--------|--------|\n");
  } else {
    std::printf(
        "| features | method   | features dim | param    | train s | predict q/s |    P@1 |   "
        "R@10 |  R@100 |\n"
        "|----------|----------|--------------|----------|---------|-------------|--------|----"
        "----|--------|\n");
  }
}

void PrintRow(const Row& r, bool precision_at_3_5) {
  const double qps = r.predict_s > 0 ? r.n_queries / r.predict_s : 0.0;
  const std::string train = r.train_s < 0 ? "-" : StrFormat("%.1f", r.train_s);
  std::printf("| %-8s | %-8s | %12d | %-8s | %7s | %11.0f | %6.2f |", r.features.c_str(),
              r.method.c_str(), r.n_features, r.param.c_str(), train.c_str(), qps,
              r.m.precision[0]);
  if (precision_at_3_5) std::printf(" %6.2f | %6.2f |", r.m.precision[2], r.m.precision[4]);
  std::printf(" %6.2f | %6.2f |\n", r.m.recall[9], r.m.recall[99]);
  std::fflush(stdout);
}

void JsonRow(JsonOut* json, const Row& r) {
  json->Line(StrFormat(
      "\"kind\":\"result\",\"task\":\"%s\",\"features\":\"%s\",\"method\":\"%s\","
      "\"n_features\":%d,\"param\":\"%s\",\"train_s\":%.3f,\"predict_s\":%.4f,\"n_queries\":%d,"
      "\"predict_qps\":%.1f,\"model_nnz\":%lld,\"p1\":%.3f,\"p3\":%.3f,\"p5\":%.3f,\"r10\":%.3f,"
      "\"r100\":%.3f,\"ndcg10\":%.3f,\"config\":\"%s\"",
      r.task.c_str(), r.features.c_str(), r.method.c_str(), r.n_features,
      JsonEscape(r.param).c_str(), r.train_s, r.predict_s, r.n_queries,
      r.predict_s > 0 ? r.n_queries / r.predict_s : 0.0, static_cast<long long>(r.model_nnz),
      r.m.precision[0], r.m.precision[2], r.m.precision[4], r.m.recall[9], r.m.recall[99],
      r.m.ndcg[9], JsonEscape(r.config).c_str()));
}

// ----- data --------------------------------------------------------------------------------------

// Rows of a TSV file with a header line; the header must name exactly `columns`.
std::vector<std::vector<std::string>> ReadTsv(const std::string& path,
                                              const std::vector<std::string>& columns) {
  const std::string all = detail::ReadWholeFile(path);
  std::vector<std::vector<std::string>> rows;
  size_t i = 0;
  std::int64_t line = 0;
  while (i < all.size()) {
    size_t j = all.find('\n', i);
    if (j == std::string::npos) j = all.size();
    std::string text = all.substr(i, j - i);
    i = j + 1;
    ++line;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.empty()) continue;
    std::vector<std::string> f = Split(text, '\t');
    if (line == 1) {
      if (f != columns) {
        throw Error(ErrorCode::kCorruption,
                    StrFormat("%s: unexpected header '%s'", path.c_str(), text.c_str()));
      }
      continue;
    }
    if (f.size() != columns.size()) {
      throw Error(ErrorCode::kCorruption,
                  StrFormat("%s:%lld: %zu fields, expected %zu", path.c_str(),
                            static_cast<long long>(line), f.size(), columns.size()));
    }
    rows.push_back(std::move(f));
  }
  return rows;
}

// Every `stride`-th element (stride 1 = all).
template <typename T>
std::vector<T> Every(std::vector<T> v, int stride) {
  if (stride <= 1) return v;
  std::vector<T> out;
  for (size_t i = 0; i < v.size(); i += stride) out.push_back(std::move(v[i]));
  return out;
}

// Binary label matrix from per-row label name lists; unknown names are counted in *unknown.
CsrMatrix LabelMatrix(const std::vector<std::string>& lists,
                      const std::unordered_map<std::string, Index>& ids, Index n_labels,
                      std::int64_t* unknown) {
  CsrMatrix y;
  y.rows = static_cast<Index>(lists.size());
  y.cols = n_labels;
  for (const std::string& list : lists) {
    std::vector<Index> row;
    for (const std::string& name : Split(list, ',')) {
      if (name.empty()) continue;
      const auto it = ids.find(name);
      if (it == ids.end()) {
        ++*unknown;
        continue;
      }
      row.push_back(it->second);
    }
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    y.indices.insert(y.indices.end(), row.begin(), row.end());
    y.data.insert(y.data.end(), row.size(), 1.0f);
    y.indptr.push_back(static_cast<Offset>(y.indices.size()));
  }
  return y;
}

// One supervised text task: documents, their label sets and (for kNN validation) group names.
struct TextTask {
  std::string name;
  std::vector<std::string> train_text, test_text, train_group;
  CsrMatrix y_train, y_test;
  std::vector<std::string> label_text;  // item text per label, empty if the data has none
};

struct Debdeps {
  std::vector<std::vector<std::string>> train, test;  // package source labels title description
  std::vector<std::string> label_text;                // title + " " + description per label id
  std::unordered_map<std::string, Index> label_ids;
};

Debdeps ReadDebdeps(const std::string& dir, int stride) {
  const std::vector<std::string> cols = {"package", "source", "labels", "title", "description"};
  Debdeps d;
  d.train = Every(ReadTsv(dir + "/debdeps_train.tsv.xz", cols), stride);
  d.test = Every(ReadTsv(dir + "/debdeps_test.tsv.xz", cols), stride);
  const auto labels = ReadTsv(dir + "/debdeps_labels.tsv.xz",
                              {"label_id", "package", "train_count", "title", "description"});
  for (size_t j = 0; j < labels.size(); ++j) {
    if (std::stoll(labels[j][0]) != static_cast<long long>(j)) {
      throw Error(ErrorCode::kCorruption, "debdeps_labels.tsv: label ids are not 0, 1, 2, ...");
    }
    d.label_ids.emplace(labels[j][1], static_cast<Index>(j));
    d.label_text.push_back(labels[j][3] + " " + labels[j][4]);
  }
  return d;
}

TextTask MakeDebdepsTask(const Debdeps& d, const std::string& name, const Context& ctx) {
  TextTask t;
  t.name = name;
  const Index n_labels = static_cast<Index>(d.label_text.size());
  auto text = [&](const std::vector<std::string>& r) {
    return name == "search" ? r[3] : r[3] + " " + r[3] + " " + r[4];
  };
  std::vector<std::string> train_lists, test_lists;
  for (const auto& r : d.train) {
    t.train_text.push_back(text(r));
    t.train_group.push_back(r[1]);
    train_lists.push_back(r[2]);
  }
  for (const auto& r : d.test) {
    t.test_text.push_back(text(r));
    test_lists.push_back(r[2]);
  }
  std::int64_t unknown = 0;
  t.y_train = LabelMatrix(train_lists, d.label_ids, n_labels, &unknown);
  t.y_test = LabelMatrix(test_lists, d.label_ids, n_labels, &unknown);
  if (unknown > 0) {
    Log(ctx, StrFormat("bench: %lld dependency names not in debdeps_labels.tsv were skipped",
                       static_cast<long long>(unknown)));
  }
  t.label_text = d.label_text;
  return t;
}

// ----- feature sets ------------------------------------------------------------------------------

TextVectorizerOptions FeatureSet(const std::string& set, const Args& a) {
  BaseVectorizerOptions word;
  word.analyzer = Analyzer::kWord;
  word.ngram_min = a.word_min;
  word.ngram_max = a.word_max;
  BaseVectorizerOptions chr = word;
  chr.analyzer = Analyzer::kCharWb;
  chr.ngram_min = a.char_min;
  chr.ngram_max = a.char_max;
  for (BaseVectorizerOptions* b : {&word, &chr}) {
    b->min_df = a.min_df;
    b->sublinear_tf = a.sublinear;
  }
  TextVectorizerOptions o;
  o.tokenizer = a.unicode_words ? TextVectorizerOptions::Tokenizer::kUnicodeWord
                                : TextVectorizerOptions::Tokenizer::kBlank;
  o.bases.clear();
  if (set != "char") o.bases.push_back(word);
  if (set != "word") o.bases.push_back(chr);
  return o;
}

struct Featurised {
  TextVectorizer vectorizer;
  CsrMatrix x_train, x_test;
  double fit_s = 0, transform_s = 0;
};

Featurised Featurise(const TextTask& t, const std::string& set, const Args& a, const Context& ctx) {
  Featurised f;
  Timer timer;
  f.vectorizer = TextVectorizer::Fit(t.train_text, FeatureSet(set, a), ctx);
  f.fit_s = timer.Seconds();
  timer.Reset();
  f.x_train = f.vectorizer.Transform(t.train_text, ctx);
  f.transform_s = timer.Seconds();
  f.x_test = f.vectorizer.Transform(t.test_text, ctx);
  return f;
}

// ----- methods -----------------------------------------------------------------------------------

// Predicts top-100 with `beam` (median time over repeats) and evaluates.
void PredictAndEvaluate(const XLinearModel& model, const CsrMatrix& x, const CsrMatrix& y, int beam,
                        const Args& a, const Context& ctx, Row* r) {
  PredictOptions po;
  po.beam_size = beam;
  po.top_k = 100;
  std::vector<double> secs;
  CsrMatrix pred;
  for (int rep = 0; rep < a.predict_repeats; ++rep) {
    pred = CsrMatrix();
    const Timer t;
    pred = Predict(model, x.view(), po, ctx);
    secs.push_back(t.Seconds());
  }
  r->predict_s = Median(secs);
  r->n_queries = x.rows;
  r->model_nnz = model.nnz();
  r->m = Evaluate(pred.view(), y.view(), 100);
}

// Row ids of the k largest dot products of each query row with the rows of `base` (given as
// CSC: column f lists the base rows holding feature f), best first (ties: smaller id first).
// Exact: every base row sharing a feature with the query is scored (an inverted index).
using Neighbours = std::vector<std::vector<std::pair<Index, float>>>;

Neighbours TopDot(const CscMatrix& base, const CsrView& q, int k, int threads) {
  Neighbours out(q.rows);
  const int workers = std::max(1, NumWorkers(q.rows, threads, 16));
  std::vector<std::vector<float>> acc(workers, std::vector<float>(base.rows, 0.0f));
  std::vector<std::vector<Index>> touched(workers);
  ParallelFor(
      q.rows, threads,
      [&](std::int64_t i, int w) {
        std::vector<float>& s = acc[w];
        std::vector<Index>& hit = touched[w];
        hit.clear();
        const SparseVecView row = q.row(static_cast<Index>(i));
        for (Index e = 0; e < row.nnz; ++e) {
          const Index f = row.indices[e];
          if (f >= base.cols) continue;
          const float qv = row.data[e];
          for (Offset p = base.indptr[f]; p < base.indptr[f + 1]; ++p) {
            const Index r = base.indices[p];
            if (s[r] == 0.0f) hit.push_back(r);
            s[r] += qv * base.data[p];
          }
        }
        std::vector<std::pair<Index, float>> cand;
        cand.reserve(hit.size());
        for (const Index r : hit) {
          if (s[r] > 0.0f) cand.emplace_back(r, s[r]);
          s[r] = 0.0f;
        }
        const auto better = [](const std::pair<Index, float>& x, const std::pair<Index, float>& y) {
          return x.second != y.second ? x.second > y.second : x.first < y.first;
        };
        const size_t keep = std::min<size_t>(k, cand.size());
        std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), better);
        cand.resize(keep);
        out[i] = std::move(cand);
      },
      16);
  return out;
}

// kNN label scores: each of the first k neighbours votes its labels with its cosine; the top
// `top` labels per query (ties: smaller label id), as a prediction matrix in rank order.
CsrMatrix Vote(const Neighbours& nb, int k, const CsrView& y, int top, int threads) {
  const Index n = static_cast<Index>(nb.size());
  std::vector<std::vector<std::pair<Index, float>>> rows(n);
  const int workers = std::max(1, NumWorkers(n, threads, 64));
  std::vector<std::vector<float>> votes(workers, std::vector<float>(y.cols, 0.0f));
  ParallelFor(
      n, threads,
      [&](std::int64_t i, int w) {
        std::vector<float>& v = votes[w];
        std::vector<Index> hit;
        const size_t kk = std::min<size_t>(k, nb[i].size());
        for (size_t j = 0; j < kk; ++j) {
          const SparseVecView labels = y.row(nb[i][j].first);
          for (Index e = 0; e < labels.nnz; ++e) {
            const Index l = labels.indices[e];
            if (v[l] == 0.0f) hit.push_back(l);
            v[l] += nb[i][j].second;
          }
        }
        std::vector<std::pair<Index, float>> cand;
        for (const Index l : hit) {
          cand.emplace_back(l, v[l]);
          v[l] = 0.0f;
        }
        const auto better = [](const std::pair<Index, float>& x, const std::pair<Index, float>& y) {
          return x.second != y.second ? x.second > y.second : x.first < y.first;
        };
        const size_t keep = std::min<size_t>(top, cand.size());
        std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), better);
        cand.resize(keep);
        rows[i] = std::move(cand);
      },
      64);
  CsrMatrix pred;
  pred.rows = n;
  pred.cols = y.cols;
  for (const auto& r : rows) {
    for (const auto& [l, s] : r) {
      pred.indices.push_back(l);
      pred.data.push_back(s);
    }
    pred.indptr.push_back(static_cast<Offset>(pred.indices.size()));
  }
  return pred;
}

// Rows `ids` of `a`, in that order.
CsrMatrix SelectRows(const CsrView& a, const std::vector<Index>& ids) {
  CsrMatrix out;
  out.rows = static_cast<Index>(ids.size());
  out.cols = a.cols;
  for (const Index i : ids) {
    const SparseVecView r = a.row(i);
    out.indices.insert(out.indices.end(), r.indices, r.indices + r.nnz);
    out.data.insert(out.data.end(), r.data, r.data + r.nnz);
    out.indptr.push_back(static_cast<Offset>(out.indices.size()));
  }
  return out;
}

// The held-out tenth of train used for every choice the bench makes (kNN's k, xmr's --tune-*):
// whole source groups, like the test split, so related packages never straddle it.
void HeldOutSplit(const TextTask& t, std::vector<Index>* fit, std::vector<Index>* val) {
  for (Index i = 0; i < t.y_train.rows; ++i) {
    (Fnv1a(t.train_group[i]) % 10 == 0 ? val : fit)->push_back(i);
  }
}

struct KnnSweepPoint {
  int k = 0;
  RankingMetrics m;
};

// Chooses k on a held-out tenth of train (whole source groups, like the test split): the k with
// the best R@10 there (ties: smaller k). Returns the sweep.
std::vector<KnnSweepPoint> KnnSweep(const TextTask& t, const CsrMatrix& x, const Args& a,
                                    const Context& ctx) {
  std::vector<Index> fit, val;
  HeldOutSplit(t, &fit, &val);
  const CsrMatrix x_fit = SelectRows(x.view(), fit);
  const CsrMatrix y_fit = SelectRows(t.y_train.view(), fit);
  const CsrMatrix x_val = SelectRows(x.view(), val);
  const CsrMatrix y_val = SelectRows(t.y_train.view(), val);
  const int kmax = *std::max_element(a.knn_ks.begin(), a.knn_ks.end());
  const Neighbours nb = TopDot(CsrToCsc(x_fit.view()), x_val.view(), kmax, ctx.threads);
  std::vector<KnnSweepPoint> sweep;
  for (const int k : a.knn_ks) {
    const CsrMatrix pred = Vote(nb, k, y_fit.view(), 100, ctx.threads);
    sweep.push_back({k, Evaluate(pred.view(), y_val.view(), 100)});
  }
  Log(ctx, StrFormat("bench %s: kNN validation: %zu fit rows, %zu held-out rows", t.name.c_str(),
                     fit.size(), val.size()));
  return sweep;
}

int BestK(const std::vector<KnnSweepPoint>& sweep) {
  const KnnSweepPoint* best = &sweep[0];
  for (const KnnSweepPoint& p : sweep) {
    if (p.m.recall[9] > best->m.recall[9] ||
        (p.m.recall[9] == best->m.recall[9] && p.k < best->k)) {
      best = &p;
    }
  }
  return best->k;
}

// Query -> item cosine: the top-100 labels by TF-IDF cosine of the query and each label's text.
CsrMatrix CosineToLabels(const CsrMatrix& z, const CsrMatrix& q, int threads) {
  const Neighbours nb = TopDot(CsrToCsc(z.view()), q.view(), 100, threads);
  CsrMatrix pred;
  pred.rows = q.rows;
  pred.cols = z.rows;
  for (const auto& r : nb) {
    for (const auto& [l, s] : r) {
      pred.indices.push_back(l);
      pred.data.push_back(s);
    }
    pred.indptr.push_back(static_cast<Offset>(pred.indices.size()));
  }
  return pred;
}

// ----- xmr configurations ------------------------------------------------------------------------

// What the bench varies in xmr's training: TrainOptions plus the label side of the indexer.
struct XmrConfig {
  TrainOptions opts;
  std::string label_emb = "pifa";  // pifa | concat | convex (PIFA with each item's text)

  // The table's method name: xmr, xmr+lf (concat) or xmr+lfcv (convex).
  std::string Method() const {
    return label_emb == "pifa" ? "xmr" : label_emb == "concat" ? "xmr+lf" : "xmr+lfcv";
  }
  std::string Describe() const {
    return StrFormat("cp %g, nr_splits %d, label_emb %s, post %s", opts.solver.cp,
                     opts.indexer.nr_splits, label_emb.c_str(), opts.post_processor.c_str());
  }
};

XmrConfig BaseConfig(const Args& a) {
  XmrConfig c;
  c.opts.negative_sampling = ParseNegativeSampling(a.neg);
  c.opts.indexer.nr_splits = a.nr_splits;
  c.opts.indexer.max_leaf_size = a.max_leaf_size;
  c.opts.solver.cp = a.cp;
  c.opts.solver.threshold = a.threshold;
  c.label_emb = a.label_emb;
  c.opts.Validate();
  return c;
}

// Trains xmr on (x, y); z = the items' text in x's feature space (needed for concat / convex).
XLinearModel TrainXmr(const CsrView& x, const CsrView& y, const CsrMatrix& z, const XmrConfig& c,
                      const Context& ctx) {
  if (c.label_emb == "pifa") return Train(x, y, c.opts, ctx);
  if (z.rows != y.cols) {
    throw Error(ErrorCode::kInvalidArgument, "bench: --label-emb " + c.label_emb +
                                                 " needs the items' text (this task has none)");
  }
  TrainOptions o = c.opts;
  o.label_embedding.kind = c.label_emb == "concat" ? LabelEmbeddingKind::kPifaLfConcat
                                                   : LabelEmbeddingKind::kPifaLfConvexCombine;
  return TrainWithLabelFeatures(x, y, z.view(), o, ctx);
}

// The --tune-* grid: every combination trained on nine tenths of train and scored (R@10, beam
// a.beam) on the held-out tenth (HeldOutSplit); returns the best (ties: the earlier one in grid
// order, i.e. the smaller values as listed). The test split is never looked at.
XmrConfig TuneXmr(const TextTask& t, const std::string& set, const Featurised& f,
                  const CsrMatrix& z, const Args& a, const Context& ctx, JsonOut* json,
                  std::vector<std::string>* notes) {
  const XmrConfig base = BaseConfig(a);
  const std::vector<float> cps = a.tune_cp.empty() ? std::vector<float>{a.cp} : a.tune_cp;
  const std::vector<int> splits =
      a.tune_nr_splits.empty() ? std::vector<int>{a.nr_splits} : a.tune_nr_splits;
  const std::vector<std::string> embs =
      a.tune_label_emb.empty() ? std::vector<std::string>{a.label_emb} : a.tune_label_emb;
  const std::vector<std::string> posts =
      a.tune_post.empty() ? std::vector<std::string>{base.opts.post_processor} : a.tune_post;
  std::vector<Index> fit, val;
  HeldOutSplit(t, &fit, &val);
  const CsrMatrix x_fit = SelectRows(f.x_train.view(), fit);
  const CsrMatrix y_fit = SelectRows(t.y_train.view(), fit);
  const CsrMatrix x_val = SelectRows(f.x_train.view(), val);
  const CsrMatrix y_val = SelectRows(t.y_train.view(), val);
  PredictOptions po;
  po.beam_size = a.beam;
  po.top_k = 100;
  XmrConfig best = base;
  double best_r10 = -1;
  std::string table;
  for (const std::string& emb : embs) {
    for (const int b : splits) {
      for (const float cp : cps) {
        XmrConfig c = base;
        c.opts.solver.cp = cp;
        c.opts.indexer.nr_splits = b;
        c.label_emb = emb;
        c.opts.Validate();
        const Timer timer;
        const XLinearModel model = TrainXmr(x_fit.view(), y_fit.view(), z, c, ctx);
        const double train_s = timer.Seconds();
        for (const std::string& post : posts) {
          c.opts.post_processor = post;
          po.post_processor = post;
          const CsrMatrix pred = Predict(model, x_val.view(), po, ctx);
          const RankingMetrics m = Evaluate(pred.view(), y_val.view(), 100);
          Log(ctx,
              StrFormat("bench %s: tune %s: held-out P@1 %.2f R@10 %.2f (%.1f s)", t.name.c_str(),
                        c.Describe().c_str(), m.precision[0], m.recall[9], train_s));
          json->Line(
              StrFormat("\"kind\":\"xmr_tune\",\"task\":\"%s\",\"cp\":%g,\"nr_splits\":%d,"
                        "\"label_emb\":\"%s\",\"post\":\"%s\",\"fit_rows\":%zu,\"val_rows\":%zu,"
                        "\"train_s\":%.3f,\"val_p1\":%.3f,\"val_r10\":%.3f,\"val_r100\":%.3f",
                        t.name.c_str(), cp, b, emb.c_str(), post.c_str(), fit.size(), val.size(),
                        train_s, m.precision[0], m.recall[9], m.recall[99]));
          table += StrFormat("| %-7s | %9d | %5g | %-12s | %7.1f | %6.2f | %6.2f | %6.2f |\n",
                             emb.c_str(), b, cp, post.c_str(), train_s, m.precision[0], m.recall[9],
                             m.recall[99]);
          if (m.recall[9] > best_r10) {
            best_r10 = m.recall[9];
            best = c;
          }
        }
      }
    }
  }
  std::printf(
      "xmr options on the held-out tenth of train (%zu fit / %zu held-out rows, features '%s'):\n\n"
      "| label   | nr_splits |    cp | post         | train s |    P@1 |   R@10 |  R@100 |\n"
      "|---------|-----------|-------|--------------|---------|--------|--------|--------|\n%s\n",
      fit.size(), val.size(), set.c_str(), table.c_str());
  notes->push_back(StrFormat("xmr options chosen on the held-out tenth (R@10 %.2f): %s", best_r10,
                             best.Describe().c_str()));
  json->Line(
      StrFormat("\"kind\":\"xmr_tuned\",\"task\":\"%s\",\"cp\":%g,\"nr_splits\":%d,"
                "\"label_emb\":\"%s\",\"post\":\"%s\",\"val_r10\":%.3f",
                t.name.c_str(), best.opts.solver.cp, best.opts.indexer.nr_splits,
                best.label_emb.c_str(), best.opts.post_processor.c_str(), best_r10));
  return best;
}

// ----- latency -----------------------------------------------------------------------------------

struct LatencyStats {
  Index queries = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0, mean_nnz = 0, mean_bytes = 0;
  // The two parts of each query timed separately (TransformOne, Search).
  double transform_p50 = 0, transform_p99 = 0, search_p50 = 0, search_p99 = 0;
};

// Raw text -> TransformOne -> Searcher::Search(top-10), one query at a time on this thread,
// after one untimed warm-up pass over the same queries. One steady_clock span per query covers
// both calls; a clock read between them splits it.
LatencyStats MeasureLatency(const TextVectorizer& v, const XLinearModel& model,
                            const std::vector<std::string>& texts, int n, int beam) {
  Searcher searcher(model);
  PredictOptions po;
  po.beam_size = beam;
  po.top_k = 10;
  std::vector<Index> idx;
  std::vector<float> val;
  std::vector<ScoredLabel> out;
  const Index nq = static_cast<Index>(std::min<size_t>(n, texts.size()));
  using Clock = std::chrono::steady_clock;
  const auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  std::vector<double> total, transform, search;
  double nnz = 0, bytes = 0;
  for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms caches and scratch up, untimed
    for (Index i = 0; i < nq; ++i) {
      const auto t0 = Clock::now();
      idx.clear();
      val.clear();
      v.TransformOne(texts[i], &idx, &val);
      const auto t1 = Clock::now();
      searcher.Search(SparseVecView{static_cast<Index>(idx.size()), idx.data(), val.data()}, po,
                      &out);
      const auto t2 = Clock::now();
      if (pass == 0) continue;
      total.push_back(ms(t0, t2));
      transform.push_back(ms(t0, t1));
      search.push_back(ms(t1, t2));
      nnz += static_cast<double>(idx.size());
      bytes += static_cast<double>(texts[i].size());
    }
  }
  LatencyStats s;
  s.queries = nq;
  s.p50 = Percentile(total, 0.5);
  s.p90 = Percentile(total, 0.9);
  s.p99 = Percentile(total, 0.99);
  s.max = Percentile(total, 1.0);
  double sum = 0;
  for (const double x : total) sum += x;
  s.mean = nq > 0 ? sum / nq : 0.0;
  s.mean_nnz = nq > 0 ? nnz / nq : 0.0;
  s.mean_bytes = nq > 0 ? bytes / nq : 0.0;
  s.transform_p50 = Percentile(transform, 0.5);
  s.transform_p99 = Percentile(transform, 0.99);
  s.search_p50 = Percentile(search, 0.5);
  s.search_p99 = Percentile(search, 0.99);
  return s;
}

// ----- tasks -------------------------------------------------------------------------------------

struct LatencyRow {
  std::string task, features;
  LatencyStats s;
};

void RunTextTask(const TextTask& t, const Args& a, const Context& ctx, JsonOut* json,
                 std::vector<LatencyRow>* latency) {
  std::printf("\n### %s: %d train / %d test, %d labels, nnz(Y) %lld / %lld\n\n", t.name.c_str(),
              t.y_train.rows, t.y_test.rows, t.y_train.cols,
              static_cast<long long>(t.y_train.nnz()), static_cast<long long>(t.y_test.nnz()));
  std::vector<Row> rows;
  std::vector<std::string> notes;
  // Flat one-vs-rest keeps the command line's options; xmr's may be tuned once per task (on
  // 'both' if it is run, else the first set) and then serve every feature set alike.
  TrainOptions opts = BaseConfig(a).opts;
  if (a.flat_max_iter > 0) opts.solver.max_iter = a.flat_max_iter;
  XmrConfig xmr = BaseConfig(a);
  if (Tuning(a) && Contains(a.methods, "xmr")) {
    const std::string set = Contains(a.sets, "both") ? "both" : a.sets[0];
    Log(ctx,
        StrFormat("bench %s/%s: featurising for the xmr option grid", t.name.c_str(), set.c_str()));
    const Featurised f = Featurise(t, set, a, ctx);
    const CsrMatrix z =
        t.label_text.empty() ? CsrMatrix() : f.vectorizer.Transform(t.label_text, ctx);
    xmr = TuneXmr(t, set, f, z, a, ctx, json, &notes);
  }
  for (const std::string& set : a.sets) {
    Log(ctx, StrFormat("bench %s/%s: featurising", t.name.c_str(), set.c_str()));
    Featurised f = Featurise(t, set, a, ctx);
    notes.push_back(StrFormat(
        "%s: %d features, nnz/row train %.1f test %.1f; fit %.1f s, transform train %.1f s",
        set.c_str(), f.vectorizer.n_features(),
        static_cast<double>(f.x_train.nnz()) / std::max<Index>(1, f.x_train.rows),
        static_cast<double>(f.x_test.nnz()) / std::max<Index>(1, f.x_test.rows), f.fit_s,
        f.transform_s));
    json->Line(
        StrFormat("\"kind\":\"featurise\",\"task\":\"%s\",\"features\":\"%s\",\"n_features\":%d,"
                  "\"nnz_train\":%lld,\"nnz_test\":%lld,\"fit_s\":%.3f,\"transform_train_s\":%.3f",
                  t.name.c_str(), set.c_str(), f.vectorizer.n_features(),
                  static_cast<long long>(f.x_train.nnz()), static_cast<long long>(f.x_test.nnz()),
                  f.fit_s, f.transform_s));
    const Index dim = f.vectorizer.n_features();
    auto base_row = [&](const std::string& method, const std::string& param) {
      Row r;
      r.task = t.name;
      r.features = set;
      r.method = method;
      r.n_features = dim;
      r.param = param;
      return r;
    };
    auto finish = [&](Row r) {
      Log(ctx, StrFormat("bench %s/%s/%s: %s", t.name.c_str(), set.c_str(), r.method.c_str(),
                         r.m.Summary().c_str()));
      JsonRow(json, r);
      rows.push_back(std::move(r));
    };

    // The items' text in this set's feature space (label features, cos-item).
    const CsrMatrix z =
        t.label_text.empty() ? CsrMatrix() : f.vectorizer.Transform(t.label_text, ctx);
    if (Contains(a.methods, "xmr")) {
      Row r = base_row(xmr.Method(), StrFormat("beam %d", a.beam));
      r.config = xmr.Describe();
      const Timer timer;
      const XLinearModel model = TrainXmr(f.x_train.view(), t.y_train.view(), z, xmr, ctx);
      r.train_s = timer.Seconds();
      PredictAndEvaluate(model, f.x_test, t.y_test, a.beam, a, ctx, &r);
      const double train_s = r.train_s;
      finish(std::move(r));
      if (a.extra_beam > 0) {  // the same model searched with a wider beam
        Row w = base_row(xmr.Method(), StrFormat("beam %d", a.extra_beam));
        w.config = xmr.Describe();
        w.train_s = train_s;
        PredictAndEvaluate(model, f.x_test, t.y_test, a.extra_beam, a, ctx, &w);
        finish(std::move(w));
      }
      if (set == "both" && a.latency_queries > 0) {
        Log(ctx, StrFormat("bench %s/%s: latency over %d queries", t.name.c_str(), set.c_str(),
                           a.latency_queries));
        const LatencyStats s =
            MeasureLatency(f.vectorizer, model, t.test_text, a.latency_queries, a.beam);
        latency->push_back({t.name, set, s});
        json->Line(StrFormat(
            "\"kind\":\"latency\",\"task\":\"%s\",\"features\":\"%s\",\"threads\":1,"
            "\"queries\":%d,\"beam\":%d,\"top_k\":10,\"mean_query_bytes\":%.1f,"
            "\"mean_query_nnz\":%.1f,\"p50_ms\":%.4f,\"p90_ms\":%.4f,\"p99_ms\":%.4f,"
            "\"max_ms\":%.4f,\"mean_ms\":%.4f,\"transform_p50_ms\":%.4f,"
            "\"transform_p99_ms\":%.4f,\"search_p50_ms\":%.4f,\"search_p99_ms\":%.4f",
            t.name.c_str(), set.c_str(), s.queries, a.beam, s.mean_bytes, s.mean_nnz, s.p50, s.p90,
            s.p99, s.max, s.mean, s.transform_p50, s.transform_p99, s.search_p50, s.search_p99));
      }
    }
    if (Contains(a.methods, "lf") && !t.label_text.empty() && xmr.label_emb != "concat") {
      // Label side: each item's own text through the same vectorizer, clustered with PIFA.
      XmrConfig lf = xmr;
      lf.label_emb = "concat";
      Row r = base_row(lf.Method(), StrFormat("beam %d", a.beam));
      r.config = lf.Describe();
      const Timer timer;
      const XLinearModel model = TrainXmr(f.x_train.view(), t.y_train.view(), z, lf, ctx);
      r.train_s = timer.Seconds();
      PredictAndEvaluate(model, f.x_test, t.y_test, a.beam, a, ctx, &r);
      finish(std::move(r));
    }
    if (Contains(a.methods, "flat") && Contains(a.flat_sets, set) &&
        Contains(a.flat_tasks, t.name)) {
      Row r = base_row("flat-ovr", "-");
      r.config = StrFormat("cp %g, threshold %g, max_iter %d", opts.solver.cp,
                           opts.solver.threshold, opts.solver.max_iter);
      Log(ctx, StrFormat("bench %s/%s: flat one-vs-rest over %d labels", t.name.c_str(),
                         set.c_str(), t.y_train.cols));
      const Timer timer;
      const XLinearModel model = TrainWithTree(f.x_train.view(), t.y_train.view(),
                                               ClusterChain::Flat(t.y_train.cols), opts, ctx);
      r.train_s = timer.Seconds();
      PredictAndEvaluate(model, f.x_test, t.y_test, a.beam, a, ctx, &r);
      finish(std::move(r));
    }
    if (Contains(a.methods, "knn")) {
      const std::vector<KnnSweepPoint> sweep = KnnSweep(t, f.x_train, a, ctx);
      const int k = BestK(sweep);
      std::string line = StrFormat("%s: kNN held-out R@10 by k:", set.c_str());
      for (const KnnSweepPoint& p : sweep) {
        line += StrFormat(" %d:%.2f", p.k, p.m.recall[9]);
        json->Line(
            StrFormat("\"kind\":\"knn_sweep\",\"task\":\"%s\",\"features\":\"%s\",\"k\":%d,"
                      "\"val_p1\":%.3f,\"val_r10\":%.3f,\"val_r100\":%.3f,\"chosen\":%s",
                      t.name.c_str(), set.c_str(), p.k, p.m.precision[0], p.m.recall[9],
                      p.m.recall[99], p.k == k ? "true" : "false"));
      }
      notes.push_back(line + StrFormat(" -> k = %d", k));
      Row r = base_row("knn", StrFormat("k %d", k));
      const Timer timer;
      const CscMatrix index = CsrToCsc(f.x_train.view());
      r.train_s = timer.Seconds();
      std::vector<double> secs;
      CsrMatrix pred;
      for (int rep = 0; rep < a.predict_repeats; ++rep) {
        const Timer pt;
        const Neighbours nb = TopDot(index, f.x_test.view(), k, ctx.threads);
        pred = Vote(nb, k, t.y_train.view(), 100, ctx.threads);
        secs.push_back(pt.Seconds());
      }
      r.predict_s = Median(secs);
      r.n_queries = f.x_test.rows;
      r.m = Evaluate(pred.view(), t.y_test.view(), 100);
      finish(std::move(r));
    }
    if (Contains(a.methods, "cos") && !t.label_text.empty()) {
      Row r = base_row("cos-item", "-");
      r.train_s = 0;  // z above is the whole index
      std::vector<double> secs;
      CsrMatrix pred;
      for (int rep = 0; rep < a.predict_repeats; ++rep) {
        const Timer pt;
        pred = CosineToLabels(z, f.x_test, ctx.threads);
        secs.push_back(pt.Seconds());
      }
      r.predict_s = Median(secs);
      r.n_queries = f.x_test.rows;
      r.m = Evaluate(pred.view(), t.y_test.view(), 100);
      finish(std::move(r));
    }
  }
  PrintTableHeader(false);
  for (const Row& r : rows) PrintRow(r, false);
  std::printf("\n");
  for (const std::string& n : notes) std::printf("- %s\n", n.c_str());
}

// debian-debtags: xmr's own featurisation of the raw text vs the bundled TF-IDF BoW matrices,
// same TrainOptions; P@1/3/5.
void RunDebtags(const Args& a, int stride, const Context& ctx, JsonOut* json) {
  const std::string dir = a.data_dir + "/debian-debtags";
  const std::vector<std::string> cols = {"package", "source", "section",
                                         "tags",    "title",  "description"};
  const auto train = Every(ReadTsv(dir + "/debtags_train.tsv.xz", cols), stride);
  const auto test = Every(ReadTsv(dir + "/debtags_test.tsv.xz", cols), stride);
  std::unordered_map<std::string, Index> ids;
  {
    const std::string all = detail::ReadWholeFile(dir + "/labels.txt");
    for (const std::string& line : Split(all, '\n')) {
      if (line.empty()) continue;
      const Index id = static_cast<Index>(ids.size());
      ids.emplace(line.substr(0, line.find('\t')), id);
    }
  }
  const Index n_labels = static_cast<Index>(ids.size());
  TextTask t;
  t.name = "debtags";
  std::vector<std::string> train_lists, test_lists;
  for (const auto& r : train) {
    t.train_text.push_back(r[4] + " " + r[4] + " " + r[5]);
    t.train_group.push_back(r[1]);
    train_lists.push_back(r[3]);
  }
  for (const auto& r : test) {
    t.test_text.push_back(r[4] + " " + r[4] + " " + r[5]);
    test_lists.push_back(r[3]);
  }
  std::int64_t unknown = 0;
  t.y_train = LabelMatrix(train_lists, ids, n_labels, &unknown);
  t.y_test = LabelMatrix(test_lists, ids, n_labels, &unknown);
  XMR_EXPECTS(unknown == 0, ErrorCode::kCorruption,
              StrFormat("debtags: %lld tags not in labels.txt", static_cast<long long>(unknown)));

  std::printf("\n### debtags: %d train / %d test, %d labels (raw text vs bundled BoW)\n\n",
              t.y_train.rows, t.y_test.rows, n_labels);
  std::vector<Row> rows;
  const TrainOptions opts;
  auto run = [&](const std::string& features, const CsrMatrix& xtr, const CsrMatrix& xte,
                 const CsrMatrix& ytr, const CsrMatrix& yte) {
    Row r;
    r.task = "debtags";
    r.features = features;
    r.method = "xmr";
    r.n_features = xtr.cols;
    r.param = StrFormat("beam %d", a.beam);
    const Timer timer;
    const XLinearModel model = Train(xtr.view(), ytr.view(), opts, ctx);
    r.train_s = timer.Seconds();
    PredictAndEvaluate(model, xte, yte, a.beam, a, ctx, &r);
    Log(ctx, StrFormat("bench debtags/%s: %s", features.c_str(), r.m.Summary().c_str()));
    JsonRow(json, r);
    rows.push_back(std::move(r));
  };
  for (const std::string& set : a.debtags_sets) {
    const Featurised f = Featurise(t, set, a, ctx);
    run(set, f.x_train, f.x_test, t.y_train, t.y_test);
  }
  if (stride <= 1) {
    Dataset tr = ReadDataFile(dir + "/debtags_train_bow.txt.xz");
    Dataset te = ReadDataFile(dir + "/debtags_test_bow.txt.xz");
    NormalizeRowsL2(&tr.x);
    NormalizeRowsL2(&te.x);
    te.x.cols = std::max(te.x.cols, tr.x.cols);
    // Same rows in the same order: the label matrices must agree.
    const bool same = tr.y.indices == t.y_train.indices && tr.y.indptr == t.y_train.indptr &&
                      te.y.indices == t.y_test.indices && te.y.indptr == t.y_test.indptr;
    XMR_EXPECTS(same, ErrorCode::kCorruption,
                "debtags: the *_bow label matrices differ from the *.tsv tags");
    run("bow", tr.x, te.x, tr.y, te.y);
  } else {
    std::printf("(--quick: the bundled BoW matrices are not subsampled, so not run)\n\n");
  }
  PrintTableHeader(true);
  for (const Row& r : rows) PrintRow(r, true);
}

std::string CpuName() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      if (c != std::string::npos) return line.substr(c + 2);
    }
  }
  return "unknown CPU";
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) return 2;
  try {
    Context ctx;
    ctx.threads = a.threads;
    ctx.seed = a.seed;
    ctx.device = DeviceKind::kCpu;
    ctx.verbose = a.quiet ? 0 : a.verbose;
    JsonOut json(a.out);
    const int stride = a.quick ? 8 : 1;
    std::string joined;
    for (const std::string& s : a.sets) joined += (joined.empty() ? "" : ",") + s;
    json.Line(
        StrFormat("\"kind\":\"machine\",\"cpu\":\"%s\",\"cores\":%u,\"threads\":%d,\"quick\":%s,"
                  "\"min_df\":%lld,\"sublinear_tf\":%s,\"tokenizer\":\"%s\",\"word_ngrams\":\"%d-%"
                  "d\",\"char_wb_"
                  "ngrams\":\"%d-%d\","
                  "\"sets\":\"%s\",\"beam\":%d,\"seed\":%llu,\"neg\":\"%s\",\"nr_splits\":%d,"
                  "\"max_leaf_size\":%d,\"cp\":%g,\"threshold\":%g,\"label_emb\":\"%s\"",
                  JsonEscape(CpuName()).c_str(), std::thread::hardware_concurrency(), a.threads,
                  a.quick ? "true" : "false", static_cast<long long>(a.min_df),
                  a.sublinear ? "true" : "false", a.unicode_words ? "unicode_word" : "blank",
                  a.word_min, a.word_max, a.char_min, a.char_max, joined.c_str(), a.beam, a.seed,
                  JsonEscape(a.neg).c_str(), a.nr_splits, a.max_leaf_size, a.cp, a.threshold,
                  a.label_emb.c_str()));
    std::printf(
        "machine: %u cores, %s; threads=%d%s; TF-IDF: word %d-%d-grams, char_wb %d-%d-grams, "
        "min_df %lld, sublinear_tf %d, tokenizer %s; xmr: neg %s, nr_splits %d, max_leaf_size %d, "
        "cp %g, threshold %g, label_emb %s%s, beam %d, top-100\n",
        std::thread::hardware_concurrency(), CpuName().c_str(), a.threads,
        a.quick ? " (--quick: every 8th row)" : "", a.word_min, a.word_max, a.char_min, a.char_max,
        static_cast<long long>(a.min_df), a.sublinear ? 1 : 0,
        a.unicode_words ? "unicode_word" : "blank", a.neg.c_str(), a.nr_splits, a.max_leaf_size,
        a.cp, a.threshold, a.label_emb.c_str(), Tuning(a) ? " (--tune-* grid below)" : "", a.beam);

    std::vector<LatencyRow> latency;
    if (Contains(a.tasks, "related") || Contains(a.tasks, "search")) {
      const Timer t;
      const Debdeps d = ReadDebdeps(a.data_dir + "/debian-deps", stride);
      Log(ctx, StrFormat("bench: read debian-deps (%zu train, %zu test, %zu labels) in %.1f s",
                         d.train.size(), d.test.size(), d.label_text.size(), t.Seconds()));
      for (const std::string name : {"related", "search"}) {
        if (Contains(a.tasks, name))
          RunTextTask(MakeDebdepsTask(d, name, ctx), a, ctx, &json, &latency);
      }
    }
    if (!latency.empty()) {
      std::printf(
          "\n### single-query latency, 1 thread: raw text -> TransformOne -> Searcher::Search "
          "(top-10, beam %d)\n\n"
          "| task     | features | queries | query bytes | query nnz | p50 ms | p90 ms | p99 ms | "
          "max ms | featurise p50 / p99 ms | search p50 / p99 ms |\n"
          "|----------|----------|---------|-------------|-----------|--------|--------|--------|"
          "--------|------------------------|---------------------|\n",
          a.beam);
      for (const LatencyRow& l : latency) {
        std::printf(
            "| %-8s | %-8s | %7d | %11.0f | %9.1f | %6.3f | %6.3f | %6.3f | %6.3f | %10.3f / "
            "%-9.3f "
            "| %8.3f / %-8.3f |\n",
            l.task.c_str(), l.features.c_str(), l.s.queries, l.s.mean_bytes, l.s.mean_nnz, l.s.p50,
            l.s.p90, l.s.p99, l.s.max, l.s.transform_p50, l.s.transform_p99, l.s.search_p50,
            l.s.search_p99);
      }
    }
    if (Contains(a.tasks, "debtags")) RunDebtags(a, stride, ctx, &json);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_retrieval: %s\n", e.what());
    return 1;
  }
  return 0;
}
