// Self-tests of the CUDA foundation (cuda_util.cuh), callable from plain C++ (no CUDA types), so
// that the g++-compiled unit tests can exercise it. Defined in cuda_util.cu, hence linked only in
// builds with XMR_ENABLE_CUDA=ON: guard calls with `#if defined(XMR_WITH_CUDA)`.
#pragma once

#include <string>

namespace xmr::cuda {

/// Checks what needs no GPU: the error macros' codes and messages (cudaErrorMemoryAllocation
/// and CUSPARSE_STATUS_ALLOC_FAILED map to kOutOfMemory, everything else to kCuda), empty
/// buffers that make no CUDA call, and, when xmr::CudaDeviceCount() == 0, that creating a
/// stream, event, buffer or cuSPARSE handle throws Error(kCuda) instead of crashing.
/// Returns "" on success, else a description of the first failure. Never throws.
std::string CudaErrorPathSelfTest();

/// Exercises the foundation on device 0: buffers, pinned copies, a trivial kernel, events,
/// launch-error reporting, device OOM reporting (kOutOfMemory), a small cuSPARSE SpMM through
/// the RAII descriptors, device queries and the copy-bandwidth probe. Needs a GPU.
/// Returns "" on success, else a description of the first failure. Never throws.
std::string CudaSelfTest();

/// One line about `device` for test and benchmark logs: name, memory, peak and measured copy
/// bandwidth. Needs a GPU; returns "error: ..." instead of throwing.
std::string CudaDeviceSummary(int device);

}  // namespace xmr::cuda
