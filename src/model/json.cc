#include "model/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/log.h"  // for StrFormat
#include "core/utf8.h"
#include "xmr/error.h"

namespace xmr {
namespace detail {
namespace json {

Value Value::Bool(bool b) {
  Value v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

Value Value::Int(std::int64_t i) {
  Value v;
  v.type_ = Type::kNumber;
  v.number_ = static_cast<double>(i);
  v.is_integer_ = true;
  v.text_ = std::to_string(i);
  return v;
}

namespace {
// Shortest "%.*g" text that reads back to `v` at the given precision (float or double), with
// ".0" appended to integral values so that they stay floats for Python.
template <typename T>
std::string ShortestText(T v, int max_digits) {
  char buf[64];
  for (int p = 1; p <= max_digits; ++p) {
    std::snprintf(buf, sizeof(buf), "%.*g", p, static_cast<double>(v));
    if (static_cast<T>(std::strtod(buf, nullptr)) == v) break;
  }
  std::string s(buf);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

Value Value::Float(float f) {
  Value v;
  v.type_ = Type::kNumber;
  v.number_ = f;
  v.text_ = std::isfinite(f) ? ShortestText<float>(f, 9) : "null";
  return v;
}

Value Value::Double(double d) {
  Value v;
  v.type_ = Type::kNumber;
  v.number_ = d;
  v.text_ = std::isfinite(d) ? ShortestText<double>(d, 17) : "null";
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

Value Value::Array() {
  Value v;
  v.type_ = Type::kArray;
  return v;
}

Value Value::Object() {
  Value v;
  v.type_ = Type::kObject;
  return v;
}

const Value* Value::Find(const std::string& key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

Value& Value::Push(Value v) {
  items_.push_back(std::move(v));
  return *this;
}

Value& Value::Set(const std::string& key, Value v) {
  for (auto& m : members_) {
    if (m.first == key) {
      m.second = std::move(v);
      return *this;
    }
  }
  members_.emplace_back(key, std::move(v));
  return *this;
}

class Parser {
 public:
  Parser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  Value ParseDocument() {
    SkipSpace();
    Value v = ParseValue(0);
    SkipSpace();
    if (pos_ != s_.size()) Fail("unexpected text after the JSON value");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 200;

  [[noreturn]] void Fail(const std::string& what) const {
    int line = 1, col = 1;
    for (std::size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw Error(ErrorCode::kCorruption,
                StrFormat("%s: line %d, column %d: %s", name_.c_str(), line, col, what.c_str()));
  }

  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool Consume(const char* word) {
    std::size_t n = 0;
    while (word[n] != '\0') ++n;
    if (s_.compare(pos_, n, word) != 0) return false;
    pos_ += n;
    return true;
  }

  Value ParseValue(int depth) {
    if (depth > kMaxDepth) Fail("nesting too deep");
    if (pos_ >= s_.size()) Fail("unexpected end of input");
    const char c = s_[pos_];
    if (c == '{') return ParseObject(depth);
    if (c == '[') return ParseArray(depth);
    if (c == '"') return Value::String(ParseString());
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    if (Consume("true")) return Value::Bool(true);
    if (Consume("false")) return Value::Bool(false);
    if (Consume("null")) return Value();
    Fail(std::string("unexpected character '") + c + "'");
  }

  Value ParseObject(int depth) {
    Value v = Value::Object();
    ++pos_;  // {
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return v;
    }
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') Fail("expected a string key");
      std::string key = ParseString();
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') Fail("expected ':'");
      ++pos_;
      SkipSpace();
      Value member = ParseValue(depth + 1);
      v.Set(key, std::move(member));  // a repeated key keeps the last value, as Python does
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return v;
      }
      Fail("expected ',' or '}'");
    }
  }

  Value ParseArray(int depth) {
    Value v = Value::Array();
    ++pos_;  // [
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return v;
    }
    while (true) {
      SkipSpace();
      v.Push(ParseValue(depth + 1));
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return v;
      }
      Fail("expected ',' or ']'");
    }
  }

  unsigned ParseHex4() {
    if (pos_ + 4 > s_.size()) Fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        Fail("bad hex digit in \\u escape");
      }
    }
    return v;
  }

  std::string ParseString() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) Fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) Fail("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) Fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          unsigned cp = ParseHex4();
          if (cp >= 0xD800 && cp < 0xDC00) {
            if (!Consume("\\u")) Fail("unpaired surrogate in \\u escape");
            const unsigned lo = ParseHex4();
            if (lo < 0xDC00 || lo >= 0xE000) Fail("bad low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            Fail("unpaired surrogate in \\u escape");
          }
          AppendUtf8(cp, &out);
          break;
        }
        default:
          Fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  Value ParseNumber() {
    const std::size_t start = pos_;
    bool integer = true;
    if (s_[pos_] == '-') ++pos_;
    auto digits = [&]() {
      const std::size_t d0 = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d0;
    };
    const std::size_t int_start = pos_;
    if (digits() == 0) Fail("bad number");
    if (s_[int_start] == '0' && pos_ - int_start > 1) Fail("bad number (leading zero)");
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integer = false;
      ++pos_;
      if (digits() == 0) Fail("bad number (no digits after '.')");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integer = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) Fail("bad number (no exponent digits)");
    }
    Value v;
    v.type_ = Value::Type::kNumber;
    v.text_ = s_.substr(start, pos_ - start);
    v.number_ = std::strtod(v.text_.c_str(), nullptr);
    v.is_integer_ = integer;
    if (!std::isfinite(v.number_)) Fail("number out of range");
    return v;
  }

  const std::string& s_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

Value Parse(const std::string& text, const std::string& name) {
  return Parser(text, name).ParseDocument();
}

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          *out += StrFormat("\\u%04x", c);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

namespace {

void WriteValue(const Value& v, int indent, int level, std::string* out) {
  auto newline = [&](int lv) {
    if (indent <= 0) return;
    out->push_back('\n');
    out->append(static_cast<std::size_t>(indent) * lv, ' ');
  };
  const char* sep = indent > 0 ? "," : ", ";
  switch (v.type()) {
    case Value::Type::kNull:
      *out += "null";
      break;
    case Value::Type::kBool:
      *out += v.bool_value() ? "true" : "false";
      break;
    case Value::Type::kNumber:
      *out += v.str();
      break;
    case Value::Type::kString:
      AppendString(v.str(), out);
      break;
    case Value::Type::kArray:
      if (v.items().empty()) {
        *out += "[]";
        break;
      }
      out->push_back('[');
      for (std::size_t i = 0; i < v.items().size(); ++i) {
        if (i > 0) *out += sep;
        newline(level + 1);
        WriteValue(v.items()[i], indent, level + 1, out);
      }
      newline(level);
      out->push_back(']');
      break;
    case Value::Type::kObject:
      if (v.members().empty()) {
        *out += "{}";
        break;
      }
      out->push_back('{');
      for (std::size_t i = 0; i < v.members().size(); ++i) {
        if (i > 0) *out += sep;
        newline(level + 1);
        AppendString(v.members()[i].first, out);
        *out += ": ";
        WriteValue(v.members()[i].second, indent, level + 1, out);
      }
      newline(level);
      out->push_back('}');
      break;
  }
}

}  // namespace

std::string Write(const Value& v, int indent) {
  std::string out;
  WriteValue(v, indent, 0, &out);
  return out;
}

}  // namespace json
}  // namespace detail
}  // namespace xmr
