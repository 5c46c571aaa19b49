// The PECOS model folder fuzz_pecos starts from (and make_seeds.cc writes seeds from): a tiny
// depth-2 XR-Linear model exported with ExportPecos, and the list of its files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "xmr/indexer.h"
#include "xmr/model.h"
#include "xmr/sparse.h"

namespace xmr_fuzz {

/// Files of an exported PECOS folder; an input's selector picks one of them by index.
inline const char* const kPecosFiles[] = {
    "param.json",           "ranker/param.json",    "ranker/0.model/param.json",
    "ranker/0.model/W.npz", "ranker/0.model/C.npz", "ranker/1.model/param.json",
    "ranker/1.model/W.npz", "ranker/1.model/C.npz",
};
constexpr int kNumPecosFiles = 8;

/// Separates the file edits of one fuzz_pecos input.
inline constexpr std::string_view kEditSeparator = "\n#XMRFILE#\n";

/// 6 features (+ bias row); level 0: 2 nodes under the root; level 1: 5 labels.
inline xmr::XLinearModel PecosTemplateModel(float bias = 1.0f) {
  xmr::ClusterChain chain;
  chain.parents = {{0, 0}, {0, 1, 0, 1, 1}};
  xmr::CscMatrix w0{7, 2, {0, 3, 5}, {0, 2, 6, 1, 6}, {0.5f, -1.0f, 0.25f, 2.0f, -0.125f}};
  xmr::CscMatrix w1{7,
                    5,
                    {0, 2, 3, 5, 6, 8},
                    {1, 6, 3, 0, 5, 6, 2, 4},
                    {1.0f, 0.5f, -0.75f, 0.125f, 1.5f, -0.5f, 0.375f, 0.0625f}};
  xmr::ModelMeta meta;
  meta.n_features = 6;
  meta.bias = bias;
  meta.beam_size = 2;
  meta.top_k = 3;
  meta.post_processor = "l3-hinge";
  return xmr::XLinearModel::FromWeights(chain, {w0, w1}, meta);
}

}  // namespace xmr_fuzz
