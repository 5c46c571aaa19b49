// Internal layout of an XLinearModel: per level, the weights cut into chunks (one chunk = the
// children of one parent), each chunk a small row-major sparse matrix, as beam search reads it.
//
// Level t, with n_chunks = n_parents(t) chunks and n_nodes(t) columns:
//  * Columns are in "internal order": nodes sorted by (parent id, node id), so the children of
//    parent p are the contiguous columns [chunk_col[p], chunk_col[p+1]). col_node[c] is the node id
//    at internal column c. Chunk ids are parent node ids of level t-1 (0 for level 0).
//  * Chunk p owns the nonzero rows [chunk_row[p], chunk_row[p+1]) of the level: row_feature[r] is
//    the feature id of row r (strictly increasing within a chunk; the bias row, id n_features, is
//    last when present). Chunk p owns the entries [chunk_entry[p], chunk_entry[p+1]) of the level,
//    stored as two parallel arrays: the column within the chunk (entry_col16 when every chunk of
//    the level is at most 65,536 children wide, else entry_col32) and the weight (entry_val).
//    Row r of chunk p owns the entries chunk_entry[p] + row_entry[r + p] .. chunk_entry[p] +
//    row_entry[r + p + 1]: row_entry holds, per chunk, n_rows(p) + 1 offsets relative to the
//    chunk's first entry (32-bit, so a chunk holds at most 2^32 - 1 weights; FromWeights rejects
//    larger chunks), hence n_rows + n_chunks values in all. Columns strictly increase within a row.
//
//  * Chunks with many rows also get a rank directory (RankBlock) that maps a feature id to its
//    row with one cache line, so beam search needs no search there; smaller chunks are searched.
//
// The stored arrays are Spans into a shared Storage (owned vectors, a file buffer or a read-only
// memory map), so a loaded model points into the file image without copying. chunk_col,
// col_node and the rank directories are always owned: they are derived at load time (from the
// tree and the row features), which keeps the file free of redundant, checkable-only data.
//
// Speed notes (debian-deps, 31K labels, 4M weights, 2 cores): beam search is bound by memory
// latency (rank line -> row_entry -> entry_col / entry_val per matched row); grouping queries by
// chunk (see infer/beam_search.h) and the rank directories each gave 15-35%.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xmr/error.h"
#include "xmr/model.h"

namespace xmr {
namespace detail {

/// Read-only view of `size` elements. Never owns memory.
template <typename T>
struct Span {
  const T* data = nullptr;
  std::size_t size = 0;

  const T& operator[](std::size_t i) const { return data[i]; }
  const T* begin() const { return data; }
  const T* end() const { return data + size; }
};

template <typename T>
Span<T> MakeSpan(const std::vector<T>& v) {
  return {v.data(), v.size()};
}

/// Largest chunk width whose columns are stored as 16-bit values.
constexpr Index kMaxNarrowChunkWidth = Index{1} << 16;

/// Keeps the memory behind the Spans alive (vectors, an aligned buffer or an mmap region).
struct Storage {
  virtual ~Storage() = default;
};

/// Rank directory over the row features of one chunk, 384 feature ids per 64-byte block: a
/// query feature is located in its chunk with one cache line and no search. Row of feature f
/// (if bit f % 384 of the block is set): base + sub[w] + popcount of the lower bits of bits[w],
/// with w = (f % 384) / 64.
struct alignas(64) RankBlock {
  std::uint64_t bits[6];
  std::uint32_t base;    ///< rows of the chunk with a feature id below this block's first
  std::uint16_t sub[6];  ///< rows in bits[0..w); sub[0] == 0
};
static_assert(sizeof(RankBlock) == 64, "RankBlock must fill one cache line");
constexpr Index kRankBlockFeatures = 384;

/// The chunked weights of one level.
struct LevelWeights {
  Index n_nodes = 0;
  Index n_chunks = 0;
  Index max_chunk_width = 0;
  std::vector<Index> chunk_col;     ///< n_chunks + 1 (derived from the tree, always owned)
  std::vector<Index> col_node;      ///< n_nodes: internal column -> node id
  Span<Offset> chunk_row;           ///< n_chunks + 1
  Span<Offset> chunk_entry;         ///< n_chunks + 1
  Span<Index> row_feature;          ///< n_rows
  Span<std::uint32_t> row_entry;    ///< n_rows + n_chunks, relative to the chunk's entries
  Span<std::uint16_t> entry_col16;  ///< nnz if narrow_cols(), else empty
  Span<std::uint32_t> entry_col32;  ///< nnz if !narrow_cols(), else empty
  Span<float> entry_val;            ///< nnz
  /// Derived at load time for chunks with many rows: the rank directory of chunk p is
  /// rank[rank_of_chunk[p] ...] (ceil((n_features + 1) / 384) blocks), or rank_of_chunk[p] == -1.
  std::vector<Offset> rank_of_chunk;
  std::vector<RankBlock> rank;

  Offset n_rows() const { return static_cast<Offset>(row_feature.size); }
  Offset nnz() const { return static_cast<Offset>(entry_val.size); }
  Index chunk_width(Index chunk) const { return chunk_col[chunk + 1] - chunk_col[chunk]; }
  /// Whether the entry columns are 16-bit (derived from the tree: max_chunk_width <= 2^16).
  bool narrow_cols() const { return max_chunk_width <= kMaxNarrowChunkWidth; }
  /// Column of entry e (absolute index into the level's entries).
  std::uint32_t entry_col(Offset e) const {
    return narrow_cols() ? entry_col16[e] : entry_col32[e];
  }
};

/// Computes chunk_col / col_node / max_chunk_width of `level` from parents (node id -> parent id,
/// all parents < n_parents). Requires parent ids in range.
void BuildColumnOrder(const std::vector<Index>& parents, Index n_parents, LevelWeights* level);

/// Builds the rank directories of the chunks where it costs at most 8 bytes per row of the
/// chunk (so at most 2/3 of the row index it replaces in searches). Requires a checked level.
void BuildRankIndex(Index n_features, LevelWeights* level);

/// Checks a chain read from a file or given by a caller: depth >= 1, level 0 parents all 0,
/// parent ids in range, every non-leaf node has at least one child, node counts fit Index.
/// @throws Error(code) with `what` prefixed to the message.
void CheckChain(const ClusterChain& chain, ErrorCode code, const std::string& what);

/// Checks meta fields: 0 <= n_features < 2^31 - 1, bias finite, beam_size and top_k >= 1, a known
/// post-processor name. @throws Error(code) naming `what`.
void CheckMeta(const ModelMeta& meta, ErrorCode code, const std::string& what);

/// Checks the index arrays of a level against its chunk layout and n_features (chunk_row and
/// chunk_entry monotone from 0 to n_rows / nnz, each chunk's row_entry monotone from 0 to its
/// entry count, row features strictly increasing per chunk and <= n_features). If `check_entries`,
/// also entry columns (< chunk width, strictly increasing per row) and finite values.
/// @throws Error(code) naming `what`.
void CheckLevel(const LevelWeights& level, Index n_features, bool check_entries, ErrorCode code,
                const std::string& what);

}  // namespace detail

struct XLinearModel::Impl {
  ModelMeta meta;
  ClusterChain chain;
  std::vector<detail::LevelWeights> levels;
  /// True when the entry arrays were not validated (memory-mapped load): inference then checks
  /// every entry's column against the chunk width instead of trusting it.
  bool unchecked_entries = false;
  std::shared_ptr<const detail::Storage> storage;
  /// Named byte strings kept with the model, sorted by name (see XLinearModel::Attachment).
  std::vector<std::pair<std::string, std::string>> attachments;
};

namespace detail {
/// Attachment names: 1 to 128 characters of [A-Za-z0-9._-].
bool ValidAttachmentName(const std::string& name);
constexpr std::uint64_t kMaxAttachmentBytes = std::uint64_t{1} << 32;
}  // namespace detail

/// Wraps an Impl into a model (the constructor is private to XLinearModel).
struct ModelBuilder {
  static XLinearModel Make(std::shared_ptr<const XLinearModel::Impl> impl) {
    return XLinearModel(std::move(impl));
  }
};

}  // namespace xmr
