// A small command-line parser for the xmr subcommands: "--name value", "--name=value", "-n value"
// and boolean "--flag". Unknown options, stray arguments, missing values and malformed numbers
// are usage errors (exit status 2).
#pragma once

#include <cstdint>
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
  std::string long_name;      ///< without "--"
  std::string short_name;     ///< without "-", may be empty
  std::string value_name;     ///< empty for boolean flags
  std::string help;           ///< one sentence; wrapped to the terminal width by Help()
  std::string default_value;  ///< shown in --help as "(default ...)"
};

class Args {
 public:
  /// `synopsis`: the usage line after "xmr <command> " (e.g. "-d FILE -m MODEL [options]").
  Args(std::string command, std::string synopsis, std::string summary,
       std::vector<OptionSpec> specs);
  /// Parses argv[first..argc). Returns false if --help was given (help already printed).
  /// @throws UsageError on an unknown option, a stray argument or a missing value.
  bool Parse(int argc, char** argv, int first);
  std::string Help() const;

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  std::string Str(const std::string& name, const std::string& def = "") const;
  /// Typed getters: `def` when the option was not given; UsageError when its value is not a
  /// number of the type (trailing garbage, out of range, a sign on an unsigned value).
  int Int(const std::string& name, int def) const;
  std::uint64_t UInt64(const std::string& name, std::uint64_t def) const;
  double Double(const std::string& name, double def) const;
  bool Flag(const std::string& name) const { return Has(name); }
  /// Throws UsageError unless the option was given.
  std::string Required(const std::string& name) const;

 private:
  const OptionSpec* Find(const std::string& token) const;
  /// True if `token` (or its "--name" part before '=') names one of this command's options.
  bool IsOption(const std::string& token) const;
  /// "; did you mean --name?" for a near miss of a long option, else "".
  std::string Suggest(const std::string& token) const;
  std::string command_, synopsis_, summary_;
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::string> values_;
};

}  // namespace xmr::cli
