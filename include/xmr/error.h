// Error handling for xmr: every failure is an exception of type xmr::Error that carries a
// leveldb-style code and a one-line message. Messages about input data name the file, the line
// (1-based) and the field that was wrong, and what was expected.
#pragma once

#include <stdexcept>
#include <string>

namespace xmr {

/// Broad classes of failure. A CLI maps any Error to exit status 1 (2 for usage errors).
enum class ErrorCode {
  kInvalidArgument,  ///< bad option value or shape mismatch in an API call
  kIoError,          ///< a file could not be opened, read, written or renamed
  kCorruption,       ///< malformed input data or a damaged model file
  kNotSupported,     ///< feature not compiled in or not available (e.g. device=cuda, no GPU)
  kOutOfMemory,      ///< an allocation (host or device) failed; message says how much
  kCuda,             ///< a CUDA / cuSPARSE call failed
  kInternal,         ///< a broken invariant inside xmr (a bug)
};

/// Short name of a code ("InvalidArgument", "IoError", ...).
const char* ErrorCodeName(ErrorCode code) noexcept;

/// The exception type thrown by every xmr function. what() is "<CodeName>: <message>".
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message);
  ErrorCode code() const noexcept { return code_; }
  /// The message without the code prefix.
  const std::string& message() const noexcept { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

/// Throws Error(code, msg) unless cond holds. `msg` may be any expression convertible to
/// std::string; it is evaluated only on failure.
#define XMR_EXPECTS(cond, code, msg)                \
  do {                                              \
    if (!(cond)) throw ::xmr::Error((code), (msg)); \
  } while (0)

/// Internal invariant check: throws Error(kInternal) naming file and line.
#define XMR_CHECK(cond)                                                                       \
  do {                                                                                        \
    if (!(cond))                                                                              \
      throw ::xmr::Error(                                                                     \
          ::xmr::ErrorCode::kInternal,                                                        \
          std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": check failed: " #cond); \
  } while (0)

}  // namespace xmr
