// Fuzzes the svmlight / libsvm multi-label reader: ReadDataFile with TextFormat::kSvmLight
// ("l1,l2 f:v ..." rows, '#' comments), once with automatic dimensions and feature base and
// once with declared dimensions and 1-based ids. kAuto is also tried (header sniffing). The
// input is the file, byte for byte.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "xmr/io.h"

namespace {

void Read(const std::string& path, const xmr::ReadOptions& opts, const char* what) {
  xmr_fuzz::Guard([&] {
    const xmr::Dataset d = xmr::ReadDataFile(path, opts);
    xmr_fuzz::CheckCsr(what, d.x);
    xmr_fuzz::CheckCsr(what, d.y);
    if (d.x.rows != d.y.rows) xmr_fuzz::Finding(std::string(what) + ": x and y rows differ");
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xmr_fuzz::InputFile file("libsvm");
  const std::string& path = file.Write(data, size);
  xmr::ReadOptions opts;
  opts.format = xmr::TextFormat::kSvmLight;
  Read(path, opts, "ReadDataFile(svmlight, auto)");
  opts.n_features = 2000;
  opts.n_labels = 200;
  opts.feature_base = 1;
  Read(path, opts, "ReadDataFile(svmlight, 1-based, 2000 x 200)");
  Read(path, xmr::ReadOptions{}, "ReadDataFile(auto)");
  return 0;
}
