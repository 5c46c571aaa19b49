// End-to-end bench: read -> index+train -> save -> load -> batch predict -> single-query
// latency -> P@k, for one data set per process (so the peak RSS is that data set's). Prints one
// markdown table row on stdout (two rows and a ratio line with --compare-device) and appends one
// JSON object per row to --json. Progress goes to stderr unless --quiet. Run all data sets with
// bench/run_pipeline.sh.
//
//   bench_pipeline --name bibtex --train data/bibtex_train.txt.xz --test data/bibtex_test.txt.xz
//                  [--threads 2] [--device auto|cpu|cuda] [--compare-device cpu|cuda]
//                  [--train-repeats 3] [--predict-repeats 5] [--latency-queries 5000]
//                  [--seed 0] [--json out.json] [--model /tmp/m.xmr] [--quiet]
//   bench_pipeline --header      # prints the table header matching the rows
//
// Exit status: 0 on success, 2 for a bad command line, 1 for any failure (unreadable data,
// --device cuda without a usable CUDA device: never a silent fallback to the CPU).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/log.h"
#include "train/level_solver.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace {

using namespace xmr;

const char kUsage[] =
    "usage: bench_pipeline --name N --train FILE --test FILE [--threads N] "
    "[--device auto|cpu|cuda]\n"
    "                      [--compare-device cpu|cuda] [--train-repeats 3] [--predict-repeats 5]\n"
    "                      [--latency-queries 5000] [--seed S] [--json FILE] [--model FILE] "
    "[--quiet]\n"
    "       bench_pipeline --header\n";

// Column layout shared by the header and the rows (keep them in step).
const char kHeader[] =
    "| data             | dev  |   train |   test | features |  labels |  in MB | index s | "
    "levels s | train s | predict q/s | p50 ms | p99 ms | p999ms | weights | model MB | "
    "peak MB |    P@1 |    P@3 |    P@5 |   R@10 | nDCG@5 |\n"
    "|------------------|------|---------|--------|----------|---------|--------|---------|"
    "----------|---------|-------------|--------|--------|--------|---------|----------|"
    "---------|--------|--------|--------|--------|--------|\n";

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

double PeakRssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

// Resets VmHWM to the current RSS (Linux >= 4.0); false where that is not possible.
bool ResetPeakRss() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

long FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<long>(f.tellg()) : -1;
}

// Bytes a CSR matrix holds in memory (indptr + indices + values).
double CsrBytes(const CsrMatrix& m) {
  return static_cast<double>(m.indptr.size() * sizeof(Offset) + m.indices.size() * sizeof(Index) +
                             m.data.size() * sizeof(float));
}

std::string Count(double v) {
  if (v >= 1e9) return StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return StrFormat("%.2fM", v / 1e6);
  if (v >= 1e4) return StrFormat("%.1fK", v / 1e3);
  return StrFormat("%.0f", v);
}

// JSON string body: the names used here are file stems, but keep the output valid anyway.
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

template <typename T, typename F>
std::string JsonArray(const std::vector<T>& v, F&& fmt) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + fmt(v[i]);
  return s + "]";
}

struct Args {
  std::string name, train_path, test_path, json_path;
  std::string model_path;  // default: /tmp/xmr_bench_model.<pid>.xmr
  std::string device = "auto", compare_device;
  int threads = 0, train_repeats = 3, predict_repeats = 5, latency_queries = 5000;
  unsigned long long seed = 0;
  bool quiet = false, header = false;
};

// Parses argv into *a; returns false (after printing why) on a bad command line.
bool ParseArgs(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--quiet") {
      a->quiet = true;
      continue;
    }
    if (k == "--header") {
      a->header = true;
      continue;
    }
    if (k == "--help" || k == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_pipeline: option %s needs a value\n%s", k.c_str(), kUsage);
      return false;
    }
    const std::string v = argv[++i];
    try {
      if (k == "--name") {
        a->name = v;
      } else if (k == "--train") {
        a->train_path = v;
      } else if (k == "--test") {
        a->test_path = v;
      } else if (k == "--json") {
        a->json_path = v;
      } else if (k == "--model") {
        a->model_path = v;
      } else if (k == "--device") {
        a->device = v;
      } else if (k == "--compare-device") {
        a->compare_device = v;
      } else if (k == "--threads") {
        a->threads = std::stoi(v);
      } else if (k == "--train-repeats") {
        a->train_repeats = std::stoi(v);
      } else if (k == "--predict-repeats") {
        a->predict_repeats = std::stoi(v);
      } else if (k == "--latency-queries") {
        a->latency_queries = std::stoi(v);
      } else if (k == "--seed") {
        a->seed = std::stoull(v);
      } else {
        std::fprintf(stderr, "bench_pipeline: unknown option %s\n%s", k.c_str(), kUsage);
        return false;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "bench_pipeline: bad value '%s' for %s\n", v.c_str(), k.c_str());
      return false;
    }
  }
  if (a->header) return true;
  if (a->model_path.empty()) {
    a->model_path = StrFormat("/tmp/xmr_bench_model.%ld.xmr", static_cast<long>(getpid()));
  }
  if (a->name.empty() || a->train_path.empty() || a->test_path.empty()) {
    std::fprintf(stderr, "bench_pipeline: --name, --train and --test are required\n%s", kUsage);
    return false;
  }
  if (a->train_repeats < 1 || a->predict_repeats < 1 || a->latency_queries < 0) {
    std::fprintf(stderr,
                 "bench_pipeline: --train-repeats and --predict-repeats must be >= 1, "
                 "--latency-queries >= 0\n");
    return false;
  }
  try {
    ParseDeviceKind(a->device);
    if (!a->compare_device.empty() && ParseDeviceKind(a->compare_device) == DeviceKind::kAuto) {
      std::fprintf(stderr, "bench_pipeline: --compare-device must be cpu or cuda\n");
      return false;
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_pipeline: %s\n", e.what());
    return false;
  }
  return true;
}

// Everything measured for one device: one table row and one JSON object.
struct Result {
  std::string device;  // resolved backend ("cpu" / "cuda")
  std::vector<double> total_s, index_s, levels_s;
  std::vector<std::vector<double>> level_s;  // [repeat][level]
  TrainReport report;                        // last run: level shapes, pairs, weights
  Offset model_nnz = 0;
  long model_bytes = 0;
  double load_s = 0;
  std::vector<double> predict_s;
  std::vector<double> latency_ms;
  RankingMetrics metrics;
  double peak_train_mb = 0;  // VmHWM right after training
  double peak_mb = 0;        // VmHWM at the end of the run
};

// Fails before any work when training cannot run on ctx.device (the same choice Train makes);
// the message names the option that asked for the device.
void CheckDevice(const Context& ctx, const char* option) {
  Context quiet = ctx;
  quiet.verbose = 0;
  try {
    MakeLevelSolver(quiet);  // throws Error(kNotSupported) for device=cuda without CUDA training
  } catch (const Error& e) {
    throw Error(e.code(),
                StrFormat("%s %s: %s", option, DeviceKindName(ctx.device), e.message().c_str()));
  }
}

Result RunOnDevice(const Dataset& train, const Dataset& test, const Args& a, const Context& ctx,
                   const std::string& label) {
  Result r;
  const TrainOptions opts;
  XLinearModel model;
  for (int rep = 0; rep < a.train_repeats; ++rep) {
    model = XLinearModel();  // free the previous run's model first
    const Timer t;
    model = Train(train.x.view(), train.y.view(), opts, ctx, &r.report);
    const double wall = t.Seconds();
    r.total_s.push_back(wall);
    r.index_s.push_back(r.report.index_seconds);
    r.levels_s.push_back(r.report.train_seconds);
    std::vector<double> per_level;
    for (const LevelReport& lv : r.report.levels) per_level.push_back(lv.seconds);
    r.level_s.push_back(per_level);
    Log(ctx, StrFormat("bench %s: train run %d/%d on %s: %.2f s (index %.2f s, levels %.2f s)",
                       label.c_str(), rep + 1, a.train_repeats, r.report.device.c_str(), wall,
                       r.report.index_seconds, r.report.train_seconds));
  }
  r.device = r.report.device;
  r.peak_train_mb = PeakRssMb();
  r.model_nnz = model.nnz();
  SaveModel(model, a.model_path);
  model = XLinearModel();
  r.model_bytes = FileBytes(a.model_path);
  Timer t;
  const XLinearModel loaded = LoadModel(a.model_path);
  r.load_s = t.Seconds();
  std::remove(a.model_path.c_str());

  PredictOptions po;
  CsrMatrix pred;
  for (int rep = 0; rep < a.predict_repeats; ++rep) {
    pred = CsrMatrix();
    t.Reset();
    pred = Predict(loaded, test.x.view(), po, ctx);
    r.predict_s.push_back(t.Seconds());
  }
  Log(ctx, StrFormat("bench %s: batch prediction of %d rows: median %.4f s", label.c_str(),
                     test.x.rows, Median(r.predict_s)));
  r.metrics = Evaluate(pred.view(), test.y.view(), 10);

  Searcher searcher(loaded);
  std::vector<ScoredLabel> out;
  const Index nq = std::min<Index>(test.x.rows, a.latency_queries);
  for (Index i = 0; i < nq; ++i) searcher.Search(test.x.view().row(i), po, &out);  // warm-up
  r.latency_ms.reserve(nq);
  for (Index i = 0; i < nq; ++i) {
    t.Reset();
    searcher.Search(test.x.view().row(i), po, &out);
    r.latency_ms.push_back(t.Seconds() * 1e3);
    if (out.empty() && loaded.n_labels() > 0) {
      throw Error(ErrorCode::kInternal, "single-query search returned no label");
    }
  }
  r.peak_mb = PeakRssMb();
  return r;
}

struct DataInfo {
  Index n_train = 0, n_test = 0, n_features = 0, n_labels = 0;
  double input_mb = 0, test_input_mb = 0, read_s = 0;
};

void PrintRow(const Args& a, const DataInfo& d, const Result& r) {
  const double pred_s = Median(r.predict_s);
  std::printf(
      "| %-16s | %-4s | %7d | %6d | %8d | %7d | %6.1f | %7.2f | %8.2f | %7.2f | %11.0f | %6.3f | "
      "%6.3f | %6.3f | %7s | %8.1f | %7.1f | %6.2f | %6.2f | %6.2f | %6.2f | %6.2f |\n",
      a.name.c_str(), r.device.c_str(), d.n_train, d.n_test, d.n_features, d.n_labels, d.input_mb,
      Median(r.index_s), Median(r.levels_s), Median(r.total_s),
      pred_s > 0 ? d.n_test / pred_s : 0.0, Percentile(r.latency_ms, 0.5),
      Percentile(r.latency_ms, 0.99), Percentile(r.latency_ms, 0.999),
      Count(static_cast<double>(r.model_nnz)).c_str(), r.model_bytes / 1e6, r.peak_mb,
      r.metrics.precision[0], r.metrics.precision[2], r.metrics.precision[4], r.metrics.recall[9],
      r.metrics.ndcg[4]);
  std::fflush(stdout);
}

// Per-level medians over the training repeats (every repeat builds the same tree).
std::vector<double> LevelMedians(const Result& r) {
  std::vector<double> med;
  const size_t depth = r.report.levels.size();
  for (size_t t = 0; t < depth; ++t) {
    std::vector<double> v;
    for (const auto& run : r.level_s) {
      if (t < run.size()) v.push_back(run[t]);
    }
    med.push_back(Median(v));
  }
  return med;
}

// `extra` is appended inside the object (already starting with a comma, or empty).
void AppendJson(const Args& a, const Context& ctx, const DataInfo& d, const Result& r,
                const std::string& extra) {
  if (a.json_path.empty()) return;
  FILE* f = std::fopen(a.json_path.c_str(), "a");
  if (!f) {
    std::fprintf(stderr, "bench_pipeline: cannot append to %s\n", a.json_path.c_str());
    return;
  }
  const double pred_s = Median(r.predict_s);
  const auto num = [](double v) { return StrFormat("%.4f", v); };
  const auto integer = [](auto v) { return std::to_string(v); };
  std::vector<Index> nodes;
  std::vector<Offset> pairs, weights;
  for (const LevelReport& lv : r.report.levels) {
    nodes.push_back(lv.n_nodes);
    pairs.push_back(lv.n_pairs);
    weights.push_back(lv.n_weights);
  }
  std::fprintf(
      f,
      "{\"name\":\"%s\",\"device\":\"%s\",\"threads\":%d,\"n_train\":%d,\"n_test\":%d,"
      "\"n_features\":%d,\"n_labels\":%d,\"input_mb\":%.3f,\"test_input_mb\":%.3f,"
      "\"read_s\":%.3f,\"train_runs\":%d,\"index_s_median\":%.4f,\"levels_s_median\":%.4f,"
      "\"train_s_median\":%.4f,\"level_s_median\":%s,\"level_nodes\":%s,\"level_pairs\":%s,"
      "\"level_weights\":%s,\"load_s\":%.4f,\"predict_runs\":%d,\"predict_s_median\":%.4f,"
      "\"predict_qps\":%.1f,\"latency_queries\":%zu,\"latency_ms_p50\":%.4f,"
      "\"latency_ms_p99\":%.4f,\"latency_ms_p999\":%.4f,\"model_nnz\":%lld,\"model_bytes\":%ld,"
      "\"peak_rss_train_mb\":%.1f,\"peak_rss_mb\":%.1f,\"p1\":%.2f,\"p3\":%.2f,\"p5\":%.2f,"
      "\"r10\":%.2f,\"ndcg5\":%.2f%s}\n",
      JsonEscape(a.name).c_str(), r.device.c_str(), ctx.NumThreads(), d.n_train, d.n_test,
      d.n_features, d.n_labels, d.input_mb, d.test_input_mb, d.read_s, a.train_repeats,
      Median(r.index_s), Median(r.levels_s), Median(r.total_s),
      JsonArray(LevelMedians(r), num).c_str(), JsonArray(nodes, integer).c_str(),
      JsonArray(pairs, integer).c_str(), JsonArray(weights, integer).c_str(), r.load_s,
      a.predict_repeats, pred_s, pred_s > 0 ? d.n_test / pred_s : 0.0, r.latency_ms.size(),
      Percentile(r.latency_ms, 0.5), Percentile(r.latency_ms, 0.99),
      Percentile(r.latency_ms, 0.999), static_cast<long long>(r.model_nnz), r.model_bytes,
      r.peak_train_mb, r.peak_mb, r.metrics.precision[0], r.metrics.precision[2],
      r.metrics.precision[4], r.metrics.recall[9], r.metrics.ndcg[4], extra.c_str());
  std::fclose(f);
}

double Ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!ParseArgs(argc, argv, &a)) return 2;
  if (a.header) {
    std::fputs(kHeader, stdout);
    return 0;
  }
  try {
    Context ctx;
    ctx.threads = a.threads;
    ctx.seed = a.seed;
    ctx.verbose = a.quiet ? 0 : 1;
    ctx.device = ParseDeviceKind(a.device);
    Context ctx2 = ctx;
    // Both devices are checked before the data is read: an unusable GPU fails in a second.
    CheckDevice(ctx, "--device");
    if (!a.compare_device.empty()) {
      ctx2.device = ParseDeviceKind(a.compare_device);
      CheckDevice(ctx2, "--compare-device");
    }

    Timer t;
    Dataset train = ReadDataFile(a.train_path);
    Dataset test = ReadDataFile(a.test_path);
    NormalizeRowsL2(&train.x);
    NormalizeRowsL2(&test.x);
    test.x.cols = std::max(test.x.cols, train.x.cols);
    DataInfo d;
    d.read_s = t.Seconds();
    d.n_train = train.x.rows;
    d.n_test = test.x.rows;
    d.n_features = train.x.cols;
    d.n_labels = train.y.cols;
    d.input_mb = (CsrBytes(train.x) + CsrBytes(train.y)) / 1e6;
    d.test_input_mb = (CsrBytes(test.x) + CsrBytes(test.y)) / 1e6;
    Log(ctx, StrFormat("bench %s: read %d train + %d test rows, %d features, %d labels "
                       "(%.1f MB as CSR) in %.2f s",
                       a.name.c_str(), d.n_train, d.n_test, d.n_features, d.n_labels, d.input_mb,
                       d.read_s));

    const Result r1 = RunOnDevice(train, test, a, ctx, a.name);
    PrintRow(a, d, r1);
    AppendJson(a, ctx, d, r1, "");
    if (!a.compare_device.empty()) {
      // The second run's peak starts from the resident data (the first model is gone).
      const bool reset = ResetPeakRss();
      if (!reset) {
        Log(ctx, "bench: cannot reset VmHWM; the second row's peak covers the whole process");
      }
      const Result r2 = RunOnDevice(train, test, a, ctx2, a.name);
      PrintRow(a, d, r2);
      const double ratio = Ratio(Median(r2.total_s), Median(r1.total_s));
      const double dp1 = r2.metrics.precision[0] - r1.metrics.precision[0];
      const double dp3 = r2.metrics.precision[2] - r1.metrics.precision[2];
      const double dp5 = r2.metrics.precision[4] - r1.metrics.precision[4];
      std::printf(
          "ratio %s %s/%s: train %.3fx (index %.3fx, levels %.3fx), P@1 %+.2f, P@3 %+.2f, "
          "P@5 %+.2f\n",
          a.name.c_str(), r2.device.c_str(), r1.device.c_str(), ratio,
          Ratio(Median(r2.index_s), Median(r1.index_s)),
          Ratio(Median(r2.levels_s), Median(r1.levels_s)), dp1, dp3, dp5);
      AppendJson(
          a, ctx2, d, r2,
          StrFormat(",\"compare_to\":\"%s\",\"train_ratio\":%.4f,\"levels_ratio\":%.4f,"
                    "\"dp1\":%.2f,\"dp3\":%.2f,\"dp5\":%.2f,\"peak_rss_reset\":%s",
                    r1.device.c_str(), ratio, Ratio(Median(r2.levels_s), Median(r1.levels_s)), dp1,
                    dp3, dp5, reset ? "true" : "false"));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pipeline: %s: %s\n", a.name.c_str(), e.what());
    return 1;
  }
  return 0;
}
