#include "xmr/context.h"

#include "core/log.h"
#include "core/parallel.h"
#include "xmr/error.h"

namespace xmr {

DeviceKind ParseDeviceKind(const std::string& name) {
  if (name == "auto") return DeviceKind::kAuto;
  if (name == "cpu") return DeviceKind::kCpu;
  if (name == "cuda" || name == "gpu") return DeviceKind::kCuda;
  throw Error(ErrorCode::kInvalidArgument,
              "device must be one of auto, cpu, cuda; got '" + name + "'");
}

const char* DeviceKindName(DeviceKind kind) noexcept {
  switch (kind) {
    case DeviceKind::kAuto:
      return "auto";
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return "cuda";
  }
  return "?";
}

int Context::NumThreads() const { return threads > 0 ? threads : HardwareThreads(); }

DeviceKind ResolveDevice(const Context& ctx) {
  if (ctx.device == DeviceKind::kCpu) return DeviceKind::kCpu;
  const int n = CudaDeviceCount();
  if (ctx.device == DeviceKind::kCuda) {
    XMR_EXPECTS(n > 0, ErrorCode::kNotSupported,
                "device=cuda requested but no usable CUDA device was found"
#ifndef XMR_WITH_CUDA
                " (xmr was built with XMR_ENABLE_CUDA=OFF)"
#endif
    );
    return DeviceKind::kCuda;
  }
  const DeviceKind kind = n > 0 ? DeviceKind::kCuda : DeviceKind::kCpu;
  Log(ctx, std::string("device=auto: training on ") +
               (n > 0 ? "CUDA (" + std::to_string(n) + " device(s) visible)"
                      : "the CPU (no usable CUDA device)"));
  return kind;
}

}  // namespace xmr
