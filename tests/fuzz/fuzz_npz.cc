// Fuzzes the scipy .npz reader (zip container, .npy headers, sparse structure): ReadNpzCsr,
// ReadNpzCsc and ReadMatrix. The first input byte is a mode (see xmr_fuzz::NpzFromInput):
// bit 0 = the rest is the five .npy arrays separated by "\n#XMRPART#\n", packed into a zip with
// correct CRCs by the harness (so mutations of the arrays reach the matrix checks); bit 1 =
// deflate those entries; bit 2 = gzip the whole file. Without bit 0 the rest is the file.
// The file is first read without conversion (detail::ReadNpzSparse); conversions into more than
// 2^24 pointers are skipped (see npz_shape.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "npz_shape.h"
#include "xmr/io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xmr_fuzz::InputFile file("npz");
  if (size == 0) return 0;
  const std::string bytes = xmr_fuzz::NpzFromInput(
      data[0], std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  const std::string& path = file.Write(bytes);
  const xmr_fuzz::NpzShape shape = xmr_fuzz::PeekNpz(path);
  if (!xmr_fuzz::HugeConversion(shape, /*want_csc=*/false)) {
    xmr_fuzz::Guard([&] { xmr_fuzz::CheckCsr("ReadNpzCsr", xmr::ReadNpzCsr(path)); });
    xmr_fuzz::Guard([&] { xmr_fuzz::CheckCsr("ReadMatrix(npz)", xmr::ReadMatrix(path)); });
  }
  if (!xmr_fuzz::HugeConversion(shape, /*want_csc=*/true)) {
    xmr_fuzz::Guard([&] { xmr_fuzz::CheckCsc("ReadNpzCsc", xmr::ReadNpzCsc(path)); });
  }
  return 0;
}
