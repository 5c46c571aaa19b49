// Kernel benchmarks: the hot paths of training, prediction and I/O, each on synthetic data drawn
// from fixed seeds. Every data set is built once, on first use, outside the timed loops, so a
// --benchmark_filter run only pays for the data it needs.
//
//   training    BM_SparseDot, BM_SparseAxpy   parent-local sparse row kernels (16/32-bit ids)
//               BM_DualCdEpoch                one dual-CD pass over a parent's instances
//               BM_SolveBinary, BM_LevelSolve one full binary solve; one CPU level solve
//   prediction  BM_ChunkProduct               query x chunk (children of one parent) products
//               BM_TopKHeap, BM_TopKSearch    top-k selection over n candidates
//               BM_PredictBatch, BM_SearchSingle  batch Predict; Searcher::Search per beam size
//   I/O         BM_ReadXmlRepo, BM_ReadBinary, BM_ReadNpz  readers, bytes/s of the file on disk
//               BM_LoadModel                  LoadModel kRead / kMmap, page cache warm / cold
//
//   bench_kernels [--benchmark_filter=BM_Predict] [--benchmark_min_time=0.2]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <lzma.h>  // for lzma_easy_buffer_encode (.xz input of BM_ReadXmlRepo)
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "infer/beam_search.h"
#include "model/model_impl.h"
#include "train/cd_kernels.h"
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

// ----- BM_SparseDot, BM_SparseAxpy ------------------------------------------------------------

// The two kernels of every dual-CD visit (train/cd_kernels.h) over rows of a parent-local block:
// 512 rows of exactly `nnz` distinct ids in the compact feature space [0, F), visited in a fixed
// random order (as the solver visits them), against a dense w of F floats. Rows hold both id
// widths: 16-bit ids are what the level solver uses for blocks of at most 65536 features.
// (This file is built without xmr_train's -ffp-contract=off; the x86-64 baseline has no FMA to
// contract into, so the kernels compile as in the library.)
struct KernelRowsFixture {
  std::vector<Offset> indptr;
  std::vector<Index> ids32;
  std::vector<std::uint16_t> ids16;
  std::vector<float> val;
  std::vector<Index> order;
  std::vector<float> w;

  KernelRowsFixture(Index nnz, Index n_features, unsigned seed) {
    constexpr Index kRows = 512;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> v(0.1f, 1.0f);
    std::normal_distribution<float> normal(0.0f, 0.1f);
    indptr.push_back(0);
    for (Index r = 0; r < kRows; ++r) {
      for (Index j : DistinctSorted(0, n_features, nnz, rng)) {
        ids32.push_back(j);
        val.push_back(v(rng));
      }
      indptr.push_back(static_cast<Offset>(ids32.size()));
      order.push_back(r);
    }
    if (n_features <= 65536) ids16.assign(ids32.begin(), ids32.end());
    std::shuffle(order.begin(), order.end(), rng);
    w.resize(n_features);
    for (float& x : w) x = normal(rng);
  }

  template <typename IndexT>
  const IndexT* ids() const {
    if constexpr (sizeof(IndexT) == 2) {
      return ids16.data();
    } else {
      return ids32.data();
    }
  }
};

const KernelRowsFixture& GetKernelRowsFixture(Index nnz, Index n_features) {
  static std::map<std::pair<Index, Index>, std::unique_ptr<KernelRowsFixture>> cache;
  auto& slot = cache[{nnz, n_features}];
  if (!slot) slot = std::make_unique<KernelRowsFixture>(nnz, n_features, /*seed=*/5);
  return *slot;
}

// items/s = nonzeros/s; bytes/s counts the row stream (ids + values), not the gathers from w.
void SetKernelCounters(benchmark::State& state, const KernelRowsFixture& fx, std::size_t id_bytes) {
  const auto nnz = static_cast<int64_t>(fx.ids32.size());
  state.SetItemsProcessed(state.iterations() * nnz);
  state.SetBytesProcessed(state.iterations() * nnz *
                          static_cast<int64_t>(id_bytes + sizeof(float)));
}

template <typename IndexT>
void RunSparseDot(benchmark::State& state, const KernelRowsFixture& fx) {
  const IndexT* ids = fx.ids<IndexT>();
  const float* val = fx.val.data();
  const float* w = fx.w.data();
  for (auto _ : state) {
    float acc = 0.0f;
    for (Index r : fx.order) {
      const Offset b = fx.indptr[r];
      acc += xmr::detail::SparseDot(w, ids + b, val + b, fx.indptr[r + 1] - b);
    }
    benchmark::DoNotOptimize(acc);
  }
  SetKernelCounters(state, fx, sizeof(IndexT));
}

template <typename IndexT>
void RunSparseAxpy(benchmark::State& state, const KernelRowsFixture& fx) {
  const IndexT* ids = fx.ids<IndexT>();
  const float* val = fx.val.data();
  std::vector<float> w = fx.w;
  for (auto _ : state) {
    double d = 1e-3;  // alternating signs keep w bounded however long the loop runs
    for (Index r : fx.order) {
      const Offset b = fx.indptr[r];
      xmr::detail::SparseAxpy(d, ids + b, val + b, fx.indptr[r + 1] - b, w.data());
      d = -d;
    }
    benchmark::DoNotOptimize(w.data());
    benchmark::ClobberMemory();
  }
  SetKernelCounters(state, fx, sizeof(IndexT));
}

// Args: nonzeros per row, local features F, id bits (16 or 32).
void BM_SparseDot(benchmark::State& state) {
  const KernelRowsFixture& fx =
      GetKernelRowsFixture(static_cast<Index>(state.range(0)), static_cast<Index>(state.range(1)));
  if (state.range(2) == 16) {
    RunSparseDot<std::uint16_t>(state, fx);
  } else {
    RunSparseDot<Index>(state, fx);
  }
}

void BM_SparseAxpy(benchmark::State& state) {
  const KernelRowsFixture& fx =
      GetKernelRowsFixture(static_cast<Index>(state.range(0)), static_cast<Index>(state.range(1)));
  if (state.range(2) == 16) {
    RunSparseAxpy<std::uint16_t>(state, fx);
  } else {
    RunSparseAxpy<Index>(state, fx);
  }
}

void SparseKernelArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"nnz", "F", "bits"});
  for (int64_t f : {4096, 65536}) {
    for (int64_t nnz : {50, 400}) {
      for (int64_t bits : {16, 32}) b->Args({nnz, f, bits});
    }
  }
  b->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_SparseDot)->Apply(SparseKernelArgs);
BENCHMARK(BM_SparseAxpy)->Apply(SparseKernelArgs);

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

// ----- BM_DualCdEpoch -------------------------------------------------------------------------

// One dual-CD pass over the n instances of a parent-local block of F features (BinaryFixture).
// dual_cd.h exposes only the full solve, so this is SolveBinary with max_iter = 1: one shuffle
// and one visit of every instance, plus the O(n + F) set-up of a solve (zeroing w, alpha, Q_ii).
// It is the first pass, from alpha = 0: no instance is shrunk yet and nearly every visit updates
// w, so it is the most expensive pass of a solve. Args: n, F, id bits (16: the level solver's
// compact ids; 32: the same block through 32-bit ids), solver (SolverType: 0 l2-svc, 2 lr).
void BM_DualCdEpoch(benchmark::State& state) {
  const Index n = static_cast<Index>(state.range(0));
  const Index d = static_cast<Index>(state.range(1));
  const BinaryFixture& fx = GetBinaryFixture(n, d);
  xmr::detail::BinaryProblem p = fx.problem();
  if (state.range(2) != 16) p.indices16 = nullptr;
  xmr::SolverOptions opts;
  opts.type = static_cast<xmr::SolverType>(state.range(3));
  opts.max_iter = 1;
  state.SetLabel(opts.type == xmr::SolverType::kLrDual ? "lr" : "l2-svc");
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
  state.counters["visits/s"] = benchmark::Counter(static_cast<double>(stats.visits),
                                                  benchmark::Counter::kIsIterationInvariantRate);
  state.counters["nnz/s"] =
      benchmark::Counter(static_cast<double>(stats.visits) * static_cast<double>(fx.x.nnz()) / n,
                         benchmark::Counter::kIsIterationInvariantRate);
  state.counters["updates"] = static_cast<double>(stats.updates);
}
BENCHMARK(BM_DualCdEpoch)
    ->ArgNames({"n", "F", "bits", "solver"})
    ->Args({2000, 5000, 16, 0})
    ->Args({20000, 60000, 16, 0})
    ->Args({20000, 60000, 32, 0})
    ->Args({20000, 60000, 16, 2})
    ->Unit(benchmark::kMicrosecond);

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

// A flat level (one parent matching every row, as in flat one-vs-rest or the root): children
// trained 16 at a time in lock step (pecos_order 0, the default) against one after the other in
// PECOS's order (1). X is rows x 40 nonzeros; 200,000 rows (64 MB) do not fit the cache.
void BM_FlatLevel(benchmark::State& state) {
  const Index n = static_cast<Index>(state.range(0));
  const Index children = static_cast<Index>(state.range(1));
  const LevelFixture& fx = GetLevelFixture(n, 1, children);
  const xmr::LevelProblem problem = fx.problem();
  xmr::SolverOptions opts;
  opts.pecos_order = state.range(2) != 0;
  std::unique_ptr<xmr::LevelSolver> solver = xmr::MakeCpuLevelSolver(QuietContext(1));
  for (auto _ : state) {
    CscMatrix w = solver->Solve(problem, opts);
    benchmark::DoNotOptimize(w.data.data());
  }
  state.counters["labels/s"] = benchmark::Counter(static_cast<double>(children),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FlatLevel)
    ->ArgNames({"rows", "children", "pecos_order"})
    ->Args({20000, 64, 0})
    ->Args({20000, 64, 1})
    ->Args({200000, 32, 0})
    ->Args({200000, 32, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

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
    ->Arg(5)
    ->Arg(10)
    ->Arg(20)
    ->Arg(50)
    ->Unit(benchmark::kMicrosecond);

// ----- BM_ChunkProduct ------------------------------------------------------------------------

// Query x chunk products. The product of one query with one chunk (BeamSearcher::ScoreChunk,
// then Offer of the chunk's scores) is private to BeamSearcher, so this runs the smallest entry
// point that does it: BeamSearcher::Search over a depth-1 model, whose only level is one chunk
// (`width` children of the root, `per_node` random weights each plus a bias weight, d = 40000),
// with beam 1, top-1 and the noop post-processor, so that each query costs one chunk product
// plus a width-long scan of its scores. Queries come in groups of 64 (as Predict groups them:
// the chunk stays in cache); half of each query's ~40 features are drawn from the chunk's rows
// (a query the beam sends to a chunk shares features with it), half uniformly.
// items/s = chunk products/s. The label names the row lookup ScoreChunk uses for the chunk.
struct ChunkFixture {
  xmr::XLinearModel model;
  CsrMatrix queries;
  std::vector<xmr::SparseVecView> views;

  ChunkFixture(Index width, Index per_node, unsigned seed) {
    const Index d = 40000;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> val(-1.0f, 1.0f);
    CscMatrix w;
    w.rows = d + 1;
    w.cols = width;
    std::vector<Index> features;
    for (Index j = 0; j < width; ++j) {
      for (Index r : DistinctSorted(0, d, per_node, rng)) {
        w.indices.push_back(r);
        w.data.push_back(val(rng));
        features.push_back(r);
      }
      w.indices.push_back(d);  // bias row
      w.data.push_back(val(rng));
      w.indptr.push_back(static_cast<Offset>(w.indices.size()));
    }
    std::sort(features.begin(), features.end());
    features.erase(std::unique(features.begin(), features.end()), features.end());
    xmr::ModelMeta meta;
    meta.n_features = d;
    model = xmr::XLinearModel::FromWeights(xmr::ClusterChain::Flat(width), {w}, meta);

    queries.cols = d;
    const Index n_features = static_cast<Index>(features.size());
    for (Index i = 0; i < 4096; ++i) {
      std::vector<Index> ids;
      for (Index k : DistinctSorted(0, n_features, 20, rng)) ids.push_back(features[k]);
      const std::vector<Index> rest = DistinctSorted(0, d, 20, rng);
      ids.insert(ids.end(), rest.begin(), rest.end());
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      AppendRow(ids, rng, &queries);
    }
    for (Index i = 0; i < queries.rows; ++i) views.push_back(queries.view().row(i));
  }
};

const ChunkFixture& GetChunkFixture(Index width, Index per_node) {
  static std::map<std::pair<Index, Index>, std::unique_ptr<ChunkFixture>> cache;
  auto& slot = cache[{width, per_node}];
  if (!slot) slot = std::make_unique<ChunkFixture>(width, per_node, /*seed=*/61);
  return *slot;
}

void BM_ChunkProduct(benchmark::State& state) {
  constexpr Index kGroup = 64;
  const ChunkFixture& fx =
      GetChunkFixture(static_cast<Index>(state.range(0)), static_cast<Index>(state.range(1)));
  const xmr::XLinearModel::Impl& impl = fx.model.impl();
  const xmr::detail::LevelWeights& lv = impl.levels[0];
  xmr::PredictOptions opts;
  opts.beam_size = 1;
  opts.top_k = 1;
  opts.post_processor = "noop";
  const xmr::detail::ResolvedOptions resolved = xmr::detail::Resolve(impl, opts);
  xmr::detail::BeamSearcher searcher(impl);
  std::vector<xmr::detail::Candidate> out;
  std::vector<Offset> counts(kGroup);
  Index i = 0;
  for (auto _ : state) {
    out.clear();
    searcher.Search(fx.views.data() + i, kGroup, resolved, &out, counts.data());
    benchmark::DoNotOptimize(out.data());
    i += kGroup;
    if (i + kGroup > fx.queries.rows) i = 0;
  }
  const Offset rows = lv.n_rows() - 1;  // without the bias row
  const double query_nnz = static_cast<double>(fx.queries.nnz()) / fx.queries.rows;
  const bool rank = !lv.rank_of_chunk.empty() && lv.rank_of_chunk[0] >= 0;
  state.SetLabel(rank                ? "rank directory"
                 : rows >= query_nnz ? "search query ids in rows"
                                     : "search rows in query ids");
  state.SetItemsProcessed(state.iterations() * kGroup);
  state.counters["chunk_rows"] = static_cast<double>(rows);
  state.counters["chunk_nnz"] = static_cast<double>(lv.nnz());
}
BENCHMARK(BM_ChunkProduct)
    ->ArgNames({"width", "per_node"})
    ->Args({2, 10})
    ->Args({8, 50})
    ->Args({16, 200})
    ->Args({64, 100})
    ->Unit(benchmark::kMicrosecond);

// ----- BM_TopKHeap, BM_TopKSearch -------------------------------------------------------------

// Beam search selects the top k of each chunk's scores with a bounded heap (OfferBlock in
// src/infer/beam_search.cc, then std::sort_heap), not with std::partial_sort. OfferBlock sits in
// an anonymous namespace, so BM_TopKHeap runs this copy of its noop case (keep it in step);
// BM_TopKSearch runs the library's own code through BeamSearcher (see there).
struct Better {
  bool operator()(const xmr::detail::Candidate& a, const xmr::detail::Candidate& b) const {
    return a.score > b.score || (a.score == b.score && a.node < b.node);
  }
};

std::size_t SelectTopK(const float* s, Index n, std::size_t k, xmr::detail::Candidate* heap) {
  std::size_t size = 0;
  float rejected = -std::numeric_limits<float>::infinity();
  bool have_rejected = false;
  for (Index j = 0; j < n; ++j) {
    const float v = s[j];
    if (have_rejected && v <= rejected) continue;
    const xmr::detail::Candidate c{v, j};
    if (size < k) {
      heap[size++] = c;
      std::push_heap(heap, heap + size, Better());
    } else if (Better()(c, heap[0])) {
      std::pop_heap(heap, heap + size, Better());
      heap[size - 1] = c;
      std::push_heap(heap, heap + size, Better());
    } else if (v < heap[0].score && (!have_rejected || v > rejected)) {
      rejected = v;
      have_rejected = true;
    }
  }
  std::sort_heap(heap, heap + size, Better());
  return size;
}

// Top 10 of n random scores; 16 score vectors in turn, so that branch history does not learn one.
void BM_TopKHeap(benchmark::State& state) {
  constexpr std::size_t kTop = 10;
  constexpr int kVectors = 16;
  const Index n = static_cast<Index>(state.range(0));
  std::mt19937 rng(/*seed=*/67);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> scores(static_cast<std::size_t>(n) * kVectors);
  for (float& v : scores) v = normal(rng);
  std::vector<xmr::detail::Candidate> heap(kTop);
  int t = 0;
  for (auto _ : state) {
    const std::size_t got =
        SelectTopK(scores.data() + static_cast<std::size_t>(t) * n, n, kTop, heap.data());
    benchmark::DoNotOptimize(got);
    benchmark::DoNotOptimize(heap.data());
    if (++t == kVectors) t = 0;
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TopKHeap)->ArgName("n")->Arg(100)->Arg(1000)->Arg(10000);

// The library's top-k path: BeamSearcher::Search of an empty query over a depth-1 model of n
// labels that have only a bias weight (random), with top-10 and the noop post-processor. The
// time is the chunk's score block (zero-fill plus the bias row's n entries) and the library's
// heap selection of the 10 best of the n scores.
struct BiasOnlyModelFixture {
  xmr::XLinearModel model;

  explicit BiasOnlyModelFixture(Index n) {
    const Index d = 1000;
    std::mt19937 rng(/*seed=*/71);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    CscMatrix w;
    w.rows = d + 1;
    w.cols = n;
    for (Index j = 0; j < n; ++j) {
      w.indices.push_back(d);
      w.data.push_back(normal(rng));
      w.indptr.push_back(static_cast<Offset>(w.indices.size()));
    }
    xmr::ModelMeta meta;
    meta.n_features = d;
    model = xmr::XLinearModel::FromWeights(xmr::ClusterChain::Flat(n), {w}, meta);
  }
};

void BM_TopKSearch(benchmark::State& state) {
  static std::map<Index, std::unique_ptr<BiasOnlyModelFixture>> cache;
  const Index n = static_cast<Index>(state.range(0));
  auto& slot = cache[n];
  if (!slot) slot = std::make_unique<BiasOnlyModelFixture>(n);
  const xmr::XLinearModel::Impl& impl = slot->model.impl();
  xmr::PredictOptions opts;
  opts.top_k = 10;
  opts.post_processor = "noop";
  const xmr::detail::ResolvedOptions resolved = xmr::detail::Resolve(impl, opts);
  xmr::detail::BeamSearcher searcher(impl);
  const xmr::SparseVecView query;  // no features: every score is the node's bias weight
  std::vector<xmr::detail::Candidate> out;
  Offset count = 0;
  for (auto _ : state) {
    out.clear();
    searcher.Search(&query, 1, resolved, &out, &count);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TopKSearch)->ArgName("n")->Arg(100)->Arg(1000)->Arg(10000);

// ----- I/O: readers ---------------------------------------------------------------------------

// 50000 rows x ~40 features (d = 100000) with 1-5 labels of 10000, kept in memory; each reader's
// file is written from it on first use. bytes/s = the file's size on disk over the read time.
struct DataFixture {
  CsrMatrix x;
  CsrMatrix y;

  DataFixture() : x(RandomRows(50000, 100000, 40, /*seed=*/53)) {
    const Index n_labels = 10000;
    y.cols = n_labels;
    std::mt19937 rng(/*seed=*/59);
    std::uniform_int_distribution<Index> n_pos(1, 5);
    for (Index i = 0; i < x.rows; ++i) {
      for (Index l : DistinctSorted(0, n_labels, n_pos(rng), rng)) {
        y.indices.push_back(l);
        y.data.push_back(1.0f);
      }
      y.indptr.push_back(static_cast<Offset>(y.indices.size()));
      ++y.rows;
    }
  }
};

const DataFixture& GetDataFixture() {
  static const DataFixture fx;
  return fx;
}

enum class DataFile { kText, kTextXz, kXmb, kNpz, kNpzDeflate };

// A temporary file, removed at exit.
struct FileFixture {
  std::string path;
  long file_bytes = 0;
  long text_bytes = 0;  // decompressed size, for text files

  explicit FileFixture(std::string p) : path(std::move(p)) {}
  ~FileFixture() { std::remove(path.c_str()); }
};

std::string ReadFileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// .xz stream of `data` at preset 1 (the library reads .xz but has no writer; decoding speed
// depends little on the preset, and preset 1 keeps the set-up to a few seconds).
std::string XzEncode(const std::string& data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  std::size_t pos = 0;
  if (lzma_easy_buffer_encode(
          1, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const std::uint8_t*>(data.data()),
          data.size(), reinterpret_cast<std::uint8_t*>(&out[0]), &pos, out.size()) != LZMA_OK) {
    throw std::runtime_error("lzma_easy_buffer_encode failed");
  }
  out.resize(pos);
  return out;
}

const FileFixture& GetDataFile(DataFile kind) {
  static std::map<DataFile, std::unique_ptr<FileFixture>> cache;
  auto& slot = cache[kind];
  if (slot) return *slot;
  const DataFixture& data = GetDataFixture();
  std::unique_ptr<FileFixture> f;
  switch (kind) {
    case DataFile::kText:
      f = std::make_unique<FileFixture>(TempPath(".txt"));
      xmr::WriteXmlRepo(f->path, data.x.view(), data.y.view());
      f->text_bytes = FileBytes(f->path);
      break;
    case DataFile::kTextXz: {
      const std::string text = ReadFileBytes(GetDataFile(DataFile::kText).path);
      f = std::make_unique<FileFixture>(TempPath(".txt.xz"));
      std::ofstream(f->path, std::ios::binary) << XzEncode(text);
      f->text_bytes = static_cast<long>(text.size());
      break;
    }
    case DataFile::kXmb:
      f = std::make_unique<FileFixture>(TempPath(".xmb"));
      xmr::WriteBinary(f->path, data.x.view());
      break;
    case DataFile::kNpz:
    case DataFile::kNpzDeflate:
      f = std::make_unique<FileFixture>(TempPath(kind == DataFile::kNpz ? ".npz" : ".z.npz"));
      xmr::WriteNpz(f->path, data.x.view(), /*compressed=*/kind == DataFile::kNpzDeflate);
      break;
  }
  f->file_bytes = FileBytes(f->path);
  slot = std::move(f);
  return *slot;
}

void SetReaderCounters(benchmark::State& state, const FileFixture& f) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * f.file_bytes);
  state.counters["file_MB"] = f.file_bytes / 1e6;
  if (f.text_bytes > 0 && f.text_bytes != f.file_bytes) {
    state.counters["text_bytes"] = benchmark::Counter(static_cast<double>(f.text_bytes),
                                                      benchmark::Counter::kIsIterationInvariantRate,
                                                      benchmark::Counter::kIs1024);
  }
}

// XMLRepository text (features and labels) through ReadDataFile, parsed on all hardware
// threads. Arg 0 = plain, 1 = .xz (bytes/s of the compressed file; text_bytes = text rate).
void BM_ReadXmlRepo(benchmark::State& state) {
  const FileFixture& f = GetDataFile(state.range(0) == 0 ? DataFile::kText : DataFile::kTextXz);
  for (auto _ : state) {
    xmr::Dataset ds = xmr::ReadDataFile(f.path);
    benchmark::DoNotOptimize(ds.x.data.data());
    benchmark::DoNotOptimize(ds.y.indices.data());
  }
  SetReaderCounters(state, f);
}
BENCHMARK(BM_ReadXmlRepo)
    ->ArgName("xz")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The feature matrix as .xmb (ReadBinaryCsr: raw arrays, structure and CRC-32 checked).
void BM_ReadBinary(benchmark::State& state) {
  const FileFixture& f = GetDataFile(DataFile::kXmb);
  for (auto _ : state) {
    CsrMatrix x = xmr::ReadBinaryCsr(f.path);
    benchmark::DoNotOptimize(x.data.data());
  }
  SetReaderCounters(state, f);
}
BENCHMARK(BM_ReadBinary)->Unit(benchmark::kMillisecond)->UseRealTime();

// The feature matrix as scipy .npz (ReadNpzCsr). Arg 0 = stored entries (as PECOS writes
// them), 1 = deflate-compressed entries.
void BM_ReadNpz(benchmark::State& state) {
  const FileFixture& f = GetDataFile(state.range(0) == 0 ? DataFile::kNpz : DataFile::kNpzDeflate);
  for (auto _ : state) {
    CsrMatrix x = xmr::ReadNpzCsr(f.path);
    benchmark::DoNotOptimize(x.data.data());
  }
  SetReaderCounters(state, f);
}
BENCHMARK(BM_ReadNpz)
    ->ArgName("deflate")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// ----- I/O: model load ------------------------------------------------------------------------

// Best effort: writes back the file's dirty pages, then asks the kernel to drop its clean pages
// from the page cache. The kernel may keep pages (mapped or locked elsewhere), and on a virtual
// machine the host may still cache the disk, so "cold" can be warmer than a real first load.
void DropFromPageCache(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  fsync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  close(fd);
}

// Fraction of the file's pages in the page cache (mincore over a mapping that touches none).
double CachedFraction(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return -1;
  struct stat st {};
  double frac = -1;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    const std::size_t len = static_cast<std::size_t>(st.st_size);
    void* p = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const long page = sysconf(_SC_PAGESIZE);
      std::vector<unsigned char> vec((len + page - 1) / page);
      if (mincore(p, len, vec.data()) == 0) {
        std::size_t in = 0;
        for (unsigned char c : vec) in += c & 1;
        frac = static_cast<double>(in) / static_cast<double>(vec.size());
      }
      munmap(p, len);
    }
  }
  close(fd);
  return frac;
}

// The model of ModelFixture (4 levels, 37136 nodes, 7.5M weights). Args: mmap (0 =
// LoadMode::kRead: read + verify every checksum; 1 = LoadMode::kMmap: map + validate structure
// only: weight pages are not touched, so its bytes/s is the file size over the time to open it,
// not a read rate), cold (0 = page cache warm, as after SaveModel; 1 = the file's pages dropped
// before every load, outside the timed region; cached_frac = the fraction of pages still cached
// after the first drop, which shows whether the drop took). Wall time, as a cold load waits on
// the disk.
void BM_LoadModel(benchmark::State& state) {
  const ModelFixture& fx = GetModelFixture();
  const xmr::LoadMode mode = state.range(0) == 0 ? xmr::LoadMode::kRead : xmr::LoadMode::kMmap;
  const bool cold = state.range(1) != 0;
  state.SetLabel(std::string(mode == xmr::LoadMode::kRead ? "read" : "mmap") +
                 (cold ? " cold" : " warm"));
  double cached = -1;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      DropFromPageCache(fx.path);
      if (cached < 0) cached = CachedFraction(fx.path);
      state.ResumeTiming();
    }
    xmr::XLinearModel m = xmr::LoadModel(fx.path, mode);
    benchmark::DoNotOptimize(m.n_labels());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * fx.file_bytes);
  state.counters["file_MB"] = fx.file_bytes / 1e6;
  if (cold) state.counters["cached_frac"] = cached;
}
BENCHMARK(BM_LoadModel)
    ->ArgNames({"mmap", "cold"})
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
