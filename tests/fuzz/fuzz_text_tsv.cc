// Fuzzes the raw-text readers: ReadTextTsv (labelled TSV: names, ids, header, chosen text
// columns, a given label vocabulary), ReadLabelNames, ReadTextLines and ReadPredictionText
// ("label:score" lines). The input is the file, byte for byte.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_util.h"
#include "xmr/io.h"

namespace {

void CheckTsv(const char* what, const xmr::TextDataset& d, bool named) {
  xmr_fuzz::CheckCsr(what, d.y);
  if (static_cast<std::size_t>(d.y.rows) != d.texts.size()) {
    xmr_fuzz::Finding(std::string(what) + ": y rows != texts");
  }
  if (named && static_cast<std::size_t>(d.y.cols) != d.label_names.size()) {
    xmr_fuzz::Finding(std::string(what) + ": y cols != label names");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xmr_fuzz::InputFile file("text_tsv");
  const std::string& path = file.Write(data, size);
  xmr_fuzz::Guard([&] { CheckTsv("ReadTextTsv", xmr::ReadTextTsv(path), true); });
  xmr_fuzz::Guard([&] {
    xmr::TextTsvOptions o;
    o.label_column = 2;
    o.text_columns = {3, 1, 3};
    o.header = true;
    o.label_ids = true;
    CheckTsv("ReadTextTsv(ids)", xmr::ReadTextTsv(path, o, nullptr, 0), false);
    CheckTsv("ReadTextTsv(ids < 64)", xmr::ReadTextTsv(path, o, nullptr, 64), false);
  });
  std::vector<std::string> names;
  const bool have_names = xmr_fuzz::Guard([&] { names = xmr::ReadLabelNames(path); });
  if (have_names) {
    xmr_fuzz::Guard([&] {
      xmr::TextTsvOptions o;
      o.skip_unknown_labels = true;
      CheckTsv("ReadTextTsv(vocabulary)", xmr::ReadTextTsv(path, o, &names), true);
    });
  }
  xmr_fuzz::Guard([&] { xmr::ReadTextLines(path); });
  xmr_fuzz::Guard([&] {
    xmr_fuzz::CheckCsr("ReadPredictionText", xmr::ReadPredictionText(path), /*sorted=*/false);
  });
  xmr_fuzz::Guard([&] {
    xmr_fuzz::CheckCsr("ReadPredictionText(50)", xmr::ReadPredictionText(path, 50), false);
  });
  return 0;
}
