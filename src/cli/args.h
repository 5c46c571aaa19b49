// A small command-line parser for the xmr subcommands: "--name value", "--name=value", "-n value"
// and boolean "--flag". Unknown options and missing values are usage errors (exit status 2).
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace xmr::cli {

/// Thrown for bad command lines; main prints it with the subcommand's usage hint, exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string long_name;   ///< without "--"
  std::string short_name;  ///< without "-", may be empty
  std::string value_name;  ///< empty for boolean flags
  std::string help;
  std::string default_value;  ///< shown in --help
};

class Args {
 public:
  Args(std::string command, std::string summary, std::vector<OptionSpec> specs);
  /// Parses argv[first..argc). Returns false if --help was given (help already printed).
  bool Parse(int argc, char** argv, int first);
  std::string Help() const;

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Str(const std::string& name, const std::string& def = "") const;
  int Int(const std::string& name, int def) const;
  double Double(const std::string& name, double def) const;
  bool Flag(const std::string& name) const { return Has(name); }
  /// Throws UsageError unless the option was given.
  std::string Required(const std::string& name) const;

 private:
  const OptionSpec* Find(const std::string& token) const;
  std::string command_, summary_;
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace xmr::cli
