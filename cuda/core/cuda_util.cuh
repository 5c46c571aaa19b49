// CUDA foundation of the GPU training backend: checking macros that turn every failed CUDA or
// cuSPARSE call into an xmr::Error, RAII owners for streams, events, cuSPARSE handles and
// descriptors, device and pinned host buffers, and a few device queries.
//
// Included only by .cu files (it pulls in cuda_runtime.h and cusparse.h); public headers never
// see CUDA types. Non-template functions live in cuda_util.cu.
//
// Conventions shared by every class here:
//  * Ownership: each object owns exactly one CUDA resource, is move-only, and releases the
//    resource in its destructor. A moved-from object owns nothing (get()/data() return null) and
//    may be destroyed or assigned to.
//  * Errors: constructors and member functions throw xmr::Error with code kOutOfMemory when an
//    allocation failed and kCuda for any other CUDA/cuSPARSE failure (kInvalidArgument for bad
//    arguments). Destructors never throw: a failure while releasing is ignored, because it can
//    only mean that the context is already broken (a sticky error), which the next checked call
//    reports anyway.
//  * Thread safety: none per object. Distinct objects may be used from different threads at the
//    same time; one object must not be used by two threads at once without outside locking.
//  * Devices: resources are created on the current device (see DeviceGuard). Streams, events and
//    buffers must be used with the device they were created on.
#pragma once

#include <cuda_runtime.h>
#include <cusparse.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "xmr/error.h"

namespace xmr::cuda {

namespace detail {
/// Throws Error(kOutOfMemory) for cudaErrorMemoryAllocation, else Error(kCuda), with the message
/// "<file>:<line>: <expr>: <cudaGetErrorName>: <cudaGetErrorString>". Clears the thread's
/// last-error state first (cudaGetLastError), so a non-sticky error does not resurface in a
/// later, unrelated check.
[[noreturn]] void ThrowCudaError(cudaError_t status, const std::string& expr, const char* file,
                                 int line);
/// Same for cuSPARSE: CUSPARSE_STATUS_ALLOC_FAILED maps to kOutOfMemory, all else to kCuda.
[[noreturn]] void ThrowCusparseError(cusparseStatus_t status, const std::string& expr,
                                     const char* file, int line);
/// Throws Error(kInvalidArgument) unless n * elem_size fits in size_t; returns the product.
std::size_t CheckedBytes(std::size_t n, std::size_t elem_size, const char* what);
}  // namespace detail

}  // namespace xmr::cuda

/// Evaluates a cudaError_t expression once; throws xmr::Error (see detail::ThrowCudaError)
/// unless it is cudaSuccess. Use it on every CUDA runtime call outside destructors.
#define XMR_CUDA_CHECK(expr)                                                            \
  do {                                                                                  \
    const cudaError_t xmr_cuda_status_ = (expr);                                        \
    if (xmr_cuda_status_ != cudaSuccess)                                                \
      ::xmr::cuda::detail::ThrowCudaError(xmr_cuda_status_, #expr, __FILE__, __LINE__); \
  } while (0)

/// Evaluates a cusparseStatus_t expression once; throws xmr::Error unless it is
/// CUSPARSE_STATUS_SUCCESS.
#define XMR_CUSPARSE_CHECK(expr)                                                                \
  do {                                                                                          \
    const cusparseStatus_t xmr_cusparse_status_ = (expr);                                       \
    if (xmr_cusparse_status_ != CUSPARSE_STATUS_SUCCESS)                                        \
      ::xmr::cuda::detail::ThrowCusparseError(xmr_cusparse_status_, #expr, __FILE__, __LINE__); \
  } while (0)

/// Put right after every kernel launch: reports a launch failure (bad configuration, too much
/// shared memory, ...). Errors raised while the kernel runs surface at the next synchronizing
/// call, not here.
#define XMR_CUDA_CHECK_LAUNCH()                                                                   \
  do {                                                                                            \
    const cudaError_t xmr_cuda_status_ = cudaGetLastError();                                      \
    if (xmr_cuda_status_ != cudaSuccess)                                                          \
      ::xmr::cuda::detail::ThrowCudaError(xmr_cuda_status_, "kernel launch", __FILE__, __LINE__); \
  } while (0)

namespace xmr::cuda {

/// Makes `device` current for the guard's lifetime and restores the previously current device
/// on destruction (which never throws). Not copyable or movable: it is a scope, not a resource.
/// @throws Error(kCuda) if the current device cannot be read or `device` cannot be made current.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
  bool changed_ = false;
};

/// Owns a cudaEvent_t (created with timing enabled unless `flags` say otherwise).
class Event {
 public:
  /// @throws Error(kCuda) when the event cannot be created (e.g. no driver).
  explicit Event(unsigned flags = cudaEventDefault);
  ~Event();
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  /// Records the event at the current end of `stream`.
  void Record(cudaStream_t stream);
  /// Blocks the host until the recorded work has finished.
  void Synchronize() const;
  /// True when the recorded work has finished (never blocks).
  bool Query() const;
  /// Milliseconds between two recorded, completed events (cudaEventElapsedTime; resolution
  /// about 0.5 us). Both must have timing enabled.
  static double ElapsedMs(const Event& start, const Event& stop);

  cudaEvent_t get() const noexcept { return event_; }

 private:
  void Release() noexcept;
  cudaEvent_t event_ = nullptr;
};

/// Owns a non-blocking stream (cudaStreamNonBlocking: no implicit ordering with the legacy
/// default stream). All xmr device work is issued on such streams.
class Stream {
 public:
  /// @throws Error(kCuda) when the stream cannot be created (e.g. no driver or device).
  Stream();
  ~Stream();
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  /// Blocks the host until all work issued so far on this stream has finished.
  void Synchronize() const;
  /// Makes later work on this stream wait for `event` (cudaStreamWaitEvent; host does not block).
  void Wait(const Event& event);

  cudaStream_t get() const noexcept { return stream_; }

 private:
  void Release() noexcept;
  cudaStream_t stream_ = nullptr;
};

/// Owns a cuSPARSE handle bound to a stream: every cuSPARSE call made with get() is issued on
/// that stream. cuSPARSE handles are per device and per host thread of use.
class CusparseHandle {
 public:
  /// @throws Error(kCuda) when cusparseCreate or cusparseSetStream fails.
  explicit CusparseHandle(cudaStream_t stream);
  ~CusparseHandle();
  CusparseHandle(CusparseHandle&& other) noexcept;
  CusparseHandle& operator=(CusparseHandle&& other) noexcept;
  CusparseHandle(const CusparseHandle&) = delete;
  CusparseHandle& operator=(const CusparseHandle&) = delete;

  /// Rebinds the handle to another stream.
  void SetStream(cudaStream_t stream);

  cusparseHandle_t get() const noexcept { return handle_; }

 private:
  void Release() noexcept;
  cusparseHandle_t handle_ = nullptr;
};

/// Owns a cusparseSpMatDescr_t in CSR format. The descriptor only points at the three device
/// arrays, it does not own them: they must outlive every cuSPARSE call that uses the descriptor.
/// get() converts implicitly to cusparseConstSpMatDescr_t where cuSPARSE wants a const one.
class CsrMatDescr {
 public:
  CsrMatDescr() = default;  ///< owns nothing
  /// Arguments as for cusparseCreateCsr. @throws Error(kCuda) on failure.
  CsrMatDescr(std::int64_t rows, std::int64_t cols, std::int64_t nnz, void* row_offsets,
              void* col_indices, void* values, cusparseIndexType_t row_offsets_type,
              cusparseIndexType_t col_indices_type, cusparseIndexBase_t index_base,
              cudaDataType value_type);
  ~CsrMatDescr();
  CsrMatDescr(CsrMatDescr&& other) noexcept;
  CsrMatDescr& operator=(CsrMatDescr&& other) noexcept;
  CsrMatDescr(const CsrMatDescr&) = delete;
  CsrMatDescr& operator=(const CsrMatDescr&) = delete;

  cusparseSpMatDescr_t get() const noexcept { return descr_; }

 private:
  void Release() noexcept;
  cusparseSpMatDescr_t descr_ = nullptr;
};

/// Owns a cusparseDnMatDescr_t. Like CsrMatDescr, it does not own the values array.
class DnMatDescr {
 public:
  DnMatDescr() = default;  ///< owns nothing
  /// Arguments as for cusparseCreateDnMat (ld: leading dimension in elements).
  /// @throws Error(kCuda) on failure.
  DnMatDescr(std::int64_t rows, std::int64_t cols, std::int64_t ld, void* values,
             cudaDataType value_type, cusparseOrder_t order);
  ~DnMatDescr();
  DnMatDescr(DnMatDescr&& other) noexcept;
  DnMatDescr& operator=(DnMatDescr&& other) noexcept;
  DnMatDescr(const DnMatDescr&) = delete;
  DnMatDescr& operator=(const DnMatDescr&) = delete;

  cusparseDnMatDescr_t get() const noexcept { return descr_; }

 private:
  void Release() noexcept;
  cusparseDnMatDescr_t descr_ = nullptr;
};

/// Owns `size()` elements of device memory, allocated with cudaMallocAsync on the stream given
/// to the constructor and freed with cudaFreeAsync on that same stream by the destructor.
///
/// Stream ordering: the memory may be used on the allocation stream right away; use on another
/// stream must first be ordered after the allocation (Event + Stream::Wait). Likewise all work
/// on other streams that touches the buffer must be ordered before the end of the allocation
/// stream before the buffer is destroyed. The allocation stream must outlive the buffer.
/// Contents start uninitialized. T must be trivially copyable (bytes are copied as they are).
template <typename T>
class DeviceBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "DeviceBuffer<T> needs trivially copyable T");

 public:
  DeviceBuffer() = default;  ///< empty, owns nothing
  /// Allocates n elements from the default pool of `stream`'s device (no CUDA call when n == 0).
  /// @throws Error(kOutOfMemory) when the device is out of memory (message gives the bytes),
  ///         Error(kInvalidArgument) when n * sizeof(T) overflows, Error(kCuda) otherwise.
  DeviceBuffer(std::size_t n, cudaStream_t stream) : stream_(stream) {
    const std::size_t bytes = detail::CheckedBytes(n, sizeof(T), "DeviceBuffer");
    if (bytes == 0) return;
    void* p = nullptr;
    const cudaError_t status = cudaMallocAsync(&p, bytes, stream);
    if (status != cudaSuccess) {
      detail::ThrowCudaError(status, "cudaMallocAsync(" + std::to_string(bytes) + " bytes)",
                             __FILE__, __LINE__);
    }
    data_ = static_cast<T*>(p);
    size_ = n;
  }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        stream_(other.stream_) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      stream_ = other.stream_;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /// Frees the memory now (stream-ordered on the allocation stream) and leaves the buffer empty.
  void reset() noexcept {
    if (data_ != nullptr && cudaFreeAsync(data_, stream_) != cudaSuccess) {
      cudaGetLastError();  // ignored, see the file comment; do not leave it for the next check
    }
    data_ = nullptr;
    size_ = 0;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept { return size_ * sizeof(T); }
  bool empty() const noexcept { return size_ == 0; }
  /// The stream the memory was allocated on (and will be freed on).
  cudaStream_t stream() const noexcept { return stream_; }

  /// Copies the first n elements from host memory `src` into the buffer, ordered on `stream`.
  /// `src` must stay valid until the copy has run; only pinned memory (PinnedHostBuffer) gives
  /// a truly asynchronous copy. @throws Error(kInvalidArgument) when n > size().
  void CopyFromHostAsync(const T* src, std::size_t n, cudaStream_t stream) {
    CheckCount(n, "CopyFromHostAsync");
    if (n == 0) return;
    XMR_CUDA_CHECK(cudaMemcpyAsync(data_, src, n * sizeof(T), cudaMemcpyHostToDevice, stream));
  }
  /// Copies the first n elements of the buffer to host memory `dst`, ordered on `stream`; `dst`
  /// is complete only after the stream (or an event recorded after the call) is synchronized.
  /// @throws Error(kInvalidArgument) when n > size().
  void CopyToHostAsync(T* dst, std::size_t n, cudaStream_t stream) const {
    CheckCount(n, "CopyToHostAsync");
    if (n == 0) return;
    XMR_CUDA_CHECK(cudaMemcpyAsync(dst, data_, n * sizeof(T), cudaMemcpyDeviceToHost, stream));
  }
  /// Sets every byte of the buffer to zero, ordered on `stream`.
  void MemsetZeroAsync(cudaStream_t stream) {
    if (size_ == 0) return;
    XMR_CUDA_CHECK(cudaMemsetAsync(data_, 0, bytes(), stream));
  }

 private:
  void CheckCount(std::size_t n, const char* what) const {
    XMR_EXPECTS(n <= size_, ErrorCode::kInvalidArgument,
                std::string("DeviceBuffer::") + what + ": " + std::to_string(n) +
                    " elements requested but the buffer holds " + std::to_string(size_));
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  cudaStream_t stream_ = nullptr;
};

/// Owns `size()` elements of page-locked host memory (cudaHostAlloc, portable to all devices;
/// freed with cudaFreeHost, which may synchronize the device). Use it as the host side of
/// copies that must overlap with kernels. Contents start uninitialized.
template <typename T>
class PinnedHostBuffer {
  static_assert(std::is_trivially_copyable_v<T>, "PinnedHostBuffer<T> needs trivially copyable T");

 public:
  PinnedHostBuffer() = default;  ///< empty, owns nothing
  /// @throws Error(kOutOfMemory) when the memory cannot be pinned, Error(kInvalidArgument) when
  ///         n * sizeof(T) overflows, Error(kCuda) otherwise (e.g. no driver).
  explicit PinnedHostBuffer(std::size_t n) {
    const std::size_t bytes = detail::CheckedBytes(n, sizeof(T), "PinnedHostBuffer");
    if (bytes == 0) return;
    void* p = nullptr;
    const cudaError_t status = cudaHostAlloc(&p, bytes, cudaHostAllocPortable);
    if (status != cudaSuccess) {
      detail::ThrowCudaError(status, "cudaHostAlloc(" + std::to_string(bytes) + " bytes)", __FILE__,
                             __LINE__);
    }
    data_ = static_cast<T*>(p);
    size_ = n;
  }
  ~PinnedHostBuffer() { reset(); }
  PinnedHostBuffer(PinnedHostBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  PinnedHostBuffer& operator=(PinnedHostBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  PinnedHostBuffer(const PinnedHostBuffer&) = delete;
  PinnedHostBuffer& operator=(const PinnedHostBuffer&) = delete;

  /// Frees the memory now and leaves the buffer empty. Pending copies must have finished.
  void reset() noexcept {
    if (data_ != nullptr && cudaFreeHost(data_) != cudaSuccess) cudaGetLastError();
    data_ = nullptr;
    size_ = 0;
  }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t bytes() const noexcept { return size_ * sizeof(T); }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

/// Free and total memory of the current device, in bytes (cudaMemGetInfo). Memory cached in a
/// cudaMallocAsync pool counts as used. @throws Error(kCuda).
struct MemInfo {
  std::size_t free = 0;
  std::size_t total = 0;
};
MemInfo DeviceMemory();

/// Marketing name of `device` (e.g. "NVIDIA H100 80GB HBM3"). @throws Error(kCuda).
std::string DeviceName(int device);

/// Theoretical peak DRAM bandwidth of `device` in GB/s (1e9 bytes/s):
/// 2 (double data rate) x memory clock x bus width, from cudaDevAttrMemoryClockRate and
/// cudaDevAttrGlobalMemoryBusWidth. CUDA 13 removed cudaDeviceProp::memoryClockRate but keeps
/// the attribute; where the device does not report it (attribute rejected or zero) this returns
/// 0, and callers should report against MeasureCopyBandwidthGBs() instead, which is the better
/// baseline anyway. @throws Error(kCuda) when the device cannot be queried at all.
double PeakMemoryBandwidthGBs(int device);

/// Achievable bandwidth of the current device in GB/s (1e9 bytes/s): times device-to-device
/// cudaMemcpyAsync of `bytes` bytes on `stream` with events (one untimed warm-up, then
/// `repetitions` timed copies) and counts each copied byte twice (read + written), so that the
/// figure compares directly with a kernel's (bytes read + bytes written) / time. Use at least
/// 64 MiB so that L2 does not inflate the result. Synchronizes `stream`.
/// @throws Error(kInvalidArgument) when bytes == 0 or repetitions < 1, Error(kOutOfMemory) when
///         the two buffers do not fit, Error(kCuda) otherwise.
double MeasureCopyBandwidthGBs(std::size_t bytes, Stream& stream, int repetitions = 10);

/// Sets the release threshold of `device`'s default cudaMallocAsync pool: freed memory up to
/// `bytes` stays cached in the pool across synchronizations instead of going back to the driver
/// (the default threshold, 0, trims the pool at every synchronization, which makes repeated
/// temporaries expensive). Pass UINT64_MAX to keep everything. @throws Error(kCuda).
void SetMemPoolReleaseThreshold(int device, std::uint64_t bytes);

}  // namespace xmr::cuda
