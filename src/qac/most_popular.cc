// Most-popular completion: prefix -> contiguous label-id range -> top-k by range-minimum queries.
#include <algorithm>
#include <limits>
#include <numeric>

#include "core/parallel.h"
#include "xmr/error.h"
#include "xmr/qac.h"

namespace xmr {
namespace {

constexpr int kBlockBits = 6;  // blocks of 64 labels, one 64-bit stack mask per label
constexpr Index kBlock = Index{1} << kBlockBits;
constexpr std::size_t kBuckets = 65536;

// Two-byte key of a label; non-decreasing in bytewise order of the labels.
inline std::size_t Key(std::string_view s) {
  if (s.empty()) return 0;
  const std::size_t b0 = static_cast<unsigned char>(s[0]);
  const std::size_t b1 = s.size() > 1 ? static_cast<unsigned char>(s[1]) : 0;
  return (b0 << 8) | b1;
}

inline int HighestBit(std::uint64_t x) { return 63 - __builtin_clzll(x); }
inline int FloorLog2(std::uint64_t x) { return HighestBit(x); }

}  // namespace

MostPopularCompleter::MostPopularCompleter(const std::vector<std::string>& labels,
                                           const std::vector<std::int64_t>& freq) {
  XMR_EXPECTS(labels.size() == freq.size(), ErrorCode::kInvalidArgument,
              "MostPopularCompleter: " + std::to_string(labels.size()) + " labels but " +
                  std::to_string(freq.size()) + " frequencies");
  XMR_EXPECTS(labels.size() < static_cast<std::size_t>(std::numeric_limits<Index>::max()),
              ErrorCode::kInvalidArgument,
              "MostPopularCompleter: too many labels (" + std::to_string(labels.size()) + ")");
  const Index n = static_cast<Index>(labels.size());
  std::size_t bytes = 0;
  for (Index i = 0; i < n; ++i) {
    XMR_EXPECTS(i == 0 || labels[i - 1] < labels[i], ErrorCode::kInvalidArgument,
                "MostPopularCompleter: labels must be strictly increasing bytewise; label " +
                    std::to_string(i) + " is not after label " + std::to_string(i - 1));
    XMR_EXPECTS(freq[i] >= 0, ErrorCode::kInvalidArgument,
                "MostPopularCompleter: label " + std::to_string(i) + " has frequency " +
                    std::to_string(freq[i]) + " < 0");
    bytes += labels[i].size();
  }
  chars_.reserve(bytes);
  offsets_.reserve(n + 1);
  offsets_.push_back(0);
  for (const std::string& s : labels) {
    chars_ += s;
    offsets_.push_back(static_cast<std::int64_t>(chars_.size()));
  }
  freq_ = freq;

  // Popularity rank: frequency descending, ties smaller id first.
  std::vector<Index> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return freq_[a] > freq_[b]; });
  rank_.resize(n);
  for (Index r = 0; r < n; ++r) rank_[order[r]] = static_cast<std::uint32_t>(r);

  // In-block masks: bit j of mask_[i] (block start s) is set when position s + j <= i has a
  // smaller rank than every position in (s + j, i]; i.e. the stack of suffix minima.
  mask_.resize(n);
  const Index n_blocks = (n + kBlock - 1) / kBlock;
  std::vector<Index> level(n_blocks);
  for (Index b = 0; b < n_blocks; ++b) {
    const Index s = b * kBlock, e = std::min(n, s + kBlock);
    std::uint64_t stack = 0;
    for (Index i = s; i < e; ++i) {
      while (stack != 0 && rank_[s + HighestBit(stack)] > rank_[i]) {
        stack &= ~(std::uint64_t{1} << HighestBit(stack));
      }
      stack |= std::uint64_t{1} << (i - s);
      mask_[i] = stack;
    }
    level[b] = s + __builtin_ctzll(mask_[e - 1]);  // bottom of the stack = block minimum
  }
  // Sparse table over blocks: blocks_[j][b] = best of blocks [b, b + 2^j).
  if (n_blocks > 0) blocks_.push_back(std::move(level));
  for (int j = 1; (Index{1} << j) <= n_blocks; ++j) {
    const std::vector<Index>& prev = blocks_[j - 1];
    const Index half = Index{1} << (j - 1);
    std::vector<Index> cur(n_blocks - (Index{1} << j) + 1);
    for (Index b = 0; b < static_cast<Index>(cur.size()); ++b) {
      const Index x = prev[b], y = prev[b + half];
      cur[b] = rank_[x] < rank_[y] ? x : y;
    }
    blocks_.push_back(std::move(cur));
  }

  // bucket_[k] = first id whose key is >= k.
  bucket_.resize(kBuckets + 1);
  std::size_t k = 0;
  for (Index i = 0; i < n; ++i) {
    const std::size_t key = Key(label(i));
    while (k <= key) bucket_[k++] = i;
  }
  while (k <= kBuckets) bucket_[k++] = n;
}

Index MostPopularCompleter::InBlockMin(Index l, Index r) const {
  const Index s = l & ~(kBlock - 1);
  const std::uint64_t m = mask_[r] & (~std::uint64_t{0} << (l - s));
  return s + __builtin_ctzll(m);
}

Index MostPopularCompleter::RangeMin(Index l, Index r) const {
  const Index bl = l >> kBlockBits, br = r >> kBlockBits;
  if (bl == br) return InBlockMin(l, r);
  Index best = InBlockMin(l, (bl << kBlockBits) + kBlock - 1);
  const Index right = InBlockMin(br << kBlockBits, r);
  if (rank_[right] < rank_[best]) best = right;
  if (br - bl > 1) {
    const int j = FloorLog2(static_cast<std::uint64_t>(br - bl - 1));
    const Index x = blocks_[j][bl + 1], y = blocks_[j][br - (Index{1} << j)];
    if (rank_[x] < rank_[best]) best = x;
    if (rank_[y] < rank_[best]) best = y;
  }
  return best;
}

std::pair<Index, Index> MostPopularCompleter::PrefixRange(std::string_view prefix) const {
  const Index n = size();
  if (prefix.empty() || n == 0) return {0, n};
  Index a, b;
  const std::size_t b0 = static_cast<unsigned char>(prefix[0]);
  if (prefix.size() == 1) {
    a = bucket_[b0 << 8];
    b = bucket_[(b0 + 1) << 8];
  } else {
    const std::size_t key = Key(prefix);
    a = bucket_[key];
    b = bucket_[key + 1];
  }
  // lower_bound of prefix in [a, b), then the end of the run of labels that start with it.
  Index lo = a, hi = b;
  while (lo < hi) {
    const Index mid = lo + (hi - lo) / 2;
    if (label(mid) < prefix) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const Index first = lo;
  hi = b;
  while (lo < hi) {
    const Index mid = lo + (hi - lo) / 2;
    if (label(mid).substr(0, prefix.size()) == prefix) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return {first, lo};
}

void MostPopularCompleter::Complete(std::string_view prefix, int k, std::vector<Index>* out) const {
  out->clear();
  if (k <= 0) return;
  const auto [lo, hi] = PrefixRange(prefix);
  if (lo >= hi) return;
  k = static_cast<int>(std::min<Index>(k, hi - lo));
  struct Item {
    std::uint32_t rank;
    Index l, r, m;
  };
  // Min-heap on rank of the sub-ranges still to pop.
  auto worse = [](const Item& a, const Item& b) { return a.rank > b.rank; };
  std::vector<Item> heap;
  heap.reserve(2 * static_cast<std::size_t>(k) + 1);
  auto push = [&](Index l, Index r) {
    const Index m = RangeMin(l, r);
    heap.push_back(Item{rank_[m], l, r, m});
    std::push_heap(heap.begin(), heap.end(), worse);
  };
  push(lo, hi - 1);
  out->reserve(k);
  while (!heap.empty() && static_cast<int>(out->size()) < k) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    const Item it = heap.back();
    heap.pop_back();
    out->push_back(it.m);
    if (static_cast<int>(out->size()) == k) break;
    if (it.l < it.m) push(it.l, it.m - 1);
    if (it.m < it.r) push(it.m + 1, it.r);
  }
}

std::vector<Index> MostPopularCompleter::Complete(std::string_view prefix, int k) const {
  std::vector<Index> out;
  Complete(prefix, k, &out);
  return out;
}

std::vector<std::vector<Index>> MostPopularCompleter::CompleteAll(const QacSplit& split, int k,
                                                                  int threads) const {
  std::vector<std::vector<Index>> out(split.size());
  ParallelFor(
      split.size(), threads, [&](std::int64_t i, int) { Complete(split.prefix(i), k, &out[i]); },
      256);
  return out;
}

std::size_t MostPopularCompleter::MemoryBytes() const {
  std::size_t b = chars_.capacity() + offsets_.capacity() * sizeof(std::int64_t) +
                  freq_.capacity() * sizeof(std::int64_t) +
                  rank_.capacity() * sizeof(std::uint32_t) +
                  mask_.capacity() * sizeof(std::uint64_t) + bucket_.capacity() * sizeof(Index);
  for (const auto& level : blocks_) b += level.capacity() * sizeof(Index);
  return b;
}

}  // namespace xmr
