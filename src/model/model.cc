// XLinearModel: construction from per-level CSC weights into the chunked layout, accessors, and
// the structural checks shared by every way a model enters memory (FromWeights, files, PECOS).
#include "xmr/model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/log.h"       // for StrFormat
#include "core/parallel.h"  // for ParallelFor
#include "model/model_impl.h"
#include "xmr/error.h"
#include "xmr/predict.h"  // for PostProcessor::Parse

namespace xmr {
namespace detail {

void BuildColumnOrder(const std::vector<Index>& parents, Index n_parents, LevelWeights* level) {
  const Index n = static_cast<Index>(parents.size());
  level->n_nodes = n;
  level->n_chunks = n_parents;
  level->chunk_col.assign(static_cast<std::size_t>(n_parents) + 1, 0);
  for (Index j = 0; j < n; ++j) ++level->chunk_col[parents[j] + 1];
  Index widest = 0;
  for (Index p = 0; p < n_parents; ++p) {
    widest = std::max(widest, level->chunk_col[p + 1]);
    level->chunk_col[p + 1] += level->chunk_col[p];
  }
  level->max_chunk_width = widest;
  // Counting sort by parent; nodes of one parent stay in id order.
  std::vector<Index> next(level->chunk_col.begin(), level->chunk_col.end() - 1);
  level->col_node.assign(n, 0);
  for (Index j = 0; j < n; ++j) level->col_node[next[parents[j]]++] = j;
}

void BuildRankIndex(Index n_features, LevelWeights* lv) {
  const Offset blocks = (static_cast<Offset>(n_features) + kRankBlockFeatures) / kRankBlockFeatures;
  const Offset bytes = blocks * static_cast<Offset>(sizeof(RankBlock));
  lv->rank_of_chunk.assign(lv->n_chunks, -1);
  lv->rank.clear();
  Offset n_dirs = 0;
  for (Index p = 0; p < lv->n_chunks; ++p) {
    if ((lv->chunk_row[p + 1] - lv->chunk_row[p]) * 8 >= bytes) ++n_dirs;
  }
  if (n_dirs == 0) return;
  lv->rank.assign(static_cast<std::size_t>(n_dirs * blocks), RankBlock{});
  Offset next = 0;
  for (Index p = 0; p < lv->n_chunks; ++p) {
    const Offset r0 = lv->chunk_row[p], r1 = lv->chunk_row[p + 1];
    if ((r1 - r0) * 8 < bytes) continue;
    lv->rank_of_chunk[p] = next;
    RankBlock* b = lv->rank.data() + next;
    for (Offset r = r0; r < r1; ++r) {
      const Index f = lv->row_feature[r];
      const Index w = f % kRankBlockFeatures;
      b[f / kRankBlockFeatures].bits[w / 64] |= std::uint64_t{1} << (w % 64);
    }
    std::uint32_t rows = 0;
    for (Offset k = 0; k < blocks; ++k) {
      b[k].base = rows;
      std::uint16_t in_block = 0;
      for (int w = 0; w < 6; ++w) {
        b[k].sub[w] = in_block;
        in_block = static_cast<std::uint16_t>(in_block + __builtin_popcountll(b[k].bits[w]));
      }
      rows += in_block;
    }
    next += blocks;
  }
}

void CheckChain(const ClusterChain& chain, ErrorCode code, const std::string& what) {
  XMR_EXPECTS(chain.depth() >= 1, code, what + ": the label tree has no levels");
  for (int t = 0; t < chain.depth(); ++t) {
    const auto& par = chain.parents[t];
    XMR_EXPECTS(par.size() < static_cast<std::size_t>(std::numeric_limits<Index>::max()), code,
                StrFormat("%s: level %d has too many nodes", what.c_str(), t));
    XMR_EXPECTS(!par.empty(), code, StrFormat("%s: level %d has no nodes", what.c_str(), t));
    const Index n_parents = chain.n_parents(t);
    std::vector<char> has_child(n_parents, 0);
    for (std::size_t j = 0; j < par.size(); ++j) {
      XMR_EXPECTS(par[j] >= 0 && par[j] < n_parents, code,
                  StrFormat("%s: level %d node %zu has parent %d, expected [0, %d)", what.c_str(),
                            t, j, par[j], n_parents));
      has_child[par[j]] = 1;
    }
    for (Index p = 0; p < n_parents; ++p) {
      XMR_EXPECTS(has_child[p], code,
                  StrFormat("%s: node %d of level %d has no children in level %d", what.c_str(), p,
                            t - 1, t));
    }
  }
}

void CheckMeta(const ModelMeta& meta, ErrorCode code, const std::string& what) {
  XMR_EXPECTS(meta.n_features >= 0 && meta.n_features < std::numeric_limits<Index>::max(), code,
              StrFormat("%s: n_features %d out of range", what.c_str(), meta.n_features));
  XMR_EXPECTS(std::isfinite(meta.bias), code, what + ": bias is not finite");
  XMR_EXPECTS(meta.beam_size >= 1, code,
              StrFormat("%s: beam_size must be >= 1, got %d", what.c_str(), meta.beam_size));
  XMR_EXPECTS(meta.top_k >= 1, code,
              StrFormat("%s: top_k must be >= 1, got %d", what.c_str(), meta.top_k));
  try {
    PostProcessor::Parse(meta.post_processor);
  } catch (const Error& e) {
    throw Error(code, what + ": " + e.message());
  }
}

void CheckLevel(const LevelWeights& lv, Index n_features, bool check_entries, ErrorCode code,
                const std::string& what) {
  const Offset n_rows = lv.n_rows();
  const Offset nnz = lv.nnz();
  const bool narrow = lv.narrow_cols();
  XMR_EXPECTS(lv.chunk_row.size == static_cast<std::size_t>(lv.n_chunks) + 1 &&
                  lv.chunk_entry.size == static_cast<std::size_t>(lv.n_chunks) + 1 &&
                  lv.row_entry.size ==
                      static_cast<std::size_t>(n_rows) + static_cast<std::size_t>(lv.n_chunks) &&
                  (narrow ? lv.entry_col16.size : lv.entry_col32.size) == lv.entry_val.size &&
                  (narrow ? lv.entry_col32.size : lv.entry_col16.size) == 0,
              code, what + ": array sizes do not match the chunk layout");
  XMR_EXPECTS(lv.chunk_row[0] == 0 && lv.chunk_row[lv.n_chunks] == n_rows, code,
              what + ": chunk row offsets do not span the rows");
  XMR_EXPECTS(lv.chunk_entry[0] == 0 && lv.chunk_entry[lv.n_chunks] == nnz, code,
              what + ": chunk entry offsets do not span the entries");
  for (Index p = 0; p < lv.n_chunks; ++p) {
    const Offset r0 = lv.chunk_row[p], r1 = lv.chunk_row[p + 1];
    XMR_EXPECTS(r0 <= r1 && r1 <= n_rows, code,
                StrFormat("%s: chunk %d row offsets not monotone", what.c_str(), p));
    const Offset c0 = lv.chunk_entry[p], c1 = lv.chunk_entry[p + 1];
    XMR_EXPECTS(c0 <= c1 && c1 <= nnz, code,
                StrFormat("%s: chunk %d entry offsets not monotone", what.c_str(), p));
    const std::uint32_t* re = lv.row_entry.data + r0 + p;  // r1 - r0 + 1 values
    XMR_EXPECTS(
        re[0] == 0 && static_cast<Offset>(re[r1 - r0]) == c1 - c0, code,
        StrFormat("%s: chunk %d row offsets of entries do not span its entries", what.c_str(), p));
    const Index width = lv.chunk_width(p);
    for (Offset r = r0; r < r1; ++r) {
      const Index f = lv.row_feature[r];
      XMR_EXPECTS(f >= 0 && f <= n_features && (r == r0 || lv.row_feature[r - 1] < f), code,
                  StrFormat("%s: chunk %d row %lld has feature %d (not increasing or > %d)",
                            what.c_str(), p, static_cast<long long>(r - r0), f, n_features));
      const Offset e0 = c0 + re[r - r0], e1 = c0 + re[r - r0 + 1];
      XMR_EXPECTS(e0 <= e1 && e1 <= c1, code,
                  StrFormat("%s: chunk %d row offsets of entries not monotone", what.c_str(), p));
      if (!check_entries) continue;
      for (Offset e = e0; e < e1; ++e) {
        const std::uint32_t col = lv.entry_col(e);
        XMR_EXPECTS(
            col < static_cast<std::uint32_t>(width) && (e == e0 || lv.entry_col(e - 1) < col), code,
            StrFormat("%s: chunk %d has entry column %u (width %d, must increase per row)",
                      what.c_str(), p, col, width));
        XMR_EXPECTS(std::isfinite(lv.entry_val[e]), code,
                    StrFormat("%s: chunk %d has a non-finite weight", what.c_str(), p));
      }
    }
  }
}

namespace {

// Buffers of a model built in memory.
struct OwnedLevel {
  std::vector<Offset> chunk_row;
  std::vector<Offset> chunk_entry;
  std::vector<Index> row_feature;
  std::vector<std::uint32_t> row_entry;
  std::vector<std::uint16_t> entry_col16;
  std::vector<std::uint32_t> entry_col32;
  std::vector<float> entry_val;
};
struct OwnedStorage : Storage {
  std::vector<OwnedLevel> levels;
};

void CheckWeights(const CscMatrix& w, Index rows, Index cols, int t) {
  const std::string what = StrFormat("FromWeights: weights[%d]", t);
  XMR_EXPECTS(w.rows == rows && w.cols == cols, ErrorCode::kInvalidArgument,
              StrFormat("%s is %d x %d, expected %d x %d (n_features + 1 rows, one column per "
                        "node of level %d)",
                        what.c_str(), w.rows, w.cols, rows, cols, t));
  XMR_EXPECTS(w.indptr.size() == static_cast<std::size_t>(cols) + 1 && w.indptr[0] == 0,
              ErrorCode::kInvalidArgument, what + ": indptr has the wrong size");
  const Offset nnz = w.indptr[cols];
  XMR_EXPECTS(nnz >= 0 && w.indices.size() == static_cast<std::size_t>(nnz) &&
                  w.data.size() == static_cast<std::size_t>(nnz),
              ErrorCode::kInvalidArgument, what + ": indices/data sizes differ from indptr");
  for (Index j = 0; j < cols; ++j) {
    XMR_EXPECTS(w.indptr[j] <= w.indptr[j + 1], ErrorCode::kInvalidArgument,
                StrFormat("%s: indptr decreases at column %d", what.c_str(), j));
    for (Offset p = w.indptr[j]; p < w.indptr[j + 1]; ++p) {
      XMR_EXPECTS(w.indices[p] >= 0 && w.indices[p] < rows &&
                      (p == w.indptr[j] || w.indices[p - 1] < w.indices[p]),
                  ErrorCode::kInvalidArgument,
                  StrFormat("%s: column %d has row %d (out of range or not increasing)",
                            what.c_str(), j, w.indices[p]));
      XMR_EXPECTS(std::isfinite(w.data[p]), ErrorCode::kInvalidArgument,
                  StrFormat("%s: column %d row %d is not finite", what.c_str(), j, w.indices[p]));
    }
  }
}

// Fills the chunk arrays of one level from CSC weights (node-id column order).
// @throws Error(kInvalidArgument) if a chunk holds 2^32 weights or more (row offsets are 32-bit).
void ChunkLevel(const CscMatrix& w, Index n_features, int t, LevelWeights* lv, OwnedLevel* out) {
  const Index n_chunks = lv->n_chunks;
  out->chunk_row.assign(static_cast<std::size_t>(n_chunks) + 1, 0);
  std::vector<Offset> chunk_nnz(static_cast<std::size_t>(n_chunks) + 1, 0);
  for (Index p = 0; p < n_chunks; ++p) {
    Offset s = 0;
    for (Index c = lv->chunk_col[p]; c < lv->chunk_col[p + 1]; ++c) {
      const Index node = lv->col_node[c];
      s += w.indptr[node + 1] - w.indptr[node];
    }
    XMR_EXPECTS(s <= static_cast<Offset>(std::numeric_limits<std::uint32_t>::max()),
                ErrorCode::kInvalidArgument,
                StrFormat("FromWeights: weights[%d]: the children of node %d hold %lld weights; "
                          "at most 2^32 - 1 per parent are supported",
                          t, p, static_cast<long long>(s)));
    chunk_nnz[p + 1] = chunk_nnz[p] + s;
  }
  const std::size_t nnz = static_cast<std::size_t>(chunk_nnz[n_chunks]);
  const bool narrow = lv->narrow_cols();
  if (narrow) {
    out->entry_col16.resize(nnz);
  } else {
    out->entry_col32.resize(nnz);
  }
  out->entry_val.resize(nnz);

  const int workers = NumWorkers(n_chunks, 0);
  // Pass 1: distinct rows per chunk, with a per-worker stamp array over the features (or, for
  // very wide feature spaces, by sorting the chunk's row ids).
  const bool use_stamps = n_features < (Index{1} << 24);
  std::vector<std::vector<Index>> scratch(workers);
  ParallelFor(n_chunks, 0, [&](std::int64_t p, int wk) {
    auto& st = scratch[wk];
    Offset rows = 0;
    if (use_stamps) {
      if (st.empty()) st.assign(static_cast<std::size_t>(n_features) + 1, -1);
      for (Index c = lv->chunk_col[p]; c < lv->chunk_col[p + 1]; ++c) {
        const Index node = lv->col_node[c];
        for (Offset q = w.indptr[node]; q < w.indptr[node + 1]; ++q) {
          const Index f = w.indices[q];
          if (st[f] != static_cast<Index>(p)) {
            st[f] = static_cast<Index>(p);
            ++rows;
          }
        }
      }
    } else {
      st.clear();
      for (Index c = lv->chunk_col[p]; c < lv->chunk_col[p + 1]; ++c) {
        const Index node = lv->col_node[c];
        st.insert(st.end(), w.indices.begin() + w.indptr[node],
                  w.indices.begin() + w.indptr[node + 1]);
      }
      std::sort(st.begin(), st.end());
      rows = std::unique(st.begin(), st.end()) - st.begin();
    }
    out->chunk_row[p + 1] = rows;
  });
  for (Index p = 0; p < n_chunks; ++p) out->chunk_row[p + 1] += out->chunk_row[p];
  const Offset n_rows = out->chunk_row[n_chunks];
  out->row_feature.resize(static_cast<std::size_t>(n_rows));
  out->row_entry.resize(static_cast<std::size_t>(n_rows) + static_cast<std::size_t>(n_chunks));

  // Pass 2: sort each chunk's entries by (feature, column) and write them.
  struct Triple {
    std::uint64_t key;  // feature << 32 | column in chunk
    float value;
  };
  std::vector<std::vector<Triple>> buf(workers);
  ParallelFor(n_chunks, 0, [&](std::int64_t p, int wk) {
    auto& tr = buf[wk];
    tr.clear();
    const Index c0 = lv->chunk_col[p];
    for (Index c = c0; c < lv->chunk_col[p + 1]; ++c) {
      const Index node = lv->col_node[c];
      for (Offset q = w.indptr[node]; q < w.indptr[node + 1]; ++q) {
        tr.push_back(
            {(static_cast<std::uint64_t>(w.indices[q]) << 32) | static_cast<std::uint32_t>(c - c0),
             w.data[q]});
      }
    }
    std::sort(tr.begin(), tr.end(), [](const Triple& a, const Triple& b) { return a.key < b.key; });
    const Offset e0 = chunk_nnz[p];
    Offset r = out->chunk_row[p];
    std::uint32_t* re = out->row_entry.data() + p;  // row r's offset at re[r]
    for (std::size_t i = 0; i < tr.size(); ++i) {
      const Index f = static_cast<Index>(tr[i].key >> 32);
      if (i == 0 || f != static_cast<Index>(tr[i - 1].key >> 32)) {
        out->row_feature[r] = f;
        re[r] = static_cast<std::uint32_t>(i);
        ++r;
      }
      const std::uint32_t col = static_cast<std::uint32_t>(tr[i].key & 0xffffffffu);
      const std::size_t e = static_cast<std::size_t>(e0) + i;
      if (narrow) {
        out->entry_col16[e] = static_cast<std::uint16_t>(col);
      } else {
        out->entry_col32[e] = col;
      }
      out->entry_val[e] = tr[i].value;
    }
    re[r] = static_cast<std::uint32_t>(tr.size());  // r == chunk_row[p + 1]
  });
  out->chunk_entry = std::move(chunk_nnz);
  lv->chunk_row = MakeSpan(out->chunk_row);
  lv->chunk_entry = MakeSpan(out->chunk_entry);
  lv->row_feature = MakeSpan(out->row_feature);
  lv->row_entry = MakeSpan(out->row_entry);
  lv->entry_col16 = MakeSpan(out->entry_col16);
  lv->entry_col32 = MakeSpan(out->entry_col32);
  lv->entry_val = MakeSpan(out->entry_val);
}

}  // namespace
}  // namespace detail

namespace {
// Shared by all empty models.
std::shared_ptr<const XLinearModel::Impl> EmptyImpl() {
  static const std::shared_ptr<const XLinearModel::Impl> empty =
      std::make_shared<XLinearModel::Impl>();
  return empty;
}
}  // namespace

XLinearModel::XLinearModel() : impl_(EmptyImpl()) {}
XLinearModel::~XLinearModel() = default;
XLinearModel::XLinearModel(const XLinearModel&) = default;
XLinearModel& XLinearModel::operator=(const XLinearModel&) = default;
// A moved-from model becomes empty rather than null, so every accessor stays valid.
XLinearModel::XLinearModel(XLinearModel&& other) noexcept : impl_(std::move(other.impl_)) {
  other.impl_ = EmptyImpl();
}
XLinearModel& XLinearModel::operator=(XLinearModel&& other) noexcept {
  if (this != &other) {
    impl_ = std::move(other.impl_);
    other.impl_ = EmptyImpl();
  }
  return *this;
}
XLinearModel::XLinearModel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

XLinearModel XLinearModel::FromWeights(const ClusterChain& chain,
                                       const std::vector<CscMatrix>& weights,
                                       const ModelMeta& meta) {
  detail::CheckMeta(meta, ErrorCode::kInvalidArgument, "FromWeights: meta");
  detail::CheckChain(chain, ErrorCode::kInvalidArgument, "FromWeights: chain");
  XMR_EXPECTS(static_cast<int>(weights.size()) == chain.depth(), ErrorCode::kInvalidArgument,
              StrFormat("FromWeights: %zu weight matrices for a tree of depth %d", weights.size(),
                        chain.depth()));
  for (int t = 0; t < chain.depth(); ++t) {
    detail::CheckWeights(weights[t], meta.n_features + 1, chain.n_nodes(t), t);
  }
  auto impl = std::make_shared<Impl>();
  auto storage = std::make_shared<detail::OwnedStorage>();
  impl->meta = meta;
  impl->chain = chain;
  impl->levels.resize(chain.depth());
  storage->levels.resize(chain.depth());
  for (int t = 0; t < chain.depth(); ++t) {
    detail::BuildColumnOrder(chain.parents[t], chain.n_parents(t), &impl->levels[t]);
    detail::ChunkLevel(weights[t], meta.n_features, t, &impl->levels[t], &storage->levels[t]);
    detail::BuildRankIndex(meta.n_features, &impl->levels[t]);
  }
  impl->storage = std::move(storage);
  return XLinearModel(std::move(impl));
}

bool XLinearModel::empty() const { return impl_->levels.empty(); }
int XLinearModel::depth() const { return static_cast<int>(impl_->levels.size()); }
Index XLinearModel::n_features() const { return impl_->meta.n_features; }
Index XLinearModel::n_labels() const {
  return impl_->levels.empty() ? 0 : impl_->levels.back().n_nodes;
}
Index XLinearModel::n_nodes(int level) const {
  XMR_EXPECTS(level >= 0 && level < depth(), ErrorCode::kInvalidArgument,
              StrFormat("level %d out of range [0, %d)", level, depth()));
  return impl_->levels[level].n_nodes;
}
const ModelMeta& XLinearModel::meta() const { return impl_->meta; }
Offset XLinearModel::nnz() const {
  Offset s = 0;
  for (const auto& lv : impl_->levels) s += lv.nnz();
  return s;
}
ClusterChain XLinearModel::chain() const { return impl_->chain; }

CscMatrix XLinearModel::Weights(int level) const {
  XMR_EXPECTS(level >= 0 && level < depth(), ErrorCode::kInvalidArgument,
              StrFormat("level %d out of range [0, %d)", level, depth()));
  const detail::LevelWeights& lv = impl_->levels[level];
  CscMatrix w;
  w.rows = impl_->meta.n_features + 1;
  w.cols = lv.n_nodes;
  w.indptr.assign(static_cast<std::size_t>(lv.n_nodes) + 1, 0);
  // Count per node, then fill: rows of a chunk come in increasing feature order, so every
  // column's row ids come out sorted.
  for (Index p = 0; p < lv.n_chunks; ++p) {
    const Index c0 = lv.chunk_col[p];
    const Index width = lv.chunk_width(p);
    for (Offset e = lv.chunk_entry[p]; e < lv.chunk_entry[p + 1]; ++e) {
      const std::uint32_t col = lv.entry_col(e);
      XMR_EXPECTS(
          col < static_cast<std::uint32_t>(width), ErrorCode::kCorruption,
          StrFormat("model level %d: entry column %u out of chunk width %d", level, col, width));
      ++w.indptr[lv.col_node[c0 + col] + 1];
    }
  }
  for (Index j = 0; j < lv.n_nodes; ++j) w.indptr[j + 1] += w.indptr[j];
  w.indices.resize(static_cast<std::size_t>(w.indptr.back()));
  w.data.resize(w.indices.size());
  std::vector<Offset> next(w.indptr.begin(), w.indptr.end() - 1);
  for (Index p = 0; p < lv.n_chunks; ++p) {
    const Index c0 = lv.chunk_col[p];
    const Offset base = lv.chunk_entry[p];
    for (Offset r = lv.chunk_row[p]; r < lv.chunk_row[p + 1]; ++r) {
      for (Offset e = base + lv.row_entry[r + p]; e < base + lv.row_entry[r + p + 1]; ++e) {
        const Offset pos = next[lv.col_node[c0 + lv.entry_col(e)]]++;
        w.indices[pos] = lv.row_feature[r];
        w.data[pos] = lv.entry_val[e];
      }
    }
  }
  if (impl_->unchecked_entries) {
    // Entries of a memory-mapped model were not validated at load time.
    for (Index j = 0; j < w.cols; ++j) {
      for (Offset q = w.indptr[j]; q < w.indptr[j + 1]; ++q) {
        XMR_EXPECTS(
            (q == w.indptr[j] || w.indices[q - 1] < w.indices[q]) && std::isfinite(w.data[q]),
            ErrorCode::kCorruption,
            StrFormat("model level %d: damaged weights of node %d", level, j));
      }
    }
  }
  return w;
}

namespace detail {
bool ValidAttachmentName(const std::string& name) {
  if (name.empty() || name.size() > 128) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
}  // namespace detail

const std::string* XLinearModel::Attachment(const std::string& name) const {
  for (const auto& a : impl_->attachments) {
    if (a.first == name) return &a.second;
  }
  return nullptr;
}

std::vector<std::string> XLinearModel::AttachmentNames() const {
  std::vector<std::string> names;
  for (const auto& a : impl_->attachments) names.push_back(a.first);
  return names;
}

XLinearModel XLinearModel::WithAttachment(const std::string& name, std::string data) const {
  XMR_EXPECTS(!empty(), ErrorCode::kInvalidArgument, "WithAttachment: the model is empty");
  XMR_EXPECTS(detail::ValidAttachmentName(name), ErrorCode::kInvalidArgument,
              "WithAttachment: bad attachment name '" + name +
                  "' (expected 1 to 128 characters of A-Z a-z 0-9 . _ -)");
  XMR_EXPECTS(data.size() <= detail::kMaxAttachmentBytes, ErrorCode::kInvalidArgument,
              StrFormat("WithAttachment: '%s' has %zu bytes, more than 4 GiB", name.c_str(),
                        data.size()));
  auto copy = std::make_shared<Impl>(*impl_);
  auto& list = copy->attachments;
  auto it = std::lower_bound(
      list.begin(), list.end(), name,
      [](const std::pair<std::string, std::string>& a, const std::string& n) { return a.first < n; });
  if (it != list.end() && it->first == name) {
    it->second = std::move(data);
  } else {
    list.insert(it, {name, std::move(data)});
  }
  return XLinearModel(std::move(copy));
}

}  // namespace xmr
