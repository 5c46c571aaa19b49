#include "core/memory.h"

#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

namespace xmr {

std::uint64_t AvailableMemoryBytes() noexcept {
  try {
    std::ifstream f("/proc/meminfo");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("MemAvailable:", 0) == 0) {
        std::istringstream in(line.substr(13));
        std::uint64_t kb = 0;
        if (in >> kb) return kb * 1024;
      }
    }
  } catch (...) {
  }
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * page;
  return std::numeric_limits<std::uint64_t>::max();
}

}  // namespace xmr
