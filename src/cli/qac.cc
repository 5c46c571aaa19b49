// Query autocompletion commands: 'xmr qac-train' and 'xmr qac' (one query or --stdin).
#include "xmr/qac.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/common.h"
#include "core/log.h"
#include "xmr/qac_model.h"

namespace xmr::cli {
namespace {

std::string FormatScore(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

// One answer: TSV rows "rank completion score" or one JSON line.
std::string Answer(bool json, const QacModel& m, std::string_view prev, std::string_view prefix,
                   const std::vector<ScoredLabel>& out, double latency_ms) {
  std::string s;
  if (!json) {
    for (std::size_t r = 0; r < out.size(); ++r) {
      s += std::to_string(r + 1) + "\t";
      s += m.label(out[r].label);
      s += "\t" + FormatScore(out[r].score) + "\n";
    }
    return s;
  }
  s = "{\"prev\":";
  AppendJsonString(&s, prev);
  s += ",\"prefix\":";
  AppendJsonString(&s, prefix);
  if (latency_ms >= 0) s += StrFormat(",\"latency_ms\":%.3f", latency_ms);
  s += ",\"completions\":[";
  for (std::size_t r = 0; r < out.size(); ++r) {
    if (r > 0) s += ',';
    s += "{\"query\":";
    AppendJsonString(&s, m.label(out[r].label));
    s += ",\"score\":" + FormatScore(out[r].score) + "}";
  }
  s += "]}\n";
  return s;
}

}  // namespace

int CmdQacTrain(int argc, char** argv) {
  const QacDataOptions dd;
  const QacModelOptions dm;
  Args args(
      "qac-train", "--log FILE -m MODEL [options]",
      "Trains a session-aware query autocompletion model from a query log (one query per line,\n"
      "in time order; consecutive lines are taken as a session): examples are (previous query,\n"
      "prefix of the next query at every length 1..8) -> the next query. The log's first part\n"
      "trains, the rest tests: MRR@10 and success@k by prefix length are printed at the end.",
      Concat(
          CommonOptions(),
          {
              {"log", "", "FILE", "query log, one query per line (.gz/.xz ok) (required)", ""},
              {"no-header", "", "", "the log has no header line (default: skip line 1)", ""},
              {"model", "m", "FILE", "output model file (required)", ""},
              {"pairs", "", "RULE",
               "which consecutive queries form a (previous, next) pair: distinct | "
               "shared-word (they share a word)",
               "shared-word"},
              {"train-fraction", "", "F", "first share of the log used for training", "0.9"},
              {"max-train-pairs", "", "N", "sample at most N training pairs (0 = all)", "0"},
              {"max-test-pairs", "", "N", "sample at most N test pairs (0 = all)", "0"},
              {"max-labels", "", "N", "keep the N most frequent completions (0 = all)", "0"},
              {"indexer", "", "KIND", "label tree: hybrid (trie + k-means) | trie | kmeans",
               "hybrid"},
              {"trie-depth", "", "N", "trie levels (hybrid: above the k-means)",
               "2 for hybrid, 3 for trie"},
              {"prev-weight", "", "W", "weight of the previous query's block (0 = ignore it)", "1"},
              {"embedding", "", "KIND", "label embedding for k-means: text | pifa | pifa_text",
               "text"},
              {"max-leaf-size", "", "N", "largest k-means leaf cluster",
               std::to_string(dm.hybrid.kmeans.max_leaf_size)},
              {"seed", "", "N", "random seed", "0"},
              {"threshold", "", "T", "prune weights with |w| below T", "0.1"},
              {"cp", "", "C", "loss weight of positives", "1"},
              {"beam", "b", "N", "default beam size stored in the model", "10"},
              {"top-k", "k", "N", "default completions per query stored in the model", "10"},
              {"no-eval", "", "", "skip the evaluation on the test part", ""},
          }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  const std::string log = args.Required("log");
  const std::string model_path = args.Required("model");

  QacDataOptions d;
  d.skip_header = !args.Flag("no-header");
  if (args.Has("pairs")) {
    const std::string r = args.Str("pairs");
    if (r == "distinct") {
      d.pair_rule = PairRule::kDistinct;
    } else if (r == "shared-word") {
      d.pair_rule = PairRule::kSharedWord;
    } else {
      throw UsageError("--pairs must be distinct or shared-word; got '" + r + "'");
    }
  }
  d.train_fraction = args.Double("train-fraction", dd.train_fraction);
  d.max_train_pairs = static_cast<std::int64_t>(args.UInt64("max-train-pairs", 0));
  d.max_test_pairs = static_cast<std::int64_t>(args.UInt64("max-test-pairs", 0));
  d.max_labels = IntAtLeast(args, "max-labels", 0, 0);
  d.seed = args.UInt64("seed", 0);
  AsUsage([&] { d.Validate(); });

  QacModelOptions o;
  if (args.Has("indexer")) {
    o.indexer = AsUsage([&] { return ParseQacIndexerKind(args.Str("indexer")); });
  }
  if (args.Has("trie-depth")) {
    const int depth = IntAtLeast(args, "trie-depth", 1, 1);
    o.trie.depth = depth;
    o.hybrid.trie_depth = depth;
  }
  o.prev_weight = FloatOpt(args, "prev-weight", o.prev_weight, false);
  if (args.Has("embedding")) {
    o.label_embedding = AsUsage([&] { return ParseQacLabelEmbedding(args.Str("embedding")); });
  }
  const int leaf = IntAtLeast(args, "max-leaf-size", o.hybrid.kmeans.max_leaf_size, 1);
  o.hybrid.kmeans.max_leaf_size = leaf;
  o.kmeans.max_leaf_size = leaf;
  o.train.solver.threshold = FloatOpt(args, "threshold", o.train.solver.threshold, false);
  o.train.solver.cp = FloatOpt(args, "cp", o.train.solver.cp, true);
  o.train.beam_size = IntAtLeast(args, "beam", o.train.beam_size, 1);
  o.train.top_k = IntAtLeast(args, "top-k", o.train.top_k, 1);
  AsUsage([&] { o.Validate(); });
  CheckInputFile(log);
  CheckOutputFile(model_path);

  Timer total;
  const QacDataset data = BuildQacDatasetFromFile(log, d, ctx);
  Log(ctx, "data: " + data.stats.Summary());
  XMR_EXPECTS(data.train.size() > 0, ErrorCode::kInvalidArgument,
              log + ": no training pair (is it a query log, one query per line?)");
  QacTrainReport report;
  const QacModel model = QacModel::Train(data, o, ctx, &report);
  model.Save(model_path);
  Log(ctx,
      StrFormat("done: %s (%d completions, %d features, depth %d); %lld examples, "
                "training %.2fs, total %.2fs",
                model_path.c_str(), model.n_labels(), report.n_features, report.tree_depth,
                static_cast<long long>(report.n_examples), report.total_seconds, total.Seconds()));
  if (!args.Flag("no-eval") && data.test.size() > 0) {
    Timer t;
    const std::vector<std::vector<Index>> ranked =
        model.CompleteAll(data.test, DefaultPredictOptions(model.model()), ctx);
    Log(ctx, StrFormat("completed %zu test keystrokes in %.2fs", ranked.size(), t.Seconds()));
    const QacMetrics m = EvaluateQac(data.test, ranked, data.labels);
    std::fputs(m.Table().c_str(), stdout);
    CheckStdout();
  }
  return 0;
}

int CmdQac(int argc, char** argv) {
  Args args(
      "qac", "-m MODEL (--prefix TEXT [--prev TEXT] | --stdin) [options]",
      "Completes a typed prefix with a model from 'xmr qac-train', given the previous query.\n"
      "Every completion starts with the prefix. With --stdin, each input line is\n"
      "'previous query<TAB>prefix' (a line without a tab is a prefix with no previous query)\n"
      "and each answer is one JSON line with its latency; a summary goes to stderr at the end.",
      Concat(CommonOptions(),
             {
                 {"model", "m", "FILE", "QAC model file (required)", ""},
                 {"prefix", "", "TEXT", "the characters typed so far", ""},
                 {"prev", "", "TEXT", "the previous query of the session", ""},
                 {"stdin", "", "", "answer 'prev<TAB>prefix' lines from standard input", ""},
                 {"top-k", "k", "N", "completions per query", "the model's, usually 10"},
                 {"beam", "b", "N", "beam size", "the model's, usually 10"},
                 {"output-format", "", "FMT", "tsv (rank, completion, score) | json",
                  "tsv; json with --stdin"},
                 {"mmap", "", "", "memory-map the model instead of reading it", ""},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  const bool from_stdin = args.Flag("stdin");
  if (from_stdin == args.Has("prefix")) throw UsageError("give --prefix TEXT or --stdin");
  const std::string fmt = args.Str("output-format", from_stdin ? "json" : "tsv");
  if (fmt != "tsv" && fmt != "json") throw UsageError("--output-format must be tsv or json");
  const bool json = fmt == "json";
  CheckInputFile(args.Required("model"));
  Timer t;
  const QacModel model =
      QacModel::Load(args.Str("model"), args.Flag("mmap") ? LoadMode::kMmap : LoadMode::kRead);
  Log(ctx, StrFormat("loaded QAC model in %.2fs: %d completions", t.Seconds(), model.n_labels()));
  PredictOptions po = DefaultPredictOptions(model.model());
  if (args.Has("top-k")) po.top_k = IntAtLeast(args, "top-k", 1, 1);
  if (args.Has("beam")) po.beam_size = IntAtLeast(args, "beam", 1, 1);
  QacSearcher searcher(model);
  std::vector<ScoredLabel> out;
  if (!from_stdin) {
    const std::string prev = args.Str("prev"), prefix = args.Str("prefix");
    searcher.Complete(prev, prefix, po, &out);
    const std::string s = Answer(json, model, prev, prefix, out, -1);
    std::fwrite(s.data(), 1, s.size(), stdout);
    CheckStdout();
    return 0;
  }
  std::vector<double> lat;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t tab = line.find('\t');
    const std::string_view prev =
        tab == std::string::npos ? std::string_view() : std::string_view(line).substr(0, tab);
    const std::string_view prefix =
        tab == std::string::npos ? std::string_view(line) : std::string_view(line).substr(tab + 1);
    const auto t0 = std::chrono::steady_clock::now();
    searcher.Complete(prev, prefix, po, &out);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    lat.push_back(ms);
    std::string s = Answer(json, model, prev, prefix, out, ms);
    if (!json) s += "\n";
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) CheckStdout();
    CheckStdout();
  }
  if (!lat.empty()) {
    std::vector<double> v = lat;
    std::sort(v.begin(), v.end());
    Log(ctx,
        StrFormat("answered %zu queries: latency p50 %.3f ms, p99 %.3f ms, max %.3f ms", v.size(),
                  v[v.size() / 2],
                  v[std::min(v.size() - 1, static_cast<std::size_t>(0.99 * (v.size() - 1) + 0.5))],
                  v.back()));
  }
  return 0;
}

}  // namespace xmr::cli
