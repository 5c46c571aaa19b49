#include "xmr/error.h"

namespace xmr {

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "InvalidArgument";
    case ErrorCode::kIoError:
      return "IoError";
    case ErrorCode::kCorruption:
      return "Corruption";
    case ErrorCode::kNotSupported:
      return "NotSupported";
    case ErrorCode::kOutOfMemory:
      return "OutOfMemory";
    case ErrorCode::kCuda:
      return "Cuda";
    case ErrorCode::kInternal:
      return "Internal";
  }
  return "Unknown";
}

Error::Error(ErrorCode code, const std::string& message)
    : std::runtime_error(std::string(ErrorCodeName(code)) + ": " + message),
      code_(code),
      message_(message) {}

}  // namespace xmr
