// Minimal fork-join parallelism on std::thread (no OpenMP, so ThreadSanitizer sees everything).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xmr {

/// Hardware threads (at least 1).
int HardwareThreads() noexcept;

/// Runs fn(i, worker) for every i in [0, n) on up to `threads` workers (<= 0: all cores), handing
/// out chunks of `grain` consecutive items dynamically. `worker` is in [0, workers) and lets the
/// caller index per-thread scratch. Blocks until all items ran. The first exception thrown by fn
/// is rethrown in the caller after all workers stopped (remaining items are skipped).
/// With threads == 1 (or n <= grain) everything runs on the calling thread.
template <typename Fn>
void ParallelFor(std::int64_t n, int threads, Fn&& fn, std::int64_t grain = 1) {
  if (n <= 0) return;
  if (threads <= 0) threads = HardwareThreads();
  if (grain < 1) grain = 1;
  const std::int64_t chunks = (n + grain - 1) / grain;
  const int workers = static_cast<int>(std::min<std::int64_t>(threads, chunks));
  if (workers <= 1) {
    for (std::int64_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mu;
  auto body = [&](int worker) {
    try {
      while (!failed.load(std::memory_order_relaxed)) {
        const std::int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
        if (begin >= n) break;
        const std::int64_t end = std::min(n, begin + grain);
        for (std::int64_t i = begin; i < end; ++i) fn(i, worker);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mu);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int w = 1; w < workers; ++w) pool.emplace_back(body, w);
  body(0);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

/// Number of workers ParallelFor will use for n items.
inline int NumWorkers(std::int64_t n, int threads, std::int64_t grain = 1) {
  if (threads <= 0) threads = HardwareThreads();
  const std::int64_t chunks = grain < 1 ? n : (n + grain - 1) / grain;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, chunks)));
}

}  // namespace xmr
