// CUDA level solver: every classifier of a tree level trained at once on the GPU.
//
// Per level (see ../shared/reference/gpu-design.md §3 and src/train/gpu_plan.h):
//  1. the host plans the level (instances grouped by parent, labels per (instance, child),
//     parent-local feature spaces, waves of parents under the memory budget);
//  2. per wave, the host gathers the parents' rows in local feature ids (all cores) and the
//     device receives them in one batch of copies;
//  3. SolveKernel runs one thread block per parent and one thread per child: every child runs
//     lock-step dual CD (src/train/lockstep.h: the CPU solver's arithmetic, with all children of
//     a parent visiting instances in the same order, so a warp reads one instance row and
//     writes adjacent weight columns), then counts its weights >= threshold;
//  4. an exclusive scan (CUB) gives the output offsets, ScatterKernel compacts the surviving
//     weights, and only those (plus bias weights and per-child statistics) come back;
//  5. the host maps local ids to global ones and applies PruneWeights (max_nonzeros, bias rule).
// Waves run one after the other on one stream; the next wave is gathered on the host while the
// device solves the current one.
//
// Heavy parents (>= kDefaultHeavyRows instances, L2 loss) skip the lock-step kernel: they are
// solved by batched primal Newton-CG (src/train/newton_cg.h) over DeviceNewtonOps, whose
// products are cuSPARSE SpMM calls on the parent's rows (X W) and on an explicit transpose
// (X^T R, built once with cusparseCsr2cscEx2; opA = TRANSPOSE is documented as not
// run-to-run reproducible), and whose column reductions are deterministic two-stage kernels.
//
// Not yet on the device (next step once a GPU run shows where the time goes): gathering and
// compaction of the rows (CUB segmented sort); the host does it with all cores today.
#include <algorithm>
#include <atomic>
#include <cub/device/device_scan.cuh>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/cuda_util.cuh"
#include "core/log.h"
#include "train/gpu_plan.h"
#include "train/level_solver.h"
#include "train/lockstep.h"
#include "train/newton_cg.h"
#include "xmr/error.h"

namespace xmr {
namespace {

namespace ls = detail::lockstep;

std::mutex g_stats_mu;
detail::GpuSolverStats g_stats;
std::atomic<int> g_inject_oom{0};  // see detail::InjectGpuOutOfMemory

// Device views of one wave (all arrays laid out as in detail::WaveData).
struct WaveView {
  const std::int64_t* row_off;
  const std::int64_t* nnz_off;
  const std::int64_t* pair_off;
  const std::int64_t* w_off;
  const std::int64_t* child_off;
  const std::int32_t* n;
  const std::int32_t* d;
  const std::int32_t* B;
  const std::int64_t* parent_id;
  const std::int64_t* indptr;
  const std::int32_t* idx;
  const float* val;
  const float* sqnorm;
  const std::uint8_t* label;
  const float* cost;  // nullptr: no costs
  const char* heavy;  // Newton-CG parents: skipped by SolveKernel
  float* w;
  float* bias_w;
  float* alpha;
  std::uint8_t* shrunk;
};

__device__ ls::ParentBlock DeviceParent(const WaveView& v, std::int64_t i) {
  ls::ParentBlock b;
  b.n = v.n[i];
  b.d = v.d[i];
  b.B = v.B[i];
  b.indptr = v.indptr + v.row_off[i] + i;
  b.idx = v.idx + v.nnz_off[i];
  b.val = v.val + v.nnz_off[i];
  b.sqnorm = v.sqnorm + v.row_off[i];
  b.label = v.label + v.pair_off[i];
  b.cost = v.cost ? v.cost + v.pair_off[i] : nullptr;
  b.w = v.w + v.w_off[i];
  b.bias_w = v.bias_w + v.child_off[i];
  b.alpha = v.alpha + v.pair_off[i];
  b.shrunk = v.shrunk + v.pair_off[i];
  return b;
}

// One block per parent, one thread per child (children beyond blockDim.x loop).
__global__ void SolveKernel(WaveView v, ls::SolveParams sp, ls::ChildStats* stats) {
  const std::int64_t i = blockIdx.x;
  if (v.heavy[i]) return;
  const ls::ParentBlock b = DeviceParent(v, i);
  ls::SolveParams ps = sp;
  ps.parent = static_cast<std::uint64_t>(v.parent_id[i]);
  for (std::int32_t k = threadIdx.x; k < b.B; k += blockDim.x) {
    stats[v.child_off[i] + k] = ls::SolveChildSvc(b, k, ps);
  }
}

__global__ void CountKernel(WaveView v, float threshold, std::int64_t* kept) {
  const std::int64_t i = blockIdx.x;
  const ls::ParentBlock b = DeviceParent(v, i);
  for (std::int32_t k = threadIdx.x; k < b.B; k += blockDim.x) {
    kept[v.child_off[i] + k] = ls::CountKept(b, k, threshold);
  }
}

__global__ void ScatterKernel(WaveView v, float threshold, const std::int64_t* cand_off,
                              std::int32_t* cand_idx, float* cand_val) {
  const std::int64_t i = blockIdx.x;
  const ls::ParentBlock b = DeviceParent(v, i);
  for (std::int32_t k = threadIdx.x; k < b.B; k += blockDim.x) {
    const std::int64_t c = v.child_off[i] + k;
    ls::ScatterKept(b, k, threshold, cand_idx + cand_off[c], cand_val + cand_off[c]);
  }
}

// ----- Newton-CG on the device --------------------------------------------------------------

__global__ void ToInt32Kernel(const std::int64_t* in, std::int32_t* out, std::int64_t n) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    out[e] = static_cast<std::int32_t>(in[e]);
  }
}

// Z[i, k] += bias * wb[k] over an n x B row-major matrix.
__global__ void AddBiasKernel(float* z, const float* wb, float bias, std::int64_t total, int B) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    z[e] += bias * wb[e % B];
  }
}

__global__ void ScaleKernel(float* y, const float* d, const float* x, std::int64_t total) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    y[e] = d[e] * x[e];
  }
}

// y = y + a_k x (axpy) or y = x + a_k y (xpay), columns k = e % B.
__global__ void AxpyKernel(float* y, const double* a, const float* x, std::int64_t total, int B,
                           bool xpay) {
  for (std::int64_t e = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; e < total;
       e += static_cast<std::int64_t>(gridDim.x) * blockDim.x) {
    const double c = a[e % B];
    y[e] = xpay ? static_cast<float>(x[e] + c * y[e]) : static_cast<float>(y[e] + c * x[e]);
  }
}

// Per-column sums over a row-major rows x B matrix, deterministic: stage 1 gives one partial
// per (block, column), every thread of a block staying on one column (blockDim.x is a multiple
// of B); stage 2 adds the partials of a column in block order.
struct DotTerm {  // x[e] * y[e]
  const float* x;
  const float* y;
  __device__ double operator()(std::int64_t e, int) const {
    return static_cast<double>(x[e]) * y[e];
  }
};
struct SumTerm {  // x[e]
  const float* x;
  __device__ double operator()(std::int64_t e, int) const { return x[e]; }
};
struct LossTerm {  // squared hinge at z + t_k xs; optionally writes R and D
  const float* z;
  const float* xs;  // nullptr: at z
  const double* t;
  const std::uint8_t* label;
  const float* cost;
  double cp, cn;
  float* r;  // nullptr: not wanted
  float* d;
  __device__ double operator()(std::int64_t e, int k) const {
    const std::uint8_t lab = label[e];
    double loss = 0.0, rv = 0.0, dv = 0.0;
    if (lab != ls::kNotMember) {
      const double y = lab == ls::kPositive ? 1.0 : -1.0;
      const double c = (y > 0 ? cp : cn) * (cost && y > 0 ? cost[e] : 1.0);
      const double v = z[e] + (xs ? t[k] * xs[e] : 0.0);
      const double viol = 1.0 - y * v;
      if (viol > 0) {
        loss = c * viol * viol;
        rv = 2.0 * c * (v - y);
        dv = 2.0 * c;
      }
    }
    if (r) r[e] = static_cast<float>(rv);
    if (d) d[e] = static_cast<float>(dv);
    return loss;
  }
};

constexpr int kReduceThreads = 256;

template <typename Term>
__global__ void ColumnReduceStage1(Term term, std::int64_t rows, int B, std::int64_t rows_per_block,
                                   double* partial) {
  __shared__ double sh[kReduceThreads];
  const int threads = blockDim.x;  // a multiple of B
  const std::int64_t r0 = blockIdx.x * rows_per_block;
  const std::int64_t r1 = r0 + rows_per_block < rows ? r0 + rows_per_block : rows;
  double acc = 0.0;
  const int k = threadIdx.x % B;
  for (std::int64_t e = r0 * B + threadIdx.x; e < r1 * B; e += threads) acc += term(e, k);
  sh[threadIdx.x] = acc;
  __syncthreads();
  if (threadIdx.x < B) {
    double s = 0.0;
    for (int j = threadIdx.x; j < threads; j += B) s += sh[j];
    partial[blockIdx.x * static_cast<std::int64_t>(B) + threadIdx.x] = s;
  }
}

// out[k] = scale * sum over blocks of partial[g * B + k] (as double, or as float into a matrix).
__global__ void ColumnReduceStage2(const double* partial, int blocks, int B, double scale,
                                   double* out, float* out_float) {
  for (int k = threadIdx.x; k < B; k += blockDim.x) {
    double s = 0.0;
    for (int g = 0; g < blocks; ++g) s += partial[g * static_cast<std::int64_t>(B) + k];
    if (out) out[k] = scale * s;
    if (out_float) out_float[k] = static_cast<float>(scale * s);
  }
}

int GridFor(std::int64_t total) {
  return static_cast<int>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(4096, (total + 255) / 256)));
}

// One heavy parent's problem on the device (views into the wave's arrays; see NewtonOps).
struct HeavyParent {
  std::int32_t n = 0, d = 0, B = 0;
  std::int64_t nnz = 0;
  const std::int64_t* indptr = nullptr;  // n + 1, from 0
  const std::int32_t* idx = nullptr;
  const float* val = nullptr;
  const std::uint8_t* label = nullptr;
  const float* cost = nullptr;
};

class DeviceNewtonOps final : public detail::NewtonOps {
 public:
  DeviceNewtonOps(const HeavyParent& hp, const detail::NewtonParams& p, cudaStream_t s,
                  cusparseHandle_t h)
      : hp_(hp),
        p_(p),
        s_(s),
        h_(h),
        coef_(static_cast<std::size_t>(hp.B), s),
        out_(static_cast<std::size_t>(hp.B), s) {
    XMR_EXPECTS(hp.nnz < (std::int64_t{1} << 31) && hp.B <= kReduceThreads, ErrorCode::kInternal,
                "DeviceNewtonOps: parent too large for 32-bit cuSPARSE");
    threads_ = hp.B * std::max(1, kReduceThreads / hp.B);
    if (hp.d == 0 || hp.nnz == 0) return;  // no features: products are zero (bias only)
    indptr32_ = cuda::DeviceBuffer<std::int32_t>(static_cast<std::size_t>(hp.n) + 1, s);
    ToInt32Kernel<<<GridFor(hp.n + 1), 256, 0, s>>>(hp.indptr, indptr32_.data(), hp.n + 1);
    XMR_CUDA_CHECK_LAUNCH();
    x_ = cuda::CsrMatDescr(hp.n, hp.d, hp.nnz, indptr32_.data(), const_cast<std::int32_t*>(hp.idx),
                           const_cast<float*>(hp.val), CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I,
                           CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F);
    // X^T as CSR (= X as CSC), built once.
    tptr_ = cuda::DeviceBuffer<std::int32_t>(static_cast<std::size_t>(hp.d) + 1, s);
    tidx_ = cuda::DeviceBuffer<std::int32_t>(static_cast<std::size_t>(hp.nnz), s);
    tval_ = cuda::DeviceBuffer<float>(static_cast<std::size_t>(hp.nnz), s);
    std::size_t bytes = 0;
    XMR_CUSPARSE_CHECK(cusparseCsr2cscEx2_bufferSize(
        h_, hp.n, hp.d, static_cast<int>(hp.nnz), hp.val, indptr32_.data(), hp.idx, tval_.data(),
        tptr_.data(), tidx_.data(), CUDA_R_32F, CUSPARSE_ACTION_NUMERIC, CUSPARSE_INDEX_BASE_ZERO,
        CUSPARSE_CSR2CSC_ALG1, &bytes));
    cuda::DeviceBuffer<unsigned char> work(bytes, s);
    XMR_CUSPARSE_CHECK(cusparseCsr2cscEx2(
        h_, hp.n, hp.d, static_cast<int>(hp.nnz), hp.val, indptr32_.data(), hp.idx, tval_.data(),
        tptr_.data(), tidx_.data(), CUDA_R_32F, CUSPARSE_ACTION_NUMERIC, CUSPARSE_INDEX_BASE_ZERO,
        CUSPARSE_CSR2CSC_ALG1, work.data()));
    xt_ = cuda::CsrMatDescr(hp.d, hp.n, hp.nnz, tptr_.data(), tidx_.data(), tval_.data(),
                            CUSPARSE_INDEX_32I, CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO,
                            CUDA_R_32F);
  }

  int B() const override { return hp_.B; }
  int NewF() override { return New((static_cast<std::size_t>(hp_.d) + 1) * hp_.B); }
  int NewI() override { return New(static_cast<std::size_t>(hp_.n) * hp_.B); }
  void Zero(int m) override { mats_[m].MemsetZeroAsync(s_); }

  void Forward(int w, int z) override {
    if (x_.get()) {
      SpMM(x_, hp_.n, hp_.d, mats_[w].data(), mats_[z].data());
    } else {
      Zero(z);
    }
    if (p_.bias > 0) {
      const std::int64_t total = static_cast<std::int64_t>(hp_.n) * hp_.B;
      AddBiasKernel<<<GridFor(total), 256, 0, s_>>>(
          mats_[z].data(), mats_[w].data() + static_cast<std::int64_t>(hp_.d) * hp_.B,
          static_cast<float>(p_.bias), total, hp_.B);
      XMR_CUDA_CHECK_LAUNCH();
    }
  }

  void Backward(int r, int g) override {
    float* G = mats_[g].data();
    if (xt_.get()) {
      SpMM(xt_, hp_.d, hp_.n, mats_[r].data(), G);
    } else {
      mats_[g].MemsetZeroAsync(s_);
    }
    // Bias row: bias * column sums of R (0 without a bias).
    Reduce(SumTerm{mats_[r].data()}, hp_.n, p_.bias > 0 ? p_.bias : 0.0, nullptr,
           G + static_cast<std::int64_t>(hp_.d) * hp_.B);
  }

  void Loss(int z, int xs, const std::vector<double>& t, std::vector<double>* loss, int r,
            int d) override {
    coef_.CopyFromHostAsync(t.data(), t.size(), s_);
    LossTerm term{mats_[z].data(),
                  xs >= 0 ? mats_[xs].data() : nullptr,
                  coef_.data(),
                  hp_.label,
                  hp_.cost,
                  p_.cp,
                  p_.cn,
                  r >= 0 ? mats_[r].data() : nullptr,
                  d >= 0 ? mats_[d].data() : nullptr};
    Reduce(term, hp_.n, 1.0, loss, nullptr);
  }

  void Scale(int y, int d, int x) override {
    const std::int64_t total = static_cast<std::int64_t>(mats_[y].size());
    ScaleKernel<<<GridFor(total), 256, 0, s_>>>(mats_[y].data(), mats_[d].data(), mats_[x].data(),
                                                total);
    XMR_CUDA_CHECK_LAUNCH();
  }

  void ColDot(int x, int y, std::vector<double>* out) override {
    const std::int64_t rows = static_cast<std::int64_t>(mats_[x].size()) / hp_.B;
    Reduce(DotTerm{mats_[x].data(), mats_[y].data()}, rows, 1.0, out, nullptr);
  }

  void Axpy(int y, const std::vector<double>& a, int x) override { Update(y, a, x, false); }
  void Xpay(int y, const std::vector<double>& b, int x) override { Update(y, b, x, true); }

  const float* Matrix(int m) const { return mats_[m].data(); }

 private:
  int New(std::size_t n) {
    mats_.emplace_back(n, s_);
    mats_.back().MemsetZeroAsync(s_);
    return static_cast<int>(mats_.size() - 1);
  }

  // out (rows x B, row-major) = A (rows x inner) * in (inner x B, row-major).
  void SpMM(const cuda::CsrMatDescr& a, std::int64_t rows, std::int64_t inner, const float* in,
            float* out) {
    cuda::DnMatDescr bd(inner, hp_.B, hp_.B, const_cast<float*>(in), CUDA_R_32F,
                        CUSPARSE_ORDER_ROW);
    cuda::DnMatDescr cd(rows, hp_.B, hp_.B, out, CUDA_R_32F, CUSPARSE_ORDER_ROW);
    const float alpha = 1.0f, beta = 0.0f;
    std::size_t bytes = 0;
    XMR_CUSPARSE_CHECK(cusparseSpMM_bufferSize(
        h_, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, a.get(),
        bd.get(), &beta, cd.get(), CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT, &bytes));
    if (bytes > spmm_buffer_.size()) spmm_buffer_ = cuda::DeviceBuffer<unsigned char>(bytes, s_);
    XMR_CUSPARSE_CHECK(cusparseSpMM(
        h_, CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha, a.get(),
        bd.get(), &beta, cd.get(), CUDA_R_32F, CUSPARSE_SPMM_ALG_DEFAULT, spmm_buffer_.data()));
  }

  template <typename Term>
  void Reduce(const Term& term, std::int64_t rows, double scale, std::vector<double>* out,
              float* out_float) {
    const int blocks = static_cast<int>(std::max<std::int64_t>(
        1, std::min<std::int64_t>(1024, (rows * hp_.B + threads_ - 1) / threads_)));
    const std::int64_t rows_per_block = (rows + blocks - 1) / blocks;
    if (partial_.size() < static_cast<std::size_t>(blocks) * hp_.B) {
      partial_ = cuda::DeviceBuffer<double>(static_cast<std::size_t>(blocks) * hp_.B, s_);
    }
    ColumnReduceStage1<<<blocks, threads_, 0, s_>>>(term, rows, hp_.B, rows_per_block,
                                                    partial_.data());
    XMR_CUDA_CHECK_LAUNCH();
    ColumnReduceStage2<<<1, 256, 0, s_>>>(partial_.data(), blocks, hp_.B, scale,
                                          out ? out_.data() : nullptr, out_float);
    XMR_CUDA_CHECK_LAUNCH();
    if (out) {
      out->resize(hp_.B);
      out_.CopyToHostAsync(out->data(), out->size(), s_);
      XMR_CUDA_CHECK(cudaStreamSynchronize(s_));
    }
  }

  void Update(int y, const std::vector<double>& c, int x, bool xpay) {
    coef_.CopyFromHostAsync(c.data(), c.size(), s_);
    const std::int64_t total = static_cast<std::int64_t>(mats_[y].size());
    AxpyKernel<<<GridFor(total), 256, 0, s_>>>(mats_[y].data(), coef_.data(), mats_[x].data(),
                                               total, hp_.B, xpay);
    XMR_CUDA_CHECK_LAUNCH();
    // No synchronisation: a copy from pageable memory returns once `c` is staged, and the next
    // write to coef_ is ordered after this kernel on the same stream (as in Loss()).
  }

  HeavyParent hp_;
  detail::NewtonParams p_;
  cudaStream_t s_;
  cusparseHandle_t h_;
  int threads_ = kReduceThreads;
  cuda::DeviceBuffer<double> coef_, out_, partial_;
  cuda::DeviceBuffer<std::int32_t> indptr32_, tptr_, tidx_;
  cuda::DeviceBuffer<float> tval_;
  cuda::DeviceBuffer<unsigned char> spmm_buffer_;
  cuda::CsrMatDescr x_, xt_;
  std::vector<cuda::DeviceBuffer<float>> mats_;
};

template <typename T>
cuda::DeviceBuffer<T> Upload(const std::vector<T>& host, cudaStream_t s) {
  cuda::DeviceBuffer<T> d(host.size(), s);
  d.CopyFromHostAsync(host.data(), host.size(), s);
  return d;
}

class CudaLevelSolver final : public LevelSolver {
 public:
  CudaLevelSolver(const Context& ctx, std::int64_t heavy_rows)
      : ctx_(ctx), heavy_rows_(heavy_rows) {
    XMR_EXPECTS(CudaDeviceCount() > 0, ErrorCode::kNotSupported,
                "device=cuda: no usable CUDA device");
    stream_ = std::make_unique<cuda::Stream>();
    sparse_ = std::make_unique<cuda::CusparseHandle>(stream_->get());
    const cuda::MemInfo mem = cuda::DeviceMemory();
    budget_ =
        ctx.gpu_memory_bytes > 0 ? ctx.gpu_memory_bytes : static_cast<std::int64_t>(0.8 * mem.free);
    int device = 0;
    XMR_CUDA_CHECK(cudaGetDevice(&device));
    Log(ctx_, StrFormat("cuda level solver on %s: %.1f GB free of %.1f GB, wave budget %.1f GB",
                        cuda::DeviceName(device).c_str(), mem.free / 1e9, mem.total / 1e9,
                        budget_ / 1e9));
  }

  CscMatrix Solve(const LevelProblem& p, const SolverOptions& opts) override;
  DeviceKind device() const noexcept override { return DeviceKind::kCuda; }

 private:
  CscMatrix SolveWithBudget(const LevelProblem& p, const SolverOptions& opts, std::int64_t budget);
  detail::WaveResult RunWave(const detail::WaveData& wave, const ls::SolveParams& sp,
                             const detail::NewtonParams& np, float threshold);

  Context ctx_;
  std::int64_t heavy_rows_;
  std::int64_t budget_ = 0;
  std::unique_ptr<cuda::Stream> stream_;
  std::unique_ptr<cuda::CusparseHandle> sparse_;
  std::unique_ptr<LevelSolver> cpu_;  // for solvers the GPU does not implement, device=auto only
};

detail::WaveResult CudaLevelSolver::RunWave(const detail::WaveData& wave, const ls::SolveParams& sp,
                                            const detail::NewtonParams& np, float threshold) {
  const cudaStream_t s = stream_->get();
  if (g_inject_oom.load() > 0 && g_inject_oom.fetch_sub(1) > 0) {
    throw Error(ErrorCode::kOutOfMemory,
                "cudaMallocAsync: out of memory (injected by InjectGpuOutOfMemory)");
  }
  const std::size_t m = wave.n.size();
  const std::int64_t children = wave.child_off[m];
  detail::WaveResult res;
  if (m == 0) {
    res.cand_off.assign(1, 0);
    return res;
  }
  // Inputs.
  cuda::Event upload_start;
  upload_start.Record(s);
  auto row_off = Upload(wave.row_off, s), nnz_off = Upload(wave.nnz_off, s);
  auto pair_off = Upload(wave.pair_off, s), w_off = Upload(wave.w_off, s);
  auto child_off = Upload(wave.child_off, s);
  auto n = Upload(wave.n, s), d = Upload(wave.d, s), B = Upload(wave.B, s);
  auto parent_id = Upload(wave.parent_id, s);
  auto indptr = Upload(wave.indptr, s);
  auto idx = Upload(wave.idx, s);
  auto val = Upload(wave.val, s);
  auto sqnorm = Upload(wave.sqnorm, s);
  auto label = Upload(wave.label, s);
  auto cost = Upload(wave.cost, s);
  auto heavy = Upload(wave.heavy, s);
  // State and outputs.
  cuda::DeviceBuffer<float> w(static_cast<std::size_t>(wave.w_off[m]), s);
  w.MemsetZeroAsync(s);
  cuda::DeviceBuffer<float> bias_w(static_cast<std::size_t>(children), s);
  cuda::DeviceBuffer<float> alpha(static_cast<std::size_t>(wave.pair_off[m]), s);
  cuda::DeviceBuffer<std::uint8_t> shrunk(static_cast<std::size_t>(wave.pair_off[m]), s);
  cuda::DeviceBuffer<ls::ChildStats> stats(static_cast<std::size_t>(children), s);
  cuda::DeviceBuffer<std::int64_t> kept(static_cast<std::size_t>(children) + 1, s);
  kept.MemsetZeroAsync(s);

  WaveView v;
  v.row_off = row_off.data();
  v.nnz_off = nnz_off.data();
  v.pair_off = pair_off.data();
  v.w_off = w_off.data();
  v.child_off = child_off.data();
  v.n = n.data();
  v.d = d.data();
  v.B = B.data();
  v.parent_id = parent_id.data();
  v.indptr = indptr.data();
  v.idx = idx.data();
  v.val = val.data();
  v.sqnorm = sqnorm.data();
  v.label = label.data();
  v.cost = cost.empty() ? nullptr : cost.data();
  v.heavy = heavy.data();
  v.w = w.data();
  v.bias_w = bias_w.data();
  v.alpha = alpha.data();
  v.shrunk = shrunk.data();

  const std::int32_t max_b = *std::max_element(wave.B.begin(), wave.B.end());
  const int threads = std::min(256, std::max(32, (max_b + 31) / 32 * 32));
  cuda::Event t0, t1, t2;
  t0.Record(s);
  const cuda::Event& t_upload = upload_start;
  SolveKernel<<<static_cast<unsigned>(m), threads, 0, s>>>(v, sp, stats.data());
  XMR_CUDA_CHECK_LAUNCH();
  t1.Record(s);

  // Heavy parents: batched Newton-CG, one parent after the other (they are few), its solution
  // copied into the parent's slice of w / bias_w so that counting and compaction are shared.
  std::vector<std::pair<std::size_t, detail::NewtonStats>> heavy_stats;
  std::vector<std::vector<char>> heavy_done;
  for (std::size_t i = 0; i < m; ++i) {
    if (!wave.heavy[i]) continue;
    HeavyParent hp;
    hp.n = wave.n[i];
    hp.d = wave.d[i];
    hp.B = wave.B[i];
    hp.nnz = wave.nnz_off[i + 1] - wave.nnz_off[i];
    hp.indptr = indptr.data() + wave.row_off[i] + static_cast<std::int64_t>(i);
    hp.idx = idx.data() + wave.nnz_off[i];
    hp.val = val.data() + wave.nnz_off[i];
    hp.label = label.data() + wave.pair_off[i];
    hp.cost = cost.empty() ? nullptr : cost.data() + wave.pair_off[i];
    DeviceNewtonOps ops(hp, np, s, sparse_->get());
    detail::NewtonStats ns;
    std::vector<char> done;
    const float* sol = ops.Matrix(detail::SolveNewtonCg(&ops, np, &ns, &done));
    const std::int64_t dB = static_cast<std::int64_t>(hp.d) * hp.B;
    XMR_CUDA_CHECK(cudaMemcpyAsync(w.data() + wave.w_off[i], sol, dB * sizeof(float),
                                   cudaMemcpyDeviceToDevice, s));
    if (np.bias > 0) {
      XMR_CUDA_CHECK(cudaMemcpyAsync(bias_w.data() + wave.child_off[i], sol + dB,
                                     hp.B * sizeof(float), cudaMemcpyDeviceToDevice, s));
    } else {
      XMR_CUDA_CHECK(
          cudaMemsetAsync(bias_w.data() + wave.child_off[i], 0, hp.B * sizeof(float), s));
    }
    stream_->Synchronize();  // `ops` frees its matrices (stream-ordered) when it goes
    heavy_stats.emplace_back(i, ns);
    heavy_done.push_back(std::move(done));
  }

  t2.Record(s);
  CountKernel<<<static_cast<unsigned>(m), threads, 0, s>>>(v, threshold, kept.data());
  XMR_CUDA_CHECK_LAUNCH();

  // Offsets of the surviving weights: exclusive scan over children + 1 (the last is the total).
  cuda::DeviceBuffer<std::int64_t> cand_off(static_cast<std::size_t>(children) + 1, s);
  std::size_t temp_bytes = 0;
  XMR_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(nullptr, temp_bytes, kept.data(), cand_off.data(),
                                               static_cast<int>(children + 1), s));
  cuda::DeviceBuffer<unsigned char> temp(temp_bytes, s);
  XMR_CUDA_CHECK(cub::DeviceScan::ExclusiveSum(temp.data(), temp_bytes, kept.data(),
                                               cand_off.data(), static_cast<int>(children + 1), s));
  res.cand_off.resize(static_cast<std::size_t>(children) + 1);
  cand_off.CopyToHostAsync(res.cand_off.data(), res.cand_off.size(), s);
  stream_->Synchronize();
  const std::int64_t total = res.cand_off.back();

  cuda::DeviceBuffer<std::int32_t> cand_idx(static_cast<std::size_t>(total), s);
  cuda::DeviceBuffer<float> cand_val(static_cast<std::size_t>(total), s);
  if (total > 0) {
    ScatterKernel<<<static_cast<unsigned>(m), threads, 0, s>>>(v, threshold, cand_off.data(),
                                                               cand_idx.data(), cand_val.data());
    XMR_CUDA_CHECK_LAUNCH();
  }
  res.cand_idx.resize(static_cast<std::size_t>(total));
  res.cand_val.resize(static_cast<std::size_t>(total));
  res.bias_w.resize(static_cast<std::size_t>(children));
  res.stats.resize(static_cast<std::size_t>(children));
  cand_idx.CopyToHostAsync(res.cand_idx.data(), res.cand_idx.size(), s);
  cand_val.CopyToHostAsync(res.cand_val.data(), res.cand_val.size(), s);
  bias_w.CopyToHostAsync(res.bias_w.data(), res.bias_w.size(), s);
  stats.CopyToHostAsync(res.stats.data(), res.stats.size(), s);
  stream_->Synchronize();
  // Traffic estimate of the lock-step kernel (see GpuSolverStats) before the heavy parents'
  // statistics replace theirs.
  double bytes = 0;
  std::int64_t light = 0;
  for (std::size_t i = 0; i < m; ++i) {
    if (wave.heavy[i] || wave.n[i] == 0) continue;
    ++light;
    const double nnz = static_cast<double>(wave.nnz_off[i + 1] - wave.nnz_off[i]);
    const double avg = nnz / wave.n[i];
    int passes = 0;
    for (std::int32_t k = 0; k < wave.B[i]; ++k) {
      const ls::ChildStats& cs = res.stats[wave.child_off[i] + k];
      bytes += cs.visits * (4 * avg + 6) + cs.updates * 4 * avg;
      passes = std::max(passes, static_cast<int>(cs.iterations));
    }
    bytes += passes * nnz * 8;
  }
  for (std::size_t h = 0; h < heavy_stats.size(); ++h) {
    const std::size_t i = heavy_stats[h].first;
    for (std::int32_t k = 0; k < wave.B[i]; ++k) {
      ls::ChildStats& cs = res.stats[wave.child_off[i] + k];
      cs.iterations = heavy_stats[h].second.newton_iterations;
      cs.converged = heavy_done[h][k];
      cs.visits = 0;
      cs.updates = heavy_stats[h].second.cg_iterations;
    }
  }
  {
    std::lock_guard<std::mutex> lock(g_stats_mu);
    g_stats.lockstep_ms += cuda::Event::ElapsedMs(t0, t1);
    g_stats.newton_ms += cuda::Event::ElapsedMs(t1, t2);
    g_stats.lockstep_bytes += bytes;
    g_stats.light_parents += light;
    g_stats.heavy_parents += static_cast<std::int64_t>(heavy_stats.size());
    g_stats.upload_ms += cuda::Event::ElapsedMs(t_upload, t0);
  }
  return res;
}

CscMatrix CudaLevelSolver::Solve(const LevelProblem& p, const SolverOptions& opts) {
  opts.Validate();
  if (opts.type == SolverType::kLrDual) {
    if (ctx_.device == DeviceKind::kCuda) {
      throw Error(ErrorCode::kNotSupported,
                  "device=cuda: the GPU level solver implements l2-svc and l1-svc; solver lr "
                  "runs on the CPU only (--device cpu)");
    }
    if (!cpu_) {
      Log(ctx_, "device=auto: solver lr has no GPU implementation; training on the CPU");
      cpu_ = MakeCpuLevelSolver(ctx_);
    }
    return cpu_->Solve(p, opts);
  }
  // A device allocation can fail below the planned budget (cuSPARSE workspaces, other
  // processes, fragmentation). The level is then solved again from the start with half the wave
  // budget: results do not depend on how parents are grouped into waves, so the retry gives the
  // same model. After kMaxRetries halvings the error says which option to lower.
  constexpr int kMaxRetries = 4;
  for (int attempt = 0;; ++attempt) {
    try {
      return SolveWithBudget(p, opts, budget_);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kOutOfMemory) throw;
      // PlanLevel's own refusal (one parent over the budget) cannot be cured by smaller waves.
      const bool planned =
          std::string(e.what()).find("GPU level solver: parent") != std::string::npos;
      if (planned || attempt == kMaxRetries || budget_ < (std::int64_t{64} << 20)) {
        throw Error(ErrorCode::kOutOfMemory,
                    StrFormat("%s; wave budget was %.1f MB after %d halving(s): lower "
                              "--gpu-memory (Context::gpu_memory_bytes), free device memory, or "
                              "train with --device cpu",
                              e.what(), budget_ / 1e6, attempt));
      }
      // Hand the pool's cached blocks back so the smaller waves start from free memory.
      (void)cudaGetLastError();
      XMR_CUDA_CHECK(cudaStreamSynchronize(stream_->get()));
      int device = 0;
      cudaMemPool_t pool = nullptr;
      XMR_CUDA_CHECK(cudaGetDevice(&device));
      XMR_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
      XMR_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0));
      budget_ /= 2;
      {
        std::lock_guard<std::mutex> lock(g_stats_mu);
        ++g_stats.oom_retries;
      }
      Log(ctx_, StrFormat("  cuda: out of device memory (%s); retrying the level with a wave "
                          "budget of %.1f MB",
                          e.what(), budget_ / 1e6));
    }
  }
}

CscMatrix CudaLevelSolver::SolveWithBudget(const LevelProblem& p, const SolverOptions& opts,
                                           std::int64_t budget) {
  const ls::SolveParams sp = detail::MakeSolveParams(opts, p.bias, ctx_.seed);
  const detail::NewtonParams np = detail::MakeNewtonParams(opts, p.bias);
  const int threads = ctx_.NumThreads();
  const detail::LevelPlan plan =
      detail::PlanLevel(p, budget, threads, heavy_rows_, opts.type == SolverType::kL2SvcDual);
  Log(ctx_,
      StrFormat("  cuda: %zu parents in %zu wave(s), largest %.1f MB", plan.parents.size(),
                plan.n_waves(), plan.max_wave_bytes / 1e6),
      2);
  detail::LevelAssembler out(plan, opts, p.bias);
  if (plan.n_waves() == 0) return out.Finish();
  // Gather wave w + 1 on the host while the device solves wave w.
  std::future<detail::WaveData> next =
      std::async(std::launch::async, [&] { return detail::BuildWave(p, plan, 0, threads); });
  for (std::size_t w = 0; w < plan.n_waves(); ++w) {
    const detail::WaveData wave = next.get();
    if (w + 1 < plan.n_waves()) {
      next = std::async(std::launch::async,
                        [&, w] { return detail::BuildWave(p, plan, w + 1, threads); });
    }
    out.Add(wave, RunWave(wave, sp, np, opts.threshold));
  }
  Log(ctx_,
      StrFormat("  cuda: %lld problems, %.1f passes on average (max %d, %lld hit max_iter)",
                static_cast<long long>(out.problems),
                out.problems ? static_cast<double>(out.passes) / out.problems : 0.0, out.max_passes,
                static_cast<long long>(out.unconverged)),
      2);
  return out.Finish();
}

}  // namespace

bool CudaLevelSolverAvailable() noexcept { return true; }

std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context& ctx) {
  return std::make_unique<CudaLevelSolver>(ctx, detail::kDefaultHeavyRows);
}

namespace detail {
std::unique_ptr<LevelSolver> MakeCudaLevelSolver(const Context& ctx, std::int64_t heavy_rows) {
  return std::make_unique<CudaLevelSolver>(ctx, heavy_rows);
}

GpuSolverStats GetGpuSolverStats() {
  std::lock_guard<std::mutex> lock(g_stats_mu);
  return g_stats;
}

void ResetGpuSolverStats() {
  std::lock_guard<std::mutex> lock(g_stats_mu);
  g_stats = GpuSolverStats{};
}

void InjectGpuOutOfMemory(int n) { g_inject_oom.store(n); }

double MeasureGpuCopyBandwidthGBs() {
  if (CudaDeviceCount() == 0) return 0.0;
  cuda::Stream stream;
  return cuda::MeasureCopyBandwidthGBs(std::size_t{1} << 30, stream);
}
}  // namespace detail

}  // namespace xmr
