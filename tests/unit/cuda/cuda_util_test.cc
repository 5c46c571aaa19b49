// Tests of the CUDA foundation through what plain C++ can reach: the device probe, device
// resolution, and (in CUDA builds) the self-tests of cuda/core/cuda_util.cu. Builds and passes
// with and without XMR_ENABLE_CUDA and with and without a GPU; the GPU-only parts skip.
#include <gtest/gtest.h>

#include <iostream>
#include <string>

#include "xmr/context.h"
#include "xmr/error.h"

#if defined(XMR_WITH_CUDA)
#include "../../../cuda/core/selftest.h"
#endif

namespace xmr {
namespace {

static_assert(noexcept(CudaDeviceCount()), "the device probe must be noexcept");

Context QuietContext(DeviceKind device) {
  Context ctx;
  ctx.device = device;
  ctx.verbose = 0;
  return ctx;
}

TEST(CudaDeviceCount, IsNonNegativeAndStable) {
  const int n = CudaDeviceCount();
  EXPECT_GE(n, 0);
  EXPECT_EQ(CudaDeviceCount(), n);  // a failed probe must not change the next answer
#if !defined(XMR_WITH_CUDA)
  EXPECT_EQ(n, 0) << "builds without CUDA never see a device";
#endif
}

TEST(ResolveDevice, CpuIsAlwaysCpu) {
  EXPECT_EQ(ResolveDevice(QuietContext(DeviceKind::kCpu)), DeviceKind::kCpu);
}

TEST(ResolveDevice, AutoFollowsTheProbe) {
  const DeviceKind expected = CudaDeviceCount() > 0 ? DeviceKind::kCuda : DeviceKind::kCpu;
  EXPECT_EQ(ResolveDevice(QuietContext(DeviceKind::kAuto)), expected);
}

TEST(ResolveDevice, CudaWithoutDeviceThrowsNotSupported) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  try {
    ResolveDevice(QuietContext(DeviceKind::kCuda));
    FAIL() << "expected Error(kNotSupported)";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotSupported) << e.what();
    EXPECT_NE(e.message().find("device=cuda"), std::string::npos) << e.what();
#if !defined(XMR_WITH_CUDA)
    EXPECT_NE(e.message().find("XMR_ENABLE_CUDA=OFF"), std::string::npos) << e.what();
#endif
  }
}

TEST(ResolveDevice, CudaWithDeviceResolvesToCuda) {
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  EXPECT_EQ(ResolveDevice(QuietContext(DeviceKind::kCuda)), DeviceKind::kCuda);
}

// Runs with or without a GPU: error macros, empty objects, and failure paths without a device.
TEST(CudaUtil, ErrorPaths) {
#if defined(XMR_WITH_CUDA)
  EXPECT_EQ(cuda::CudaErrorPathSelfTest(), "");
#else
  GTEST_SKIP() << "built with XMR_ENABLE_CUDA=OFF";
#endif
}

TEST(CudaUtil, SelfTestOnDevice) {
#if defined(XMR_WITH_CUDA)
  if (CudaDeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  std::cout << cuda::CudaDeviceSummary(0) << std::endl;
  EXPECT_EQ(cuda::CudaSelfTest(), "");
#else
  GTEST_SKIP() << "built with XMR_ENABLE_CUDA=OFF";
#endif
}

TEST(CudaUtil, SelfTestReportsMissingDevice) {
#if defined(XMR_WITH_CUDA)
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  EXPECT_NE(cuda::CudaSelfTest().find("no CUDA device"), std::string::npos);
#else
  GTEST_SKIP() << "built with XMR_ENABLE_CUDA=OFF";
#endif
}

}  // namespace
}  // namespace xmr
