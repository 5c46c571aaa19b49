// Kernel benchmarks: the hot paths of training (one dual-CD solve, one CPU level solve), of
// prediction (batch Predict, single-query Searcher::Search) and of I/O (XMLRepository text
// reading, model loading), each on synthetic data drawn from fixed seeds. Every data set is
// built once, on first use, outside the timed loops, so a --benchmark_filter run only pays for
// the data it needs.
//
//   bench_kernels [--benchmark_filter=BM_Predict] [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "train/dual_cd.h"
#include "train/level_solver.h"
#include "xmr/context.h"
#include "xmr/indexer.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/sparse.h"
#include "xmr/train.h"

namespace {

using xmr::CscMatrix;
using xmr::CsrMatrix;
using xmr::Index;
using xmr::Offset;

// ----- synthetic data -------------------------------------------------------------------------

// `k` distinct ids in [lo, lo + range), sorted.
std::vector<Index> DistinctSorted(Index lo, Index range, Index k, std::mt19937& rng) {
  k = std::min(k, range);
  std::vector<Index> ids;
  ids.reserve(k);
  std::uniform_int_distribution<Index> pick(0, range - 1);
  while (static_cast<Index>(ids.size()) < k) {
    while (static_cast<Index>(ids.size()) < k) ids.push_back(lo + pick(rng));
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  return ids;
}

// Appends one row with feature ids `ids` (sorted) and values uniform in [0.1, 1), L2-normalised.
void AppendRow(const std::vector<Index>& ids, std::mt19937& rng, CsrMatrix* x) {
  std::uniform_real_distribution<float> val(0.1f, 1.0f);
  const std::size_t start = x->data.size();
  double ss = 0;
  for (Index j : ids) {
    const float v = val(rng);
    x->indices.push_back(j);
    x->data.push_back(v);
    ss += static_cast<double>(v) * v;
  }
  const float inv = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.0f;
  for (std::size_t k = start; k < x->data.size(); ++k) x->data[k] *= inv;
  x->indptr.push_back(static_cast<Offset>(x->indices.size()));
  ++x->rows;
}

// n x d CSR, about `nnz_per_row` (+-50%) uniformly drawn features per row, rows L2-normalised.
CsrMatrix RandomRows(Index n, Index d, Index nnz_per_row, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<Index> len(std::max<Index>(1, nnz_per_row / 2),
                                           nnz_per_row + nnz_per_row / 2);
  CsrMatrix x;
  x.cols = d;
  x.indptr.reserve(n + 1);
  x.indices.reserve(static_cast<std::size_t>(n) * nnz_per_row);
  x.data.reserve(static_cast<std::size_t>(n) * nnz_per_row);
  for (Index i = 0; i < n; ++i) AppendRow(DistinctSorted(0, d, len(rng), rng), rng, &x);
  return x;
}

std::string TempPath(const char* suffix) {
  return "/tmp/xmr_bench_kernels_" + std::to_string(getpid()) + suffix;
}

long FileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return f ? static_cast<long>(f.tellg()) : 0;
}

xmr::Context QuietContext(int threads) {
  xmr::Context ctx;
  ctx.threads = threads;
  ctx.verbose = 0;
  ctx.device = xmr::DeviceKind::kCpu;
  return ctx;
}

// ----- BM_SolveBinary -------------------------------------------------------------------------

// One binary problem over all n rows: labels from a planted dense linear rule plus Gaussian
// noise (30% of the score's spread), so the problem is learnable but not separable.
struct BinaryFixture {
  CsrMatrix x;
  std::vector<std::uint16_t> indices16;
  std::vector<float> sqnorm;
  std::vector<Index> rows;
  std::vector<std::int8_t> y;

  BinaryFixture(Index n, Index d, unsigned seed) : x(RandomRows(n, d, 40, seed)) {
    std::mt19937 rng(seed + 1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w_true(d);
    for (float& v : w_true) v = normal(rng);
    std::vector<double> score(n);
    double mean = 0, sq = 0;
    for (Index i = 0; i < n; ++i) {
      double s = 0;
      for (Offset k = x.indptr[i]; k < x.indptr[i + 1]; ++k) s += w_true[x.indices[k]] * x.data[k];
      score[i] = s;
      mean += s;
      sq += s * s;
    }
    mean /= n;
    const double sd = std::sqrt(std::max(1e-12, sq / n - mean * mean));
    rows.resize(n);
    y.resize(n);
    sqnorm.resize(n);
    for (Index i = 0; i < n; ++i) {
      rows[i] = i;
      y[i] = score[i] - mean + 0.3 * sd * normal(rng) > 0 ? 1 : -1;
      float s = 0.0f;  // float, index order (as the level solver computes it)
      for (Offset k = x.indptr[i]; k < x.indptr[i + 1]; ++k) s += x.data[k] * x.data[k];
      sqnorm[i] = s;
    }
    if (d <= 65536) indices16.assign(x.indices.begin(), x.indices.end());
  }

  xmr::detail::BinaryProblem problem() const {
    xmr::detail::BinaryProblem p;
    p.x = x.view();
    p.indices16 = indices16.empty() ? nullptr : indices16.data();
    p.sqnorm = sqnorm.data();
    p.rows = rows.data();
    p.n = x.rows;
    p.y = y.data();
    p.bias = 1.0;
    return p;
  }
};

const BinaryFixture& GetBinaryFixture(Index n, Index d) {
  static std::map<std::pair<Index, Index>, std::unique_ptr<BinaryFixture>> cache;
  auto& slot = cache[{n, d}];
  if (!slot) slot = std::make_unique<BinaryFixture>(n, d, /*seed=*/11);
  return *slot;
}

void BM_SolveBinary(benchmark::State& state) {
  const Index n = static_cast<Index>(state.range(0));
  const Index d = static_cast<Index>(state.range(1));
  const BinaryFixture& fx = GetBinaryFixture(n, d);
  const xmr::detail::BinaryProblem p = fx.problem();
  const xmr::SolverOptions opts;  // L2-loss SVC dual, PECOS defaults
  xmr::detail::CdScratch scratch;
  std::vector<float> w(d);
  float b = 0.0f;
  xmr::detail::CdStats stats;
  for (auto _ : state) {
    stats = xmr::detail::SolveBinary(p, opts, w.data(), &b, &scratch);
    benchmark::DoNotOptimize(w.data());
    benchmark::DoNotOptimize(b);
    benchmark::ClobberMemory();
  }
  // The solve is deterministic (fixed shuffle seed), so every iteration does the same work.
  state.counters["visits/s"] = benchmark::Counter(static_cast<double>(stats.visits),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["nnz/s"] =
      benchmark::Counter(static_cast<double>(stats.visits) * static_cast<double>(fx.x.nnz()) / n,
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["passes"] = stats.iterations;
}
BENCHMARK(BM_SolveBinary)
    ->ArgNames({"n", "d"})
    ->Args({2000, 5000})
    ->Args({20000, 20000})
    ->Unit(benchmark::kMillisecond);

// ----- BM_LevelSolve --------------------------------------------------------------------------

// One tree level with tfn-style matching: every row belongs to one parent (its matching column)
// and has 1-3 positive children under it. A row draws half its features from its parent's
// band of the feature space and half uniformly, so parents' blocks have distinct features.
struct LevelFixture {
  CsrMatrix x;
  CscMatrix y;
  CscMatrix matching;
  std::vector<Index> parent_of_node;

  LevelFixture(Index n, Index n_parents, Index children, unsigned seed) {
    const Index d = 20000, nnz = 40;
    const Index n_nodes = n_parents * children;
    const Index band = std::max<Index>(nnz, d / n_parents);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<Index> pick_parent(0, n_parents - 1);
    std::uniform_int_distribution<Index> pick_child(0, children - 1);
    std::uniform_int_distribution<Index> n_pos(1, 3);
    x.cols = d;
    CsrMatrix y_csr, m_csr;
    y_csr.cols = n_nodes;
    m_csr.cols = n_parents;
    for (Index i = 0; i < n; ++i) {
      const Index k = pick_parent(rng);
      std::vector<Index> ids = DistinctSorted(std::min(k * band, d - band), band, nnz / 2, rng);
      const std::vector<Index> rest = DistinctSorted(0, d, nnz / 2, rng);
      ids.insert(ids.end(), rest.begin(), rest.end());
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      AppendRow(ids, rng, &x);

      std::vector<Index> labels;
      for (Index c = n_pos(rng); c > 0; --c) labels.push_back(k * children + pick_child(rng));
      std::sort(labels.begin(), labels.end());
      labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
      for (Index l : labels) {
        y_csr.indices.push_back(l);
        y_csr.data.push_back(1.0f);
      }
      y_csr.indptr.push_back(static_cast<Offset>(y_csr.indices.size()));
      ++y_csr.rows;
      m_csr.indices.push_back(k);
      m_csr.data.push_back(1.0f);
      m_csr.indptr.push_back(static_cast<Offset>(m_csr.indices.size()));
      ++m_csr.rows;
    }
    y = xmr::CsrToCsc(y_csr.view());
    matching = xmr::CsrToCsc(m_csr.view());
    parent_of_node.resize(n_nodes);
    for (Index l = 0; l < n_nodes; ++l) parent_of_node[l] = l / children;
  }

  xmr::LevelProblem problem() const {
    xmr::LevelProblem p;
    p.x = x.view();
    p.y = y.view();
    p.parent_of_node = parent_of_node.data();
    p.matching = matching.view();
    p.bias = 1.0f;
    return p;
  }
};

const LevelFixture& GetLevelFixture(Index n, Index n_parents, Index children) {
  static std::map<std::tuple<Index, Index, Index>, std::unique_ptr<LevelFixture>> cache;
  auto& slot = cache[{n, n_parents, children}];
  if (!slot) slot = std::make_unique<LevelFixture>(n, n_parents, children, /*seed=*/23);
  return *slot;
}

void BM_LevelSolve(benchmark::State& state) {
  const Index n = static_cast<Index>(state.range(0));
  const Index n_parents = static_cast<Index>(state.range(1));
  const Index children = static_cast<Index>(state.range(2));
  const int threads = static_cast<int>(state.range(3));
  const LevelFixture& fx = GetLevelFixture(n, n_parents, children);
  const xmr::LevelProblem problem = fx.problem();
  const xmr::SolverOptions opts;
  std::unique_ptr<xmr::LevelSolver> solver = xmr::MakeCpuLevelSolver(QuietContext(threads));
  Offset weights = 0;
  for (auto _ : state) {
    CscMatrix w = solver->Solve(problem, opts);
    weights = w.nnz();
    benchmark::DoNotOptimize(w.data.data());
  }
  state.counters["labels/s"] = benchmark::Counter(static_cast<double>(n_parents) * children,
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["weights"] = static_cast<double>(weights);
}
BENCHMARK(BM_LevelSolve)
    ->ArgNames({"rows", "parents", "children", "threads"})
    ->Args({20000, 64, 16, 1})
    ->Args({20000, 64, 16, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ----- prediction model (BM_PredictBatch, BM_SearchSingle, BM_LoadModel) ----------------------

// A 4-level tree 16 -> 256 -> 4096 -> 32768 (16 children per node, 8 at the last level) over
// d = 40000 features; every node has 200 random weights in [-1, 1) plus a bias weight.
constexpr Index kModelFeatures = 40000;
constexpr Index kWeightsPerNode = 200;

struct ModelFixture {
  xmr::XLinearModel model;
  CsrMatrix queries;
  std::string path;  // the model saved by SaveModel (removed at exit)
  long file_bytes = 0;

  ModelFixture() {
    const std::vector<Index> sizes = {16, 256, 4096, 32768};
    std::mt19937 rng(/*seed=*/37);
    std::uniform_real_distribution<float> val(-1.0f, 1.0f);
    xmr::ClusterChain chain;
    std::vector<CscMatrix> weights(sizes.size());
    for (std::size_t t = 0; t < sizes.size(); ++t) {
      const Index np = t == 0 ? 1 : sizes[t - 1];
      const Index fan = sizes[t] / np;
      std::vector<Index> par(sizes[t]);
      for (Index j = 0; j < sizes[t]; ++j) par[j] = j / fan;
      chain.parents.push_back(std::move(par));
      CscMatrix& w = weights[t];
      w.rows = kModelFeatures + 1;
      w.cols = sizes[t];
      w.indptr.reserve(sizes[t] + 1);
      for (Index j = 0; j < sizes[t]; ++j) {
        for (Index r : DistinctSorted(0, kModelFeatures, kWeightsPerNode, rng)) {
          w.indices.push_back(r);
          w.data.push_back(val(rng));
        }
        w.indices.push_back(kModelFeatures);  // bias row
        w.data.push_back(val(rng));
        w.indptr.push_back(static_cast<Offset>(w.indices.size()));
      }
    }
    xmr::ModelMeta meta;
    meta.n_features = kModelFeatures;
    model = xmr::XLinearModel::FromWeights(chain, weights, meta);
    queries = RandomRows(8192, kModelFeatures, 40, /*seed=*/41);
    path = TempPath(".xmr");
    xmr::SaveModel(model, path);
    file_bytes = FileBytes(path);
  }
  ~ModelFixture() { std::remove(path.c_str()); }
};

const ModelFixture& GetModelFixture() {
  static const ModelFixture fx;
  return fx;
}

void BM_PredictBatch(benchmark::State& state) {
  const ModelFixture& fx = GetModelFixture();
  const Index batch = static_cast<Index>(std::min<int64_t>(state.range(0), fx.queries.rows));
  const xmr::CsrView x = xmr::SliceRows(fx.queries.view(), 0, batch);
  const xmr::Context ctx = QuietContext(static_cast<int>(state.range(1)));
  const xmr::PredictOptions opts;  // beam 10, top 10
  for (auto _ : state) {
    CsrMatrix pred = xmr::Predict(fx.model, x, opts, ctx);
    benchmark::DoNotOptimize(pred.data.data());
  }
  state.counters["queries/s"] =
      benchmark::Counter(batch, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PredictBatch)
    ->ArgNames({"batch", "threads"})
    ->Args({1024, 1})
    ->Args({8192, 1})
    ->Args({8192, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_SearchSingle(benchmark::State& state) {
  const ModelFixture& fx = GetModelFixture();
  const xmr::CsrView x = fx.queries.view();
  xmr::Searcher searcher(fx.model);
  xmr::PredictOptions opts;
  opts.beam_size = static_cast<int>(state.range(0));
  opts.top_k = 10;
  std::vector<xmr::ScoredLabel> out;
  Index i = 0;
  for (auto _ : state) {
    searcher.Search(x.row(i), opts, &out);
    benchmark::DoNotOptimize(out.data());
    if (++i == x.rows) i = 0;
  }
  state.counters["queries/s"] =
      benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SearchSingle)
    ->ArgName("beam")
    ->Arg(1)
    ->Arg(10)
    ->Arg(50)
    ->Unit(benchmark::kMicrosecond);

// ----- I/O ------------------------------------------------------------------------------------

// 50000 rows x ~40 features (d = 100000) with 1-5 labels of 10000, written once as
// XMLRepository text.
struct XmlRepoFixture {
  std::string path;
  long file_bytes = 0;

  XmlRepoFixture() : path(TempPath(".txt")) {
    const Index n = 50000, n_labels = 10000;
    const CsrMatrix x = RandomRows(n, 100000, 40, /*seed=*/53);
    CsrMatrix y;
    y.cols = n_labels;
    std::mt19937 rng(/*seed=*/59);
    std::uniform_int_distribution<Index> n_pos(1, 5);
    for (Index i = 0; i < n; ++i) {
      for (Index l : DistinctSorted(0, n_labels, n_pos(rng), rng)) {
        y.indices.push_back(l);
        y.data.push_back(1.0f);
      }
      y.indptr.push_back(static_cast<Offset>(y.indices.size()));
      ++y.rows;
    }
    xmr::WriteXmlRepo(path, x.view(), y.view());
    file_bytes = FileBytes(path);
  }
  ~XmlRepoFixture() { std::remove(path.c_str()); }
};

void BM_ReadXmlRepo(benchmark::State& state) {
  static const XmlRepoFixture fx;
  for (auto _ : state) {
    xmr::Dataset ds = xmr::ReadDataFile(fx.path);
    benchmark::DoNotOptimize(ds.x.data.data());
    benchmark::DoNotOptimize(ds.y.indices.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * fx.file_bytes);
  state.counters["file_MB"] = fx.file_bytes / 1e6;
}
BENCHMARK(BM_ReadXmlRepo)->Unit(benchmark::kMillisecond)->UseRealTime();

// Arg 0 = LoadMode::kRead (read + verify every checksum), 1 = LoadMode::kMmap (map + validate
// structure only; weight pages are not touched, so its "bytes/s" is the file size over the
// time to open it, not a read rate). The file is in the page cache after SaveModel.
void BM_LoadModel(benchmark::State& state) {
  const ModelFixture& fx = GetModelFixture();
  const xmr::LoadMode mode = state.range(0) == 0 ? xmr::LoadMode::kRead : xmr::LoadMode::kMmap;
  state.SetLabel(mode == xmr::LoadMode::kRead ? "read" : "mmap");
  for (auto _ : state) {
    xmr::XLinearModel m = xmr::LoadModel(fx.path, mode);
    benchmark::DoNotOptimize(m.n_labels());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * fx.file_bytes);
  state.counters["file_MB"] = fx.file_bytes / 1e6;
}
BENCHMARK(BM_LoadModel)->ArgName("mmap")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
