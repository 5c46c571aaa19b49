// Fuzzes TextVectorizer::Deserialize, the text form of a fitted TF-IDF vectorizer (options,
// vocabularies, idf) stored in text and QAC model files. The input is the serialised string.
// A vectorizer that loads must serialise to a string that loads to the same serialisation,
// and must transform text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "xmr/text.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  xmr_fuzz::Guard([&] {
    const xmr::TextVectorizer v = xmr::TextVectorizer::Deserialize(s);
    const std::string again = v.Serialize();
    std::string third;
    if (!xmr_fuzz::Guard([&] { third = xmr::TextVectorizer::Deserialize(again).Serialize(); })) {
      xmr_fuzz::Finding("Deserialize rejects what Serialize wrote");
    }
    if (third != again) xmr_fuzz::Finding("Serialize/Deserialize round trip differs");
    xmr::Context ctx;
    ctx.threads = 1;
    ctx.verbose = 0;
    const xmr::CsrMatrix x =
        v.Transform({"", "echo with screen", "Ünïcödé wörds, c++ x86_64", "a b c d e f g h"}, ctx);
    xmr_fuzz::CheckCsr("Transform", x);
    if (x.cols != v.n_features()) xmr_fuzz::Finding("Transform: cols != n_features");
    if (v.n_features() > 0) {
      v.FeatureName(0);
      v.FeatureName(v.n_features() - 1);
    }
  });
  return 0;
}
