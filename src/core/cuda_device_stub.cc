// Compiled only when XMR_ENABLE_CUDA=OFF.
#include "xmr/context.h"

namespace xmr {
int CudaDeviceCount() noexcept { return 0; }
}  // namespace xmr
