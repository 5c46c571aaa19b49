// Helpers of the hardening tests: arrays whose valid elements sit past 2^32 (for 64-bit offset
// checks without allocating 2^32 elements) and forked children that report through their exit
// status (for privilege, rlimit and mount games that must not touch the test process).
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace xmr {
namespace hardening {

/// An array of `first + n` elements of T of which only [first, first + n) is backed by memory:
/// the address range is reserved PROT_NONE (no memory, no commit charge) and just the window is
/// made readable and writable. origin()[first + k] is element k of the window; touching any
/// other element faults, so an offset that lost its upper bits cannot go unnoticed.
template <typename T>
class FarArray {
 public:
  FarArray(std::int64_t first, std::size_t n) : first_(first) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    bytes_ = (static_cast<std::size_t>(first) + n + 1) * sizeof(T) + page;
    void* p =
        ::mmap(nullptr, bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    base_ = static_cast<char*>(p);
    const std::size_t lo = static_cast<std::size_t>(first) * sizeof(T) / page * page;
    const std::size_t hi = ((static_cast<std::size_t>(first) + n) * sizeof(T) + page) / page * page;
    if (::mprotect(base_ + lo, hi - lo, PROT_READ | PROT_WRITE) != 0) {
      ::munmap(base_, bytes_);
      base_ = nullptr;
    }
  }
  ~FarArray() {
    if (base_ != nullptr) ::munmap(base_, bytes_);
  }
  FarArray(const FarArray&) = delete;
  FarArray& operator=(const FarArray&) = delete;

  bool ok() const { return base_ != nullptr; }
  T* origin() const { return reinterpret_cast<T*>(base_); }
  /// Element k of the window.
  T& at(std::size_t k) const { return origin()[first_ + static_cast<std::int64_t>(k)]; }

 private:
  std::int64_t first_;
  std::size_t bytes_ = 0;
  char* base_ = nullptr;
};

/// The process's data segment size as RLIMIT_DATA counts it (VmData of /proc/self/status: private
/// writable mappings), in bytes; 0 if unknown.
inline std::uint64_t DataBytesInUse() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  std::uint64_t kb = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    unsigned long long v = 0;
    if (std::sscanf(line, "VmData: %llu kB", &v) == 1) {
      kb = v;
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

/// Exit status a child uses to say "the mechanism is not available here" (the parent skips).
constexpr int kChildSkip = 77;

/// Runs `body` (returning an int exit status) in a forked child and returns the child's exit
/// status; an exception in the child gives 100, a signal 128 + signal number. The child never
/// returns into the test framework (it leaves with _exit, skipping every destructor).
template <typename Fn>
int RunInChild(Fn&& body) {
  std::fflush(nullptr);  // nothing buffered by the parent may be written twice
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int rc = 100;
    try {
      rc = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: unexpected exception: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "child: unexpected exception\n");
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace hardening
}  // namespace xmr
