// numpy .npy arrays inside zip entries (internal to src/io; the model module may use it).
//
// Format (numpy's NEP 1): magic "\x93NUMPY", major/minor version bytes, header length
// (uint16 LE for v1, uint32 LE for v2/v3), then a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (16,), }
// padded with spaces and ended by '\n', then the raw array data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "io/zip.h"

namespace xmr {
namespace detail {

/// Parsed header of a .npy array.
struct NpyHeader {
  std::string descr;  ///< as written, e.g. "<f4", "|b1", "<U3"
  char kind = 0;      ///< 'b' bool, 'i' signed, 'u' unsigned, 'f' float, 'S' bytes, 'U' UTF-32
  int itemsize = 0;   ///< bytes per element
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;  ///< empty for a 0-d array
  std::int64_t count = 1;           ///< product of shape
};

/// Reads and parses the header at the start of `in`. `where` names the entry in messages.
/// @throws Error(kCorruption) on a bad magic, version, dict or dtype.
NpyHeader ReadNpyHeader(ZipEntryReader* in);

/// Reads the data of a 1-d numeric array into `out` (count elements), converting from any
/// bool/int/uint dtype. Values that do not fit T throw Error(kCorruption) naming `what`.
void ReadNpyIntegers(ZipEntryReader* in, const NpyHeader& h, const char* what,
                     std::vector<std::int32_t>* out);
void ReadNpyIntegers(ZipEntryReader* in, const NpyHeader& h, const char* what,
                     std::vector<std::int64_t>* out);
/// Reads a 1-d numeric array as float32 (from float16/32/64, ints or bool). NaN/Inf and
/// float64 values beyond the float32 range throw Error(kCorruption).
void ReadNpyFloats(ZipEntryReader* in, const NpyHeader& h, const char* what,
                   std::vector<float>* out);
/// Reads a 0-d or 1-element string array ('S' or 'U' dtype) as ASCII, trailing NULs removed.
std::string ReadNpyString(ZipEntryReader* in, const NpyHeader& h, const char* what);

/// The .npy preamble (magic, version 1.0, dict padded so that data starts at a multiple of 64)
/// for a C-order array of dtype `descr` and `shape`.
std::string MakeNpyHeader(std::string_view descr, const std::vector<std::int64_t>& shape);

}  // namespace detail
}  // namespace xmr
