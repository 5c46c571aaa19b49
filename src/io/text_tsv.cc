// Raw text data files: label-name files, labelled TSV and one-query-per-line text.
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/log.h"   // for StrFormat
#include "io/stream.h"  // for LineReader
#include "xmr/error.h"
#include "xmr/io.h"

namespace xmr {
namespace {

[[noreturn]] void Bad(const std::string& path, std::int64_t line, const std::string& what) {
  throw Error(ErrorCode::kCorruption,
              StrFormat("%s:%lld: ", path.c_str(), static_cast<long long>(line)) + what);
}

// Splits `line` at tabs into `cols` (views into line).
void SplitTabs(std::string_view line, std::vector<std::string_view>* cols) {
  cols->clear();
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      cols->push_back(line.substr(start));
      return;
    }
    cols->push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Shortens a field for an error message.
std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 60;
  if (s.size() <= kMax) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kMax)) + "...'";
}

// A UTF-8 byte-order mark at the start of a file is not part of its first line.
void StripBom(std::int64_t line_number, std::string_view* line) {
  if (line_number == 1 && line->substr(0, 3) == "\xEF\xBB\xBF") line->remove_prefix(3);
}

}  // namespace

void TextTsvOptions::Validate() const {
  XMR_EXPECTS(
      label_column >= 1, ErrorCode::kInvalidArgument,
      StrFormat("TextTsvOptions.label_column must be >= 1 (1-based), got %d", label_column));
  for (const int c : text_columns) {
    XMR_EXPECTS(c >= 1, ErrorCode::kInvalidArgument,
                StrFormat("TextTsvOptions.text_columns must be >= 1 (1-based), got %d", c));
    XMR_EXPECTS(c != label_column, ErrorCode::kInvalidArgument,
                StrFormat("TextTsvOptions.text_columns includes the label column %d", c));
  }
}

std::vector<std::string> ReadLabelNames(const std::string& path) {
  detail::LineReader in(path);
  std::vector<std::string> names;
  std::unordered_map<std::string, std::int64_t> seen;
  std::string_view line;
  while (in.Next(&line)) {
    StripBom(in.line_number(), &line);
    const std::string_view name = line.substr(0, line.find('\t'));
    if (name.empty()) Bad(path, in.line_number(), "empty label name (field 1)");
    auto [it, fresh] = seen.emplace(std::string(name), in.line_number());
    if (!fresh) {
      Bad(path, in.line_number(),
          StrFormat("label name %s repeats line %lld (field 1)", Quote(name).c_str(),
                    static_cast<long long>(it->second)));
    }
    names.emplace_back(name);
  }
  return names;
}

TextDataset ReadTextTsv(const std::string& path, const TextTsvOptions& opts,
                        const std::vector<std::string>* label_names, Index n_labels) {
  opts.Validate();
  XMR_EXPECTS(n_labels >= 0, ErrorCode::kInvalidArgument, "ReadTextTsv: n_labels < 0");
  XMR_EXPECTS(!(opts.label_ids && label_names != nullptr), ErrorCode::kInvalidArgument,
              "ReadTextTsv: label_ids and a label-name vocabulary exclude each other");
  std::unordered_map<std::string, Index> vocab;  // name -> id (given vocabulary)
  if (label_names != nullptr) {
    vocab.reserve(label_names->size());
    for (std::size_t i = 0; i < label_names->size(); ++i) {
      const auto [it, fresh] = vocab.emplace((*label_names)[i], static_cast<Index>(i));
      XMR_EXPECTS(fresh, ErrorCode::kInvalidArgument,
                  StrFormat("ReadTextTsv: label name %s appears twice in the vocabulary (ids %d "
                            "and %zu)",
                            Quote((*label_names)[i]).c_str(), it->second, i));
    }
  }
  const bool build_vocab = !opts.label_ids && label_names == nullptr;
  // When building the vocabulary, rows first hold provisional ids in order of first sight.
  std::vector<std::string> first_seen;

  int need_cols = opts.label_column;
  for (const int c : opts.text_columns) need_cols = std::max(need_cols, c);

  TextDataset out;
  std::vector<Index> row_labels;
  std::vector<std::string_view> cols;
  std::vector<Index> all_labels;
  std::vector<Offset> indptr{0};
  Index max_id = -1;
  detail::LineReader in(path);
  std::string_view line;
  while (in.Next(&line)) {
    if (opts.header && in.line_number() == 1) continue;
    StripBom(in.line_number(), &line);
    const std::int64_t ln = in.line_number();
    SplitTabs(line, &cols);
    if (static_cast<int>(cols.size()) < need_cols) {
      Bad(path, ln,
          StrFormat("%zu tab-separated column(s), expected at least %d (labels in column %d)",
                    cols.size(), need_cols, opts.label_column));
    }
    // Text.
    std::string text;
    if (opts.text_columns.empty()) {
      bool first = true;
      for (std::size_t c = 0; c < cols.size(); ++c) {
        if (static_cast<int>(c) + 1 == opts.label_column) continue;
        if (!first) text += ' ';
        first = false;
        text.append(cols[c]);
      }
    } else {
      for (std::size_t k = 0; k < opts.text_columns.size(); ++k) {
        if (k > 0) text += ' ';
        text.append(cols[opts.text_columns[k] - 1]);
      }
    }
    out.texts.push_back(std::move(text));
    // Labels.
    row_labels.clear();
    const std::string_view field = cols[opts.label_column - 1];
    if (!Trim(field).empty()) {
      std::size_t start = 0;
      while (start <= field.size()) {
        std::size_t comma = field.find(',', start);
        if (comma == std::string_view::npos) comma = field.size();
        const std::string_view tok = Trim(field.substr(start, comma - start));
        start = comma + 1;
        if (tok.empty()) {
          Bad(path, ln, StrFormat("empty label between commas (column %d)", opts.label_column));
        }
        if (opts.label_ids) {
          long long id = -1;
          const auto [ptr, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), id);
          if (ec != std::errc() || ptr != tok.data() + tok.size() || id < 0 ||
              id >= std::numeric_limits<Index>::max() || (n_labels > 0 && id >= n_labels)) {
            Bad(path, ln,
                StrFormat("label %s is not a 0-based label id%s (column %d)", Quote(tok).c_str(),
                          n_labels > 0 ? StrFormat(" below %d", n_labels).c_str() : "",
                          opts.label_column));
          }
          row_labels.push_back(static_cast<Index>(id));
          max_id = std::max<Index>(max_id, static_cast<Index>(id));
        } else {
          auto it = vocab.find(std::string(tok));
          if (it == vocab.end()) {
            if (!build_vocab) {
              if (opts.skip_unknown_labels) {
                ++out.unknown_labels;
                continue;
              }
              Bad(path, ln,
                  StrFormat("label %s is not in the label vocabulary of %zu names (column %d)",
                            Quote(tok).c_str(), vocab.size(), opts.label_column));
            }
            it = vocab.emplace(std::string(tok), static_cast<Index>(first_seen.size())).first;
            first_seen.emplace_back(tok);
          }
          row_labels.push_back(it->second);
        }
      }
    }
    std::sort(row_labels.begin(), row_labels.end());
    row_labels.erase(std::unique(row_labels.begin(), row_labels.end()), row_labels.end());
    all_labels.insert(all_labels.end(), row_labels.begin(), row_labels.end());
    indptr.push_back(static_cast<Offset>(all_labels.size()));
  }
  XMR_EXPECTS(out.texts.size() < static_cast<std::size_t>(std::numeric_limits<Index>::max()),
              ErrorCode::kInvalidArgument, path + ": too many rows");

  Index n_cols = 0;
  if (opts.label_ids) {
    n_cols = n_labels > 0 ? n_labels : max_id + 1;
  } else if (build_vocab) {
    // Renumber provisional ids so that ids follow the sorted names.
    std::vector<Index> order(first_seen.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<Index>(i);
    std::sort(order.begin(), order.end(),
              [&](Index a, Index b) { return first_seen[a] < first_seen[b]; });
    std::vector<Index> new_id(order.size());
    for (std::size_t r = 0; r < order.size(); ++r) new_id[order[r]] = static_cast<Index>(r);
    for (Index& l : all_labels) l = new_id[l];
    for (std::size_t r = 0; r + 1 < indptr.size(); ++r) {
      std::sort(all_labels.begin() + indptr[r], all_labels.begin() + indptr[r + 1]);
    }
    out.label_names.resize(order.size());
    for (std::size_t r = 0; r < order.size(); ++r) out.label_names[r] = first_seen[order[r]];
    n_cols = static_cast<Index>(order.size());
  } else {
    out.label_names = *label_names;
    n_cols = static_cast<Index>(label_names->size());
  }
  out.y.rows = static_cast<Index>(out.texts.size());
  out.y.cols = n_cols;
  out.y.indptr = std::move(indptr);
  out.y.data.assign(all_labels.size(), 1.0f);
  out.y.indices = std::move(all_labels);
  return out;
}

std::vector<std::string> ReadTextLines(const std::string& path) {
  std::vector<std::string> lines;
  detail::LineReader in(path);
  std::string_view line;
  while (in.Next(&line)) {
    StripBom(in.line_number(), &line);
    lines.emplace_back(line);
  }
  return lines;
}

}  // namespace xmr
