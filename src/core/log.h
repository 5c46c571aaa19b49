// Progress and diagnostics on stderr, silenced by Context::verbose == 0.
#pragma once

#include <chrono>
#include <string>

#include "xmr/context.h"

namespace xmr {

/// Prints "[xmr <elapsed>s] <msg>" to stderr when ctx.verbose >= level. Thread-safe (one line
/// is written with one call).
void Log(const Context& ctx, const std::string& msg, int level = 1);

/// printf-style formatting into a std::string.
std::string StrFormat(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// Wall-clock stopwatch.
class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void Reset() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace xmr
