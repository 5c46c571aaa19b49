#include "io/text_parse.h"

#include <algorithm>
#include <charconv>  // for std::from_chars (integers and floats)
#include <cmath>
#include <cstring>
#include <utility>

#include "core/parallel.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace {

// Blocks smaller than this are parsed on the calling thread.
constexpr std::size_t kMinPieceBytes = std::size_t{256} << 10;

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

inline const char* SkipBlanks(const char* p, const char* e) {
  while (p < e && IsBlank(*p)) ++p;
  return p;
}

inline const char* TokenEnd(const char* p, const char* e) {
  while (p < e && !IsBlank(*p)) ++p;
  return p;
}

// Parses a float32 from [p, e); returns the end of the number or nullptr if there is none.
// Values that underflow float32 are rounded to the nearest denormal or zero; values that
// overflow set *overflow.
inline const char* ParseFloat(const char* p, const char* e, float* v, bool* overflow) {
  if (p < e && *p == '+') ++p;
  auto r = std::from_chars(p, e, *v);
  if (r.ec == std::errc()) return r.ptr;
  if (r.ec != std::errc::result_out_of_range) return nullptr;
  double d = 0;
  auto rd = std::from_chars(p, e, d);
  if (rd.ec == std::errc() && std::fabs(d) < 1.0) {
    *v = static_cast<float>(d);
    return rd.ptr;
  }
  *overflow = true;
  return r.ptr;
}

// The output of one piece of a block.
struct Piece {
  const char* begin = nullptr;
  const char* end = nullptr;
  std::vector<Offset> x_nnz;  // per row
  std::vector<Offset> y_nnz;  // per row
  std::vector<Index> x_indices;
  std::vector<float> x_data;
  std::vector<Index> y_indices;
  std::int64_t lines = 0;
  std::int64_t min_index = std::numeric_limits<std::int64_t>::max();
  std::int64_t max_index = -1;
  std::int64_t max_index_line = -1;  // local, 0-based
  std::int64_t max_label = -1;
  std::int64_t max_label_line = -1;
  bool failed = false;
  std::int64_t error_line = 0;  // local, 0-based
  std::string error;
};

class PieceParser {
 public:
  PieceParser(const LineFormat& f, Piece* out) : f_(f), out_(*out) {}

  void Run() {
    const char* p = out_.begin;
    const char* const end = out_.end;
    const std::size_t bytes = static_cast<std::size_t>(end - p);
    out_.x_indices.reserve(bytes / 8);
    out_.x_data.reserve(bytes / 8);
    std::int64_t line = 0;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const char* le = nl ? nl : end;
      if (le > p && le[-1] == '\r') --le;
      if (!Line(p, le, line)) {
        out_.failed = true;
        out_.error_line = line;
        return;
      }
      ++line;
      p = nl ? nl + 1 : end;
    }
    out_.lines = line;
  }

 private:
  bool Bad(std::string msg, int field) {
    if (field > 0) msg += " (field " + std::to_string(field) + ")";
    out_.error = std::move(msg);
    return false;
  }

  bool Line(const char* p, const char* e, std::int64_t line) {
    if (f_.comments) {
      const char* hash = static_cast<const char*>(std::memchr(p, '#', e - p));
      if (hash != nullptr) {
        if (SkipBlanks(p, hash) == hash) return true;  // comment-only line: not a row
        e = hash;
      }
    }
    const std::size_t x_start = out_.x_indices.size();
    const std::size_t y_start = out_.y_indices.size();
    int field = 0;
    const char* q = p;
    if (f_.labels) {
      field = 1;
      if (q < e && !IsBlank(*q)) {
        const char* t = TokenEnd(q, e);
        if (std::memchr(q, ':', t - q) == nullptr) {
          if (!Labels(q, t, line)) return false;
          q = t;
        }
      }
    }
    std::int64_t prev = -1;
    while (true) {
      q = SkipBlanks(q, e);
      if (q == e) break;
      ++field;
      std::int64_t idx = 0;
      auto r = std::from_chars(q, e, idx);
      if (r.ec != std::errc() || r.ptr == e || *r.ptr != ':') {
        const char* t = TokenEnd(q, e);
        if (r.ec == std::errc::result_out_of_range) {
          return Bad(
              std::string(f_.index_name) + " out of range in " + Quote(std::string_view(q, t - q)),
              field);
        }
        if (std::memchr(q, ':', t - q) == nullptr) {
          return Bad("missing ':' in " + Quote(std::string_view(q, t - q)) + " (expected " +
                         f_.index_name + ":value)",
                     field);
        }
        return Bad("bad " + std::string(f_.index_name) + " in " + Quote(std::string_view(q, t - q)),
                   field);
      }
      float v = 0;
      bool overflow = false;
      const char* vp = r.ptr + 1;
      const char* ve = ParseFloat(vp, e, &v, &overflow);
      if (ve == nullptr || (ve < e && !IsBlank(*ve))) {
        const char* t = TokenEnd(q, e);
        if (vp == t) return Bad("missing value in " + Quote(std::string_view(q, t - q)), field);
        return Bad("bad value in " + Quote(std::string_view(q, t - q)), field);
      }
      if (overflow) {
        return Bad("value out of float32 range in " + Quote(std::string_view(q, ve - q)), field);
      }
      if (!std::isfinite(v)) {
        return Bad("NaN/Inf value in " + Quote(std::string_view(q, ve - q)), field);
      }
      if (idx < f_.index_min) {
        if (idx < 0)
          return Bad("negative " + std::string(f_.index_name) + " " + std::to_string(idx), field);
        return Bad(std::string(f_.index_name) + " " + std::to_string(idx) +
                       " in a 1-based file (ids start at " + std::to_string(f_.index_min) + ")",
                   field);
      }
      if (idx >= f_.index_limit) {
        // 1-based ids run up to the dimension itself: say "7 > n_features 6 (1-based ids)".
        const bool one_based = f_.index_min == 1;
        return Bad(std::string(f_.index_name) + " " + std::to_string(idx) +
                       (one_based ? " > " : " >= ") + f_.index_limit_name + " " +
                       std::to_string(f_.index_limit - f_.index_min) +
                       (one_based ? " (1-based ids)" : ""),
                   field);
      }
      if (f_.sorted && idx <= prev) {
        if (idx == prev) {
          return Bad("duplicate " + std::string(f_.index_name) + " " + std::to_string(idx), field);
        }
        return Bad(std::string(f_.index_name) + " " + std::to_string(idx) + " after " +
                       std::to_string(prev) + " (ids in a row must be sorted ascending)",
                   field);
      }
      prev = idx;
      if (idx > out_.max_index) {
        out_.max_index = idx;
        out_.max_index_line = line;
      }
      out_.min_index = std::min(out_.min_index, idx);
      out_.x_indices.push_back(static_cast<Index>(idx));
      out_.x_data.push_back(v);
      q = ve;
    }
    if (!f_.sorted && out_.x_indices.size() - x_start > 1) {
      scratch_.assign(out_.x_indices.begin() + x_start, out_.x_indices.end());
      std::sort(scratch_.begin(), scratch_.end());
      auto dup = std::adjacent_find(scratch_.begin(), scratch_.end());
      if (dup != scratch_.end()) {
        return Bad("duplicate " + std::string(f_.index_name) + " " + std::to_string(*dup), 0);
      }
    }
    out_.x_nnz.push_back(static_cast<Offset>(out_.x_indices.size() - x_start));
    out_.y_nnz.push_back(static_cast<Offset>(out_.y_indices.size() - y_start));
    return true;
  }

  // Comma-separated label ids in [p, e) (no blanks inside).
  bool Labels(const char* p, const char* e, std::int64_t line) {
    const std::size_t start = out_.y_indices.size();
    bool sorted = true;
    while (true) {
      std::int64_t l = 0;
      auto r = std::from_chars(p, e, l);
      if (r.ec != std::errc() || (r.ptr < e && *r.ptr != ',')) {
        const char* t = static_cast<const char*>(std::memchr(p, ',', e - p));
        if (t == nullptr) t = e;
        if (t == p) return Bad("empty label id in label list", 1);
        if (r.ec == std::errc::result_out_of_range) {
          return Bad("label id out of range: " + Quote(std::string_view(p, t - p)), 1);
        }
        return Bad("bad label id " + Quote(std::string_view(p, t - p)), 1);
      }
      if (l < 0) return Bad("negative label id " + std::to_string(l), 1);
      if (l >= f_.label_limit) {
        return Bad("label id " + std::to_string(l) + " >= " + f_.label_limit_name + " " +
                       std::to_string(f_.label_limit),
                   1);
      }
      if (out_.y_indices.size() > start && l <= out_.y_indices.back()) sorted = false;
      out_.y_indices.push_back(static_cast<Index>(l));
      if (l > out_.max_label) {
        out_.max_label = l;
        out_.max_label_line = line;
      }
      if (r.ptr == e) break;
      p = r.ptr + 1;
      if (p == e) return Bad("empty label id at the end of the label list", 1);
    }
    if (!sorted) {
      // Label lists in svmlight files are often unordered; Y rows are kept sorted.
      auto first = out_.y_indices.begin() + start;
      std::sort(first, out_.y_indices.end());
      auto dup = std::adjacent_find(first, out_.y_indices.end());
      if (dup != out_.y_indices.end()) {
        return Bad("duplicate label id " + std::to_string(*dup), 1);
      }
    }
    return true;
  }

  const LineFormat& f_;
  Piece& out_;
  std::vector<Index> scratch_;
};

}  // namespace

void ParsedText::Truncate(std::int64_t n) {
  if (n >= rows()) return;
  x_indptr.resize(n + 1);
  y_indptr.resize(n + 1);
  x_indices.resize(x_indptr.back());
  x_data.resize(x_indptr.back());
  y_indices.resize(y_indptr.back());
}

TextParser::TextParser(std::string path, const LineFormat& format, int threads)
    : path_(std::move(path)), format_(format), threads_(threads) {}

void TextParser::Fail(std::int64_t line, const std::string& msg) const {
  throw Error(ErrorCode::kCorruption, path_ + ":" + std::to_string(line) + ": " + msg);
}

void TextParser::Parse(std::string_view text, std::int64_t first_line) {
  if (text.empty()) return;
  // Cut the block into pieces at line starts, ~4 pieces per worker for load balance.
  const int workers =
      NumWorkers(static_cast<std::int64_t>(text.size() / kMinPieceBytes) + 1, threads_);
  const std::size_t n_target = workers <= 1 ? 1 : static_cast<std::size_t>(workers) * 4;
  const std::size_t step = text.size() / n_target + 1;
  std::vector<Piece> pieces;
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin;
  while (p < end) {
    const char* cut = p + std::min<std::size_t>(step, end - p);
    if (cut < end) {
      const char* nl = static_cast<const char*>(std::memchr(cut, '\n', end - cut));
      cut = nl ? nl + 1 : end;
    }
    pieces.emplace_back();
    pieces.back().begin = p;
    pieces.back().end = cut;
    p = cut;
  }
  ParallelFor(static_cast<std::int64_t>(pieces.size()), workers,
              [&](std::int64_t i, int) { PieceParser(format_, &pieces[i]).Run(); });

  // Append in file order; report the first failure in file order.
  std::int64_t line = first_line;
  for (Piece& pc : pieces) {
    if (pc.failed) Fail(line + pc.error_line, pc.error);
    const std::int64_t rows = static_cast<std::int64_t>(pc.x_nnz.size());
    if (out_.rows() + rows > std::numeric_limits<Index>::max()) {
      Fail(line, "too many rows (more than 2^31 - 1)");
    }
    Offset xo = out_.x_indptr.back();
    Offset yo = out_.y_indptr.back();
    for (std::int64_t r = 0; r < rows; ++r) {
      xo += pc.x_nnz[r];
      yo += pc.y_nnz[r];
      out_.x_indptr.push_back(xo);
      out_.y_indptr.push_back(yo);
    }
    out_.x_indices.insert(out_.x_indices.end(), pc.x_indices.begin(), pc.x_indices.end());
    out_.x_data.insert(out_.x_data.end(), pc.x_data.begin(), pc.x_data.end());
    out_.y_indices.insert(out_.y_indices.end(), pc.y_indices.begin(), pc.y_indices.end());
    out_.min_index = std::min(out_.min_index, pc.min_index);
    if (pc.max_index > out_.max_index) {
      out_.max_index = pc.max_index;
      out_.max_index_line = line + pc.max_index_line;
    }
    if (pc.max_label > out_.max_label) {
      out_.max_label = pc.max_label;
      out_.max_label_line = line + pc.max_label_line;
    }
    line += pc.lines;
    // Free piece memory early; blocks can be large.
    pc = Piece();
  }
  out_.last_line = line - 1;
}

bool ParseHeaderLine(std::string_view line, std::vector<std::int64_t>* values) {
  values->clear();
  const char* p = line.data();
  const char* e = p + line.size();
  while (true) {
    p = SkipBlanks(p, e);
    if (p == e) break;
    std::int64_t v = 0;
    auto r = std::from_chars(p, e, v);
    if (r.ec != std::errc() || v < 0 || v > std::numeric_limits<Index>::max()) return false;
    if (r.ptr < e && !IsBlank(*r.ptr)) return false;
    values->push_back(v);
    p = r.ptr;
  }
  return !values->empty();
}

std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

}  // namespace detail
}  // namespace xmr
