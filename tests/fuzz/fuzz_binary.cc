// Fuzzes ReadBinaryCsr, the reader of xmr's binary matrix format (.xmb). The first input byte
// is a mode: bit 0 = recompute the header and payload CRC-32s (so mutations reach the shape and
// structure checks), bit 1 = gzip the file (the reader accepts compressed input, where the file
// size says nothing about the payload). The rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "xmr/io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xmr_fuzz::InputFile file("binary");
  if (size == 0) return 0;
  const unsigned char mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode & 1) xmr_fuzz::FixXmbCrcs(&bytes);
  if (mode & 2) bytes = xmr_fuzz::Gzip(bytes);
  const std::string& path = file.Write(bytes);
  xmr_fuzz::Guard([&] { xmr_fuzz::CheckCsr("ReadBinaryCsr", xmr::ReadBinaryCsr(path)); });
  return 0;
}
