// Sparse kernels of the dual CD solvers: w . x_i and w += d * x_i over one sparse row, with the
// rounding PECOS uses (float accumulation in index order; double product and sum stored back
// in float). Rows index w with 32-bit ids or, in compact blocks of at most 65536 features,
// 16-bit ids (a quarter less memory traffic on blocks that do not fit the cache); both give
// bit-identical results.
#pragma once

#include <cstdint>

#include "xmr/sparse.h"

namespace xmr {
namespace detail {

/// w . x accumulated in float, in index order (the order fixes the rounding: not reassociated).
template <typename IndexT>
inline float SparseDot(const float* w, const IndexT* idx, const float* val, Offset nnz) {
  float s = 0.0f;
  for (Offset k = 0; k < nnz; ++k) s += w[idx[k]] * val[k];
  return s;
}

/// w[idx[k]] = float(double(w[idx[k]]) + d * double(val[k])) for every k.
template <typename IndexT>
inline void SparseAxpy(double d, const IndexT* idx, const float* val, Offset nnz, float* w) {
  for (Offset k = 0; k < nnz; ++k) {
    float& wj = w[idx[k]];
    wj = static_cast<float>(static_cast<double>(wj) + d * static_cast<double>(val[k]));
  }
}

}  // namespace detail
}  // namespace xmr
