// Run-time context shared by training and prediction: device choice, threads, seed, verbosity.
#pragma once

#include <cstdint>
#include <string>

namespace xmr {

/// Where training runs. kAuto picks CUDA when xmr was built with CUDA and a device is usable,
/// else the CPU, and says which on stderr (unless quiet).
enum class DeviceKind { kAuto, kCpu, kCuda };

/// Parses "auto" | "cpu" | "cuda". @throws Error(kInvalidArgument) otherwise.
DeviceKind ParseDeviceKind(const std::string& name);
const char* DeviceKindName(DeviceKind kind) noexcept;

/// Passed by const reference to every heavy call. Cheap to copy.
struct Context {
  /// Backend for training (prediction always runs on the CPU).
  DeviceKind device = DeviceKind::kAuto;
  /// Worker threads; <= 0 means all hardware threads.
  int threads = 0;
  /// Master seed; every random choice in xmr derives from it. Same seed -> same model,
  /// whatever the thread count.
  std::uint64_t seed = 0;
  /// 0: silent; 1: progress lines on stderr (default); 2: debug detail.
  int verbose = 1;
  /// Device memory the CUDA training backend may use for one wave of parents, in bytes;
  /// 0 = 80% of the memory free on the device when training starts.
  std::int64_t gpu_memory_bytes = 0;

  /// `threads` resolved to a positive number.
  int NumThreads() const;
};

/// Number of usable CUDA devices. Never throws; 0 without a driver, a device, or CUDA support.
int CudaDeviceCount() noexcept;

/// Resolves kAuto to kCpu or kCuda (logging the choice when ctx.verbose > 0).
/// @throws Error(kNotSupported) when ctx.device == kCuda and no CUDA device is usable (never a
///         silent fallback to the CPU).
DeviceKind ResolveDevice(const Context& ctx);

}  // namespace xmr
