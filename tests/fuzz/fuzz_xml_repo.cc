// Fuzzes the XMLRepository reader: ReadDataFile with TextFormat::kXmlRepo ("N D L" header, then
// "l1,l2 f:v ..." rows), and ReadMatrix, which sniffs the content and reads single-matrix text
// ("rows cols" header), .npz or .xmb. The input is the file, byte for byte.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "xmr/io.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xmr_fuzz::InputFile file("xml_repo");
  const std::string& path = file.Write(data, size);
  xmr_fuzz::Guard([&] {
    xmr::ReadOptions opts;
    opts.format = xmr::TextFormat::kXmlRepo;
    const xmr::Dataset d = xmr::ReadDataFile(path, opts);
    xmr_fuzz::CheckCsr("ReadDataFile(xml) x", d.x);
    xmr_fuzz::CheckCsr("ReadDataFile(xml) y", d.y);
    if (d.x.rows != d.y.rows) xmr_fuzz::Finding("ReadDataFile(xml): x and y row counts differ");
  });
  xmr_fuzz::Guard([&] { xmr_fuzz::CheckCsr("ReadMatrix", xmr::ReadMatrix(path)); });
  return 0;
}
