// Session-aware query autocompletion bench (issue 6) on the AOL 2006 query log (1M rows, from
// ../shared/data/aol-queries-1m). Input: (previous query, typed prefix of the next query);
// labels: the distinct next queries of the train pairs; answer: top-10 completions.
//
// Methods: most-popular completion (mpc; ignores the previous query) and XR-Linear QAC models
// (xmr/qac_model.h) on three label trees: kmeans (plain XR-Linear tree on the label embeddings),
// trie (character trie) and hybrid (trie on top, k-means inside each trie node). Every xmr
// option given on the command line applies to all xmr variants alike, including the popularity
// prior (QacModelOptions::prior_beta; its default was chosen with --tune-beta, which evaluates on
// the last 10% of the train pairs, never on the test split). With a prior, each xmr variant also
// gets a row METHOD/b0: the same model with the prior off.
//
// Reports MRR@10 and success@1/5/10 by prefix length 1..8 and averaged over lengths 1-8 (each
// length counts once), rank-weighted BLEU, train time (featurise + index + train), batch
// completion time, violations of the prefix constraint (completions that do not extend the
// typed prefix, counted over the batch answers and the latency answers; must be 0), and
// latency per keystroke on ONE thread: QacSearcher::Complete(prev, prefix, 10) including
// featurisation, p50/p90/p99 over --latency-queries random test keystrokes.
//
//   bench_qac [--data-dir ../shared/data] [--threads 2] [--out bench_qac.json] ...  (--help)
//
// Markdown tables go to stdout, progress to stderr (unless --quiet), one JSON object per line
// to --out (first line: options and data statistics; then one per method).
// Exit status: 0 on success, 2 for a bad command line, 1 for any failure.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/log.h"  // for Log, StrFormat, Timer
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/qac.h"
#include "xmr/qac_model.h"

namespace {

using namespace xmr;

const char kUsage[] =
    "usage: bench_qac [--data-dir DIR] [--threads N] [--out FILE.json] [--quiet]\n"
    "                 [--methods mpc,kmeans,trie,hybrid] [--pair-rule distinct|shared_word]\n"
    "                 [--max-train-pairs 150000] [--max-test-pairs 20000] [--max-labels 0]\n"
    "                 [--latency-queries 5000] [--beam 10] [--prev-weight 1] [--decay 1]\n"
    "                 [--embedding text|pifa|pifa_text] [--trie-depth 3] [--hybrid-depth 2]\n"
    "                 [--leaf 100] [--nr-splits 16] [--solver-iter 100] [--seed 0]\n"
    "                 [--save-dir DIR] [--prior-beta B] [--prior-candidates 200]\n"
    "                 [--tune-beta 0,0.25,0.5,...] [--valid-fraction 0.1]\n"
    "  --max-train-pairs / --max-test-pairs  uniform samples of the pairs (0 = all)\n"
    "  --max-labels       keep the most frequent labels only (0 = all)\n"
    "  --beam             beam size of the restricted beam search (all xmr variants)\n"
    "  --prev-weight      weight of the previous-query block (QacModelOptions::prev_weight)\n"
    "  --decay            position_decay of the label embedding (char_wb 1-3-grams)\n"
    "  --trie-depth       trie levels of the trie indexer\n"
    "  --hybrid-depth     trie levels of the hybrid indexer\n"
    "  --leaf, --nr-splits  k-means leaf size and branching (kmeans and hybrid)\n"
    "  --save-dir         also save each model there and report its file size\n"
    "  --prior-beta       popularity prior weight (QacModelOptions::prior_beta; default: the\n"
    "                     library default, the validated value); with B > 0 each xmr method\n"
    "                     also gets a row 'METHOD/b0' (the same model with the prior off)\n"
    "  --prior-candidates labels re-ranked by the prior (QacModelOptions::prior_candidates)\n"
    "  --tune-candidates  with --tune-beta: also sweep prior_candidates over this list\n"
    "  --tune-beta        validation mode: train every xmr method on the first (1 - F) of the\n"
    "                     train pairs (in pair order), evaluate each beta of the list on the\n"
    "                     last F (--valid-fraction) and print MRR@10 avg 1-8 per beta; the test\n"
    "                     split is not used\n";

struct Args {
  std::string data_dir;
  int threads = 2;
  std::string out = "bench_qac.json";
  bool quiet = false;
  std::vector<std::string> methods = {"mpc", "kmeans", "trie", "hybrid"};
  std::string pair_rule = "distinct";
  std::int64_t max_train_pairs = 150000;
  std::int64_t max_test_pairs = 20000;
  std::int64_t max_labels = 0;
  int latency_queries = 5000;
  int beam = 10;
  double prev_weight = 1.0;
  double decay = 1.0;
  std::string embedding = "text";
  int trie_depth = 3;
  int hybrid_depth = 2;
  int leaf = 100;
  int nr_splits = 16;
  int solver_iter = 100;
  std::uint64_t seed = 0;
  std::string save_dir;
  double prior_beta = -1;  // < 0: QacModelOptions default
  int prior_candidates = QacModelOptions::kDefaultPriorCandidates;
  std::vector<double> tune_beta;
  std::vector<int> tune_candidates;  // --tune-candidates (empty: prior_candidates only)
  double valid_fraction = 0.1;
};

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> v;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    if (c > start) v.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return v;
}

bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--quiet") {
      a->quiet = true;
      continue;
    }
    if (k == "--help" || k == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_qac: %s needs a value\n%s", k.c_str(), kUsage);
      return false;
    }
    const std::string v = argv[++i];
    char* end = nullptr;
    const double num = std::strtod(v.c_str(), &end);
    const bool is_num = !v.empty() && end == v.c_str() + v.size();
    auto need_num = [&]() {
      if (!is_num)
        std::fprintf(stderr, "bench_qac: %s needs a number, got '%s'\n", k.c_str(), v.c_str());
      return is_num;
    };
    if (k == "--data-dir") {
      a->data_dir = v;
    } else if (k == "--out") {
      a->out = v;
    } else if (k == "--methods") {
      a->methods = SplitComma(v);
    } else if (k == "--pair-rule") {
      a->pair_rule = v;
    } else if (k == "--embedding") {
      a->embedding = v;
    } else if (k == "--save-dir") {
      a->save_dir = v;
    } else if (k == "--tune-beta") {
      for (const std::string& b : SplitComma(v))
        a->tune_beta.push_back(std::strtod(b.c_str(), nullptr));
    } else if (k == "--tune-candidates") {
      for (const std::string& c : SplitComma(v)) {
        const long n = std::strtol(c.c_str(), nullptr, 10);
        if (n < 1) return false;
        a->tune_candidates.push_back(static_cast<int>(n));
      }
    } else if (!need_num()) {
      return false;
    } else if (k == "--threads") {
      a->threads = static_cast<int>(num);
    } else if (k == "--max-train-pairs") {
      a->max_train_pairs = static_cast<std::int64_t>(num);
    } else if (k == "--max-test-pairs") {
      a->max_test_pairs = static_cast<std::int64_t>(num);
    } else if (k == "--max-labels") {
      a->max_labels = static_cast<std::int64_t>(num);
    } else if (k == "--latency-queries") {
      a->latency_queries = static_cast<int>(num);
    } else if (k == "--beam") {
      a->beam = static_cast<int>(num);
    } else if (k == "--prev-weight") {
      a->prev_weight = num;
    } else if (k == "--decay") {
      a->decay = num;
    } else if (k == "--trie-depth") {
      a->trie_depth = static_cast<int>(num);
    } else if (k == "--hybrid-depth") {
      a->hybrid_depth = static_cast<int>(num);
    } else if (k == "--leaf") {
      a->leaf = static_cast<int>(num);
    } else if (k == "--nr-splits") {
      a->nr_splits = static_cast<int>(num);
    } else if (k == "--solver-iter") {
      a->solver_iter = static_cast<int>(num);
    } else if (k == "--prior-beta") {
      a->prior_beta = num;
    } else if (k == "--prior-candidates") {
      a->prior_candidates = static_cast<int>(num);
    } else if (k == "--valid-fraction") {
      a->valid_fraction = num;
    } else if (k == "--seed") {
      a->seed = static_cast<std::uint64_t>(num);
    } else {
      std::fprintf(stderr, "bench_qac: unknown option %s\n%s", k.c_str(), kUsage);
      return false;
    }
  }
  for (const std::string& m : a->methods) {
    if (m != "mpc" && m != "kmeans" && m != "trie" && m != "hybrid") {
      std::fprintf(stderr, "bench_qac: unknown method '%s'\n", m.c_str());
      return false;
    }
  }
  return true;
}

std::string JsonEscape(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      o += StrFormat("\\u%04x", c);
    } else {
      o += c;
    }
  }
  return o;
}

struct Latency {
  std::int64_t n = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, mean_us = 0, max_us = 0;
  std::int64_t violations = 0;
};

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const std::size_t i = static_cast<std::size_t>(std::ceil(q * sorted.size())) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

Latency Summarize(std::vector<double> us) {
  Latency l;
  l.n = static_cast<std::int64_t>(us.size());
  std::sort(us.begin(), us.end());
  l.p50_us = Percentile(us, 0.50);
  l.p90_us = Percentile(us, 0.90);
  l.p99_us = Percentile(us, 0.99);
  l.max_us = us.empty() ? 0 : us.back();
  double s = 0;
  for (double v : us) s += v;
  l.mean_us = us.empty() ? 0 : s / us.size();
  return l;
}

struct Result {
  std::string method;
  QacMetrics metrics;
  double train_seconds = 0;  // featurise + index + train (mpc: building the structure)
  double featurize_seconds = 0, index_seconds = 0, solve_seconds = 0;
  int tree_depth = 0;
  double complete_seconds = 0;  // batch completion of the whole test split
  std::int64_t violations = 0;  // batch answers not extending their prefix
  std::int64_t empty_answers = 0;
  Latency latency;
  std::int64_t model_bytes = 0;
};

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::int64_t FileSize(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<std::int64_t>(f.tellg()) : -1;
}

// The pairs [begin, end) of `split` (in pair order) with their examples, renumbered.
QacSplit SubSplit(const QacSplit& split, std::size_t begin, std::size_t end) {
  QacSplit out;
  out.pairs.assign(split.pairs.begin() + begin, split.pairs.begin() + end);
  for (const QacExample& e : split.examples) {
    if (e.pair < static_cast<std::int32_t>(begin) || e.pair >= static_cast<std::int32_t>(end)) {
      continue;
    }
    QacExample c = e;
    c.pair -= static_cast<std::int32_t>(begin);
    out.examples.push_back(c);
  }
  return out;
}

// --tune-beta: the prior weight is chosen on a validation split carved from the training pairs
// (the last valid_fraction of them); the frequencies are counted on the rest only.
int TuneBeta(const Args& args, const QacDataset& d, const QacModelOptions& base,
             const QacMetricsOptions& mopt, const Context& ctx) {
  const std::size_t n_pairs = d.train.pairs.size();
  const std::size_t cut =
      n_pairs - static_cast<std::size_t>(std::llround(args.valid_fraction * n_pairs));
  const QacSplit fit = SubSplit(d.train, 0, cut);
  const QacSplit valid = SubSplit(d.train, cut, n_pairs);
  std::printf(
      "## prior_beta validation: fit %zu pairs / %lld examples, validation %zu pairs / "
      "%lld examples (last %.0f%% of the train pairs), prior_candidates %d\n\n",
      fit.pairs.size(), static_cast<long long>(fit.size()), valid.pairs.size(),
      static_cast<long long>(valid.size()), 100 * args.valid_fraction, args.prior_candidates);
  std::printf(
      "| method | beta / candidates | MRR@10 avg 1-8 | S@1 | S@5 | S@10 "
      "|\n|---|---|---|---|---|---|\n");
  for (const std::string& method : args.methods) {
    if (method == "mpc") {
      // Most-popular completion with the fit-part counts, for reference.
      std::vector<std::int64_t> freq(d.labels.size(), 0);
      for (const QacPair& p : fit.pairs) ++freq[p.label];
      const MostPopularCompleter mpc(d.labels, freq);
      const QacMetrics m = EvaluateQac(valid, mpc.CompleteAll(valid, 10, args.threads), d.labels,
                                       mopt, args.threads);
      std::printf("| mpc | - | %.4f | %.4f | %.4f | %.4f |\n", m.averaged.mrr,
                  m.averaged.success[0], m.averaged.success[1], m.averaged.success[2]);
      continue;
    }
    QacModelOptions mo = base;
    mo.indexer = ParseQacIndexerKind(method);
    Log(ctx, "tune: training " + method + " on the fit part");
    const QacModel m = QacModel::Train(d.labels, fit, mo, ctx);
    const PredictOptions po = DefaultPredictOptions(m.model());
    std::vector<int> candidates = args.tune_candidates;
    if (candidates.empty()) candidates.push_back(args.prior_candidates);
    for (int cand : candidates) {
      for (double beta : args.tune_beta) {
        const QacModel mb = m.WithPrior(static_cast<float>(beta), cand);
        const QacMetrics r =
            EvaluateQac(valid, mb.CompleteAll(valid, po, ctx), d.labels, mopt, args.threads);
        std::printf("| %s | %g / %d | %.4f | %.4f | %.4f | %.4f |\n", method.c_str(), beta, cand,
                    r.averaged.mrr, r.averaged.success[0], r.averaged.success[1],
                    r.averaged.success[2]);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

int Run(const Args& args) {
  Context ctx;
  ctx.threads = args.threads;
  ctx.seed = args.seed;
  ctx.verbose = args.quiet ? 0 : 1;
  const std::string data_dir = args.data_dir.empty() ? "../shared/data" : args.data_dir;
  const std::string path = data_dir + "/aol-queries-1m/aol_2006_1M_queries.txt.xz";

  QacDataOptions dopt;
  dopt.pair_rule = ParsePairRule(args.pair_rule);
  dopt.max_train_pairs = args.max_train_pairs;
  dopt.max_test_pairs = args.max_test_pairs;
  dopt.max_labels = args.max_labels;
  dopt.seed = args.seed;
  Timer timer;
  const QacDataset d = BuildQacDatasetFromFile(path, dopt, ctx);
  const double data_seconds = timer.Seconds();
  Log(ctx, "data: " + d.stats.Summary());
  Log(ctx, StrFormat("data: %d labels, %lld train examples (%zu pairs), %lld test examples "
                     "(%zu pairs), %.1fs",
                     d.n_labels(), static_cast<long long>(d.train.size()), d.train.pairs.size(),
                     static_cast<long long>(d.test.size()), d.test.pairs.size(), data_seconds));

  QacMetricsOptions mopt;
  mopt.success_k = {1, 5, 10};

  // Latency keystrokes: a seeded uniform sample of test examples (with their pairs' contexts).
  std::vector<std::int64_t> keys(static_cast<std::size_t>(d.test.size()));
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<std::int64_t>(i);
  std::mt19937_64 rng(args.seed + 17);
  std::shuffle(keys.begin(), keys.end(), rng);
  if (keys.size() > static_cast<std::size_t>(args.latency_queries)) {
    keys.resize(args.latency_queries);
  }

  QacModelOptions mo;
  mo.prev_weight = static_cast<float>(args.prev_weight);
  mo.label_vectorizer.position_decay = args.decay;
  mo.label_embedding = ParseQacLabelEmbedding(args.embedding);
  mo.kmeans.max_leaf_size = args.leaf;
  mo.kmeans.nr_splits = args.nr_splits;
  mo.trie.depth = args.trie_depth;
  mo.hybrid.trie_depth = args.hybrid_depth;
  mo.hybrid.kmeans = mo.kmeans;
  mo.train.solver.max_iter = args.solver_iter;
  mo.train.beam_size = args.beam;
  mo.train.top_k = 10;
  if (args.prior_beta >= 0) mo.prior_beta = static_cast<float>(args.prior_beta);
  mo.prior_candidates = args.prior_candidates;
  if (!args.tune_beta.empty()) return TuneBeta(args, d, mo, mopt, ctx);

  std::vector<Result> results;
  for (const std::string& method : args.methods) {
    Result r;
    r.method = method;
    std::vector<std::vector<Index>> ranked;
    std::vector<double> us;
    us.reserve(keys.size());
    if (method == "mpc") {
      timer.Reset();
      const MostPopularCompleter mpc(d);
      r.train_seconds = timer.Seconds();
      timer.Reset();
      ranked = mpc.CompleteAll(d.test, 10, args.threads);
      r.complete_seconds = timer.Seconds();
      std::vector<Index> out;
      for (std::int64_t i : keys) {
        const auto t0 = std::chrono::steady_clock::now();
        mpc.Complete(d.test.prefix(i), 10, &out);
        const auto t1 = std::chrono::steady_clock::now();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        for (Index id : out) r.latency.violations += !StartsWith(d.labels[id], d.test.prefix(i));
      }
    } else {
      mo.indexer = ParseQacIndexerKind(method);
      QacTrainReport rep;
      Log(ctx, "training " + method);
      const QacModel m = QacModel::Train(d, mo, ctx, &rep);
      r.train_seconds = rep.total_seconds;
      r.featurize_seconds = rep.featurize_seconds;
      r.index_seconds = rep.index_seconds;
      r.solve_seconds = rep.train_seconds;
      r.tree_depth = rep.tree_depth;
      Log(ctx,
          StrFormat("%s: trained in %.1fs (featurise %.1f, index %.1f, solve %.1f), "
                    "depth %d, %lld weights",
                    method.c_str(), rep.total_seconds, rep.featurize_seconds, rep.index_seconds,
                    rep.train_seconds, rep.tree_depth, static_cast<long long>(m.model().nnz())));
      if (!args.save_dir.empty()) {
        const std::string file = args.save_dir + "/qac_" + method + ".xmr";
        m.Save(file);
        r.model_bytes = FileSize(file);
      }
      const PredictOptions po = DefaultPredictOptions(m.model());
      if (mo.prior_beta > 0) {
        // The same model without the prior (batch metrics only; no latency).
        Result r0;
        r0.method = method + "/b0";
        timer.Reset();
        const auto ranked0 = m.WithPrior(0, mo.prior_candidates).CompleteAll(d.test, po, ctx);
        r0.complete_seconds = timer.Seconds();
        for (std::int64_t i = 0; i < d.test.size(); ++i) {
          r0.empty_answers += ranked0[i].empty();
          for (Index id : ranked0[i]) r0.violations += !StartsWith(d.labels[id], d.test.prefix(i));
        }
        r0.metrics = EvaluateQac(d.test, ranked0, d.labels, mopt, args.threads);
        r0.train_seconds = rep.total_seconds;
        Log(ctx,
            StrFormat("%s: MRR@10 (avg 1-8) %.4f", r0.method.c_str(), r0.metrics.averaged.mrr));
        results.push_back(std::move(r0));
      }
      timer.Reset();
      ranked = m.CompleteAll(d.test, po, ctx);
      r.complete_seconds = timer.Seconds();
      QacSearcher s(m);
      std::vector<ScoredLabel> out;
      for (std::size_t w = 0; w < std::min<std::size_t>(200, keys.size()); ++w) {
        s.Complete(d.test.prev(keys[w]), d.test.prefix(keys[w]), 10, &out);  // warm-up
      }
      for (std::int64_t i : keys) {
        const auto t0 = std::chrono::steady_clock::now();
        s.Complete(d.test.prev(i), d.test.prefix(i), 10, &out);
        const auto t1 = std::chrono::steady_clock::now();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        for (const ScoredLabel& c : out) {
          r.latency.violations += !StartsWith(d.labels[c.label], d.test.prefix(i));
        }
      }
    }
    const std::int64_t lat_violations = r.latency.violations;
    r.latency = Summarize(std::move(us));
    r.latency.violations = lat_violations;
    for (std::int64_t i = 0; i < d.test.size(); ++i) {
      r.empty_answers += ranked[i].empty();
      for (Index id : ranked[i]) r.violations += !StartsWith(d.labels[id], d.test.prefix(i));
    }
    r.metrics = EvaluateQac(d.test, ranked, d.labels, mopt, args.threads);
    Log(ctx, StrFormat("%s: MRR@10 (avg 1-8) %.4f, violations %lld + %lld, latency p50 %.0fus "
                       "p99 %.0fus",
                       method.c_str(), r.metrics.averaged.mrr, static_cast<long long>(r.violations),
                       static_cast<long long>(r.latency.violations), r.latency.p50_us,
                       r.latency.p99_us));
    results.push_back(std::move(r));
  }

  // ----- tables -----
  std::printf("## QAC on AOL 2006 (1M rows): %s\n\n", d.stats.Summary().c_str());
  std::printf(
      "pair rule %s, %d labels, train %zu pairs / %lld examples, test %zu pairs / %lld "
      "examples (prefix lengths 1-8), %d threads for training and batch completion\n\n",
      args.pair_rule.c_str(), d.n_labels(), d.train.pairs.size(),
      static_cast<long long>(d.train.size()), d.test.pairs.size(),
      static_cast<long long>(d.test.size()), args.threads);
  std::printf(
      "xmr options: beam %d, prev_weight %g, label embedding %s (char_wb 1-3, decay %g), "
      "kmeans leaf %d / %d-ary, trie depth %d, hybrid trie depth %d, solver max_iter %d, "
      "popularity prior beta %g over %d candidates (METHOD/b0: same model, beta 0; no latency "
      "run)\n\n",
      args.beam, args.prev_weight, args.embedding.c_str(), args.decay, args.leaf, args.nr_splits,
      args.trie_depth, args.hybrid_depth, args.solver_iter, static_cast<double>(mo.prior_beta),
      mo.prior_candidates);
  std::printf(
      "| method | MRR@10 avg 1-8 | S@1 | S@5 | S@10 | BLEU | MRR@10 all | train s | "
      "batch s | violations | empty | p50 us | p90 us | p99 us |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const Result& r : results) {
    const QacMetricsRow& a = r.metrics.averaged;
    std::printf(
        "| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f | %.2f | %lld | %lld | "
        "%.0f | %.0f | %.0f |\n",
        r.method.c_str(), a.mrr, a.success[0], a.success[1], a.success[2], a.bleu,
        r.metrics.overall.mrr, r.train_seconds, r.complete_seconds,
        static_cast<long long>(r.violations + r.latency.violations),
        static_cast<long long>(r.empty_answers), r.latency.p50_us, r.latency.p90_us,
        r.latency.p99_us);
  }
  std::printf("\n### MRR@10 by prefix length\n\n| method |");
  for (int p = 1; p <= 8; ++p) std::printf(" %d |", p);
  std::printf(" avg 1-8 |\n|---|");
  for (int p = 0; p <= 8; ++p) std::printf("---|");
  std::printf("\n");
  const char* names[] = {"MRR@10", "S@1", "S@5", "S@10"};
  for (int which = 0; which < 4; ++which) {
    if (which > 0) {
      std::printf("\n### %s by prefix length\n\n| method |", names[which]);
      for (int p = 1; p <= 8; ++p) std::printf(" %d |", p);
      std::printf(" avg 1-8 |\n|---|");
      for (int p = 0; p <= 8; ++p) std::printf("---|");
      std::printf("\n");
    }
    for (const Result& r : results) {
      std::printf("| %s |", r.method.c_str());
      for (int p = 1; p <= 8; ++p) {
        const std::size_t j = static_cast<std::size_t>(p - 1);
        const QacMetricsRow* row =
            j < r.metrics.by_prefix_len.size() ? &r.metrics.by_prefix_len[j] : nullptr;
        const double v = row == nullptr ? 0 : (which == 0 ? row->mrr : row->success[which - 1]);
        std::printf(" %.4f |", v);
      }
      const QacMetricsRow& a = r.metrics.averaged;
      std::printf(" %.4f |\n", which == 0 ? a.mrr : a.success[which - 1]);
    }
  }
  std::printf(
      "\nlatency: one thread, QacSearcher::Complete(prev, prefix, 10) (featurisation "
      "included; mpc: prefix lookup only) over %zu random test keystrokes\n",
      keys.size());

  // ----- JSON -----
  std::ofstream js(args.out);
  if (!js) throw Error(ErrorCode::kIoError, "cannot write " + args.out);
  js << StrFormat(
      "{\"bench\":\"qac\",\"data\":\"%s\",\"pair_rule\":\"%s\",\"max_train_pairs\":%lld,"
      "\"max_test_pairs\":%lld,\"max_labels\":%lld,\"threads\":%d,\"seed\":%llu,\"labels\":%d,"
      "\"train_pairs\":%zu,\"train_examples\":%lld,\"test_pairs\":%zu,\"test_examples\":%lld,"
      "\"test_label_coverage\":%.6f,\"stats\":\"%s\",\"data_seconds\":%.3f,\"beam\":%d,"
      "\"prev_weight\":%g,\"decay\":%g,\"embedding\":\"%s\",\"leaf\":%d,\"nr_splits\":%d,"
      "\"trie_depth\":%d,\"hybrid_depth\":%d,\"solver_iter\":%d,\"latency_queries\":%zu,"
      "\"prior_beta\":%g,\"prior_candidates\":%d}\n",
      JsonEscape(path).c_str(), args.pair_rule.c_str(),
      static_cast<long long>(args.max_train_pairs), static_cast<long long>(args.max_test_pairs),
      static_cast<long long>(args.max_labels), args.threads,
      static_cast<unsigned long long>(args.seed), d.n_labels(), d.train.pairs.size(),
      static_cast<long long>(d.train.size()), d.test.pairs.size(),
      static_cast<long long>(d.test.size()), d.stats.test_label_coverage(),
      JsonEscape(d.stats.Summary()).c_str(), data_seconds, args.beam, args.prev_weight, args.decay,
      args.embedding.c_str(), args.leaf, args.nr_splits, args.trie_depth, args.hybrid_depth,
      args.solver_iter, keys.size(), static_cast<double>(mo.prior_beta), mo.prior_candidates);
  auto row_json = [](const QacMetricsRow& r) {
    return StrFormat("{\"n\":%lld,\"mrr\":%.6f,\"s1\":%.6f,\"s5\":%.6f,\"s10\":%.6f,\"bleu\":%.6f}",
                     static_cast<long long>(r.n), r.mrr, r.success[0], r.success[1], r.success[2],
                     r.bleu);
  };
  for (const Result& r : results) {
    std::string by;
    for (std::size_t j = 0; j < r.metrics.by_prefix_len.size(); ++j) {
      by += (j ? "," : "") + row_json(r.metrics.by_prefix_len[j]);
    }
    js << StrFormat(
        "{\"method\":\"%s\",\"averaged_1_8\":%s,\"overall\":%s,\"by_prefix_len\":[%s],"
        "\"train_seconds\":%.3f,\"featurize_seconds\":%.3f,\"index_seconds\":%.3f,"
        "\"solve_seconds\":%.3f,\"tree_depth\":%d,\"batch_complete_seconds\":%.3f,"
        "\"violations\":%lld,\"latency_violations\":%lld,\"empty_answers\":%lld,"
        "\"latency\":{\"n\":%lld,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,"
        "\"mean_us\":%.2f,\"max_us\":%.2f},\"model_bytes\":%lld}\n",
        r.method.c_str(), row_json(r.metrics.averaged).c_str(), row_json(r.metrics.overall).c_str(),
        by.c_str(), r.train_seconds, r.featurize_seconds, r.index_seconds, r.solve_seconds,
        r.tree_depth, r.complete_seconds, static_cast<long long>(r.violations),
        static_cast<long long>(r.latency.violations), static_cast<long long>(r.empty_answers),
        static_cast<long long>(r.latency.n), r.latency.p50_us, r.latency.p90_us, r.latency.p99_us,
        r.latency.mean_us, r.latency.max_us, static_cast<long long>(r.model_bytes));
  }
  std::printf("json: %s\n", args.out.c_str());
  std::int64_t total_violations = 0;
  for (const Result& r : results) total_violations += r.violations + r.latency.violations;
  return total_violations == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) return 2;
  try {
    return Run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_qac: %s\n", e.what());
    return 1;
  }
}
