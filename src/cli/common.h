// Helpers shared by the xmr subcommands (main.cc: vectors, models, data; text.cc: raw text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/args.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/train.h"

namespace xmr::cli {

/// The running subcommand, for one-line messages.
extern const char* g_command;

bool EndsWith(const std::string& s, const std::string& suffix);
[[noreturn]] void IoFail(const std::string& msg);
/// Fail early (before expensive work) with Error(kIoError) naming the path.
void CheckInputFile(const std::string& path);
void CheckOutputFile(const std::string& path);  ///< "-" (stdout) passes
void CheckOutputDir(const std::string& path);

/// Typed option values with range checks; UsageError names the flag.
int IntAtLeast(const Args& args, const std::string& name, int def, int min);
float FloatOpt(const Args& args, const std::string& name, float def, bool positive);
/// Runs f(); an Error(kInvalidArgument) from it (a bad option value) becomes a UsageError.
template <typename F>
auto AsUsage(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kInvalidArgument) throw UsageError(e.message());
    throw;
  }
}
std::string CheckedPostProcessor(const std::string& name);

std::vector<OptionSpec> CommonOptions();  ///< --threads, --quiet, --verbose
std::vector<OptionSpec> Concat(std::vector<OptionSpec> a, const std::vector<OptionSpec>& b);
Context MakeContext(const Args& args);

/// Flushes stdout; Error(kIoError) on a write error.
void CheckStdout();
/// The P/R/nDCG/MRR table and summary line on stdout.
void PrintMetrics(const RankingMetrics& m);

/// Training options (tree, solver, label embedding, model defaults) and their parsing.
std::vector<OptionSpec> TrainOptionSpecs();
TrainOptions ParseTrainOptions(const Args& args);
/// The "done: ..." line after training.
void LogTrained(const Context& ctx, const XLinearModel& model, const std::string& model_path,
                double train_s, double total_s);

// ----- text.cc -----
/// Appends `s` as a JSON string literal; bytes that are not valid UTF-8 become U+FFFD.
void AppendJsonString(std::string* out, std::string_view s);
/// Options of 'xmr train --text' (input layout and featurisation).
std::vector<OptionSpec> TextTrainOptionSpecs();
/// 'xmr train --text FILE ...'. Returns the exit status.
int TrainFromText(const Args& args, const TrainOptions& opts, const Context& ctx);
/// Options of 'xmr predict --text / --text-tsv' and 'xmr serve'.
std::vector<OptionSpec> TextPredictOptionSpecs();
/// 'xmr predict -m MODEL --text FILE | --text-tsv FILE ...'.
int PredictFromText(const Args& args, const Context& ctx);
/// 'xmr serve --stdin'.
int CmdServe(int argc, char** argv);

// ----- qac.cc -----
int CmdQacTrain(int argc, char** argv);
int CmdQac(int argc, char** argv);

}  // namespace xmr::cli
