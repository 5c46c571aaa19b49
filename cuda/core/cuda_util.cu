// Non-template parts of cuda_util.cuh, and the self-tests declared in selftest.h.
#include <cstdint>
#include <cstdio>
#include <exception>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/cuda_util.cuh"
#include "core/selftest.h"
#include "xmr/context.h"
#include "xmr/error.h"

namespace xmr::cuda {

namespace detail {

namespace {
const char* OrUnknown(const char* s) { return s != nullptr ? s : "(unknown)"; }
}  // namespace

void ThrowCudaError(cudaError_t status, const std::string& expr, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so that it does not resurface later
  const ErrorCode code =
      status == cudaErrorMemoryAllocation ? ErrorCode::kOutOfMemory : ErrorCode::kCuda;
  throw Error(code, std::string(file) + ":" + std::to_string(line) + ": " + expr + ": " +
                        OrUnknown(cudaGetErrorName(status)) + ": " +
                        OrUnknown(cudaGetErrorString(status)));
}

void ThrowCusparseError(cusparseStatus_t status, const std::string& expr, const char* file,
                        int line) {
  const ErrorCode code =
      status == CUSPARSE_STATUS_ALLOC_FAILED ? ErrorCode::kOutOfMemory : ErrorCode::kCuda;
  throw Error(code, std::string(file) + ":" + std::to_string(line) + ": " + expr + ": " +
                        OrUnknown(cusparseGetErrorName(status)) + ": " +
                        OrUnknown(cusparseGetErrorString(status)));
}

std::size_t CheckedBytes(std::size_t n, std::size_t elem_size, const char* what) {
  XMR_EXPECTS(n <= std::numeric_limits<std::size_t>::max() / elem_size, ErrorCode::kInvalidArgument,
              std::string(what) + ": " + std::to_string(n) + " elements of " +
                  std::to_string(elem_size) + " bytes overflow size_t");
  return n * elem_size;
}

}  // namespace detail

// ---- DeviceGuard ------------------------------------------------------------------------------

DeviceGuard::DeviceGuard(int device) {
  XMR_CUDA_CHECK(cudaGetDevice(&previous_));
  if (device != previous_) {
    XMR_CUDA_CHECK(cudaSetDevice(device));
    changed_ = true;
  }
}

DeviceGuard::~DeviceGuard() {
  if (changed_ && cudaSetDevice(previous_) != cudaSuccess) cudaGetLastError();
}

// ---- Event ------------------------------------------------------------------------------------

Event::Event(unsigned flags) { XMR_CUDA_CHECK(cudaEventCreateWithFlags(&event_, flags)); }

Event::~Event() { Release(); }

Event::Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    Release();
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

void Event::Release() noexcept {
  if (event_ != nullptr && cudaEventDestroy(event_) != cudaSuccess) cudaGetLastError();
  event_ = nullptr;
}

void Event::Record(cudaStream_t stream) { XMR_CUDA_CHECK(cudaEventRecord(event_, stream)); }

void Event::Synchronize() const { XMR_CUDA_CHECK(cudaEventSynchronize(event_)); }

bool Event::Query() const {
  const cudaError_t status = cudaEventQuery(event_);
  if (status == cudaErrorNotReady) return false;
  XMR_CUDA_CHECK(status);
  return true;
}

double Event::ElapsedMs(const Event& start, const Event& stop) {
  float ms = 0.0f;
  XMR_CUDA_CHECK(cudaEventElapsedTime(&ms, start.event_, stop.event_));
  return ms;
}

// ---- Stream -----------------------------------------------------------------------------------

Stream::Stream() { XMR_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }

Stream::~Stream() { Release(); }

Stream::Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    Release();
    stream_ = std::exchange(other.stream_, nullptr);
  }
  return *this;
}

void Stream::Release() noexcept {
  if (stream_ != nullptr && cudaStreamDestroy(stream_) != cudaSuccess) cudaGetLastError();
  stream_ = nullptr;
}

void Stream::Synchronize() const { XMR_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

void Stream::Wait(const Event& event) {
  XMR_CUDA_CHECK(cudaStreamWaitEvent(stream_, event.get(), 0));
}

// ---- CusparseHandle ---------------------------------------------------------------------------

CusparseHandle::CusparseHandle(cudaStream_t stream) {
  XMR_CUSPARSE_CHECK(cusparseCreate(&handle_));
  const cusparseStatus_t status = cusparseSetStream(handle_, stream);
  if (status != CUSPARSE_STATUS_SUCCESS) {
    cusparseDestroy(handle_);
    detail::ThrowCusparseError(status, "cusparseSetStream", __FILE__, __LINE__);
  }
}

CusparseHandle::~CusparseHandle() { Release(); }

CusparseHandle::CusparseHandle(CusparseHandle&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)) {}

CusparseHandle& CusparseHandle::operator=(CusparseHandle&& other) noexcept {
  if (this != &other) {
    Release();
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

void CusparseHandle::Release() noexcept {
  if (handle_ != nullptr) cusparseDestroy(handle_);  // status ignored, see cuda_util.cuh
  handle_ = nullptr;
}

void CusparseHandle::SetStream(cudaStream_t stream) {
  XMR_CUSPARSE_CHECK(cusparseSetStream(handle_, stream));
}

// ---- Descriptors ------------------------------------------------------------------------------

CsrMatDescr::CsrMatDescr(std::int64_t rows, std::int64_t cols, std::int64_t nnz, void* row_offsets,
                         void* col_indices, void* values, cusparseIndexType_t row_offsets_type,
                         cusparseIndexType_t col_indices_type, cusparseIndexBase_t index_base,
                         cudaDataType value_type) {
  XMR_CUSPARSE_CHECK(cusparseCreateCsr(&descr_, rows, cols, nnz, row_offsets, col_indices, values,
                                       row_offsets_type, col_indices_type, index_base, value_type));
}

CsrMatDescr::~CsrMatDescr() { Release(); }

CsrMatDescr::CsrMatDescr(CsrMatDescr&& other) noexcept
    : descr_(std::exchange(other.descr_, nullptr)) {}

CsrMatDescr& CsrMatDescr::operator=(CsrMatDescr&& other) noexcept {
  if (this != &other) {
    Release();
    descr_ = std::exchange(other.descr_, nullptr);
  }
  return *this;
}

void CsrMatDescr::Release() noexcept {
  if (descr_ != nullptr) cusparseDestroySpMat(descr_);
  descr_ = nullptr;
}

DnMatDescr::DnMatDescr(std::int64_t rows, std::int64_t cols, std::int64_t ld, void* values,
                       cudaDataType value_type, cusparseOrder_t order) {
  XMR_CUSPARSE_CHECK(cusparseCreateDnMat(&descr_, rows, cols, ld, values, value_type, order));
}

DnMatDescr::~DnMatDescr() { Release(); }

DnMatDescr::DnMatDescr(DnMatDescr&& other) noexcept
    : descr_(std::exchange(other.descr_, nullptr)) {}

DnMatDescr& DnMatDescr::operator=(DnMatDescr&& other) noexcept {
  if (this != &other) {
    Release();
    descr_ = std::exchange(other.descr_, nullptr);
  }
  return *this;
}

void DnMatDescr::Release() noexcept {
  if (descr_ != nullptr) cusparseDestroyDnMat(descr_);
  descr_ = nullptr;
}

// ---- Device queries ---------------------------------------------------------------------------

MemInfo DeviceMemory() {
  MemInfo info;
  XMR_CUDA_CHECK(cudaMemGetInfo(&info.free, &info.total));
  return info;
}

std::string DeviceName(int device) {
  cudaDeviceProp prop{};
  XMR_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return std::string(prop.name);
}

double PeakMemoryBandwidthGBs(int device) {
  int clock_khz = 0;
  int bus_bits = 0;
  cudaError_t status = cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device);
  if (status == cudaSuccess) {
    status = cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
  }
  if (status == cudaErrorInvalidValue) {  // attribute not reported by this device or driver
    cudaGetLastError();
    return 0.0;
  }
  if (status != cudaSuccess) {
    detail::ThrowCudaError(status, "cudaDeviceGetAttribute(device " + std::to_string(device) + ")",
                           __FILE__, __LINE__);
  }
  if (clock_khz <= 0 || bus_bits <= 0) return 0.0;
  return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
}

double MeasureCopyBandwidthGBs(std::size_t bytes, Stream& stream, int repetitions) {
  XMR_EXPECTS(bytes > 0 && repetitions >= 1, ErrorCode::kInvalidArgument,
              "MeasureCopyBandwidthGBs: need bytes > 0 and repetitions >= 1, got " +
                  std::to_string(bytes) + " and " + std::to_string(repetitions));
  DeviceBuffer<unsigned char> src(bytes, stream.get());
  DeviceBuffer<unsigned char> dst(bytes, stream.get());
  src.MemsetZeroAsync(stream.get());
  XMR_CUDA_CHECK(  // warm-up: first touch of both buffers
      cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice, stream.get()));
  Event start;
  Event stop;
  start.Record(stream.get());
  for (int r = 0; r < repetitions; ++r) {
    XMR_CUDA_CHECK(
        cudaMemcpyAsync(dst.data(), src.data(), bytes, cudaMemcpyDeviceToDevice, stream.get()));
  }
  stop.Record(stream.get());
  stop.Synchronize();
  const double ms = Event::ElapsedMs(start, stop);
  if (ms <= 0.0) return 0.0;
  return 2.0 * static_cast<double>(bytes) * repetitions / (ms * 1e-3) / 1e9;
}

void SetMemPoolReleaseThreshold(int device, std::uint64_t bytes) {
  cudaMemPool_t pool = nullptr;
  XMR_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device));
  XMR_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &bytes));
}

// ---- Self-tests (selftest.h) ------------------------------------------------------------------

namespace {

__global__ void AffineKernel(const float* x, float* y, float a, float b, std::size_t n) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + b;
}

void Require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCode::kInternal, "self-test: " + what);
}

// Runs fn and requires it to throw Error with `code` and a message containing `needle`.
template <typename Fn>
void RequireError(Fn&& fn, ErrorCode code, const std::string& needle, const std::string& what) {
  try {
    fn();
  } catch (const Error& e) {
    Require(e.code() == code, what + ": expected " + ErrorCodeName(code) + ", got " + e.what());
    Require(e.message().find(needle) != std::string::npos,
            what + ": message lacks '" + needle + "': " + e.what());
    return;
  }
  Require(false, what + ": no xmr::Error thrown");
}

// Turns any exception into the returned failure text; "" on success.
template <typename Fn>
std::string RunSelfTest(Fn&& fn) noexcept {
  try {
    fn();
    return "";
  } catch (const std::exception& e) {
    cudaGetLastError();
    return e.what();
  } catch (...) {
    cudaGetLastError();
    return "self-test: unknown exception";
  }
}

void CheckMacros() {
  const cudaError_t invalid = cudaErrorInvalidValue;
  RequireError([&] { XMR_CUDA_CHECK(invalid); }, ErrorCode::kCuda, std::string(__FILE__) + ":",
               "XMR_CUDA_CHECK names the file");
  RequireError(
      [&] { XMR_CUDA_CHECK(invalid); }, ErrorCode::kCuda,
      std::string(": invalid: cudaErrorInvalidValue: ") + cudaGetErrorString(cudaErrorInvalidValue),
      "XMR_CUDA_CHECK message format");
  RequireError([] { XMR_CUDA_CHECK(cudaErrorMemoryAllocation); }, ErrorCode::kOutOfMemory,
               "cudaErrorMemoryAllocation", "XMR_CUDA_CHECK maps OOM");
  XMR_CUDA_CHECK(cudaSuccess);
  RequireError([] { XMR_CUSPARSE_CHECK(CUSPARSE_STATUS_INVALID_VALUE); }, ErrorCode::kCuda,
               "CUSPARSE_STATUS_INVALID_VALUE", "XMR_CUSPARSE_CHECK");
  RequireError([] { XMR_CUSPARSE_CHECK(CUSPARSE_STATUS_ALLOC_FAILED); }, ErrorCode::kOutOfMemory,
               "CUSPARSE_STATUS_ALLOC_FAILED", "XMR_CUSPARSE_CHECK maps OOM");
  XMR_CUSPARSE_CHECK(CUSPARSE_STATUS_SUCCESS);
}

void CheckEmptyObjects() {
  DeviceBuffer<float> none(0, nullptr);
  Require(none.empty() && none.size() == 0 && none.bytes() == 0 && none.data() == nullptr,
          "zero-size DeviceBuffer");
  none.MemsetZeroAsync(nullptr);
  none.CopyFromHostAsync(nullptr, 0, nullptr);
  none.CopyToHostAsync(nullptr, 0, nullptr);
  RequireError([&] { none.CopyFromHostAsync(nullptr, 1, nullptr); }, ErrorCode::kInvalidArgument,
               "CopyFromHostAsync", "DeviceBuffer bounds");
  RequireError([] { DeviceBuffer<double> b(std::numeric_limits<std::size_t>::max() / 4, nullptr); },
               ErrorCode::kInvalidArgument, "overflow", "DeviceBuffer size overflow");
  DeviceBuffer<float> moved(std::move(none));
  Require(moved.empty(), "moved zero-size DeviceBuffer");
  PinnedHostBuffer<int> pinned(0);
  Require(pinned.empty() && pinned.data() == nullptr, "zero-size PinnedHostBuffer");
  CsrMatDescr csr;
  DnMatDescr dn;
  Require(csr.get() == nullptr && dn.get() == nullptr, "default descriptors own nothing");
}

void CheckNoDevice() {
  RequireError([] { Stream s; }, ErrorCode::kCuda, "cudaStreamCreateWithFlags",
               "Stream without a device");
  RequireError([] { Event e; }, ErrorCode::kCuda, "cudaEventCreateWithFlags",
               "Event without a device");
  RequireError([] { DeviceBuffer<float> b(16, nullptr); }, ErrorCode::kCuda, "cudaMallocAsync",
               "DeviceBuffer without a device");
  RequireError([] { DeviceMemory(); }, ErrorCode::kCuda, "cudaMemGetInfo",
               "DeviceMemory without a device");
  RequireError([] { CusparseHandle h(nullptr); }, ErrorCode::kCuda, "cusparseCreate",
               "CusparseHandle without a device");
  RequireError([] { PinnedHostBuffer<float> b(16); }, ErrorCode::kCuda, "cudaHostAlloc",
               "PinnedHostBuffer without a device");
  RequireError([] { PeakMemoryBandwidthGBs(0); }, ErrorCode::kCuda, "cudaDeviceGetAttribute",
               "PeakMemoryBandwidthGBs without a device");
  // No "last error cleared" check here: without a driver every runtime call, including
  // cudaGetLastError itself, re-reports cudaErrorInsufficientDriver.
}

void CheckKernelAndCopies(Stream& stream) {
  constexpr std::size_t kN = (std::size_t{1} << 20) + 3;  // not a multiple of the block size
  PinnedHostBuffer<float> h_x(kN);
  PinnedHostBuffer<float> h_y(kN);
  Require(h_x.size() == kN && h_x.bytes() == kN * sizeof(float), "PinnedHostBuffer shape");
  for (std::size_t i = 0; i < kN; ++i) h_x[i] = static_cast<float>(i % 1000);
  DeviceBuffer<float> d_x(kN, stream.get());
  DeviceBuffer<float> d_y(kN, stream.get());
  Require(d_x.size() == kN && d_x.bytes() == kN * sizeof(float) && !d_x.empty() &&
              d_x.data() != nullptr && d_x.stream() == stream.get(),
          "DeviceBuffer shape");

  Event start;
  Event stop;
  start.Record(stream.get());
  d_x.CopyFromHostAsync(h_x.data(), kN, stream.get());
  const unsigned blocks = static_cast<unsigned>((kN + 255) / 256);
  AffineKernel<<<blocks, 256, 0, stream.get()>>>(d_x.data(), d_y.data(), 2.0f, 1.0f, kN);
  XMR_CUDA_CHECK_LAUNCH();
  d_y.CopyToHostAsync(h_y.data(), kN, stream.get());
  stop.Record(stream.get());
  stop.Synchronize();
  Require(stop.Query(), "Event::Query after Synchronize");
  for (std::size_t i = 0; i < kN; ++i) {
    Require(h_y[i] == 2.0f * h_x[i] + 1.0f, "kernel result wrong at " + std::to_string(i));
  }
  const double ms = Event::ElapsedMs(start, stop);
  Require(ms >= 0.0, "Event::ElapsedMs negative: " + std::to_string(ms));

  // Memset, then a partial copy: the tail of h_y keeps the kernel's values.
  d_y.MemsetZeroAsync(stream.get());
  d_y.CopyToHostAsync(h_y.data(), kN / 2, stream.get());
  stream.Synchronize();
  for (std::size_t i = 0; i < kN / 2; ++i) Require(h_y[i] == 0.0f, "MemsetZeroAsync");
  Require(h_y[kN - 1] == 2.0f * h_x[kN - 1] + 1.0f, "partial CopyToHostAsync overran");
  RequireError([&] { d_x.CopyFromHostAsync(h_x.data(), kN + 1, stream.get()); },
               ErrorCode::kInvalidArgument, "CopyFromHostAsync", "DeviceBuffer bounds");

  // Moves keep the allocation and empty the source.
  const float* p = d_x.data();
  DeviceBuffer<float> moved(std::move(d_x));
  Require(d_x.empty() && d_x.data() == nullptr && moved.data() == p && moved.size() == kN,
          "DeviceBuffer move construction");
  d_x = std::move(moved);
  Require(moved.empty() && d_x.data() == p, "DeviceBuffer move assignment");
  d_y = DeviceBuffer<float>(16, stream.get());  // frees the old d_y, stream-ordered
  Require(d_y.size() == 16, "DeviceBuffer move assignment over a live buffer");

  // Cross-stream use, ordered with an event: read d_x on a second stream.
  Stream other;
  Event ready;
  ready.Record(stream.get());
  other.Wait(ready);
  d_x.CopyToHostAsync(h_y.data(), kN, other.get());
  other.Synchronize();
  for (std::size_t i = 0; i < kN; ++i) Require(h_y[i] == h_x[i], "copy on a second stream");

  // Stream and Event moves.
  Stream s1;
  const cudaStream_t raw = s1.get();
  Stream s2(std::move(s1));
  Require(s1.get() == nullptr && s2.get() == raw, "Stream move construction");
  s1 = std::move(s2);
  Require(s1.get() == raw, "Stream move assignment");
  Event e1;
  Event e2(std::move(e1));
  Require(e1.get() == nullptr && e2.get() != nullptr, "Event move construction");
}

void CheckErrors(Stream& stream) {
  RequireError(
      [&] {
        AffineKernel<<<0, 256, 0, stream.get()>>>(nullptr, nullptr, 1.0f, 0.0f, 0);
        XMR_CUDA_CHECK_LAUNCH();
      },
      ErrorCode::kCuda, "kernel launch: cudaErrorInvalidConfiguration", "bad launch");
  RequireError([] { XMR_CUDA_CHECK(cudaSetDevice(CudaDeviceCount())); }, ErrorCode::kCuda,
               "cudaErrorInvalidDevice", "cudaSetDevice(invalid)");
  Require(cudaPeekAtLastError() == cudaSuccess, "last error not cleared after a failed check");
  RequireError([&] { DeviceBuffer<unsigned char> huge(std::size_t{1} << 50, stream.get()); },
               ErrorCode::kOutOfMemory, "cudaMallocAsync(1125899906842624 bytes)",
               "1 PiB device allocation");
  stream.Synchronize();  // the stream must still be usable after the failed allocation
}

void CheckCusparse(Stream& stream) {
  // A (3x4, CSR) times B (4x2, row-major) into C (3x2, row-major), with CSR_ALG2.
  const std::vector<int> row_ptr = {0, 2, 3, 6};
  const std::vector<int> col = {0, 2, 1, 0, 2, 3};
  const std::vector<float> val = {1, 2, 3, 4, 5, 6};
  const std::vector<float> b = {1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<float> expected(6, 0.0f);
  for (int r = 0; r < 3; ++r) {
    for (int k = row_ptr[r]; k < row_ptr[r + 1]; ++k) {
      for (int j = 0; j < 2; ++j) expected[r * 2 + j] += val[k] * b[col[k] * 2 + j];
    }
  }
  DeviceBuffer<int> d_row_ptr(row_ptr.size(), stream.get());
  DeviceBuffer<int> d_col(col.size(), stream.get());
  DeviceBuffer<float> d_val(val.size(), stream.get());
  DeviceBuffer<float> d_b(b.size(), stream.get());
  DeviceBuffer<float> d_c(expected.size(), stream.get());
  d_row_ptr.CopyFromHostAsync(row_ptr.data(), row_ptr.size(), stream.get());
  d_col.CopyFromHostAsync(col.data(), col.size(), stream.get());
  d_val.CopyFromHostAsync(val.data(), val.size(), stream.get());
  d_b.CopyFromHostAsync(b.data(), b.size(), stream.get());
  d_c.MemsetZeroAsync(stream.get());

  CusparseHandle handle(stream.get());
  CsrMatDescr a(3, 4, 6, d_row_ptr.data(), d_col.data(), d_val.data(), CUSPARSE_INDEX_32I,
                CUSPARSE_INDEX_32I, CUSPARSE_INDEX_BASE_ZERO, CUDA_R_32F);
  DnMatDescr mb(4, 2, 2, d_b.data(), CUDA_R_32F, CUSPARSE_ORDER_ROW);
  DnMatDescr mc(3, 2, 2, d_c.data(), CUDA_R_32F, CUSPARSE_ORDER_ROW);
  const float alpha = 1.0f;
  const float beta = 0.0f;
  std::size_t work_bytes = 0;
  XMR_CUSPARSE_CHECK(cusparseSpMM_bufferSize(
      handle.get(), CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
      a.get(), mb.get(), &beta, mc.get(), CUDA_R_32F, CUSPARSE_SPMM_CSR_ALG2, &work_bytes));
  DeviceBuffer<unsigned char> work(work_bytes > 0 ? work_bytes : 1, stream.get());
  XMR_CUSPARSE_CHECK(cusparseSpMM(
      handle.get(), CUSPARSE_OPERATION_NON_TRANSPOSE, CUSPARSE_OPERATION_NON_TRANSPOSE, &alpha,
      a.get(), mb.get(), &beta, mc.get(), CUDA_R_32F, CUSPARSE_SPMM_CSR_ALG2, work.data()));
  std::vector<float> c(expected.size(), -1.0f);
  d_c.CopyToHostAsync(c.data(), c.size(), stream.get());
  stream.Synchronize();
  for (std::size_t i = 0; i < c.size(); ++i) {
    Require(c[i] == expected[i], "cusparseSpMM result wrong at " + std::to_string(i) + ": " +
                                     std::to_string(c[i]) + " vs " + std::to_string(expected[i]));
  }
  CsrMatDescr a2(std::move(a));
  Require(a.get() == nullptr && a2.get() != nullptr, "CsrMatDescr move");
  CusparseHandle h2(std::move(handle));
  Require(handle.get() == nullptr && h2.get() != nullptr, "CusparseHandle move");
}

void CheckQueries(Stream& stream) {
  Require(!DeviceName(0).empty(), "DeviceName(0) is empty");
  const MemInfo mem = DeviceMemory();
  Require(mem.total > 0 && mem.free <= mem.total, "DeviceMemory: free " + std::to_string(mem.free) +
                                                      ", total " + std::to_string(mem.total));
  const double peak = PeakMemoryBandwidthGBs(0);
  Require(peak >= 0.0, "PeakMemoryBandwidthGBs negative");
  const double copy = MeasureCopyBandwidthGBs(std::size_t{64} << 20, stream, 3);
  Require(copy > 0.0, "MeasureCopyBandwidthGBs not positive");
  RequireError([&] { MeasureCopyBandwidthGBs(0, stream); }, ErrorCode::kInvalidArgument,
               "bytes > 0", "MeasureCopyBandwidthGBs(0)");
}

}  // namespace

std::string CudaErrorPathSelfTest() {
  return RunSelfTest([] {
    CheckMacros();
    CheckEmptyObjects();
    if (CudaDeviceCount() == 0) CheckNoDevice();
  });
}

std::string CudaSelfTest() {
  return RunSelfTest([] {
    Require(CudaDeviceCount() > 0, "no CUDA device");
    DeviceGuard guard(0);
    SetMemPoolReleaseThreshold(0, std::numeric_limits<std::uint64_t>::max());
    Stream stream;
    CheckKernelAndCopies(stream);
    CheckErrors(stream);
    CheckCusparse(stream);
    CheckQueries(stream);
    stream.Synchronize();
  });
}

std::string CudaDeviceSummary(int device) {
  std::string line;
  const std::string error = RunSelfTest([&] {
    DeviceGuard guard(device);
    const MemInfo mem = DeviceMemory();
    Stream stream;
    const double copy = MeasureCopyBandwidthGBs(std::size_t{256} << 20, stream);
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  ": %.1f GiB total, %.1f GiB free, peak %.0f GB/s, measured copy %.0f GB/s",
                  static_cast<double>(mem.total) / 1073741824.0,
                  static_cast<double>(mem.free) / 1073741824.0, PeakMemoryBandwidthGBs(device),
                  copy);
    line = "device " + std::to_string(device) + " (" + DeviceName(device) + ")" + buf;
  });
  return error.empty() ? line : "error: " + error;
}

}  // namespace xmr::cuda
