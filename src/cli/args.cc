#include "cli/args.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace xmr::cli {

Args::Args(std::string command, std::string summary, std::vector<OptionSpec> specs)
    : command_(std::move(command)), summary_(std::move(summary)), specs_(std::move(specs)) {
  specs_.push_back({"help", "h", "", "print this help and exit", ""});
}

const OptionSpec* Args::Find(const std::string& token) const {
  for (const OptionSpec& s : specs_) {
    if (token == "--" + s.long_name) return &s;
    if (!s.short_name.empty() && token == "-" + s.short_name) return &s;
  }
  return nullptr;
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
      throw UsageError("unknown option '" + token + "' for 'xmr " + command_ + "'");
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
    } else {
      if (i + 1 >= argc) {
        throw UsageError("option " + token + " needs a value (" + spec->value_name + ")");
      }
      values_[spec->long_name] = argv[++i];
    }
  }
  return true;
}

std::string Args::Help() const {
  std::string out = "usage: xmr " + command_ + " [options]\n\n" + summary_ + "\n\noptions:\n";
  for (const OptionSpec& s : specs_) {
    std::string left = "  ";
    left += s.short_name.empty() ? "    " : "-" + s.short_name + ", ";
    left += "--" + s.long_name;
    if (!s.value_name.empty()) left += " " + s.value_name;
    if (left.size() < 30)
      left.resize(30, ' ');
    else
      left += "\n" + std::string(30, ' ');
    out += left + s.help;
    if (!s.default_value.empty()) out += " (default " + s.default_value + ")";
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

double Args::Double(const std::string& name, double def) const {
  auto it = values_.find(name);
  if (it == values_.end()) return def;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != '\0' || errno != 0) {
    throw UsageError("--" + name + " expects a number, got '" + it->second + "'");
  }
  return v;
}

}  // namespace xmr::cli
