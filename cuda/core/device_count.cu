// Device probe: never throws; "no driver" and "no device" both mean 0 devices.
#include <cuda_runtime.h>

#include "xmr/context.h"

namespace xmr {
int CudaDeviceCount() noexcept {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error left by a failed probe
    return 0;
  }
  return n;
}
}  // namespace xmr
