#include "core/log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

#include "core/parallel.h"

namespace xmr {
namespace {
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();
std::mutex log_mu;
}  // namespace

int HardwareThreads() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void Log(const Context& ctx, const std::string& msg, int level) {
  if (ctx.verbose < level) return;
  const double t =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - kProcessStart).count();
  std::lock_guard<std::mutex> lock(log_mu);
  std::fprintf(stderr, "[xmr %7.2fs] %s\n", t, msg.c_str());
  std::fflush(stderr);
}

std::string StrFormat(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  va_list ap2;
  va_copy(ap2, ap);
  const int n = std::vsnprintf(nullptr, 0, fmt, ap);
  va_end(ap);
  std::string out(n > 0 ? static_cast<size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, ap2);
  va_end(ap2);
  return out;
}

}  // namespace xmr
