// Reading and writing sparse data in the formats XMC users already have.
//
// Every reader accepts plain, gzip (.gz) and xz (.xz) files; compression is detected from the
// file's magic bytes, not its name. Errors name the file, the 1-based line (for text formats) or
// the zip entry / byte offset (for binary formats), the field, and what was expected, e.g.
//   "bibtex_train.txt:17: feature index 1836 >= declared dimension 1836 (field 4)".
// All readers throw Error(kIoError) when a file cannot be opened or read and Error(kCorruption)
// on malformed content: bad number, NaN/Inf, index past the declared dimension, unsorted or
// duplicate indices, wrong row count, truncated file.
// Writers write to "<path>.tmp.<pid>" and rename over `path`, so a crash never leaves a partial
// file; they throw Error(kIoError) when the location is not writable or the disk is full, and
// Error(kInvalidArgument) when the matrix passed is not valid (index out of range, NaN/Inf, ...).
// Devices and FIFOs are written in place; "/dev/stdout" and "/dev/stderr" (also "/dev/fd/N")
// write to the process's own descriptor at its current position, in order with other output.
// All functions are reentrant; none keeps global state. Text readers parse on all hardware
// threads; the result never depends on the thread count.
//
// Text conventions shared by the readers: fields are separated by blanks or tabs, "\r\n" line
// ends are accepted, numbers are parsed exactly (float values round to nearest float32; values
// below the float32 range become 0 or a denormal, values above it are errors). Messages name
// fields 1-based, counting the label field of data files as field 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xmr/sparse.h"

namespace xmr {

/// A labelled data set: features and the binary label matrix, row-aligned.
struct Dataset {
  CsrMatrix x;  ///< n_rows x n_features, float values as read
  CsrMatrix y;  ///< n_rows x n_labels, value 1 for every label of a row (sorted, no duplicates)
};

/// Text formats holding features and labels in one file.
enum class TextFormat {
  kAuto,     ///< XMLRepository if the first line is a "N D L" header, else svmlight
  kXmlRepo,  ///< header "N D L", then "l1,l2 f:v f:v ..." (0-based ids; empty label field ok)
  kSvmLight  ///< "l1,l2 f:v ..." without header (libsvm multi-label); see ReadOptions
};

struct ReadOptions {
  TextFormat format = TextFormat::kAuto;
  /// svmlight only: feature dimension; 0 = 1 + largest index seen.
  Index n_features = 0;
  /// svmlight only: label dimension; 0 = 1 + largest label seen.
  Index n_labels = 0;
  /// svmlight only: -1 = auto (1-based unless a feature index 0 appears, as sklearn does),
  /// 0 or 1 = feature ids are 0- or 1-based. Label ids are always taken as written (0-based).
  int feature_base = -1;
};

/// Reads a data file holding features and labels (XMLRepository or svmlight text).
///
/// XMLRepository: exactly N rows must follow the header; a blank line among them is an empty
/// row, blank lines after them are ignored, anything else after them is an error. A line that
/// starts with a blank (or whose first field contains ':') has no labels. Feature ids must be
/// strictly increasing within a row; label lists may be unordered (they are sorted) but not
/// repeat a label. svmlight: the same row syntax without header; '#' starts a comment, lines
/// holding only a comment are skipped, trailing blank lines are not rows.
/// @throws Error(kCorruption) "<path>:<line>: <what> (field <k>)" on malformed content,
///         Error(kIoError) if the file cannot be read, Error(kInvalidArgument) on bad opts.
Dataset ReadDataFile(const std::string& path, const ReadOptions& opts = {});

/// Writes XMLRepository BoW text ("N D L" header, 0-based ids; each value in the shortest
/// decimal form that reads back to the same float32, so a write/read round trip is exact).
/// Rows without labels start with a blank. y's values are ignored (labels only).
/// @throws Error(kInvalidArgument) if x.rows != y.rows or a row is invalid.
void WriteXmlRepo(const std::string& path, const CsrView& x, const CsrView& y);

/// Reads a scipy.sparse .npz file (save_npz layout: format.npy, shape.npy, indptr.npy,
/// indices.npy, data.npy), with stored or deflate-compressed zip entries; int32/int64 index
/// arrays and float32/float64 (and integer or bool) data arrays are converted on load.
/// A file in CSC format is converted to CSR (and vice versa for ReadNpzCsc).
/// Like scipy, unsorted indices are accepted (they are sorted) and duplicate entries are summed;
/// entries past indptr[-1] are ignored. CRC-32s are verified; zip64 archives are read; the
/// archive itself may be gzip/xz compressed.
/// @throws Error(kCorruption) naming the file and entry on any damage or invalid structure
///         (shape, indptr, indices out of range, NaN/Inf data, float64 beyond float32 range);
///         Error(kNotSupported) for other scipy formats ("coo", "bsr", "dia", ...), encrypted
///         entries or compression methods other than stored/deflate.
CsrMatrix ReadNpzCsr(const std::string& path);
CscMatrix ReadNpzCsc(const std::string& path);

/// Writes scipy-compatible .npz (format "csr" / "csc", float32 data, int32 indices, int32
/// indptr when nnz < 2^31 else int64). `compressed` = deflate entries (PECOS's C++ loader
/// rejects compressed archives, so the default is stored entries, as PECOS writes them).
/// Entries and headers are laid out as numpy writes them: format.npy is '<U3', shape.npy
/// '<i8', 64-byte aligned .npy headers; zip64 records are written when needed (> 4 GiB).
/// Output is byte-for-byte deterministic. Views with indptr[0] != 0 (SliceRows) are fine.
void WriteNpz(const std::string& path, const CsrView& a, bool compressed = false);
void WriteNpz(const std::string& path, const CscView& a, bool compressed = false);

/// xmr's binary matrix format (".xmb"): a small header (magic "XMRMAT01", endianness mark,
/// rows, cols, nnz, CSR/CSC flag), the raw indptr/indices/data arrays and a CRC-32 of the
/// payload. Reads at disk speed; validates structure and checksum. Exact layout: see
/// src/io/binary.cc. Little-endian machines only (the mark rejects others' files).
/// @throws Error(kCorruption) on a bad magic, checksum, size (truncated / trailing bytes) or
///         structure; Error(kNotSupported) for a newer format version.
void WriteBinary(const std::string& path, const CsrView& a);
CsrMatrix ReadBinaryCsr(const std::string& path);

/// Reads any single-matrix file: .npz, .xmb, or XMLRepository-style text whose header is
/// "rows cols" and whose lines are "f:v ..." (e.g. debdeps_label_bow.txt); chosen by content.
CsrMatrix ReadMatrix(const std::string& path);

/// Prediction text files: one line per row, "label:score" pairs separated by spaces, in the
/// order stored in the row (xmr writes them by descending score). Scores are written in the
/// shortest form that reads back to the same float32. Every line is a row, including empty
/// ones (a row without predictions is an empty line), so a write/read round trip is exact.
void WritePredictionText(const std::string& path, const CsrView& pred);
/// Reads prediction text; `n_labels` = 0 takes 1 + largest label. Indices within a row keep
/// file order (not sorted); a label repeated within a row is an error (kCorruption).
CsrMatrix ReadPredictionText(const std::string& path, Index n_labels = 0);

// ----- raw text data (for models trained from text; see xmr/text.h, xmr/text_model.h) -----

/// Reads a label-name file: line k (1-based) names label k - 1. A line may carry more
/// tab-separated fields after the name, which are ignored ("tag<TAB>count" files work as they
/// are). Names are taken verbatim up to the first tab (no trimming).
/// @throws Error(kCorruption) "<path>:<line>: ..." for an empty name or a name that repeats
///         an earlier one (naming both lines); Error(kIoError) if unreadable.
std::vector<std::string> ReadLabelNames(const std::string& path);

/// How ReadTextTsv reads a tab-separated file of labelled text.
struct TextTsvOptions {
  /// 1-based column holding the row's labels, separated by commas (blanks around a label are
  /// ignored; an empty column = no label).
  int label_column = 1;
  /// 1-based columns whose contents make the text, joined by one space in the order given
  /// (a column may repeat, e.g. {5, 5, 6} to weigh a title twice); empty = every column but the
  /// label column, in file order.
  std::vector<int> text_columns;
  /// Skip the first line (a header).
  bool header = false;
  /// Labels are 0-based integer ids instead of names.
  bool label_ids = false;
  /// With a given label vocabulary: drop labels that are not in it (counted in
  /// TextDataset::unknown_labels) instead of failing.
  bool skip_unknown_labels = false;
  /// @throws Error(kInvalidArgument) naming the field.
  void Validate() const;
};

/// Labelled raw text, row-aligned.
struct TextDataset {
  std::vector<std::string> texts;        ///< one document per row
  CsrMatrix y;                           ///< rows x n_labels, value 1 per label (sorted ids)
  std::vector<std::string> label_names;  ///< n_labels names (empty when read with label_ids)
  std::int64_t unknown_labels = 0;       ///< label occurrences dropped (skip_unknown_labels)
};

/// Reads "labels<TAB>text" lines (see TextTsvOptions for other layouts; .gz/.xz accepted).
/// label_names: the label vocabulary to map names to ids (e.g. from ReadLabelNames or a
/// model); nullptr = build it from the file: the distinct names, sorted bytewise, numbered
/// from 0. With label_ids, n_labels fixes the label dimension (0 = 1 + largest id; ids must be
/// below it). A repeated label within a row counts once. Empty lines are rows like any other
/// (they must still have the label column); "\r\n" line ends and a UTF-8 byte-order mark at
/// the start of the file are accepted (also by ReadLabelNames and ReadTextLines).
/// @throws Error(kCorruption) "<path>:<line>: ..." naming the column for a missing column, a
///         bad or out-of-range id, an empty label between commas, or a label not in
///         label_names; Error(kIoError) if unreadable; Error(kInvalidArgument) on bad opts or a
///         label_names vocabulary with a repeated name.
TextDataset ReadTextTsv(const std::string& path, const TextTsvOptions& opts = {},
                        const std::vector<std::string>* label_names = nullptr, Index n_labels = 0);

/// Reads a text file as one document per line (queries for prediction): every line, empty ones
/// included, is a document, taken verbatim (tabs kept) without its line end.
std::vector<std::string> ReadTextLines(const std::string& path);

/// True if `path` exists and is a regular file or directory.
bool PathExists(const std::string& path);

}  // namespace xmr
