// The CD kernels: PECOS's rounding, and the 16-bit-id variant identical to the 32-bit one.
#include "train/cd_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <vector>

namespace xmr {
namespace detail {
namespace {

struct Row {
  std::vector<Index> idx;
  std::vector<float> val;
};

Row RandomRow(std::mt19937* rng, Index dim, int nnz) {
  std::set<Index> s;
  while (static_cast<int>(s.size()) < nnz) s.insert(static_cast<Index>((*rng)() % dim));
  Row r;
  r.idx.assign(s.begin(), s.end());
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int k = 0; k < nnz; ++k) r.val.push_back(u(*rng));
  return r;
}

TEST(CdKernels, DotAccumulatesInFloatInIndexOrder) {
  // 1 + 2^-24 + 2^-24 in float, left to right, is 1 (each addition rounds back to 1); any other
  // order or a double accumulator would give 1 + 2^-23.
  const std::vector<float> w{1.0f, 1.0f, 1.0f};
  const std::vector<Index> idx{0, 1, 2};
  const std::vector<float> x{1.0f, std::ldexp(1.0f, -24), std::ldexp(1.0f, -24)};
  EXPECT_EQ(SparseDot(w.data(), idx.data(), x.data(), 3), 1.0f);
}

TEST(CdKernels, AxpyRoundsOnceFromDouble) {
  // float(double(w) + d * double(x)): with w = 1 and d * x = 2^-25 (below half an ulp of 1 in
  // float) the sum rounds back to 1, while 3 * 2^-25 rounds up.
  std::vector<float> w{1.0f, 1.0f};
  const std::vector<Index> idx{0, 1};
  const std::vector<float> x{1.0f, 3.0f};
  SparseAxpy(std::ldexp(1.0, -25), idx.data(), x.data(), 2, w.data());
  EXPECT_EQ(w[0], 1.0f);
  EXPECT_EQ(w[1], std::nextafter(1.0f, 2.0f));
}

TEST(CdKernels, SixteenBitIdsGiveIdenticalResults) {
  std::mt19937 rng(3);
  std::vector<float> w32(65536);
  for (float& v : w32) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  std::vector<float> w16 = w32;
  for (int rep = 0; rep < 50; ++rep) {
    const Row r = RandomRow(&rng, 65536, 1 + rep * 3);
    const std::vector<std::uint16_t> idx16(r.idx.begin(), r.idx.end());
    const Offset nnz = static_cast<Offset>(r.idx.size());
    const float d32 = SparseDot(w32.data(), r.idx.data(), r.val.data(), nnz);
    EXPECT_EQ(SparseDot(w16.data(), idx16.data(), r.val.data(), nnz), d32);
    SparseAxpy(0.37 / (rep + 1), r.idx.data(), r.val.data(), nnz, w32.data());
    SparseAxpy(0.37 / (rep + 1), idx16.data(), r.val.data(), nnz, w16.data());
  }
  EXPECT_EQ(w32, w16);
}

}  // namespace
}  // namespace detail
}  // namespace xmr
