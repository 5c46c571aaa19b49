// Host side of the GPU level solver (see gpu_plan.h).
#include "train/gpu_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/log.h"
#include "core/parallel.h"
#include "train/prune.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

[[noreturn]] void Invalid(const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, "LevelProblem: " + msg);
}

std::int64_t Round256(std::int64_t b) { return (b + 255) / 256 * 256; }

// Sorted distinct instance ids of a parent: its matching column and its children's positives.
void ParentInstances(const LevelProblem& p, Index parent, const Index* children, Index nc,
                     std::vector<Index>* out) {
  const Index n = p.x.rows;
  const SparseVecView m = p.matching.col(parent);
  out->assign(m.indices, m.indices + m.nnz);
  for (Index s = 0; s < m.nnz; ++s) {
    if (m.indices[s] < 0 || m.indices[s] >= n || (s > 0 && m.indices[s] <= m.indices[s - 1])) {
      Invalid("matching column " + std::to_string(parent) +
              " has row ids out of range or not strictly increasing");
    }
  }
  const std::size_t matched = out->size();
  for (Index c = 0; c < nc; ++c) {
    const SparseVecView y = p.y.col(children[c]);
    for (Index s = 0; s < y.nnz; ++s) {
      if (y.indices[s] < 0 || y.indices[s] >= n) {
        Invalid("y column " + std::to_string(children[c]) + " has a row id out of range");
      }
      if (!std::binary_search(out->begin(), out->begin() + matched, y.indices[s])) {
        out->push_back(y.indices[s]);
      }
    }
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

}  // namespace

std::int64_t ParentBytes(std::int64_t n, std::int64_t d, std::int64_t B, std::int64_t nnz,
                         bool with_cost, bool heavy) {
  const std::int64_t pairs = n * B;
  std::int64_t b = 0;
  b += Round256(8 * (n + 1)) + Round256(4 * nnz) + Round256(4 * nnz) + Round256(4 * n);
  b += Round256(pairs) + (with_cost ? Round256(4 * pairs) : 0);
  b += Round256(4 * pairs) + Round256(pairs);
  b += Round256(4 * d * B) + Round256(4 * B);
  b += Round256(8 * d * B);  // candidates: worst case every weight survives
  if (heavy) {
    // Newton-CG: 6 more (d + 1) x B and 5 n x B matrices, the transposed rows (CSR of X^T with
    // 32-bit offsets) and cuSPARSE's work buffers (bounded by one more n x B).
    b += 6 * Round256(4 * (d + 1) * B) + 6 * Round256(4 * n * B);
    b += Round256(4 * (d + 1)) + 2 * Round256(4 * nnz) + Round256(4 * (n + 1));
  }
  return b;
}

LevelPlan PlanLevel(const LevelProblem& p, std::int64_t budget_bytes, int threads,
                    std::int64_t heavy_rows, bool newton) {
  XMR_EXPECTS(budget_bytes > 0, ErrorCode::kInvalidArgument,
              "PlanLevel: the memory budget must be > 0");
  ValidateLevelProblem(p);
  LevelPlan plan;
  plan.n_nodes = p.y.cols;
  plan.n_features = p.x.cols;
  plan.with_cost = p.cost.cols != 0;
  const Index n_parents = plan.n_nodes > 0 ? p.matching.cols : 0;

  std::vector<Index> child_count(n_parents, 0);
  for (Index l = 0; l < plan.n_nodes; ++l) ++child_count[p.parent_of_node[l]];
  std::vector<Offset> all_child_ptr(n_parents + 1, 0);
  for (Index k = 0; k < n_parents; ++k) all_child_ptr[k + 1] = all_child_ptr[k] + child_count[k];
  std::vector<Index> all_children(plan.n_nodes);
  {
    std::vector<Offset> fill(all_child_ptr.begin(), all_child_ptr.end() - 1);
    for (Index l = 0; l < plan.n_nodes; ++l) all_children[fill[p.parent_of_node[l]]++] = l;
  }
  for (Index k = 0; k < n_parents; ++k) {
    if (child_count[k] > 0) plan.parents.push_back(k);
  }
  const std::size_t np = plan.parents.size();

  // Instances, nnz and local feature counts per parent (parallel; each parent independent).
  std::vector<std::vector<Index>> inst(np);
  plan.nnz.assign(np, 0);
  plan.n_local.assign(np, 0);
  const Index d = p.x.cols;
  const int workers = NumWorkers(static_cast<std::int64_t>(np), threads);
  std::vector<std::vector<std::uint8_t>> seen(std::max(1, workers));
  std::vector<std::vector<Index>> touched(seen.size());
  ParallelFor(static_cast<std::int64_t>(np), threads, [&](std::int64_t q, int worker) {
    const Index k = plan.parents[q];
    ParentInstances(p, k, all_children.data() + all_child_ptr[k], child_count[k], &inst[q]);
    std::vector<std::uint8_t>& mark = seen[worker];
    if (mark.size() != static_cast<std::size_t>(d)) mark.assign(d, 0);
    std::vector<Index>& t = touched[worker];
    t.clear();
    Offset nnz = 0;
    for (const Index i : inst[q]) {
      const SparseVecView r = p.x.row(i);
      for (Index j = 0; j < r.nnz; ++j) {
        const Index f = r.indices[j];
        if (f < 0 || f >= d || (j > 0 && f <= r.indices[j - 1])) {
          for (const Index g : t) mark[g] = 0;
          Invalid("x row " + std::to_string(i) +
                  " has feature ids out of range or not strictly increasing");
        }
        if (!mark[f]) {
          mark[f] = 1;
          t.push_back(f);
        }
      }
      nnz += r.nnz;
    }
    for (const Index g : t) mark[g] = 0;
    plan.nnz[q] = nnz;
    plan.n_local[q] = static_cast<Index>(t.size());
  });

  plan.child_ptr.assign(1, 0);
  plan.inst_ptr.assign(1, 0);
  plan.bytes.resize(np);
  plan.heavy.assign(np, 0);
  for (std::size_t q = 0; q < np; ++q) {
    const Index k = plan.parents[q];
    plan.children.insert(plan.children.end(), all_children.begin() + all_child_ptr[k],
                         all_children.begin() + all_child_ptr[k + 1]);
    plan.child_ptr.push_back(static_cast<Offset>(plan.children.size()));
    plan.instances.insert(plan.instances.end(), inst[q].begin(), inst[q].end());
    plan.inst_ptr.push_back(static_cast<Offset>(plan.instances.size()));
    const std::int64_t n = static_cast<std::int64_t>(inst[q].size());
    // Newton-CG's column reductions run one column per thread group of a 256-thread block.
    plan.heavy[q] = newton && heavy_rows > 0 && n >= heavy_rows && child_count[k] <= 256;
    plan.bytes[q] = ParentBytes(n, plan.n_local[q], child_count[k], plan.nnz[q], plan.with_cost);
    if (plan.bytes[q] > budget_bytes) {
      throw Error(
          ErrorCode::kOutOfMemory,
          StrFormat("GPU level solver: parent %d needs %.1f MB of device memory "
                    "(%lld instances, %d local features, %d children, %lld nnz), more "
                    "than the budget of %.1f MB (--gpu-memory)",
                    k, plan.bytes[q] / 1e6, static_cast<long long>(n), plan.n_local[q],
                    child_count[k], static_cast<long long>(plan.nnz[q]), budget_bytes / 1e6));
    }
    plan.total_bytes += plan.bytes[q];
  }
  // Waves: consecutive parents while the wave fits the budget.
  plan.wave_ptr.assign(1, 0);
  std::int64_t acc = 0;
  for (std::size_t q = 0; q < np; ++q) {
    if (acc + plan.bytes[q] > budget_bytes) {
      plan.wave_ptr.push_back(q);
      plan.max_wave_bytes = std::max(plan.max_wave_bytes, acc);
      acc = 0;
    }
    acc += plan.bytes[q];
  }
  if (np > 0) {
    plan.wave_ptr.push_back(np);
    plan.max_wave_bytes = std::max(plan.max_wave_bytes, acc);
  }
  return plan;
}

WaveData BuildWave(const LevelProblem& p, const LevelPlan& plan, std::size_t w, int threads) {
  XMR_EXPECTS(w < plan.n_waves(), ErrorCode::kInternal, "BuildWave: no such wave");
  WaveData wave;
  wave.first = plan.wave_ptr[w];
  wave.last = plan.wave_ptr[w + 1];
  const std::size_t m = wave.last - wave.first;
  auto zero = [&](std::vector<std::int64_t>* v) { v->assign(m + 1, 0); };
  zero(&wave.row_off);
  zero(&wave.nnz_off);
  zero(&wave.pair_off);
  zero(&wave.w_off);
  zero(&wave.child_off);
  zero(&wave.feat_off);
  wave.n.resize(m);
  wave.d.resize(m);
  wave.B.resize(m);
  wave.parent_id.resize(m);
  wave.heavy.assign(plan.heavy.begin() + wave.first, plan.heavy.begin() + wave.last);
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t q = wave.first + i;
    const std::int64_t n = plan.inst_ptr[q + 1] - plan.inst_ptr[q];
    const std::int64_t B = plan.child_ptr[q + 1] - plan.child_ptr[q];
    wave.n[i] = static_cast<std::int32_t>(n);
    wave.d[i] = plan.n_local[q];
    wave.B[i] = static_cast<std::int32_t>(B);
    wave.parent_id[i] = plan.parents[q];
    wave.row_off[i + 1] = wave.row_off[i] + n;
    wave.nnz_off[i + 1] = wave.nnz_off[i] + plan.nnz[q];
    wave.pair_off[i + 1] = wave.pair_off[i] + n * B;
    wave.w_off[i + 1] = wave.w_off[i] + static_cast<std::int64_t>(plan.n_local[q]) * B;
    wave.child_off[i + 1] = wave.child_off[i] + B;
    wave.feat_off[i + 1] = wave.feat_off[i] + plan.n_local[q];
  }
  wave.indptr.resize(wave.row_off[m] + static_cast<std::int64_t>(m));
  wave.idx.resize(wave.nnz_off[m]);
  wave.val.resize(wave.nnz_off[m]);
  wave.sqnorm.resize(wave.row_off[m]);
  wave.label.assign(wave.pair_off[m], lockstep::kNotMember);
  if (plan.with_cost) wave.cost.assign(wave.pair_off[m], 1.0f);
  wave.local_to_global.resize(wave.feat_off[m]);

  const Index d = p.x.cols;
  const int workers = NumWorkers(static_cast<std::int64_t>(m), threads);
  std::vector<std::vector<Index>> fmaps(std::max(1, workers));
  ParallelFor(static_cast<std::int64_t>(m), threads, [&](std::int64_t ii, int worker) {
    const std::size_t i = static_cast<std::size_t>(ii);
    const std::size_t q = wave.first + i;
    const Index* inst = plan.instances.data() + plan.inst_ptr[q];
    const Index n = wave.n[i];
    const Index B = wave.B[i];
    // Local features: sorted distinct ids of the parent's rows.
    Index* feats = wave.local_to_global.data() + wave.feat_off[i];
    std::vector<Index>& fmap = fmaps[worker];
    if (fmap.size() != static_cast<std::size_t>(d)) fmap.assign(d, -1);
    Index nf = 0;
    for (Index r = 0; r < n; ++r) {
      const SparseVecView row = p.x.row(inst[r]);
      for (Index j = 0; j < row.nnz; ++j) {
        if (fmap[row.indices[j]] == -1) {
          fmap[row.indices[j]] = 0;
          feats[nf++] = row.indices[j];
        }
      }
    }
    std::sort(feats, feats + nf);
    for (Index j = 0; j < nf; ++j) fmap[feats[j]] = j;
    // Rows in local ids (sorted, since the local order is the global order), and norms.
    std::int64_t* indptr = wave.indptr.data() + wave.row_off[i] + static_cast<std::int64_t>(i);
    std::int64_t pos = 0;
    indptr[0] = 0;
    for (Index r = 0; r < n; ++r) {
      const SparseVecView row = p.x.row(inst[r]);
      float s = 0.0f;
      for (Index j = 0; j < row.nnz; ++j) {
        wave.idx[wave.nnz_off[i] + pos] = fmap[row.indices[j]];
        wave.val[wave.nnz_off[i] + pos] = row.data[j];
        s += row.data[j] * row.data[j];
        ++pos;
      }
      wave.sqnorm[wave.row_off[i] + r] = s;
      indptr[r + 1] = pos;
    }
    for (Index j = 0; j < nf; ++j) fmap[feats[j]] = -1;
    // Labels: matched rows are negatives of every child; positives of child c are positive;
    // a sibling's positive outside the matching is not in the child's problem.
    std::uint8_t* label = wave.label.data() + wave.pair_off[i];
    const SparseVecView mcol = p.matching.col(plan.parents[q]);
    {
      Index r = 0;
      for (Index s = 0; s < mcol.nnz; ++s) {
        while (inst[r] < mcol.indices[s]) ++r;
        for (Index c = 0; c < B; ++c) label[static_cast<std::int64_t>(r) * B + c] = 1;
      }
    }
    for (Index c = 0; c < B; ++c) {
      const Index l = plan.children[plan.child_ptr[q] + c];
      const SparseVecView ycol = p.y.col(l);
      Index r = 0;
      for (Index s = 0; s < ycol.nnz; ++s) {
        r = static_cast<Index>(std::lower_bound(inst + r, inst + n, ycol.indices[s]) - inst);
        label[static_cast<std::int64_t>(r) * B + c] = lockstep::kPositive;
        if (plan.with_cost) {
          wave.cost[wave.pair_off[i] + static_cast<std::int64_t>(r) * B + c] =
              p.cost.col(l).data[s];
        }
      }
    }
  });
  return wave;
}

lockstep::ParentBlock WaveParent(const WaveData& wave, std::size_t i, float* w, float* bias_w,
                                 float* alpha, std::uint8_t* shrunk) {
  lockstep::ParentBlock b;
  b.n = wave.n[i];
  b.d = wave.d[i];
  b.B = wave.B[i];
  b.indptr = wave.indptr.data() + wave.row_off[i] + static_cast<std::int64_t>(i);
  b.idx = wave.idx.data() + wave.nnz_off[i];
  b.val = wave.val.data() + wave.nnz_off[i];
  b.sqnorm = wave.sqnorm.data() + wave.row_off[i];
  b.label = wave.label.data() + wave.pair_off[i];
  b.cost = wave.cost.empty() ? nullptr : wave.cost.data() + wave.pair_off[i];
  b.w = w + wave.w_off[i];
  b.bias_w = bias_w + wave.child_off[i];
  b.alpha = alpha + wave.pair_off[i];
  b.shrunk = shrunk + wave.pair_off[i];
  return b;
}

lockstep::SolveParams MakeSolveParams(const SolverOptions& opts, float bias, std::uint64_t seed) {
  XMR_EXPECTS(opts.type == SolverType::kL2SvcDual || opts.type == SolverType::kL1SvcDual,
              ErrorCode::kNotSupported,
              std::string("the GPU level solver implements l2-svc and l1-svc; solver ") +
                  SolverTypeName(opts.type) + " runs on the CPU only (--device cpu)");
  lockstep::SolveParams sp;
  sp.l2 = opts.type == SolverType::kL2SvcDual;
  sp.cp = opts.cp;
  sp.cn = opts.cn;
  sp.eps = opts.eps;
  sp.max_iter = opts.max_iter;
  sp.bias = bias > 0 ? static_cast<double>(bias) : 0.0;
  sp.seed = seed;
  return sp;
}

NewtonParams MakeNewtonParams(const SolverOptions& opts, float bias) {
  NewtonParams np;
  np.cp = opts.cp;
  np.cn = opts.cn;
  np.bias = bias > 0 ? static_cast<double>(bias) : 0.0;
  np.max_newton = std::max(10, std::min(opts.max_iter, 100));
  return np;
}

WaveResult SolveWaveOnHost(const WaveData& wave, const lockstep::SolveParams& sp,
                           const NewtonParams& np, float threshold, int threads) {
  const std::size_t m = wave.n.size();
  const std::int64_t children = wave.child_off[m];
  std::vector<float> w(wave.w_off[m], 0.0f), alpha(wave.pair_off[m]);
  std::vector<std::uint8_t> shrunk(wave.pair_off[m]);
  WaveResult res;
  res.bias_w.assign(children, 0.0f);
  res.stats.resize(children);
  std::vector<std::int32_t> count(children, 0);
  ParallelFor(static_cast<std::int64_t>(m), threads, [&](std::int64_t i, int) {
    const lockstep::ParentBlock b = WaveParent(wave, static_cast<std::size_t>(i), w.data(),
                                               res.bias_w.data(), alpha.data(), shrunk.data());
    if (wave.heavy[i]) {
      HostNewtonOps ops(b, np);
      NewtonStats ns;
      std::vector<char> done;
      const std::vector<float>& sol = ops.Matrix(SolveNewtonCg(&ops, np, &ns, &done));
      std::copy(sol.begin(), sol.begin() + static_cast<std::int64_t>(b.d) * b.B, b.w);
      for (std::int32_t k = 0; k < b.B; ++k) {
        b.bias_w[k] = np.bias > 0 ? sol[static_cast<std::size_t>(b.d) * b.B + k] : 0.0f;
        lockstep::ChildStats& cs = res.stats[wave.child_off[i] + k];
        cs.iterations = ns.newton_iterations;
        cs.converged = done[k];
        cs.updates = ns.cg_iterations;
        count[wave.child_off[i] + k] = lockstep::CountKept(b, k, threshold);
      }
      return;
    }
    lockstep::SolveParams ps = sp;
    ps.parent = static_cast<std::uint64_t>(wave.parent_id[i]);
    for (std::int32_t k = 0; k < b.B; ++k) {
      res.stats[wave.child_off[i] + k] = lockstep::SolveChildSvc(b, k, ps);
      count[wave.child_off[i] + k] = lockstep::CountKept(b, k, threshold);
    }
  });
  res.cand_off.assign(children + 1, 0);
  for (std::int64_t c = 0; c < children; ++c) res.cand_off[c + 1] = res.cand_off[c] + count[c];
  res.cand_idx.resize(res.cand_off[children]);
  res.cand_val.resize(res.cand_off[children]);
  ParallelFor(static_cast<std::int64_t>(m), threads, [&](std::int64_t i, int) {
    const lockstep::ParentBlock b = WaveParent(wave, static_cast<std::size_t>(i), w.data(),
                                               res.bias_w.data(), alpha.data(), shrunk.data());
    for (std::int32_t k = 0; k < b.B; ++k) {
      const std::int64_t c = wave.child_off[i] + k;
      lockstep::ScatterKept(b, k, threshold, res.cand_idx.data() + res.cand_off[c],
                            res.cand_val.data() + res.cand_off[c]);
    }
  });
  return res;
}

LevelAssembler::LevelAssembler(const LevelPlan& plan, const SolverOptions& opts, float bias)
    : plan_(plan), opts_(opts), bias_(bias), rows_(plan.n_nodes), vals_(plan.n_nodes) {}

void LevelAssembler::Add(const WaveData& wave, const WaveResult& res) {
  const bool has_bias = bias_ > 0;
  const PruneRule rule{opts_.threshold, opts_.max_nonzeros_per_label};
  std::vector<Index> cand_rows, scratch;
  const std::size_t m = wave.n.size();
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t q = wave.first + i;
    const Index* l2g = wave.local_to_global.data() + wave.feat_off[i];
    for (std::int32_t k = 0; k < wave.B[i]; ++k) {
      const std::int64_t c = wave.child_off[i] + k;
      const Index node = plan_.children[plan_.child_ptr[q] + k];
      cand_rows.clear();
      for (std::int64_t e = res.cand_off[c]; e < res.cand_off[c + 1]; ++e) {
        cand_rows.push_back(l2g[res.cand_idx[e]]);
      }
      const float b = wave.n[i] > 0 ? res.bias_w[c] : 0.0f;
      const SparseVecView cand{static_cast<Index>(cand_rows.size()), cand_rows.data(),
                               res.cand_val.data() + res.cand_off[c]};
      PruneWeights(cand, has_bias, b, plan_.n_features, rule, &rows_[node], &vals_[node], &scratch);
      if (wave.n[i] > 0) {
        const lockstep::ChildStats& st = res.stats[c];
        ++problems;
        passes += st.iterations;
        max_passes = std::max(max_passes, static_cast<int>(st.iterations));
        unconverged += !st.converged;
        updates += st.updates;
      }
    }
  }
}

CscMatrix LevelAssembler::Finish() {
  CscMatrix w;
  w.rows = plan_.n_features + 1;
  w.cols = plan_.n_nodes;
  w.indptr.assign(static_cast<std::size_t>(w.cols) + 1, 0);
  for (Index l = 0; l < w.cols; ++l) {
    w.indptr[l + 1] = w.indptr[l] + static_cast<Offset>(rows_[l].size());
  }
  w.indices.resize(w.indptr[w.cols]);
  w.data.resize(w.indptr[w.cols]);
  for (Index l = 0; l < w.cols; ++l) {
    std::copy(rows_[l].begin(), rows_[l].end(), w.indices.begin() + w.indptr[l]);
    std::copy(vals_[l].begin(), vals_[l].end(), w.data.begin() + w.indptr[l]);
    std::vector<Index>().swap(rows_[l]);
    std::vector<float>().swap(vals_[l]);
  }
  return w;
}

namespace {

class LockstepHostLevelSolver final : public LevelSolver {
 public:
  LockstepHostLevelSolver(const Context& ctx, std::int64_t budget, std::int64_t heavy_rows)
      : ctx_(ctx), budget_(budget), heavy_rows_(heavy_rows) {}

  CscMatrix Solve(const LevelProblem& p, const SolverOptions& opts) override {
    opts.Validate();
    const lockstep::SolveParams sp = MakeSolveParams(opts, p.bias, ctx_.seed);
    const NewtonParams np = MakeNewtonParams(opts, p.bias);
    const LevelPlan plan =
        PlanLevel(p, budget_, ctx_.NumThreads(), heavy_rows_, opts.type == SolverType::kL2SvcDual);
    LevelAssembler out(plan, opts, p.bias);
    for (std::size_t w = 0; w < plan.n_waves(); ++w) {
      const WaveData wave = BuildWave(p, plan, w, ctx_.NumThreads());
      out.Add(wave, SolveWaveOnHost(wave, sp, np, opts.threshold, ctx_.NumThreads()));
    }
    return out.Finish();
  }
  DeviceKind device() const noexcept override { return DeviceKind::kCpu; }

 private:
  Context ctx_;
  std::int64_t budget_;
  std::int64_t heavy_rows_;
};

}  // namespace

std::unique_ptr<LevelSolver> MakeLockstepHostLevelSolver(const Context& ctx,
                                                         std::int64_t budget_bytes,
                                                         std::int64_t heavy_rows) {
  return std::make_unique<LockstepHostLevelSolver>(ctx, budget_bytes, heavy_rows);
}

}  // namespace detail
}  // namespace xmr
