// Host memory facts used to refuse work that cannot fit, instead of being killed mid-way.
#pragma once

#include <cstdint>

namespace xmr {

/// Bytes of memory available to new allocations (MemAvailable from /proc/meminfo; falls back to
/// free physical pages). Returns UINT64_MAX when neither can be read.
std::uint64_t AvailableMemoryBytes() noexcept;

}  // namespace xmr
