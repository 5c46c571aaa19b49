// PostProcessor names. Lives in xmr_model (not xmr_infer) because model files and PECOS folders
// store the name and are validated when loaded.
#include <string>

#include "xmr/error.h"
#include "xmr/predict.h"

namespace xmr {

PostProcessor PostProcessor::Parse(const std::string& name) {
  PostProcessor pp;
  if (name == "noop") {
    pp.kind = Kind::kNoop;
    return pp;
  }
  if (name == "sigmoid") {
    pp.kind = Kind::kSigmoid;
    return pp;
  }
  if (name == "log-sigmoid") {
    pp.kind = Kind::kLogSigmoid;
    return pp;
  }
  // "lP-hinge" / "log-lP-hinge" with a single digit P in 1..4.
  const bool is_log = name.rfind("log-", 0) == 0;
  const std::string rest = is_log ? name.substr(4) : name;
  if (rest.size() == 8 && rest[0] == 'l' && rest[1] >= '1' && rest[1] <= '4' &&
      rest.compare(2, 6, "-hinge") == 0) {
    pp.kind = is_log ? Kind::kLogHinge : Kind::kHinge;
    pp.power = rest[1] - '0';
    return pp;
  }
  throw Error(ErrorCode::kInvalidArgument,
              "unknown post-processor '" + name +
                  "'; valid: noop, sigmoid, log-sigmoid, l1-hinge, l2-hinge, l3-hinge, l4-hinge, "
                  "log-l1-hinge, log-l2-hinge, log-l3-hinge, log-l4-hinge");
}

std::string PostProcessor::Name() const {
  switch (kind) {
    case Kind::kNoop:
      return "noop";
    case Kind::kSigmoid:
      return "sigmoid";
    case Kind::kLogSigmoid:
      return "log-sigmoid";
    case Kind::kHinge:
      return "l" + std::to_string(power) + "-hinge";
    case Kind::kLogHinge:
      return "log-l" + std::to_string(power) + "-hinge";
  }
  return "?";
}

}  // namespace xmr
