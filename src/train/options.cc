// Training options: parsing, names, validation and the "key=value" dump stored in the model.
#include <cmath>
#include <sstream>
#include <string>

#include "core/log.h"  // for StrFormat
#include "xmr/error.h"
#include "xmr/predict.h"  // for PostProcessor::Parse (validates post_processor)
#include "xmr/train.h"

namespace xmr {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

[[noreturn]] void BadOption(const char* field, const std::string& value, const char* expected) {
  throw Error(ErrorCode::kInvalidArgument,
              std::string(field) + " must be " + expected + ", got " + value);
}

std::string FloatStr(float v) { return StrFormat("%.9g", static_cast<double>(v)); }

}  // namespace

SolverType ParseSolverType(const std::string& name) {
  const std::string n = Lower(name);
  if (n == "l2-svc" || n == "l2r_l2loss_svc_dual") return SolverType::kL2SvcDual;
  if (n == "l1-svc" || n == "l2r_l1loss_svc_dual") return SolverType::kL1SvcDual;
  if (n == "lr" || n == "l2r_lr_dual") return SolverType::kLrDual;
  throw Error(ErrorCode::kInvalidArgument,
              "solver type must be one of l2-svc, l1-svc, lr (or L2R_L2LOSS_SVC_DUAL, "
              "L2R_L1LOSS_SVC_DUAL, L2R_LR_DUAL); got '" +
                  name + "'");
}

const char* SolverTypeName(SolverType type) noexcept {
  switch (type) {
    case SolverType::kL2SvcDual:
      return "l2-svc";
    case SolverType::kL1SvcDual:
      return "l1-svc";
    case SolverType::kLrDual:
      return "lr";
  }
  return "?";
}

NegativeSampling ParseNegativeSampling(const std::string& name) {
  const std::string n = Lower(name);
  if (n == "tfn") return NegativeSampling::kTfn;
  if (n == "man") return NegativeSampling::kMan;
  if (n == "tfn+man" || n == "man+tfn") return NegativeSampling::kTfnMan;
  throw Error(ErrorCode::kInvalidArgument,
              "negative sampling must be one of tfn, man, tfn+man; got '" + name + "'");
}

const char* NegativeSamplingName(NegativeSampling ns) noexcept {
  switch (ns) {
    case NegativeSampling::kTfn:
      return "tfn";
    case NegativeSampling::kMan:
      return "man";
    case NegativeSampling::kTfnMan:
      return "tfn+man";
  }
  return "?";
}

void SolverOptions::Validate() const {
  // Written as !(v > 0) so that NaN is rejected too.
  if (!(cp > 0) || !std::isfinite(cp)) BadOption("solver.cp", FloatStr(cp), "a finite number > 0");
  if (!(cn > 0) || !std::isfinite(cn)) BadOption("solver.cn", FloatStr(cn), "a finite number > 0");
  if (!(eps > 0) || !std::isfinite(eps)) {
    BadOption("solver.eps", FloatStr(eps), "a finite number > 0");
  }
  if (max_iter < 1) BadOption("solver.max_iter", std::to_string(max_iter), ">= 1");
  if (!(threshold >= 0) || !std::isfinite(threshold)) {
    BadOption("solver.threshold", FloatStr(threshold), "a finite number >= 0");
  }
  if (max_nonzeros_per_label < 0) {
    BadOption("solver.max_nonzeros_per_label", std::to_string(max_nonzeros_per_label),
              ">= 0 (0 = no cap)");
  }
  if (type != SolverType::kL2SvcDual && type != SolverType::kL1SvcDual &&
      type != SolverType::kLrDual) {
    BadOption("solver.type", std::to_string(static_cast<int>(type)), "l2-svc, l1-svc or lr");
  }
}

void TrainOptions::Validate() const {
  indexer.Validate();
  label_embedding.Validate();
  solver.Validate();
  if (!(bias >= 0) || !std::isfinite(bias)) {
    BadOption("bias", FloatStr(bias), "a finite number >= 0 (0 = no bias feature)");
  }
  if (negative_sampling != NegativeSampling::kTfn && negative_sampling != NegativeSampling::kMan &&
      negative_sampling != NegativeSampling::kTfnMan) {
    BadOption("negative_sampling", std::to_string(static_cast<int>(negative_sampling)),
              "tfn, man or tfn+man");
  }
  if (man_beam_size < 1) BadOption("man_beam_size", std::to_string(man_beam_size), ">= 1");
  if (beam_size < 1) BadOption("beam_size", std::to_string(beam_size), ">= 1");
  if (top_k < 1) BadOption("top_k", std::to_string(top_k), ">= 1");
  try {
    PostProcessor::Parse(post_processor);
  } catch (const Error& e) {
    throw Error(ErrorCode::kInvalidArgument, "post_processor: " + e.message());
  }
}

std::string TrainOptions::ToString() const {
  std::ostringstream out;
  out << "nr_splits=" << indexer.nr_splits << "\n"
      << "max_leaf_size=" << indexer.max_leaf_size << "\n"
      << "kmeans_max_iter=" << indexer.kmeans_max_iter << "\n"
      << "spherical=" << (indexer.spherical ? "true" : "false") << "\n"
      << "label_embedding=" << LabelEmbeddingKindName(label_embedding.kind) << "\n"
      << "alpha=" << FloatStr(label_embedding.alpha) << "\n"
      << "solver=" << SolverTypeName(solver.type) << "\n"
      << "cp=" << FloatStr(solver.cp) << "\n"
      << "cn=" << FloatStr(solver.cn) << "\n"
      << "eps=" << FloatStr(solver.eps) << "\n"
      << "max_iter=" << solver.max_iter << "\n"
      << "threshold=" << FloatStr(solver.threshold) << "\n"
      << "max_nonzeros_per_label=" << solver.max_nonzeros_per_label << "\n"
      << "bias=" << FloatStr(bias) << "\n"
      << "negative_sampling=" << NegativeSamplingName(negative_sampling) << "\n"
      << "man_beam_size=" << man_beam_size << "\n"
      << "post_processor=" << post_processor << "\n"
      << "beam_size=" << beam_size << "\n"
      << "top_k=" << top_k << "\n";
  return out.str();
}

}  // namespace xmr
