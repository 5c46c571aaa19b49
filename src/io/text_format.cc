// XMLRepository / svmlight data files, single-matrix text and prediction text.
#include <charconv>  // for std::to_chars
#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "io/atomic_file.h"
#include "io/formats.h"
#include "io/stream.h"
#include "io/text_parse.h"
#include "xmr/error.h"
#include "xmr/io.h"

namespace xmr {
namespace {

using detail::BlockReader;
using detail::LineFormat;
using detail::ParsedText;
using detail::TextBlock;
using detail::TextParser;

[[noreturn]] void Corrupt(const std::string& msg) { throw Error(ErrorCode::kCorruption, msg); }

// Drops a UTF-8 byte order mark at the start of a file (written by some Windows editors).
void SkipBom(TextBlock* first_block) {
  if (first_block->text.compare(0, 3, "\xEF\xBB\xBF") == 0) first_block->text.erase(0, 3);
}

// The first line of a block and the rest of the block after it.
std::string_view FirstLine(const TextBlock& block, std::string_view* rest) {
  std::string_view text = block.text;
  const std::size_t nl = text.find('\n');
  if (nl == std::string_view::npos) {
    *rest = std::string_view();
    return detail::StripCr(text);
  }
  *rest = text.substr(nl + 1);
  return detail::StripCr(text.substr(0, nl));
}

// Parses every line after the header of a file whose header declares `n_rows` rows, checking
// the row count: fewer rows is an error, extra lines are allowed only if blank.
ParsedText ParseRowsAfterHeader(BlockReader* reader, TextBlock* block, std::string_view rest,
                                std::int64_t n_rows, const LineFormat& format) {
  TextParser parser(reader->path(), format);
  const std::int64_t first_data_line = block->first_line + 1;
  ParsedText& out = parser.result();
  std::int64_t checked = n_rows;
  auto check_extra = [&] {
    for (std::int64_t r = checked; r < out.rows(); ++r) {
      if (!out.RowEmpty(r)) {
        parser.Fail(first_data_line + r, "more rows than the " + std::to_string(n_rows) +
                                             " declared in the header (line 1)");
      }
    }
    checked = std::max(checked, out.rows());
  };
  parser.Parse(rest, first_data_line);
  check_extra();
  while (reader->Next(block)) {
    parser.Parse(block->text, block->first_line);
    check_extra();
  }
  if (out.rows() < n_rows) {
    parser.Fail(first_data_line + out.rows(), "unexpected end of file: the header declares " +
                                                  std::to_string(n_rows) + " rows, found " +
                                                  std::to_string(out.rows()));
  }
  out.Truncate(n_rows);
  return std::move(out);
}

// Parses all lines of the reader (no header).
ParsedText ParseAllRows(BlockReader* reader, TextBlock* block, std::string_view first,
                        std::int64_t first_line, const LineFormat& format) {
  TextParser parser(reader->path(), format);
  parser.Parse(first, first_line);
  while (reader->Next(block)) parser.Parse(block->text, block->first_line);
  return std::move(parser.result());
}

CsrMatrix ToCsr(Index rows, Index cols, std::vector<Offset> indptr, std::vector<Index> indices,
                std::vector<float> data) {
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.indptr = std::move(indptr);
  m.indices = std::move(indices);
  m.data = std::move(data);
  return m;
}

Dataset MakeDataset(ParsedText* t, Index cols, Index n_labels) {
  const Index rows = static_cast<Index>(t->rows());
  Dataset d;
  d.y = ToCsr(rows, n_labels, std::move(t->y_indptr), std::move(t->y_indices), {});
  d.y.data.assign(d.y.indices.size(), 1.0f);
  d.x = ToCsr(rows, cols, std::move(t->x_indptr), std::move(t->x_indices), std::move(t->x_data));
  return d;
}

Dataset ReadXmlRepoBody(BlockReader* reader, TextBlock* block, std::string_view header_line,
                        std::string_view rest) {
  std::vector<std::int64_t> h;
  if (!detail::ParseHeaderLine(header_line, &h) || h.size() != 3) {
    Corrupt(reader->path() + ":" + std::to_string(block->first_line) + ": bad header " +
            detail::Quote(header_line) +
            ": expected 'N D L' (rows, features, labels; integers in [0, 2^31))");
  }
  LineFormat f;
  f.labels = true;
  f.index_limit = h[1];
  f.label_limit = h[2];
  ParsedText t = ParseRowsAfterHeader(reader, block, rest, h[0], f);
  return MakeDataset(&t, static_cast<Index>(h[1]), static_cast<Index>(h[2]));
}

Dataset ReadSvmLightBody(BlockReader* reader, TextBlock* block, std::string_view text,
                         std::int64_t first_line, const ReadOptions& opts) {
  LineFormat f;
  f.labels = true;
  f.comments = true;
  const std::int64_t max_id = std::numeric_limits<Index>::max();
  if (opts.feature_base == 1) f.index_min = 1;
  if (opts.n_features > 0 && opts.feature_base >= 0) {
    f.index_limit = opts.n_features + opts.feature_base;
    f.index_limit_name = "n_features";
  } else {
    f.index_limit = max_id;
  }
  if (opts.n_labels > 0) {
    f.label_limit = opts.n_labels;
    f.label_limit_name = "n_labels";
  }
  ParsedText t = ParseAllRows(reader, block, text, first_line, f);
  // A blank last line is not a row.
  std::int64_t rows = t.rows();
  while (rows > 0 && t.RowEmpty(rows - 1)) --rows;
  t.Truncate(rows);

  // sklearn's rule: 1-based unless some feature index is 0.
  const bool any = t.max_index >= 0;
  const int base = opts.feature_base >= 0 ? opts.feature_base : (any && t.min_index > 0 ? 1 : 0);
  if (base == 1) {
    for (Index& i : t.x_indices) --i;
  }
  Index cols = opts.n_features;
  if (any && t.max_index - base >= cols) {
    if (opts.n_features > 0) {
      TextParser(reader->path(), f)
          .Fail(t.max_index_line, "feature index " + std::to_string(t.max_index) +
                                      " >= n_features " + std::to_string(opts.n_features) +
                                      (base == 1 ? " (1-based ids)" : ""));
    }
    cols = static_cast<Index>(t.max_index - base + 1);
  }
  const Index n_labels = opts.n_labels > 0 ? opts.n_labels : static_cast<Index>(t.max_label + 1);
  return MakeDataset(&t, cols, n_labels);
}

// ----- writing -------------------------------------------------------------------------------

// Formats numbers straight into the writer's buffer.
class TextOut {
 public:
  explicit TextOut(const std::string& path) : w_(path) {}
  void Char(char c) {
    *w_.Reserve(1) = c;
    w_.Advance(1);
  }
  void Int(std::int64_t v) {
    char* p = w_.Reserve(24);
    w_.Advance(std::to_chars(p, p + 24, v).ptr - p);
  }
  // "<sep><idx>:<value>" with the shortest decimal form that reads back to the same float.
  void Pair(char sep, Index idx, float v) {
    char* p = w_.Reserve(64);
    char* q = p;
    if (sep) *q++ = sep;
    q = std::to_chars(q, p + 64, idx).ptr;
    *q++ = ':';
    q = std::to_chars(q, p + 64, v).ptr;
    w_.Advance(q - p);
  }
  void Commit() { w_.Commit(); }

 private:
  detail::AtomicFileWriter w_;
};

void CheckRowForWrite(const SparseVecView& r, Index cols, bool sorted, const char* what, Index i) {
  for (Index k = 0; k < r.nnz; ++k) {
    const Index j = r.indices[k];
    XMR_EXPECTS(j >= 0 && j < cols, ErrorCode::kInvalidArgument,
                std::string(what) + " row " + std::to_string(i) + ": index " + std::to_string(j) +
                    " outside [0, " + std::to_string(cols) + ")");
    XMR_EXPECTS(
        !sorted || k == 0 || j > r.indices[k - 1], ErrorCode::kInvalidArgument,
        std::string(what) + " row " + std::to_string(i) + ": indices not strictly increasing");
    XMR_EXPECTS(r.data == nullptr || std::isfinite(r.data[k]), ErrorCode::kInvalidArgument,
                std::string(what) + " row " + std::to_string(i) + ": non-finite value");
  }
}

}  // namespace

namespace detail {

CsrMatrix ReadTextMatrix(const std::string& path) {
  BlockReader reader(path);
  TextBlock block;
  if (!reader.Next(&block)) Corrupt(path + ": empty file (expected a 'rows cols' header)");
  SkipBom(&block);
  std::string_view rest;
  const std::string_view header = FirstLine(block, &rest);
  std::vector<std::int64_t> h;
  const bool ok = ParseHeaderLine(header, &h);
  if (ok && h.size() == 3) {
    Corrupt(path + ":1: bad header " + Quote(header) +
            ": header has 3 fields ('N D L'), which is a data file with labels, not a single "
            "matrix ('rows cols')");
  }
  if (!ok || h.size() != 2) {
    Corrupt(path + ":1: bad header " + Quote(header) +
            ": expected 'rows cols' (integers in [0, 2^31))");
  }
  LineFormat f;
  f.index_limit = h[1];
  ParsedText t = ParseRowsAfterHeader(&reader, &block, rest, h[0], f);
  return ToCsr(static_cast<Index>(h[0]), static_cast<Index>(h[1]), std::move(t.x_indptr),
               std::move(t.x_indices), std::move(t.x_data));
}

}  // namespace detail

Dataset ReadDataFile(const std::string& path, const ReadOptions& opts) {
  XMR_EXPECTS(
      opts.feature_base >= -1 && opts.feature_base <= 1, ErrorCode::kInvalidArgument,
      "ReadOptions::feature_base must be -1, 0 or 1, got " + std::to_string(opts.feature_base));
  XMR_EXPECTS(opts.n_features >= 0 && opts.n_labels >= 0, ErrorCode::kInvalidArgument,
              "ReadOptions::n_features and n_labels must be >= 0");
  BlockReader reader(path);
  TextBlock block;
  if (!reader.Next(&block)) {
    if (opts.format == TextFormat::kSvmLight) {
      Dataset d;
      d.x = ToCsr(0, opts.n_features, {0}, {}, {});
      d.y = ToCsr(0, opts.n_labels, {0}, {}, {});
      return d;
    }
    Corrupt(path + ": empty file (expected a header 'N D L')");
  }
  SkipBom(&block);
  std::string_view rest;
  const std::string_view first = FirstLine(block, &rest);
  TextFormat format = opts.format;
  if (format == TextFormat::kAuto) {
    std::vector<std::int64_t> h;
    format = detail::ParseHeaderLine(first, &h) && h.size() == 3 ? TextFormat::kXmlRepo
                                                                 : TextFormat::kSvmLight;
  }
  if (format == TextFormat::kXmlRepo) return ReadXmlRepoBody(&reader, &block, first, rest);
  return ReadSvmLightBody(&reader, &block, block.text, block.first_line, opts);
}

struct detail::XmlRepoStreamWriter::Impl {
  explicit Impl(const std::string& path) : out(path) {}
  TextOut out;
  Index rows = 0, cols = 0, n_labels = 0, written = 0;
};

detail::XmlRepoStreamWriter::XmlRepoStreamWriter(const std::string& path, Index rows, Index cols,
                                                 Index n_labels) {
  XMR_EXPECTS(rows >= 0 && cols >= 0 && n_labels >= 0, ErrorCode::kInvalidArgument,
              path + ": negative shape for an XMLRepository file");
  impl_ = std::make_unique<Impl>(path);
  impl_->rows = rows;
  impl_->cols = cols;
  impl_->n_labels = n_labels;
  TextOut& out = impl_->out;
  out.Int(rows);
  out.Char(' ');
  out.Int(cols);
  out.Char(' ');
  out.Int(n_labels);
  out.Char('\n');
}

detail::XmlRepoStreamWriter::~XmlRepoStreamWriter() = default;

void detail::XmlRepoStreamWriter::Append(const CsrView& x, const CsrView& y) {
  XMR_EXPECTS(x.rows == y.rows, ErrorCode::kInvalidArgument,
              "WriteXmlRepo: x has " + std::to_string(x.rows) + " rows but y has " +
                  std::to_string(y.rows));
  XMR_EXPECTS(x.cols <= impl_->cols && y.cols <= impl_->n_labels, ErrorCode::kInvalidArgument,
              "WriteXmlRepo: block is wider than the declared shape");
  XMR_EXPECTS(impl_->written + static_cast<std::int64_t>(x.rows) <= impl_->rows,
              ErrorCode::kInvalidArgument,
              "WriteXmlRepo: more rows than the " + std::to_string(impl_->rows) + " declared");
  TextOut& out = impl_->out;
  for (Index i = 0; i < x.rows; ++i) {
    const SparseVecView xr = x.row(i);
    const SparseVecView yr = y.row(i);
    const Index at = impl_->written + i;
    CheckRowForWrite(xr, impl_->cols, true, "WriteXmlRepo: x", at);
    CheckRowForWrite({yr.nnz, yr.indices, nullptr}, impl_->n_labels, true, "WriteXmlRepo: y", at);
    for (Index k = 0; k < yr.nnz; ++k) {
      if (k > 0) out.Char(',');
      out.Int(yr.indices[k]);
    }
    // A row without labels starts with the blank before its first feature.
    for (Index k = 0; k < xr.nnz; ++k) out.Pair(' ', xr.indices[k], xr.data[k]);
    out.Char('\n');
  }
  impl_->written += x.rows;
}

void detail::XmlRepoStreamWriter::Commit() {
  XMR_EXPECTS(impl_->written == impl_->rows, ErrorCode::kInvalidArgument,
              "WriteXmlRepo: " + std::to_string(impl_->written) + " rows written, " +
                  std::to_string(impl_->rows) + " declared");
  impl_->out.Commit();
}

void WriteXmlRepo(const std::string& path, const CsrView& x, const CsrView& y) {
  XMR_EXPECTS(x.rows == y.rows, ErrorCode::kInvalidArgument,
              "WriteXmlRepo: x has " + std::to_string(x.rows) + " rows but y has " +
                  std::to_string(y.rows));
  detail::XmlRepoStreamWriter out(path, x.rows, x.cols, y.cols);
  out.Append(x, y);
  out.Commit();
}

void WritePredictionText(const std::string& path, const CsrView& pred) {
  TextOut out(path);
  for (Index i = 0; i < pred.rows; ++i) {
    const SparseVecView r = pred.row(i);
    CheckRowForWrite(r, pred.cols, false, "WritePredictionText", i);
    for (Index k = 0; k < r.nnz; ++k) out.Pair(k > 0 ? ' ' : '\0', r.indices[k], r.data[k]);
    out.Char('\n');
  }
  out.Commit();
}

CsrMatrix ReadPredictionText(const std::string& path, Index n_labels) {
  XMR_EXPECTS(n_labels >= 0, ErrorCode::kInvalidArgument,
              "ReadPredictionText: n_labels must be >= 0");
  LineFormat f;
  f.sorted = false;
  f.index_name = "label id";
  if (n_labels > 0) {
    f.index_limit = n_labels;
    f.index_limit_name = "n_labels";
  }
  BlockReader reader(path);
  TextBlock block;
  if (!reader.Next(&block)) return ToCsr(0, n_labels, {0}, {}, {});
  SkipBom(&block);
  ParsedText t = ParseAllRows(&reader, &block, block.text, block.first_line, f);
  const Index rows = static_cast<Index>(t.rows());
  const Index cols = n_labels > 0 ? n_labels : static_cast<Index>(t.max_index + 1);
  return ToCsr(rows, cols, std::move(t.x_indptr), std::move(t.x_indices), std::move(t.x_data));
}

}  // namespace xmr
