// End-to-end bench: read -> index+train -> save -> batch predict -> single-query latency -> P@k,
// for one data set per process (so the peak RSS is that data set's). Prints one table row and
// appends a JSON object to --json. Run all data sets with bench/run_pipeline.sh.
//
//   bench_pipeline --name bibtex --train data/bibtex_train.txt.xz --test data/bibtex_test.txt.xz
//                  [--threads 2] [--train-repeats 3] [--predict-repeats 5] [--json out.json]
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/log.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace {

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

long FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<long>(f.tellg()) : -1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace xmr;
  std::string name, train_path, test_path, json_path, model_path = "/tmp/xmr_bench_model.xmr";
  int threads = 0, train_repeats = 3, predict_repeats = 5, latency_queries = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--name")
      name = v;
    else if (k == "--train")
      train_path = v;
    else if (k == "--test")
      test_path = v;
    else if (k == "--json")
      json_path = v;
    else if (k == "--model")
      model_path = v;
    else if (k == "--threads")
      threads = std::stoi(v);
    else if (k == "--train-repeats")
      train_repeats = std::stoi(v);
    else if (k == "--predict-repeats")
      predict_repeats = std::stoi(v);
    else if (k == "--latency-queries")
      latency_queries = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (name.empty() || train_path.empty() || test_path.empty()) {
    std::fprintf(stderr, "usage: bench_pipeline --name N --train FILE --test FILE [...]\n");
    return 2;
  }
  try {
    Context ctx;
    ctx.threads = threads;
    ctx.verbose = 0;
    Timer t;
    Dataset train = ReadDataFile(train_path);
    Dataset test = ReadDataFile(test_path);
    NormalizeRowsL2(&train.x);
    NormalizeRowsL2(&test.x);
    test.x.cols = std::max(test.x.cols, train.x.cols);
    const double read_s = t.Seconds();

    TrainOptions opts;
    std::vector<double> train_s;
    XLinearModel model;
    for (int r = 0; r < train_repeats; ++r) {
      model = XLinearModel();
      t.Reset();
      model = Train(train.x.view(), train.y.view(), opts, ctx);
      train_s.push_back(t.Seconds());
    }
    SaveModel(model, model_path);
    const long model_bytes = FileBytes(model_path);
    t.Reset();
    const XLinearModel loaded = LoadModel(model_path);
    const double load_s = t.Seconds();

    PredictOptions po;
    std::vector<double> pred_s;
    CsrMatrix pred;
    for (int r = 0; r < predict_repeats; ++r) {
      t.Reset();
      pred = Predict(loaded, test.x.view(), po, ctx);
      pred_s.push_back(t.Seconds());
    }
    const RankingMetrics m = Evaluate(pred.view(), test.y.view(), 10);

    Searcher searcher(loaded);
    std::vector<double> lat_ms;
    const Index nq = std::min<Index>(test.x.rows, latency_queries);
    for (Index i = 0; i < nq; ++i) searcher.Search(test.x.view().row(i), po);  // warm-up
    for (Index i = 0; i < nq; ++i) {
      t.Reset();
      const auto res = searcher.Search(test.x.view().row(i), po);
      lat_ms.push_back(t.Seconds() * 1e3);
      if (res.empty() && loaded.n_labels() > 0) return 3;
    }
    const double rss = PeakRssMb();
    std::printf(
        "| %-10s | %6d | %6d | %6d | %7.2f | %8.3f | %7.3f | %6.3f | %6.3f | %7.1f | %7.1f | "
        "%6.2f | %6.2f | %6.2f | %6.2f |\n",
        name.c_str(), train.x.rows, test.x.rows, train.y.cols, Median(train_s), Median(pred_s),
        Percentile(lat_ms, 0.5), Percentile(lat_ms, 0.99), Percentile(lat_ms, 0.999),
        model_bytes / 1e6, rss, m.precision[0], m.precision[2], m.precision[4], m.recall[9]);
    if (!json_path.empty()) {
      FILE* f = std::fopen(json_path.c_str(), "a");
      if (f) {
        std::fprintf(
            f,
            "{\"name\":\"%s\",\"threads\":%d,\"n_train\":%d,\"n_test\":%d,\"n_features\":%d,"
            "\"n_labels\":%d,\"read_s\":%.3f,\"train_s_median\":%.3f,\"train_s_runs\":%d,"
            "\"load_s\":%.4f,\"predict_s_median\":%.4f,\"latency_ms_p50\":%.4f,"
            "\"latency_ms_p99\":%.4f,\"latency_ms_p999\":%.4f,\"model_bytes\":%ld,"
            "\"model_nnz\":%lld,\"peak_rss_mb\":%.1f,\"p1\":%.2f,\"p3\":%.2f,\"p5\":%.2f,"
            "\"r10\":%.2f,\"ndcg5\":%.2f}\n",
            name.c_str(), ctx.NumThreads(), train.x.rows, test.x.rows, train.x.cols, train.y.cols,
            read_s, Median(train_s), train_repeats, load_s, Median(pred_s), Percentile(lat_ms, 0.5),
            Percentile(lat_ms, 0.99), Percentile(lat_ms, 0.999), model_bytes,
            static_cast<long long>(loaded.nnz()), rss, m.precision[0], m.precision[2],
            m.precision[4], m.recall[9], m.ndcg[4]);
        std::fclose(f);
      }
    }
    std::remove(model_path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_pipeline: %s\n", e.what());
    return 1;
  }
  return 0;
}
