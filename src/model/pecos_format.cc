// PECOS XR-Linear model folders (xr-linear.md section 6):
//   <dir>/param.json                      XLinearModel meta
//   <dir>/ranker/param.json               HierarchicalMLModel: depth, nr_features, nr_codes,
//                                         nr_labels
//   <dir>/ranker/<t>.model/param.json     MLModel: nr_labels, nr_features, nr_codes, bias,
//                                         pred_kwargs {only_topk, post_processor}
//   <dir>/ranker/<t>.model/W.npz          CSC (D [+1 bias row]) x L_t, float32
//   <dir>/ranker/<t>.model/C.npz          CSC L_t x K_t, one nonzero per row (child -> parent)
// PECOS keeps a bias row in W only when bias > 0, and every level has its own bias,
// only_topk (beam size above the last level, top-k at it) and post-processor.
#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/log.h"        // for StrFormat
#include "io/atomic_file.h"  // for WriteFileAtomic
#include "model/json.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/model.h"

namespace xmr {
namespace {

using detail::json::Value;

constexpr const char* kXLinearClass = "pecos.xmc.xlinear.model###XLinearModel";
constexpr const char* kHierarchicalClass = "pecos.xmc.base###HierarchicalMLModel";
constexpr const char* kMLModelClass = "pecos.xmc.base###MLModel";
constexpr const char* kPredParamsClass = "pecos.xmc.base###MLModel.PredParams";

Value Meta(const char* class_name) {
  Value m = Value::Object();
  m.Set("class_fullname", Value::String(class_name));
  return m;
}

void MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0777) == 0 || errno == EEXIST) {
    struct stat st;
    XMR_EXPECTS(stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode), ErrorCode::kIoError,
                dir + ": exists and is not a directory");
    return;
  }
  throw Error(ErrorCode::kIoError, dir + ": cannot create directory: " + std::strerror(errno));
}

// mkdir -p
void MakeDirs(const std::string& dir) {
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      const std::string prefix = dir.substr(0, i);
      if (!prefix.empty() && prefix != "/" && prefix != "." && prefix != "..") MakeDir(prefix);
    }
  }
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Value ReadJson(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  XMR_EXPECTS(in.good(), ErrorCode::kIoError, path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  XMR_EXPECTS(!in.bad(), ErrorCode::kIoError, path + ": read failed");
  Value v = detail::json::Parse(ss.str(), path);
  XMR_EXPECTS(v.is_object(), ErrorCode::kCorruption, path + ": not a JSON object");
  return v;
}

// An integer member in [lo, hi]; `required` or the default.
std::int64_t GetInt(const Value& obj, const char* key, const std::string& path, bool required,
                    std::int64_t def, std::int64_t lo, std::int64_t hi) {
  const Value* v = obj.Find(key);
  if (v == nullptr || v->is_null()) {
    XMR_EXPECTS(!required, ErrorCode::kCorruption, path + ": missing \"" + key + "\"");
    return def;
  }
  // Range first: converting a double beyond the int64 range (1e300) is undefined behaviour.
  const double d = v->is_number() ? v->number() : 0.5;
  XMR_EXPECTS(d == std::trunc(d), ErrorCode::kCorruption,
              path + ": \"" + key + "\" is not an integer");
  XMR_EXPECTS(d >= static_cast<double>(lo) && d <= static_cast<double>(hi), ErrorCode::kCorruption,
              StrFormat("%s: \"%s\" = %s out of range [%lld, %lld]", path.c_str(), key,
                        v->str().c_str(), static_cast<long long>(lo), static_cast<long long>(hi)));
  return static_cast<std::int64_t>(d);
}

struct LevelParams {
  float bias = 1.0f;
  int only_topk = 20;
  std::string post_processor = "l3-hinge";
  std::int64_t nr_features = -1;  // -1: absent
};

LevelParams ReadLevelParams(const std::string& path) {
  const Value p = ReadJson(path);
  if (const Value* m = p.Find("model")) {
    XMR_EXPECTS(m->is_string() && m->str() == "MLModel", ErrorCode::kCorruption,
                path + ": \"model\" is not \"MLModel\"");
  }
  LevelParams lp;
  const Value* bias = p.Find("bias");
  XMR_EXPECTS(bias != nullptr && bias->is_number(), ErrorCode::kCorruption,
              path + ": missing or non-numeric \"bias\"");
  lp.bias = static_cast<float>(bias->number());
  lp.nr_features = GetInt(p, "nr_features", path, false, -1, 0, (1ll << 31) - 2);
  if (const Value* kw = p.Find("pred_kwargs")) {
    if (kw->is_object()) {
      lp.only_topk = static_cast<int>(GetInt(*kw, "only_topk", path, false, 20, 1, 1 << 30));
      if (const Value* pp = kw->Find("post_processor")) {
        if (pp->is_string()) {
          lp.post_processor = pp->str();
        } else if (pp->type() == Value::Type::kBool) {
          // PECOS maps the legacy booleans True/False to l3-hinge/noop.
          lp.post_processor = pp->bool_value() ? "l3-hinge" : "noop";
        } else if (pp->is_null()) {
          lp.post_processor = "noop";
        } else {
          throw Error(ErrorCode::kCorruption, path + ": bad \"post_processor\"");
        }
      }
    }
  }
  return lp;
}

}  // namespace

void ExportPecos(const XLinearModel& model, const std::string& dir) {
  XMR_EXPECTS(!model.empty(), ErrorCode::kInvalidArgument, "ExportPecos: the model is empty");
  const ModelMeta& meta = model.meta();
  const int depth = model.depth();
  const bool bias_row = meta.bias > 0.0f;
  const ClusterChain chain = model.chain();
  const std::string ranker = dir + "/ranker";
  MakeDirs(ranker);

  Value root = Value::Object();
  root.Set("__meta__", Meta(kXLinearClass));
  detail::WriteFileAtomic(dir + "/param.json", detail::json::Write(root));

  Value hier = Value::Object();
  hier.Set("__meta__", Meta(kHierarchicalClass));
  hier.Set("model", Value::String("HierarchicalMLModel"));
  hier.Set("depth", Value::Int(depth));
  hier.Set("nr_features", Value::Int(meta.n_features));
  hier.Set("nr_codes", Value::Int(chain.n_parents(depth - 1)));
  hier.Set("nr_labels", Value::Int(model.n_labels()));
  detail::WriteFileAtomic(ranker + "/param.json", detail::json::Write(hier));

  for (int t = 0; t < depth; ++t) {
    const std::string level_dir = ranker + "/" + std::to_string(t) + ".model";
    MakeDir(level_dir);
    const Index n_nodes = model.n_nodes(t);
    const Index n_parents = chain.n_parents(t);
    Value kw = Value::Object();
    kw.Set("__meta__", Meta(kPredParamsClass));
    kw.Set("only_topk", Value::Int(t == depth - 1 ? meta.top_k : meta.beam_size));
    kw.Set("post_processor", Value::String(meta.post_processor));
    Value p = Value::Object();
    p.Set("__meta__", Meta(kMLModelClass));
    p.Set("model", Value::String("MLModel"));
    p.Set("nr_labels", Value::Int(n_nodes));
    p.Set("nr_features", Value::Int(meta.n_features));
    p.Set("nr_codes", Value::Int(n_parents));
    p.Set("bias", Value::Float(meta.bias));
    p.Set("pred_kwargs", kw);
    detail::WriteFileAtomic(level_dir + "/param.json", detail::json::Write(p));

    CscMatrix w = model.Weights(t);
    if (!bias_row) {
      // No bias term: PECOS's W has exactly D rows.
      CscMatrix d;
      d.rows = meta.n_features;
      d.cols = w.cols;
      d.indptr.assign(static_cast<std::size_t>(w.cols) + 1, 0);
      for (Index j = 0; j < w.cols; ++j) {
        for (Offset q = w.indptr[j]; q < w.indptr[j + 1]; ++q) {
          if (w.indices[q] == meta.n_features) continue;
          d.indices.push_back(w.indices[q]);
          d.data.push_back(w.data[q]);
        }
        d.indptr[j + 1] = static_cast<Offset>(d.indices.size());
      }
      w = std::move(d);
    }
    WriteNpz(level_dir + "/W.npz", w.view());

    CscMatrix c;
    c.rows = n_nodes;
    c.cols = n_parents;
    c.indptr.assign(static_cast<std::size_t>(n_parents) + 1, 0);
    for (Index j = 0; j < n_nodes; ++j) ++c.indptr[chain.parents[t][j] + 1];
    for (Index k = 0; k < n_parents; ++k) c.indptr[k + 1] += c.indptr[k];
    c.indices.resize(static_cast<std::size_t>(n_nodes));
    c.data.assign(static_cast<std::size_t>(n_nodes), 1.0f);
    std::vector<Offset> next(c.indptr.begin(), c.indptr.end() - 1);
    for (Index j = 0; j < n_nodes; ++j) c.indices[next[chain.parents[t][j]]++] = j;
    WriteNpz(level_dir + "/C.npz", c.view());
  }
}

XLinearModel ImportPecos(const std::string& dir) {
  // Accept the XLinearModel folder (with ranker/) or the ranker folder itself.
  std::string ranker = dir + "/ranker";
  if (!IsFile(ranker + "/param.json")) {
    XMR_EXPECTS(IsFile(dir + "/param.json"), ErrorCode::kIoError,
                dir + ": not a PECOS model folder (no ranker/param.json or param.json)");
    ranker = dir;
  }
  const std::string hier_path = ranker + "/param.json";
  const Value hier = ReadJson(hier_path);
  const Value* model_name = hier.Find("model");
  XMR_EXPECTS(model_name != nullptr && model_name->is_string() &&
                  model_name->str() == "HierarchicalMLModel",
              ErrorCode::kCorruption,
              hier_path + ": \"model\" is not \"HierarchicalMLModel\" (not an XR-Linear ranker)");
  int depth = static_cast<int>(GetInt(hier, "depth", hier_path, false, 0, 1, 1000));
  if (depth == 0) {  // absent: count the level folders, as PECOS's Python loader does
    while (IsFile(ranker + "/" + std::to_string(depth) + ".model/param.json")) ++depth;
    XMR_EXPECTS(depth > 0, ErrorCode::kCorruption, hier_path + ": no \"depth\" and no levels");
  }

  ModelMeta meta;
  ClusterChain chain;
  chain.parents.resize(depth);
  std::vector<CscMatrix> weights(depth);
  Index n_features = -1;
  for (int t = 0; t < depth; ++t) {
    const std::string level_dir = ranker + "/" + std::to_string(t) + ".model";
    const std::string param_path = level_dir + "/param.json";
    const LevelParams lp = ReadLevelParams(param_path);
    if (t == 0) {
      meta.bias = lp.bias;
      meta.post_processor = lp.post_processor;
    } else {
      XMR_EXPECTS(lp.bias == meta.bias, ErrorCode::kNotSupported,
                  StrFormat("%s: bias %g differs from level 0's %g (xmr keeps one bias per "
                            "model)",
                            param_path.c_str(), lp.bias, meta.bias));
      XMR_EXPECTS(lp.post_processor == meta.post_processor, ErrorCode::kNotSupported,
                  param_path + ": post_processor '" + lp.post_processor +
                      "' differs from level 0's '" + meta.post_processor +
                      "' (xmr keeps one per model)");
    }
    if (t == 0 && depth > 1) meta.beam_size = lp.only_topk;
    if (t == depth - 1) meta.top_k = lp.only_topk;

    const std::string w_path = level_dir + "/W.npz";
    CscMatrix w = ReadNpzCsc(w_path);
    const bool bias_row = lp.bias > 0.0f;
    const Index d = w.rows - (bias_row ? 1 : 0);
    // Without a bias row, xmr adds one below: 2^31 - 1 feature rows would overflow the count.
    XMR_EXPECTS(d < std::numeric_limits<Index>::max(), ErrorCode::kCorruption,
                StrFormat("%s: %d feature rows, more than the 2^31 - 2 features xmr supports",
                          w_path.c_str(), d));
    if (n_features < 0) n_features = lp.nr_features >= 0 ? static_cast<Index>(lp.nr_features) : d;
    XMR_EXPECTS(d == n_features && d >= 0, ErrorCode::kCorruption,
                StrFormat("%s: %d rows, expected %d features%s", w_path.c_str(), w.rows, n_features,
                          bias_row ? " + 1 bias row" : ""));
    const Index expect_parents = t == 0 ? 1 : weights[t - 1].cols;

    const std::string c_path = level_dir + "/C.npz";
    std::vector<Index>& par = chain.parents[t];
    if (t == 0 && !IsFile(c_path)) {
      par.assign(static_cast<std::size_t>(w.cols), 0);  // PECOS fills a missing root C with ones
    } else {
      const CscMatrix c = ReadNpzCsc(c_path);
      XMR_EXPECTS(c.rows == w.cols && c.cols == expect_parents, ErrorCode::kCorruption,
                  StrFormat("%s: shape %d x %d, expected %d x %d (nodes of level %d x nodes of "
                            "level %d)",
                            c_path.c_str(), c.rows, c.cols, w.cols, expect_parents, t, t - 1));
      par.assign(static_cast<std::size_t>(c.rows), -1);
      for (Index k = 0; k < c.cols; ++k) {
        for (Offset q = c.indptr[k]; q < c.indptr[k + 1]; ++q) {
          const Index j = c.indices[q];
          XMR_EXPECTS(par[j] < 0, ErrorCode::kCorruption,
                      StrFormat("%s: node %d has more than one parent", c_path.c_str(), j));
          par[j] = k;
        }
      }
      for (Index j = 0; j < c.rows; ++j) {
        XMR_EXPECTS(par[j] >= 0, ErrorCode::kCorruption,
                    StrFormat("%s: node %d has no parent (pruned trees are not supported)",
                              c_path.c_str(), j));
      }
    }
    if (!bias_row) w.rows += 1;  // xmr always has the (here empty) bias row
    weights[t] = std::move(w);
  }
  if (const Value* nl = hier.Find("nr_labels")) {
    XMR_EXPECTS(nl->is_number() && nl->number() == weights.back().cols, ErrorCode::kCorruption,
                StrFormat("%s: nr_labels disagrees with %d.model/W.npz (%d columns)",
                          hier_path.c_str(), depth - 1, weights.back().cols));
  }
  meta.n_features = n_features;
  try {
    return XLinearModel::FromWeights(chain, weights, meta);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;
    throw Error(ErrorCode::kCorruption, ranker + ": " + e.message());
  }
}

}  // namespace xmr
