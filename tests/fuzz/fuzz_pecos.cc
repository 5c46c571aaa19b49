// Fuzzes ImportPecos, the reader of PECOS XR-Linear model folders (param.json files read with
// xmr's JSON parser, W.npz / C.npz per level, cross-file shape checks). The harness exports a
// valid depth-2 folder once per process (pecos_template.h); an input is one or more edits of
// its files, separated by xmr_fuzz::kEditSeparator. An edit's first byte: bits 0-2 = which file
// (xmr_fuzz::kPecosFiles), bit 3 = delete it, bits 4-6 = for .npz files the npz mode of
// xmr_fuzz::NpzFromInput (framed parts, deflate, gzip); the rest is the file's new content.
// Edited files are restored after the run.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "npz_shape.h"
#include "pecos_template.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/predict.h"

namespace {

std::string ReadAll(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

struct Folder {
  std::string dir;
  std::vector<std::string> original;  // bytes of every kPecosFiles entry
  Folder() : dir(xmr_fuzz::TempDir() + "/xmr_fuzz_pecos_" + std::to_string(::getpid())) {
    xmr::ExportPecos(xmr_fuzz::PecosTemplateModel(), dir);
    for (const char* f : xmr_fuzz::kPecosFiles) original.push_back(ReadAll(dir + "/" + f));
  }
  ~Folder() {
    for (const char* f : xmr_fuzz::kPecosFiles) ::unlink((dir + "/" + f).c_str());
    for (const char* d : {"/ranker/0.model", "/ranker/1.model", "/ranker", ""}) {
      ::rmdir((dir + d).c_str());
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Folder folder;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  bool touched[xmr_fuzz::kNumPecosFiles] = {};
  bool skip = false;
  for (const std::string_view edit : xmr_fuzz::SplitParts(input, xmr_fuzz::kEditSeparator)) {
    if (edit.empty()) continue;
    const unsigned char mode = static_cast<unsigned char>(edit[0]);
    const int k = mode & 7;
    const std::string target = folder.dir + "/" + xmr_fuzz::kPecosFiles[k];
    const std::string_view name = xmr_fuzz::kPecosFiles[k];
    const bool npz = name.substr(name.size() - 4) == ".npz";
    touched[k] = true;
    if (mode & 8) {
      ::unlink(target.c_str());
    } else if (npz) {
      const std::string bytes =
          xmr_fuzz::NpzFromInput(static_cast<unsigned char>(mode >> 4), edit.substr(1));
      xmr_fuzz::WriteFileOrDie(target, bytes.data(), bytes.size());
      // W and C are read as CSC; a file stored as CSR with a huge column count makes a
      // legitimately huge conversion (see npz_shape.h): skip the input.
      skip = skip || xmr_fuzz::HugeConversion(xmr_fuzz::PeekNpz(target), /*want_csc=*/true);
    } else {
      xmr_fuzz::WriteFileOrDie(target, edit.data() + 1, edit.size() - 1);
    }
  }
  if (!skip) {
    xmr_fuzz::Guard([&] {
      const xmr::XLinearModel m = xmr::ImportPecos(folder.dir);
      for (int t = 0; t < m.depth(); ++t) xmr_fuzz::CheckCsc("ImportPecos weights", m.Weights(t));
      xmr::CsrMatrix x = xmr::CsrMatrix::Zeros(1, m.n_features());
      xmr::PredictOptions po;
      po.beam_size = 2;
      po.top_k = 3;
      xmr::Context ctx;
      ctx.threads = 1;
      ctx.verbose = 0;
      xmr::Predict(m, x.view(), po, ctx);
    });
  }
  for (int k = 0; k < xmr_fuzz::kNumPecosFiles; ++k) {
    if (!touched[k]) continue;
    const std::string& orig = folder.original[k];
    xmr_fuzz::WriteFileOrDie(folder.dir + "/" + xmr_fuzz::kPecosFiles[k], orig.data(), orig.size());
  }
  return 0;
}
