// Parallel parser for the line-based sparse text formats (internal to src/io).
//
// A line is "[labels] idx:val idx:val ...": an optional comma-separated label list as the first
// field, then index:value pairs separated by spaces or tabs. TextParser takes blocks of whole
// lines (detail::BlockReader), splits each block into pieces at line boundaries, parses the
// pieces in parallel and appends their rows in order, so the result does not depend on the
// thread count. The first error in file order is reported as
//   "<path>:<line>: <what> (field <k>)"   with Error(kCorruption).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "xmr/sparse.h"

namespace xmr {
namespace detail {

/// What a line looks like and which values are legal.
struct LineFormat {
  /// The first field is a comma-separated list of label ids (may be empty: line starts with a
  /// blank). A first field containing ':' is taken as a feature (row without a label field).
  bool labels = false;
  /// '#' starts a comment; lines holding only a comment are not rows (svmlight).
  bool comments = false;
  /// Indices within a row must be strictly increasing; if false any order is kept, but
  /// duplicates are still rejected.
  bool sorted = true;
  /// Raw index range [index_min, index_limit).
  std::int64_t index_min = 0;
  std::int64_t index_limit = std::numeric_limits<Index>::max();
  /// Names used in messages, e.g. "feature index" / "declared dimension".
  const char* index_name = "feature index";
  const char* index_limit_name = "declared dimension";
  std::int64_t label_limit = std::numeric_limits<Index>::max();
  const char* label_limit_name = "declared number of labels";
};

/// Rows parsed so far, CSR arrays for the index:value pairs (x) and the labels (y).
struct ParsedText {
  std::vector<Offset> x_indptr = std::vector<Offset>(1, 0);
  std::vector<Index> x_indices;
  std::vector<float> x_data;
  std::vector<Offset> y_indptr = std::vector<Offset>(1, 0);
  std::vector<Index> y_indices;
  /// Smallest / largest raw index seen and the first line holding the largest (-1: none).
  std::int64_t min_index = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_index = -1;
  std::int64_t max_index_line = -1;
  std::int64_t max_label = -1;
  std::int64_t max_label_line = -1;
  /// Line number of the last line parsed (0 if none).
  std::int64_t last_line = 0;

  std::int64_t rows() const { return static_cast<std::int64_t>(x_indptr.size()) - 1; }
  /// True if row r has neither labels nor index:value pairs.
  bool RowEmpty(std::int64_t r) const {
    return x_indptr[r + 1] == x_indptr[r] && y_indptr[r + 1] == y_indptr[r];
  }
  /// Drops rows [n, rows()).
  void Truncate(std::int64_t n);
};

class TextParser {
 public:
  /// `threads` <= 0: all hardware threads.
  TextParser(std::string path, const LineFormat& format, int threads = 0);

  /// Parses the whole lines in `text` (a final line may lack '\n'); `first_line` is the
  /// 1-based line number of the first one. Rows are appended to result().
  /// @throws Error(kCorruption) at the first malformed line.
  void Parse(std::string_view text, std::int64_t first_line);

  ParsedText& result() { return out_; }
  const std::string& path() const { return path_; }

  /// Throws Error(kCorruption, "<path>:<line>: <msg>").
  [[noreturn]] void Fail(std::int64_t line, const std::string& msg) const;

 private:
  std::string path_;
  LineFormat format_;
  int threads_;
  ParsedText out_;
};

/// Parses a header line of non-negative integers separated by blanks (e.g. "N D L").
/// Returns false if the line holds anything else or a number exceeds 2^31 - 1.
bool ParseHeaderLine(std::string_view line, std::vector<std::int64_t>* values);

/// `line` without a trailing '\r'.
inline std::string_view StripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

/// A short, printable quotation of `s` for error messages ('...' added when cut).
std::string Quote(std::string_view s);

}  // namespace detail
}  // namespace xmr
