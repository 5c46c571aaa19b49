// The training driver (XR-Linear stage 2, PECOS's HierarchicalMLModel.train): builds Y_t and
// M_t per level, hands each level to the LevelSolver chosen once per run, and assembles the
// model. It never knows which backend ran.
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"
#include "core/memory.h"
#include "train/level_solver.h"
#include "train/matching.h"
#include "xmr/error.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr {
namespace {

void CheckData(const CsrView& x, const CsrView& y) {
  XMR_EXPECTS(x.rows >= 0 && x.cols >= 0 && y.rows >= 0 && y.cols >= 0, ErrorCode::kInvalidArgument,
              "negative matrix dimensions");
  XMR_EXPECTS(x.rows == y.rows, ErrorCode::kInvalidArgument,
              "x has " + std::to_string(x.rows) + " rows but y has " + std::to_string(y.rows));
  XMR_EXPECTS(x.rows > 0, ErrorCode::kInvalidArgument, "no training instance (x has 0 rows)");
  XMR_EXPECTS(y.cols > 0, ErrorCode::kInvalidArgument, "no label (y has 0 columns)");
  // One check, one error code, whichever entry point: ids past the declared dimensions,
  // unsorted or repeated ids and non-finite values are the caller's invalid argument (the
  // message names the matrix, the row and the id).
  for (const auto& [m, what] : {std::make_pair(&x, "x"), std::make_pair(&y, "y")}) {
    try {
      Validate(*m, std::string("training ") + what);
    } catch (const Error& e) {
      throw Error(ErrorCode::kInvalidArgument, e.what());
    }
  }
}

// Indexing and training keep dense per-thread buffers over the declared feature and label
// dimensions (accumulators, parent-local feature maps). A file that declares a huge dimension
// would otherwise get the process killed mid-way; refuse it up front and say how much it needs.
// Label features z, when given, widen the embedding the indexer clusters.
void CheckMemory(const CsrView& x, const CsrView& y, const Context& ctx,
                 const CsrView* z = nullptr) {
  double dims = static_cast<double>(x.cols) + y.cols + 2;
  double nnz = static_cast<double>(x.nnz());
  if (z != nullptr) {
    dims += z->cols;
    nnz += 2.0 * static_cast<double>(z->nnz());
  }
  const double need = 16.0 * dims * ctx.NumThreads() + 4.0 * nnz;
  const double avail = static_cast<double>(AvailableMemoryBytes());
  XMR_EXPECTS(need <= avail, ErrorCode::kOutOfMemory,
              StrFormat("training needs about %.1f GiB for %d features x %d labels on %d threads "
                        "but only %.1f GiB is available; declare the real feature dimension "
                        "(remap ids to 0..d-1) or use fewer threads",
                        need / (1 << 30), x.cols, y.cols, ctx.NumThreads(), avail / (1 << 30)));
}

ModelMeta MakeMeta(const CsrView& x, const TrainOptions& opts) {
  ModelMeta meta;
  meta.n_features = x.cols;
  meta.bias = opts.bias;
  meta.post_processor = opts.post_processor;
  meta.beam_size = opts.beam_size;
  meta.top_k = opts.top_k;
  meta.train_options = opts.ToString();
  return meta;
}

// P_{t-1}: beam prediction of the model made of levels 0..t-1 on the training instances.
CsrMatrix MatcherPrediction(const CsrView& x, const ClusterChain& tree,
                            const std::vector<CscMatrix>& weights, int t, const TrainOptions& opts,
                            const Context& ctx) {
  ClusterChain partial;
  partial.parents.assign(tree.parents.begin(), tree.parents.begin() + t);
  const std::vector<CscMatrix> partial_w(weights.begin(), weights.begin() + t);
  ModelMeta meta = MakeMeta(x, opts);
  const XLinearModel model = XLinearModel::FromWeights(partial, partial_w, meta);
  PredictOptions po;
  po.beam_size = opts.man_beam_size;
  po.top_k = opts.man_beam_size;
  po.post_processor = opts.post_processor;
  const CsrMatrix pred = Predict(model, x, po, ctx);
  return detail::BinarizeRows(pred.view());
}

std::string Count(double v) {
  if (v >= 1e9) return StrFormat("%.2fG", v / 1e9);
  if (v >= 1e6) return StrFormat("%.2fM", v / 1e6);
  if (v >= 1e4) return StrFormat("%.1fK", v / 1e3);
  return StrFormat("%.0f", v);
}

// Trains every level of `tree`; fills report->levels, train_seconds and device when asked.
XLinearModel TrainLevels(const CsrView& x, const CsrView& y, const ClusterChain& tree,
                         const TrainOptions& opts, const Context& ctx, LevelSolver* solver,
                         TrainReport* report) {
  const int depth = tree.depth();
  const Timer total;
  const std::vector<CsrMatrix> ys = detail::BuildLevelTargets(y, tree, ctx.NumThreads());
  const CscMatrix root_matching = detail::AllInstancesColumn(x.rows);
  std::vector<CscMatrix> weights;
  weights.reserve(depth);
  if (report) {
    report->device = DeviceKindName(solver->device());
    report->levels.clear();
    report->levels.reserve(depth);
  }
  CscMatrix prev_y;  // Y_{t-1} as CSC = the tfn matching of level t
  Log(ctx, StrFormat("training %d level(s) on %s, solver %s, negatives %s", depth,
                     DeviceKindName(solver->device()), SolverTypeName(opts.solver.type),
                     NegativeSamplingName(opts.negative_sampling)));
  for (int t = 0; t < depth; ++t) {
    const Timer timer;
    CscMatrix y_t = CsrToCsc(ys[t].view());
    CscMatrix matching;
    const CscMatrix* m = &root_matching;
    if (t > 0) {
      if (opts.negative_sampling == NegativeSampling::kTfn) {
        m = &prev_y;
      } else {
        const CsrMatrix pred = MatcherPrediction(x, tree, weights, t, opts, ctx);
        if (opts.negative_sampling == NegativeSampling::kMan) {
          matching = CsrToCsc(pred.view());
        } else {
          matching = CsrToCsc(detail::PatternUnion(ys[t - 1].view(), pred.view()).view());
        }
        m = &matching;
      }
    }
    LevelProblem problem;
    problem.x = x;
    problem.y = y_t.view();
    problem.parent_of_node = tree.parents[t].data();
    problem.matching = m->view();
    problem.bias = opts.bias;
    // Candidate (instance, node) pairs: every node trains on its parent's matched instances.
    Offset pairs = 0;
    for (Index l = 0; l < tree.n_nodes(t); ++l) {
      const Index k = tree.parents[t][l];
      pairs += m->indptr[k + 1] - m->indptr[k];
    }
    CscMatrix w = solver->Solve(problem, opts.solver);
    const double secs = timer.Seconds();
    Log(ctx, StrFormat("level %d/%d: %d nodes, %d parents, %s instance-node pairs, %s weights "
                       "kept, %.2f s (%.0f labels/s)",
                       t + 1, depth, tree.n_nodes(t), tree.n_parents(t),
                       Count(static_cast<double>(pairs)).c_str(),
                       Count(static_cast<double>(w.nnz())).c_str(), secs,
                       secs > 0 ? tree.n_nodes(t) / secs : 0.0));
    if (report) {
      LevelReport lr;
      lr.level = t;
      lr.n_nodes = tree.n_nodes(t);
      lr.n_parents = tree.n_parents(t);
      lr.n_pairs = pairs;
      lr.n_weights = w.nnz();
      lr.seconds = secs;
      report->levels.push_back(lr);
    }
    weights.push_back(std::move(w));
    prev_y = std::move(y_t);
  }
  Offset nnz = 0;
  for (const CscMatrix& w : weights) nnz += w.nnz();
  const double train_secs = total.Seconds();
  if (report) report->train_seconds = train_secs;
  Log(ctx, StrFormat("trained %d levels in %.2f s, %s weights", depth, train_secs,
                     Count(static_cast<double>(nnz)).c_str()));
  return XLinearModel::FromWeights(tree, weights, MakeMeta(x, opts));
}

// Train and TrainWithLabelFeatures: the label embedding (z may be null for kPifa only), the tree,
// then every level.
XLinearModel IndexAndTrain(const CsrView& x, const CsrView& y, const CsrView* z,
                           const TrainOptions& opts, const Context& ctx, TrainReport* report) {
  const Timer call;
  if (report) *report = TrainReport{};
  opts.Validate();
  XMR_EXPECTS(z != nullptr || opts.label_embedding.kind == LabelEmbeddingKind::kPifa,
              ErrorCode::kInvalidArgument,
              StrFormat("label_embedding=%s needs label features: use TrainWithLabelFeatures",
                        LabelEmbeddingKindName(opts.label_embedding.kind)));
  CheckData(x, y);
  CheckMemory(x, y, ctx, z);
  // Choose the backend first: device=cuda without a usable device fails before any work.
  const std::unique_ptr<LevelSolver> solver = MakeLevelSolver(ctx);
  const Timer timer;
  ClusterChain tree;
  {
    const CsrMatrix emb = LabelEmbedding(x, y, z, opts.label_embedding, ctx);
    tree = HierarchicalKMeans(emb.view(), opts.indexer, ctx);
  }
  std::string shape;
  for (int t = 0; t < tree.depth(); ++t) {
    shape += StrFormat("%s%dx%d", t ? ", " : "", tree.n_nodes(t), tree.n_parents(t));
  }
  const double index_secs = timer.Seconds();
  Log(ctx, StrFormat("indexed %d labels (%s) in %.2f s: tree [%s]", y.cols,
                     LabelEmbeddingKindName(opts.label_embedding.kind), index_secs, shape.c_str()));
  XLinearModel model = TrainLevels(x, y, tree, opts, ctx, solver.get(), report);
  if (report) {
    report->index_seconds = index_secs;
    report->total_seconds = call.Seconds();
  }
  return model;
}

}  // namespace

XLinearModel Train(const CsrView& x, const CsrView& y, const TrainOptions& opts, const Context& ctx,
                   TrainReport* report) {
  return IndexAndTrain(x, y, nullptr, opts, ctx, report);
}

XLinearModel TrainWithLabelFeatures(const CsrView& x, const CsrView& y, const CsrView& z,
                                    const TrainOptions& opts, const Context& ctx,
                                    TrainReport* report) {
  return IndexAndTrain(x, y, &z, opts, ctx, report);
}

XLinearModel TrainWithTree(const CsrView& x, const CsrView& y, const ClusterChain& tree,
                           const TrainOptions& opts, const Context& ctx, TrainReport* report) {
  const Timer call;
  if (report) *report = TrainReport{};
  opts.Validate();
  CheckData(x, y);
  CheckMemory(x, y, ctx);
  tree.Validate();
  XMR_EXPECTS(tree.depth() >= 1 && tree.n_labels() == y.cols, ErrorCode::kInvalidArgument,
              "the tree's last level has " + std::to_string(tree.n_labels()) + " nodes but y has " +
                  std::to_string(y.cols) + " labels");
  const std::unique_ptr<LevelSolver> solver = MakeLevelSolver(ctx);
  XLinearModel model = TrainLevels(x, y, tree, opts, ctx, solver.get(), report);
  if (report) report->total_seconds = call.Seconds();
  return model;
}

namespace detail {

XLinearModel TrainWithSolver(const CsrView& x, const CsrView& y, const ClusterChain& tree,
                             const TrainOptions& opts, const Context& ctx, LevelSolver* solver,
                             TrainReport* report) {
  XMR_EXPECTS(solver != nullptr, ErrorCode::kInvalidArgument, "TrainWithSolver: null solver");
  const Timer call;
  if (report) *report = TrainReport{};
  opts.Validate();
  CheckData(x, y);
  tree.Validate();
  XMR_EXPECTS(tree.depth() >= 1 && tree.n_labels() == y.cols, ErrorCode::kInvalidArgument,
              "the tree's last level has " + std::to_string(tree.n_labels()) + " nodes but y has " +
                  std::to_string(y.cols) + " labels");
  XLinearModel model = TrainLevels(x, y, tree, opts, ctx, solver, report);
  if (report) report->total_seconds = call.Seconds();
  return model;
}

}  // namespace detail
}  // namespace xmr
