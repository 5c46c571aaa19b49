#include "cli/args.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace xmr::cli {
namespace {

constexpr size_t kHelpIndent = 30;  // column where option descriptions start
constexpr size_t kHelpWidth = 100;  // help lines are wrapped before this column

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Appends `text` to `out`, word-wrapped so that no line passes kHelpWidth; continuation lines
// are indented to kHelpIndent. `col` is the column `out` currently ends at.
void AppendWrapped(std::string* out, size_t col, const std::string& text) {
  size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (!first && col + 1 + word.size() > kHelpWidth) {
      *out += "\n" + std::string(kHelpIndent, ' ');
      col = kHelpIndent;
      first = true;
    }
    if (!first) {
      *out += ' ';
      ++col;
    }
    *out += word;
    col += word.size();
    first = false;
    pos = end + 1;
  }
}

}  // namespace

Args::Args(std::string command, std::string synopsis, std::string summary,
           std::vector<OptionSpec> specs)
    : command_(std::move(command)),
      synopsis_(std::move(synopsis)),
      summary_(std::move(summary)),
      specs_(std::move(specs)) {
  specs_.push_back({"help", "h", "", "print this help and exit", ""});
}

const OptionSpec* Args::Find(const std::string& token) const {
  for (const OptionSpec& s : specs_) {
    if (token == "--" + s.long_name) return &s;
    if (!s.short_name.empty() && token == "-" + s.short_name) return &s;
  }
  return nullptr;
}

bool Args::IsOption(const std::string& token) const {
  return Find(token.substr(0, token.rfind("--", 0) == 0 ? token.find('=') : token.npos)) != nullptr;
}

std::string Args::Suggest(const std::string& token) const {
  if (token.rfind("--", 0) != 0 || token.size() < 4) return "";
  const std::string name = token.substr(2);
  const OptionSpec* best = nullptr;
  size_t best_d = 3;  // suggest only near misses
  for (const OptionSpec& s : specs_) {
    size_t d = EditDistance(name, s.long_name);
    if (s.long_name.rfind(name, 0) == 0) d = std::min<size_t>(d, 1);  // a prefix
    if (d < best_d) {
      best_d = d;
      best = &s;
    }
  }
  return best ? "; did you mean --" + best->long_name + "?" : "";
}

bool Args::Parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    std::string token = argv[i];
    std::string inline_value;
    bool has_inline = false;
    const size_t eq = token.find('=');
    if (token.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = token.substr(eq + 1);
      token = token.substr(0, eq);
      has_inline = true;
    }
    const OptionSpec* spec = Find(token);
    if (spec == nullptr) {
      if (token.size() < 2 || token[0] != '-') {
        throw UsageError("unexpected argument '" + token +
                         "' (options take the form --name VALUE)");
      }
      throw UsageError("unknown option '" + token + "'" + Suggest(token));
    }
    if (spec->long_name == "help") {
      std::fputs(Help().c_str(), stdout);
      return false;
    }
    if (spec->value_name.empty()) {
      if (has_inline) throw UsageError("option --" + spec->long_name + " takes no value");
      values_[spec->long_name] = "1";
      continue;
    }
    if (has_inline) {
      values_[spec->long_name] = inline_value;
      continue;
    }
    // "-d -m model.xmr": the value is missing, rather than a file named "-m".
    if (i + 1 >= argc || IsOption(argv[i + 1])) {
      throw UsageError("option " + token + " needs a value (" + spec->value_name + ")");
    }
    values_[spec->long_name] = argv[++i];
  }
  return true;
}

std::string Args::Help() const {
  std::string out =
      "usage: xmr " + command_ + " " + synopsis_ + "\n\n" + summary_ + "\n\noptions:\n";
  for (const OptionSpec& s : specs_) {
    std::string left = "  ";
    left += s.short_name.empty() ? "    " : "-" + s.short_name + ", ";
    left += "--" + s.long_name;
    if (!s.value_name.empty()) left += " " + s.value_name;
    if (left.size() + 2 <= kHelpIndent)
      left.resize(kHelpIndent, ' ');
    else
      left += "\n" + std::string(kHelpIndent, ' ');
    out += left;
    std::string text = s.help;
    if (!s.default_value.empty()) text += " (default " + s.default_value + ")";
    AppendWrapped(&out, kHelpIndent, text);
    out += "\n";
  }
  return out;
}

std::string Args::Str(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

std::string Args::Required(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw UsageError("missing required option --" + name);
  return it->second;
}

int Args::Int(const std::string& name, int def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || errno != 0 || v < -2147483647L || v > 2147483647L) {
    throw UsageError("--" + name + " expects an integer, got '" + it->second + "'");
  }
  return static_cast<int>(v);
}

std::uint64_t Args::UInt64(const std::string& name, std::uint64_t def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  const std::string& s = it->second;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0) {
    throw UsageError("--" + name + " expects an integer in [0, 2^64), got '" + s + "'");
  }
  return static_cast<std::uint64_t>(v);
}

double Args::Double(const std::string& name, double def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != '\0' || errno != 0 || !std::isfinite(v)) {
    throw UsageError("--" + name + " expects a number, got '" + it->second + "'");
  }
  return v;
}

}  // namespace xmr::cli
