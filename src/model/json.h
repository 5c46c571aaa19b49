// A small JSON reader/writer for PECOS's param.json files (internal). Supports objects (key
// order kept), arrays, strings (with \u escapes, emitted as UTF-8), numbers, true/false/null.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xmr {
namespace detail {
namespace json {

class Value {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };

  Value() = default;  ///< null
  static Value Bool(bool b);
  static Value Int(std::int64_t v);
  /// Written with the fewest digits that read back to the same float ("1.0", "0.1").
  static Value Float(float v);
  static Value Double(double v);
  static Value String(std::string s);
  static Value Array();
  static Value Object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return bool_; }
  double number() const { return number_; }
  /// True if the number was written without fraction or exponent.
  bool is_integer() const { return is_integer_; }
  const std::string& str() const { return text_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }

  /// Member of an object, or nullptr (also for non-objects).
  const Value* Find(const std::string& key) const;
  /// Appends to an array / sets (replaces or appends) a member of an object; returns *this.
  Value& Push(Value v);
  Value& Set(const std::string& key, Value v);

 private:
  friend class Parser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  bool is_integer_ = false;
  std::string text_;  // string value, or the number's text
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

/// Parses a JSON document (one value, surrounded by optional whitespace). `name` prefixes
/// error messages.
/// @throws Error(kCorruption) "<name>: line L, column C: <what>".
Value Parse(const std::string& text, const std::string& name);

/// Serialises with `indent` spaces per level (0 = one line), like Python's json.dumps.
std::string Write(const Value& v, int indent = 1);
/// Appends `s` as a JSON string literal (quotes, backslashes and control characters escaped;
/// other bytes copied as they are, so `s` should be valid UTF-8).
void AppendString(std::string_view s, std::string* out);

}  // namespace json
}  // namespace detail
}  // namespace xmr
