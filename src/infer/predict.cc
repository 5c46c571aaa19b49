// Predict (batch, multi-threaded) and Searcher (single query) on top of BeamSearcher.
#include "xmr/predict.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "core/log.h"       // for StrFormat
#include "core/parallel.h"  // for ParallelFor
#include "infer/beam_search.h"
#include "xmr/error.h"
#include "xmr/model.h"

namespace xmr {

void PredictOptions::Validate() const {
  XMR_EXPECTS(beam_size >= 1, ErrorCode::kInvalidArgument,
              StrFormat("beam_size must be >= 1, got %d", beam_size));
  XMR_EXPECTS(top_k >= 1, ErrorCode::kInvalidArgument,
              StrFormat("top_k must be >= 1, got %d", top_k));
  if (!post_processor.empty()) PostProcessor::Parse(post_processor);
}

PredictOptions DefaultPredictOptions(const XLinearModel& model) {
  PredictOptions o;
  o.beam_size = model.meta().beam_size;
  o.top_k = model.meta().top_k;
  o.post_processor = model.meta().post_processor;
  return o;
}

namespace {
// Queries searched together share the chunks they visit while those are in cache: measured on
// debian-deps, groups of 2-4K rows are 15-20% faster than groups of 256. So tasks are large,
// about two per thread.
constexpr Index kMaxRowsPerTask = 4096;
constexpr Index kMinRowsPerTask = 16;
// Bound on the per-task heaps (rows x kept nodes), for very large beams.
constexpr std::size_t kMaxHeapEntries = std::size_t{1} << 22;
}  // namespace

namespace {
void CheckRange(const LabelRange& r, Index n_labels, Index row) {
  XMR_EXPECTS(r.lo >= 0 && r.lo <= r.hi && r.hi <= n_labels, ErrorCode::kInvalidArgument,
              StrFormat("Predict: row %d: label range [%d, %d) is not within [0, %d]", row, r.lo,
                        r.hi, n_labels));
}

CsrMatrix PredictImpl(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                      const Context& ctx, const std::vector<LabelRange>* ranges);
}  // namespace

CsrMatrix Predict(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                  const Context& ctx) {
  return PredictImpl(model, x, opts, ctx, nullptr);
}

CsrMatrix Predict(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                  const std::vector<LabelRange>& ranges, const Context& ctx) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "Predict: the model is empty");
  XMR_EXPECTS(ranges.size() == static_cast<std::size_t>(std::max<Index>(x.rows, 0)),
              ErrorCode::kInvalidArgument,
              StrFormat("Predict: %zu label ranges for %d rows", ranges.size(), x.rows));
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    CheckRange(ranges[i], model.n_labels(), static_cast<Index>(i));
  }
  return PredictImpl(model, x, opts, ctx, &ranges);
}

namespace {
CsrMatrix PredictImpl(const XLinearModel& model, const CsrView& x, const PredictOptions& opts,
                      const Context& ctx, const std::vector<LabelRange>* ranges) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "Predict: the model is empty");
  const XLinearModel::Impl& m = model.impl();
  const detail::ResolvedOptions ro = detail::Resolve(m, opts);
  XMR_EXPECTS(x.cols == m.meta.n_features, ErrorCode::kInvalidArgument,
              StrFormat("Predict: input has %d features, the model %d", x.cols, m.meta.n_features));
  XMR_EXPECTS(x.rows >= 0 && (x.rows == 0 || x.indptr != nullptr), ErrorCode::kInvalidArgument,
              "Predict: malformed input matrix");
  for (Index i = 0; i < x.rows; ++i) {
    XMR_EXPECTS(x.indptr[i] <= x.indptr[i + 1], ErrorCode::kInvalidArgument,
                StrFormat("Predict: row %d: indptr decreases", i));
    detail::CheckQuery(x.row(i), m.meta.n_features, i);
  }

  CsrMatrix out;
  out.rows = x.rows;
  out.cols = model.n_labels();
  out.indptr.assign(static_cast<std::size_t>(x.rows) + 1, 0);
  if (x.rows == 0) return out;

  const int threads = ctx.NumThreads();
  std::size_t kept = 1;  // the most nodes a query keeps at any level
  for (int t = 0; t < model.depth(); ++t) {
    const int k = t == model.depth() - 1 ? ro.top_k : ro.beam_size;
    kept = std::max(kept, std::min<std::size_t>(static_cast<std::size_t>(k), m.levels[t].n_nodes));
  }
  Index rows_per_task = (x.rows + 2 * threads - 1) / (2 * threads);
  rows_per_task = std::clamp(rows_per_task, kMinRowsPerTask, kMaxRowsPerTask);
  rows_per_task = static_cast<Index>(std::max<std::size_t>(
      1, std::min<std::size_t>(static_cast<std::size_t>(rows_per_task), kMaxHeapEntries / kept)));
  const std::int64_t n_tasks = (x.rows + rows_per_task - 1) / rows_per_task;
  detail::NodeLabelSpans spans;
  if (ranges != nullptr) spans = detail::NodeLabelSpans::Build(m);
  struct Scratch {
    std::unique_ptr<detail::BeamSearcher> searcher;
    std::vector<SparseVecView> queries;
  };
  std::vector<Scratch> scratch(NumWorkers(n_tasks, threads));
  std::vector<std::vector<detail::Candidate>> task_out(n_tasks);
  ParallelFor(n_tasks, threads, [&](std::int64_t task, int worker) {
    Scratch& sc = scratch[worker];
    if (!sc.searcher) sc.searcher = std::make_unique<detail::BeamSearcher>(m);
    const Index begin = static_cast<Index>(task * rows_per_task);
    const Index end = std::min<Index>(x.rows, begin + rows_per_task);
    sc.queries.clear();
    for (Index i = begin; i < end; ++i) sc.queries.push_back(x.row(i));
    sc.searcher->Search(sc.queries.data(), end - begin, ro, &task_out[task],
                        out.indptr.data() + begin + 1,
                        ranges == nullptr ? nullptr : ranges->data() + begin, &spans);
  });
  for (Index i = 0; i < x.rows; ++i) out.indptr[i + 1] += out.indptr[i];
  out.indices.resize(static_cast<std::size_t>(out.indptr.back()));
  out.data.resize(out.indices.size());
  std::size_t pos = 0;
  for (const auto& part : task_out) {
    for (const auto& c : part) {
      out.indices[pos] = c.node;
      out.data[pos] = c.score;
      ++pos;
    }
  }
  return out;
}
}  // namespace

struct Searcher::Impl {
  explicit Impl(const XLinearModel& m) : model(m), searcher(m.impl()) {}

  // allowed: null = no restriction.
  void Run(const SparseVecView& query, const PredictOptions& opts, const LabelRange* allowed,
           std::vector<ScoredLabel>* out) {
    if (allowed != nullptr) {
      CheckRange(*allowed, model.n_labels(), 0);
      if (!spans) {
        spans =
            std::make_unique<detail::NodeLabelSpans>(detail::NodeLabelSpans::Build(model.impl()));
      }
    }
    if (!have_options || opts.beam_size != last.beam_size || opts.top_k != last.top_k ||
        opts.post_processor != last.post_processor) {
      resolved = detail::Resolve(model.impl(), opts);
      last = opts;
      have_options = true;
    }
    XMR_EXPECTS(query.nnz == 0 || (query.indices != nullptr && query.data != nullptr),
                ErrorCode::kInvalidArgument, "Searcher: null query arrays");
    detail::CheckQuery(query, model.n_features(), 0);
    result.clear();
    Offset count = 0;
    searcher.Search(&query, 1, resolved, &result, &count, allowed, spans.get());
    out->resize(result.size());
    for (std::size_t i = 0; i < result.size(); ++i) {
      (*out)[i] = {result[i].node, result[i].score};
    }
  }

  XLinearModel model;  // shares the storage, so the weights stay alive
  detail::BeamSearcher searcher;
  std::vector<detail::Candidate> result;
  // Options of the previous call, to skip re-parsing the post-processor.
  bool have_options = false;
  PredictOptions last;
  detail::ResolvedOptions resolved;
  std::unique_ptr<detail::NodeLabelSpans> spans;  // built on the first restricted search
};

Searcher::Searcher(const XLinearModel& model) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "Searcher: the model is empty");
  impl_ = std::make_unique<Impl>(model);
}
Searcher::~Searcher() = default;
Searcher::Searcher(Searcher&&) noexcept = default;
Searcher& Searcher::operator=(Searcher&&) noexcept = default;

void Searcher::Search(const SparseVecView& query, const PredictOptions& opts,
                      std::vector<ScoredLabel>* out) {
  XMR_EXPECTS(impl_ != nullptr, ErrorCode::kInvalidArgument, "Searcher: moved-from");
  impl_->Run(query, opts, nullptr, out);
}

void Searcher::Search(const SparseVecView& query, const PredictOptions& opts, LabelRange allowed,
                      std::vector<ScoredLabel>* out) {
  XMR_EXPECTS(impl_ != nullptr, ErrorCode::kInvalidArgument, "Searcher: moved-from");
  impl_->Run(query, opts, &allowed, out);
}

std::vector<ScoredLabel> Searcher::Search(const SparseVecView& query, const PredictOptions& opts) {
  std::vector<ScoredLabel> out;
  Search(query, opts, &out);
  return out;
}

}  // namespace xmr
