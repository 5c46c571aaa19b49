// Small text helpers shared by the QAC sources (internal).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace xmr {
namespace qac_internal {

/// ASCII blanks: space, \t, \n, \v, \f, \r.
inline bool IsBlank(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/// Appends the words of `s` (maximal runs of non-blank bytes) to *out, in order.
inline void SplitWords(std::string_view s, std::vector<std::string_view>* out) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    while (i < n && IsBlank(s[i])) ++i;
    const std::size_t start = i;
    while (i < n && !IsBlank(s[i])) ++i;
    if (i > start) out->push_back(s.substr(start, i - start));
  }
}

/// True for a byte that starts a UTF-8 sequence (not a continuation byte 10xxxxxx).
inline bool IsLeadByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

/// Number of code points of valid UTF-8 text.
inline std::size_t CountCodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += IsLeadByte(c);
  return n;
}

}  // namespace qac_internal
}  // namespace xmr
