// CPU level solver: one dual-CD problem per node (dual_cd.h), parallel over nodes.
//
// Nodes are grouped by parent. A parent's instances (its matching column plus any positives of
// its children outside it) are gathered once into a block whose feature ids are remapped to a
// compact range 0..F_k-1 (in increasing global order, so every row stays sorted and every dot
// product sums in the same order as over global ids). Each child then trains with a dense w of
// F_k floats, and only the surviving weights are mapped back to global ids: no per-label work
// is O(n_features). A parent that covers every instance (the root) uses X's rows in place.
// Blocks of at most 65536 features store 16-bit feature ids (less memory traffic: instances
// are visited in random order, so large blocks run from L3/memory).
//
// Root-like parents (the matching column holds every instance: the root level, a flat model)
// train their children kSharedRowsLanes at a time in lock step (shared_rows_cd.h): one read of
// a row serves 16 labels, where one label at a time would stream all of X from memory once per
// label and pass (CpuSolverConfig::shared_rows; SVC solvers).
//
// Scheduling: jobs = (parent, run of children): one child, or up to kSharedRowsLanes for a
// root-like parent; parents ordered by estimated cost (largest first). The first job of a
// parent gathers its block (std::call_once); the last one to finish frees it, so only about
// `threads` blocks are alive at a time. Every label's computation depends only on its own inputs
// and the fixed grouping of children into runs, so the result is bit-identical for any thread
// count.
#include "train/cpu_level_solver.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/parallel.h"
#include "train/dual_cd.h"
#include "train/gpu_plan.h"  // for MakeSolveParams (the lock-step solver's parameters)
#include "train/prune.h"
#include "train/shared_rows_cd.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

// The instances of one parent, in the parent's local feature space.
struct ParentBlock {
  Index n_match = 0;  // rows [0, n_match): the matching column, by increasing instance id
  Index n_rows = 0;   // rows [n_match, n_rows): positives of children outside the matching
  CsrView x;          // n_rows x n_features
  Index n_features = 0;
  const Index* feature_ids = nullptr;  // local -> global feature id; nullptr = identity
  std::vector<Index> features;
  std::vector<Offset> indptr;
  std::vector<Index> indices;
  std::vector<float> data;
  // The feature ids as 16 bits when n_features <= 65536 (then `indices` is released): the
  // solver's rows are read in random order, and smaller rows miss the cache less.
  std::vector<std::uint16_t> indices16;
  std::vector<float> sqnorm;  // x_i . x_i per row (float, index order)
  // Per child (in child order): local rows of its positives, and their costs if given.
  std::vector<Offset> pos_ptr;
  std::vector<Index> pos_rows;
  std::vector<float> pos_cost;
};

struct ParentSlot {
  std::once_flag once;
  std::unique_ptr<ParentBlock> block;
  std::atomic<Index> remaining{0};
};

struct WorkerScratch {
  std::vector<Index> instance_map;  // global instance -> local row (-1 = none)
  std::vector<Index> feature_map;   // global feature -> local feature (-1 = none)
  std::vector<Index> touched;
  CdScratch cd;
  std::vector<float> w;
  std::vector<Index> rows;
  std::vector<std::int8_t> y;
  std::vector<float> cost;
  std::vector<Index> cand_rows;
  std::vector<float> cand_vals;
  std::vector<Index> prune_scratch;
  SharedRowsScratch shared;
  // Diagnostics (verbose >= 2).
  std::int64_t problems = 0, passes = 0, visits = 0, updates = 0, unconverged = 0;
  int max_passes = 0;
};

constexpr Index kMax16BitFeatures = 65536;

[[noreturn]] void Invalid(const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, "LevelProblem: " + msg);
}

class CpuLevelSolver final : public LevelSolver {
 public:
  CpuLevelSolver(const Context& ctx, const CpuSolverConfig& cfg) : ctx_(ctx), cfg_(cfg) {}

  CscMatrix Solve(const LevelProblem& problem, const SolverOptions& opts) override;
  DeviceKind device() const noexcept override { return DeviceKind::kCpu; }

 private:
  void Check(const LevelProblem& p) const;
  std::unique_ptr<ParentBlock> Gather(const LevelProblem& p, Index parent, const Index* children,
                                      Index n_children, WorkerScratch* ws) const;

  Context ctx_;
  CpuSolverConfig cfg_;
};

void CpuLevelSolver::Check(const LevelProblem& p) const { ValidateLevelProblem(p); }

std::unique_ptr<ParentBlock> CpuLevelSolver::Gather(const LevelProblem& p, Index parent,
                                                    const Index* children, Index n_children,
                                                    WorkerScratch* ws) const {
  const Index n = p.x.rows;
  const Index d = p.x.cols;
  auto block = std::make_unique<ParentBlock>();
  ParentBlock& blk = *block;
  if (ws->instance_map.size() != static_cast<std::size_t>(n)) ws->instance_map.assign(n, -1);
  std::vector<Index>& imap = ws->instance_map;

  // Local rows: the matching column first, then the children's positives outside it.
  const SparseVecView mcol = p.matching.col(parent);
  std::vector<Index> inst(mcol.indices, mcol.indices + mcol.nnz);
  for (Index s = 0; s < mcol.nnz; ++s) {
    const Index i = inst[s];
    if (i < 0 || i >= n || (s > 0 && i <= inst[s - 1])) {
      for (Index t = 0; t < s; ++t) imap[inst[t]] = -1;
      Invalid("matching column " + std::to_string(parent) +
              " has row ids out of range or not strictly increasing");
    }
    imap[i] = s;
  }
  blk.n_match = mcol.nnz;
  const std::size_t first_extra = inst.size();
  for (Index c = 0; c < n_children; ++c) {
    const SparseVecView ycol = p.y.col(children[c]);
    for (Index s = 0; s < ycol.nnz; ++s) {
      const Index i = ycol.indices[s];
      if (i < 0 || i >= n) {
        for (Index r : inst) imap[r] = -1;
        Invalid("y column " + std::to_string(children[c]) + " has a row id out of range");
      }
      if (imap[i] == -1) {
        imap[i] = -2;  // seen; numbered below
        inst.push_back(i);
      }
    }
  }
  std::sort(inst.begin() + first_extra, inst.end());
  for (std::size_t s = first_extra; s < inst.size(); ++s) imap[inst[s]] = static_cast<Index>(s);
  blk.n_rows = static_cast<Index>(inst.size());

  // Positives of each child as local rows.
  blk.pos_ptr.assign(1, 0);
  for (Index c = 0; c < n_children; ++c) {
    const Index l = children[c];
    const SparseVecView ycol = p.y.col(l);
    for (Index s = 0; s < ycol.nnz; ++s) {
      blk.pos_rows.push_back(imap[ycol.indices[s]]);
      if (p.cost.cols != 0) blk.pos_cost.push_back(p.cost.col(l).data[s]);
    }
    blk.pos_ptr.push_back(static_cast<Offset>(blk.pos_rows.size()));
  }
  for (Index i : inst) imap[i] = -1;

  auto check_row = [&](const Index* idx, Offset nnz, Index global_row) {
    for (Offset k = 0; k < nnz; ++k) {
      if (idx[k] < 0 || idx[k] >= d || (k > 0 && idx[k] <= idx[k - 1])) {
        Invalid("x row " + std::to_string(global_row) +
                " has feature ids out of range or not strictly increasing");
      }
    }
  };

  const bool all_rows = blk.n_rows == n && blk.n_match == n;  // matching = every instance
  if (all_rows) {
    // Root-like parent: train on X itself in the global feature space (few labels, so dense w
    // of x.cols floats per label is fine); rows are not copied, only their feature ids when they
    // fit 16 bits (a quarter of X's size).
    blk.x = p.x;
    const Offset base = n > 0 ? p.x.indptr[0] : 0;
    if (base != 0) {
      // A view into a larger matrix (row slice): rebase its offsets so that the 16-bit copy
      // below is sized by the view's nonzeros, not by where they start.
      blk.indptr.assign(p.x.indptr, p.x.indptr + n + 1);
      for (Offset& o : blk.indptr) o -= base;
      blk.x.indptr = blk.indptr.data();
      blk.x.indices = p.x.indices + base;
      blk.x.data = p.x.data + base;
    }
    blk.n_features = d;
    blk.sqnorm.resize(n);
    for (Index i = 0; i < n; ++i) {
      const SparseVecView r = p.x.row(i);
      check_row(r.indices, r.nnz, i);
      float s = 0.0f;
      for (Index k = 0; k < r.nnz; ++k) s += r.data[k] * r.data[k];
      blk.sqnorm[i] = s;
    }
    if (d <= kMax16BitFeatures && n > 0) {
      blk.indices16.assign(blk.x.indices, blk.x.indices + blk.x.indptr[n]);
    }
    return block;
  }

  Offset nnz = 0;
  for (Index i : inst) nnz += p.x.indptr[i + 1] - p.x.indptr[i];
  blk.indptr.resize(inst.size() + 1);
  blk.indices.resize(nnz);
  blk.data.resize(nnz);
  blk.sqnorm.resize(inst.size());
  blk.indptr[0] = 0;
  Offset pos = 0;
  for (std::size_t r = 0; r < inst.size(); ++r) {
    const SparseVecView row = p.x.row(inst[r]);
    check_row(row.indices, row.nnz, inst[r]);
    std::copy(row.indices, row.indices + row.nnz, blk.indices.begin() + pos);
    std::copy(row.data, row.data + row.nnz, blk.data.begin() + pos);
    float s = 0.0f;
    for (Index k = 0; k < row.nnz; ++k) s += row.data[k] * row.data[k];
    blk.sqnorm[r] = s;
    pos += row.nnz;
    blk.indptr[r + 1] = pos;
  }

  if (cfg_.local_features) {
    if (ws->feature_map.size() != static_cast<std::size_t>(d)) ws->feature_map.assign(d, -1);
    std::vector<Index>& fmap = ws->feature_map;
    std::vector<Index>& feats = blk.features;
    for (Offset k = 0; k < nnz; ++k) {
      const Index f = blk.indices[k];
      if (fmap[f] == -1) {
        fmap[f] = 0;
        feats.push_back(f);
      }
    }
    std::sort(feats.begin(), feats.end());
    for (std::size_t j = 0; j < feats.size(); ++j) fmap[feats[j]] = static_cast<Index>(j);
    for (Offset k = 0; k < nnz; ++k) blk.indices[k] = fmap[blk.indices[k]];
    for (Index f : feats) fmap[f] = -1;
    blk.n_features = static_cast<Index>(feats.size());
    blk.feature_ids = feats.data();
  } else {
    blk.n_features = d;
  }
  if (blk.n_features <= kMax16BitFeatures) {
    blk.indices16.assign(blk.indices.begin(), blk.indices.end());
    std::vector<Index>().swap(blk.indices);
  }
  blk.x =
      CsrView{blk.n_rows, blk.n_features, blk.indptr.data(), blk.indices.data(), blk.data.data()};
  return block;
}

CscMatrix CpuLevelSolver::Solve(const LevelProblem& p, const SolverOptions& opts) {
  opts.Validate();
  Check(p);
  const Index n_nodes = p.y.cols;
  const Index n_parents = n_nodes > 0 ? p.matching.cols : 0;
  const Index d = p.x.cols;

  // Children of each parent, by increasing node id.
  std::vector<Index> child_ptr(n_parents + 1, 0), child_ids(n_nodes);
  for (Index l = 0; l < n_nodes; ++l) ++child_ptr[p.parent_of_node[l] + 1];
  for (Index k = 0; k < n_parents; ++k) child_ptr[k + 1] += child_ptr[k];
  {
    std::vector<Index> fill(child_ptr.begin(), child_ptr.end() - 1);
    for (Index l = 0; l < n_nodes; ++l) child_ids[fill[p.parent_of_node[l]]++] = l;
  }

  // Parents by estimated cost (nnz of the matched rows x children), largest first.
  std::vector<double> cost(n_parents, 0.0);
  std::vector<Index> order;
  for (Index k = 0; k < n_parents; ++k) {
    const Index nc = child_ptr[k + 1] - child_ptr[k];
    if (nc == 0) continue;
    const SparseVecView m = p.matching.col(k);
    double nnz = m.nnz;
    for (Index s = 0; s < m.nnz; ++s) {
      const Index i = m.indices[s];
      if (i >= 0 && i < p.x.rows) nnz += static_cast<double>(p.x.indptr[i + 1] - p.x.indptr[i]);
    }
    cost[k] = nnz * nc;
    order.push_back(k);
  }
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return cost[a] > cost[b]; });
  // job -> parent, position of its first child among the parent's children, children in it.
  std::vector<Index> job_parent, job_child, job_count;
  job_parent.reserve(n_nodes);
  job_child.reserve(n_nodes);
  job_count.reserve(n_nodes);
  const bool svc = opts.type == SolverType::kL2SvcDual || opts.type == SolverType::kL1SvcDual;
  const bool shared_rows = cfg_.shared_rows && svc && !opts.pecos_order;
  std::vector<ParentSlot> slots(n_parents);
  for (Index k : order) {
    const Index nc = child_ptr[k + 1] - child_ptr[k];
    const bool shared = shared_rows && p.matching.col(k).nnz == p.x.rows;
    const Index run = shared ? kSharedRowsLanes : 1;
    for (Index c = 0; c < nc; c += run) {
      job_parent.push_back(k);
      job_child.push_back(c);
      job_count.push_back(std::min(run, nc - c));
      ++slots[k].remaining;
    }
  }

  const std::int64_t n_jobs = static_cast<std::int64_t>(job_parent.size());
  const int threads = ctx_.NumThreads();
  std::vector<WorkerScratch> scratch(NumWorkers(n_jobs, threads));
  std::vector<std::vector<Index>> out_rows(n_nodes);
  std::vector<std::vector<float>> out_vals(n_nodes);
  const bool has_bias = p.bias > 0;
  const PruneRule rule{opts.threshold, opts.max_nonzeros_per_label};

  // A level can run for hours (a flat model: every label on every instance), so it reports its
  // progress every kProgressEverySeconds; the driver logs the level's summary at its end.
  constexpr double kProgressEverySeconds = 30.0;
  const Timer level_timer;
  std::atomic<std::int64_t> nodes_done{0};
  std::atomic<double> next_progress{kProgressEverySeconds};
  const std::int64_t total_nodes =
      std::accumulate(job_count.begin(), job_count.end(), std::int64_t{0});
  auto report_progress = [&](std::int64_t nodes) {
    const std::int64_t done = nodes_done.fetch_add(nodes) + nodes;
    if (ctx_.verbose < 1) return;
    const double now = level_timer.Seconds();
    double due = next_progress.load();
    if (now < due || !next_progress.compare_exchange_strong(due, now + kProgressEverySeconds)) {
      return;
    }
    const double rate = static_cast<double>(done) / now;
    Log(ctx_, StrFormat("  ... %lld/%lld nodes of this level, %.0f s, %.1f nodes/s, about %.0f s "
                        "left",
                        static_cast<long long>(done), static_cast<long long>(total_nodes), now,
                        rate, static_cast<double>(total_nodes - done) / rate));
  };

  // One child's candidate weights (ws.cand_*) -> its pruned column.
  auto prune = [&](WorkerScratch& ws, Index l, float b) {
    const SparseVecView cand{static_cast<Index>(ws.cand_rows.size()), ws.cand_rows.data(),
                             ws.cand_vals.data()};
    PruneWeights(cand, has_bias, b, d, rule, &out_rows[l], &out_vals[l], &ws.prune_scratch);
  };

  ParallelFor(n_jobs, threads, [&](std::int64_t job, int worker) {
    WorkerScratch& ws = scratch[worker];
    const Index k = job_parent[job];
    const Index c = job_child[job];
    const Index* children = child_ids.data() + child_ptr[k];
    ParentSlot& slot = slots[k];
    std::call_once(slot.once, [&] {
      slot.block = Gather(p, k, children, child_ptr[k + 1] - child_ptr[k], &ws);
    });
    const ParentBlock& blk = *slot.block;

    if (shared_rows && blk.n_match == p.x.rows && blk.n_rows == p.x.rows) {
      // Root-like parent: children c .. c + lanes - 1 in lock step over every row.
      const int lanes = static_cast<int>(job_count[job]);
      SharedRowsProblem sp;
      sp.x = blk.x;
      if (!blk.indices16.empty()) sp.indices16 = blk.indices16.data();
      sp.sqnorm = blk.sqnorm.data();
      sp.lanes = lanes;
      sp.pos_ptr = blk.pos_ptr.data() + c;
      sp.pos_rows = blk.pos_rows.data();
      sp.pos_cost = p.cost.cols != 0 ? blk.pos_cost.data() : nullptr;
      lockstep::SolveParams params = MakeSolveParams(opts, p.bias, ctx_.seed);
      params.parent = static_cast<std::uint64_t>(k);
      float bias_w[kSharedRowsLanes];
      lockstep::ChildStats st[kSharedRowsLanes];
      SolveSharedRowsSvc(sp, params, &ws.shared, bias_w, st);
      const float thr = opts.threshold;
      const float* w = ws.shared.w.data();
      for (int lane = 0; lane < lanes; ++lane) {
        ++ws.problems;
        ws.passes += st[lane].iterations;
        ws.max_passes = std::max(ws.max_passes, static_cast<int>(st[lane].iterations));
        ws.visits += st[lane].visits;
        ws.updates += st[lane].updates;
        ws.unconverged += !st[lane].converged;
        ws.cand_rows.clear();
        ws.cand_vals.clear();
        for (Index j = 0; j < blk.n_features; ++j) {
          const float v = w[static_cast<std::size_t>(j) * kSharedRowsLanes + lane];
          if (v != 0.0f && std::fabs(v) >= thr) {
            ws.cand_rows.push_back(blk.feature_ids ? blk.feature_ids[j] : j);
            ws.cand_vals.push_back(v);
          }
        }
        prune(ws, children[c + lane], bias_w[lane]);
      }
      if (slot.remaining.fetch_sub(1) == 1) slot.block.reset();
      report_progress(lanes);
      return;
    }

    const Index l = children[c];
    // The label's problem: all matched rows, then its own positives outside the matching.
    ws.rows.resize(blk.n_match);
    std::iota(ws.rows.begin(), ws.rows.end(), 0);
    ws.y.assign(blk.n_match, -1);
    const bool with_cost = p.cost.cols != 0;
    if (with_cost) ws.cost.assign(blk.n_match, 1.0f);
    for (Offset s = blk.pos_ptr[c]; s < blk.pos_ptr[c + 1]; ++s) {
      const Index r = blk.pos_rows[s];
      Index pos = r;
      if (r >= blk.n_match) {
        pos = static_cast<Index>(ws.rows.size());
        ws.rows.push_back(r);
        ws.y.push_back(1);
        if (with_cost) ws.cost.push_back(1.0f);
      }
      ws.y[pos] = 1;
      if (with_cost) ws.cost[pos] = blk.pos_cost[s];
    }
    // Extras were appended in y-column order (increasing instance id = increasing local row).

    BinaryProblem bp;
    bp.x = blk.x;
    if (!blk.indices16.empty()) bp.indices16 = blk.indices16.data();
    bp.sqnorm = blk.sqnorm.data();
    bp.rows = ws.rows.data();
    bp.n = static_cast<Index>(ws.rows.size());
    bp.y = ws.y.data();
    bp.cost = with_cost ? ws.cost.data() : nullptr;
    bp.bias = has_bias ? static_cast<double>(p.bias) : 0.0;

    float b = 0.0f;
    ws.cand_rows.clear();
    ws.cand_vals.clear();
    if (bp.n > 0) {
      ws.w.resize(blk.n_features);
      const CdStats st = SolveBinary(bp, opts, ws.w.data(), &b, &ws.cd);
      ++ws.problems;
      ws.passes += st.iterations;
      ws.max_passes = std::max(ws.max_passes, st.iterations);
      ws.visits += st.visits;
      ws.updates += st.updates;
      ws.unconverged += !st.converged;
      const float thr = opts.threshold;
      for (Index j = 0; j < blk.n_features; ++j) {
        const float v = ws.w[j];
        if (v != 0.0f && std::fabs(v) >= thr) {
          ws.cand_rows.push_back(blk.feature_ids ? blk.feature_ids[j] : j);
          ws.cand_vals.push_back(v);
        }
      }
    }
    prune(ws, l, b);

    if (slot.remaining.fetch_sub(1) == 1) slot.block.reset();
    report_progress(1);
  });

  if (ctx_.verbose >= 2) {
    WorkerScratch sum;
    for (const WorkerScratch& ws : scratch) {
      sum.problems += ws.problems;
      sum.passes += ws.passes;
      sum.visits += ws.visits;
      sum.updates += ws.updates;
      sum.unconverged += ws.unconverged;
      sum.max_passes = std::max(sum.max_passes, ws.max_passes);
    }
    Log(ctx_,
        StrFormat("cpu level solver: %lld problems, %.1f passes on average (max %d, %lld hit "
                  "max_iter), %lld coordinate visits, %lld updates",
                  static_cast<long long>(sum.problems),
                  sum.problems ? static_cast<double>(sum.passes) / sum.problems : 0.0,
                  sum.max_passes, static_cast<long long>(sum.unconverged),
                  static_cast<long long>(sum.visits), static_cast<long long>(sum.updates)),
        2);
  }

  CscMatrix w;
  w.rows = d + 1;
  w.cols = n_nodes;
  w.indptr.assign(static_cast<std::size_t>(n_nodes) + 1, 0);
  for (Index l = 0; l < n_nodes; ++l) {
    w.indptr[l + 1] = w.indptr[l] + static_cast<Offset>(out_rows[l].size());
  }
  w.indices.resize(w.indptr[n_nodes]);
  w.data.resize(w.indptr[n_nodes]);
  for (Index l = 0; l < n_nodes; ++l) {
    std::copy(out_rows[l].begin(), out_rows[l].end(), w.indices.begin() + w.indptr[l]);
    std::copy(out_vals[l].begin(), out_vals[l].end(), w.data.begin() + w.indptr[l]);
    std::vector<Index>().swap(out_rows[l]);
    std::vector<float>().swap(out_vals[l]);
  }
  return w;
}

}  // namespace

std::unique_ptr<LevelSolver> MakeCpuLevelSolver(const Context& ctx, const CpuSolverConfig& cfg) {
  return std::make_unique<CpuLevelSolver>(ctx, cfg);
}

}  // namespace detail

std::unique_ptr<LevelSolver> MakeCpuLevelSolver(const Context& ctx) {
  return detail::MakeCpuLevelSolver(ctx, detail::CpuSolverConfig{});
}

}  // namespace xmr
