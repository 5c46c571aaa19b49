// The trained XR-Linear model: label tree + per-level pruned weights, in the chunked per-parent
// layout that beam search reads, plus the file formats it is stored in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {

/// Settings stored with a model.
struct ModelMeta {
  /// Feature dimension d of the inputs (the weight rows are d + 1: the last is the bias row).
  Index n_features = 0;
  /// Constant appended to every input as feature d. As in PECOS, a value <= 0 means no bias
  /// term: the bias row of the weights is then ignored.
  float bias = 1.0f;
  /// Default post-processor name (see PostProcessor::Parse).
  std::string post_processor = "l3-hinge";
  /// Default beam size and top-k used when PredictOptions are not given by the caller.
  int beam_size = 10;
  int top_k = 10;
  /// The training options as "key=value" lines (written by Train(); informational).
  std::string train_options;
};

/// How LoadModel brings a model file into memory.
enum class LoadMode {
  kRead,  ///< read the whole file into memory, verify every checksum
  kMmap,  ///< map the file read-only; pages load on demand. Structure is validated, weight
          ///< checksums are not (that would touch every page); use for models near RAM size.
          ///< A damaged weight array cannot crash prediction (entries are range-checked as they
          ///< are read) but may give wrong scores; Weights() and SaveModel() check it fully.
};

/// An immutable XR-Linear model. Copies are cheap (shared storage); all const methods are
/// thread-safe, so one model may serve many threads. A moved-from model is empty.
///
/// In memory each level keeps its weights in PECOS's chunked layout: the nodes of a level are
/// reordered so that the children of each parent are contiguous, and each such chunk is a small
/// row-major sparse matrix (sorted nonzero feature rows, bias row last, each row a run of
/// (column in chunk, weight)). Chunks with many rows also get a derived rank directory
/// (64 bytes per 384 features) that locates a query's features without searching. Node ids
/// (and label ids) are those of the chain given to FromWeights; see src/model/model_impl.h.
class XLinearModel {
 public:
  XLinearModel();  ///< an empty model (depth 0); only assignable
  ~XLinearModel();
  XLinearModel(const XLinearModel&);
  XLinearModel& operator=(const XLinearModel&);
  XLinearModel(XLinearModel&&) noexcept;
  XLinearModel& operator=(XLinearModel&&) noexcept;

  /// Builds a model from per-level weights. weights[t] is CSC (meta.n_features + 1) x
  /// chain.n_nodes(t), columns in node-id order of level t; row n_features is the bias weight.
  /// Weights are copied into the chunked layout (children of one parent = one chunk); explicit
  /// zeros are kept. Uses all cores.
  /// @throws Error(kInvalidArgument) on any shape mismatch, unsorted or out-of-range row ids,
  /// non-finite weights, an invalid chain (parent out of range, childless non-leaf node, level 0
  /// not all under the root) or invalid meta (beam_size/top_k < 1, unknown post-processor).
  static XLinearModel FromWeights(const ClusterChain& chain, const std::vector<CscMatrix>& weights,
                                  const ModelMeta& meta);

  bool empty() const;
  int depth() const;
  Index n_features() const;
  Index n_labels() const;
  /// Nodes at level t (0 <= t < depth()); the last level's nodes are the labels.
  /// @throws Error(kInvalidArgument) if level is out of range (also for Weights).
  Index n_nodes(int level) const;
  const ModelMeta& meta() const;
  /// Stored weights (bias entries included), all levels.
  Offset nnz() const;
  /// The label tree (node ids as given to FromWeights / in the file).
  ClusterChain chain() const;
  /// Weights of one level as CSC (n_features + 1) x n_nodes(level), node-id order, row ids
  /// sorted. Equal to what FromWeights was given. @throws Error(kCorruption) for a damaged
  /// memory-mapped file.
  CscMatrix Weights(int level) const;

  /// Attachments: named byte strings stored in the model file with the weights, e.g. the
  /// fitted text vectorizer and label names of a model trained from text (see
  /// xmr/text_model.h, which uses the names "xmr.vectorizer" and "xmr.label_names").
  /// A name is 1 to 128 characters of [A-Za-z0-9._-]; data is up to 4 GiB, any bytes.
  /// The attachment `name`, or nullptr if the model has none of that name. The pointer is
  /// valid as long as this model (or a copy of it) lives.
  const std::string* Attachment(const std::string& name) const;
  /// Names of all attachments, sorted.
  std::vector<std::string> AttachmentNames() const;
  /// A copy of this model with `data` stored under `name` (replacing an attachment of that
  /// name). The weights are shared, not copied; small derived indexes are.
  /// @throws Error(kInvalidArgument) for an empty model, a bad name or data over 4 GiB.
  XLinearModel WithAttachment(const std::string& name, std::string data) const;

  /// Implementation (internal; see src/model/model_impl.h).
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit XLinearModel(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
  friend XLinearModel LoadModel(const std::string&, LoadMode);
  friend XLinearModel ImportPecos(const std::string&);
  friend struct ModelBuilder;
};

/// Saves to xmr's single-file format: magic "XMRMODEL", format version, endianness mark, then
/// sections (meta, tree, one per level, one per attachment) each with its size and CRC-32; every byte of the file is
/// under a checksum and every array is 64-byte aligned (the layout is documented in
/// src/model/model_file.cc). Written to a temporary file and renamed over `path`, so a crash
/// never leaves a half-written model.
/// @throws Error(kIoError) if the location is not writable or the disk is full (any previous
/// file at `path` is left intact); Error(kInvalidArgument) for an empty model;
/// Error(kCorruption) if a memory-mapped model's weights turn out to be damaged.
void SaveModel(const XLinearModel& model, const std::string& path);

/// Loads a file written by SaveModel. kRead reads the file into one aligned buffer and points
/// the model into it (no further copy); kMmap maps it (see LoadMode).
/// @throws Error(kIoError) if unreadable; Error(kCorruption) if truncated, of an unknown
/// version, or any checksum / structural check fails (the message names the section);
/// Error(kOutOfMemory) if, for kRead, the file is larger than the available memory (message
/// says how many bytes it needs).
XLinearModel LoadModel(const std::string& path, LoadMode mode = LoadMode::kRead);

/// Writes PECOS's XR-Linear model folder (param.json, ranker/param.json,
/// ranker/<t>.model/{param.json,W.npz,C.npz}; uncompressed npz as PECOS writes them), so PECOS
/// can load and serve the model. Creates `dir` if needed; existing files are replaced. W.npz
/// has the bias row last when meta.bias > 0 and only the d feature rows otherwise (as PECOS);
/// only_topk is the beam size for all levels but the last, whose only_topk is top_k.
/// @throws Error(kIoError) if a directory or file cannot be written.
void ExportPecos(const XLinearModel& model, const std::string& dir);

/// Reads a PECOS XR-Linear model folder (as written by PECOS or ExportPecos); `dir` may also be
/// its ranker/ folder. 0.model may lack C.npz (all nodes under the root, as PECOS allows).
/// Beam size = level 0's only_topk (depth > 1), top_k = last level's only_topk.
/// @throws Error(kIoError / kCorruption) naming the file and what was wrong (missing files, bad
/// JSON, W/C shapes that disagree across levels, a node with zero or several parents);
/// Error(kNotSupported) if levels differ in bias or post-processor (xmr keeps one per model).
XLinearModel ImportPecos(const std::string& dir);

}  // namespace xmr
