// Writes the seed inputs that only the library itself can produce (a tiny model file, text and
// QAC model files, binary matrices, vectorizer serialisations, an exported PECOS folder, npz
// files re-framed for the fuzzers' framed modes) into OUT_DIR/<target>/. make_seeds.sh adds
// seeds cut from the data files. Not a fuzz target: a plain program built in the fuzz build.
//
//   make_seeds OUT_DIR SOURCE_DIR
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "io/zip.h"  // to re-frame the entries of the fixture .npz files
#include "pecos_template.h"
#include "xmr/context.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/qac.h"
#include "xmr/qac_model.h"
#include "xmr/text.h"
#include "xmr/text_model.h"

namespace {

std::string g_out;
int g_count = 0;

std::string ReadAll(const std::string& path) {
  std::string out;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "make_seeds: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

void MkDir(const std::string& d) { ::mkdir(d.c_str(), 0755); }

void Seed(const std::string& target, const std::string& name, const std::string& bytes) {
  MkDir(g_out + "/" + target);
  xmr_fuzz::WriteFileOrDie(g_out + "/" + target + "/" + name, bytes.data(), bytes.size());
  ++g_count;
}

std::string Mode(unsigned char m, const std::string& rest) {
  return std::string(1, static_cast<char>(m)) + rest;
}

xmr::Context Quiet() {
  xmr::Context ctx;
  ctx.threads = 1;
  ctx.verbose = 0;
  return ctx;
}

// The .npy entries of an .npz in framed-parts form (see xmr_fuzz::BuildNpz).
std::string FramedNpz(const std::string& path) {
  xmr::detail::ZipReader zip(path);
  std::string out;
  for (int i = 0; i < 5; ++i) {
    const xmr::detail::ZipEntry* e = zip.Find(xmr_fuzz::kNpzEntryNames[i]);
    if (e == nullptr) throw std::runtime_error(path + ": missing entry");
    xmr::detail::ZipEntryReader r = zip.Open(*e);
    std::string bytes(static_cast<std::size_t>(r.remaining()), '\0');
    r.Read(bytes.data(), bytes.size());
    if (i > 0) out += xmr_fuzz::kPartSeparator;
    out += bytes;
  }
  return out;
}

xmr::CsrMatrix SmallCsr() {
  return xmr::CsrMatrix{
      4, 7, {0, 2, 2, 5, 6}, {1, 4, 0, 3, 6, 2}, {1.f, -2.5f, .5f, 3.f, 1e-3f, 7.f}};
}

const std::vector<std::string>& Corpus() {
  static const std::vector<std::string> c = {
      "echo with screen",     "terminal screen multiplexer", "echo server network",
      "network file sharing", "screen capture tool",         "file manager with tabs",
      "audio player",         "video player with subtitles", "audio codec library",
      "c++ compiler",         "python interpreter",          "compiler for rust"};
  return c;
}

void BinarySeeds(const std::string& tmp) {
  int i = 0;
  for (const xmr::CsrMatrix& m :
       {SmallCsr(), xmr::CsrMatrix::Zeros(0, 0), xmr::CsrMatrix::Zeros(3, 5)}) {
    xmr::WriteBinary(tmp, m.view());
    const std::string f = ReadAll(tmp);
    Seed("fuzz_binary", "lib_" + std::to_string(i) + "_fixcrc", Mode(1, f));
    Seed("fuzz_binary", "lib_" + std::to_string(i) + "_raw", Mode(0, f));
    Seed("fuzz_binary", "lib_" + std::to_string(i) + "_gz", Mode(3, f));
    ++i;
  }
}

void NpzSeeds(const std::string& src, const std::string& tmp) {
  const std::string fixture = src + "/tests/data/pecos-xlinear-tst/";
  for (const char* name : {"X.npz", "Y.npz", "L.pifa.npz", "P_nr_splits=2.npz"}) {
    const std::string raw = ReadAll(fixture + name);
    Seed("fuzz_npz", std::string("fixture_") + name + "_raw", Mode(0, raw));
    const std::string framed = FramedNpz(fixture + name);
    Seed("fuzz_npz", std::string("fixture_") + name + "_parts", Mode(1, framed));
    Seed("fuzz_npz", std::string("fixture_") + name + "_parts_deflate", Mode(3, framed));
  }
  xmr::WriteNpz(tmp, SmallCsr().view(), /*compressed=*/true);
  Seed("fuzz_npz", "lib_csr_deflate_raw", Mode(0, ReadAll(tmp)));
  xmr::WriteNpz(tmp, xmr::CsrToCsc(SmallCsr().view()).view());
  Seed("fuzz_npz", "lib_csc_raw", Mode(0, ReadAll(tmp)));
  Seed("fuzz_npz", "lib_csc_parts", Mode(1, FramedNpz(tmp)));
  Seed("fuzz_npz", "lib_csc_parts_gz", Mode(5, FramedNpz(tmp)));
  xmr::WriteNpz(tmp, xmr::CsrMatrix::Zeros(2, 3).view());
  Seed("fuzz_npz", "lib_empty_parts", Mode(1, FramedNpz(tmp)));
}

void VocabSeeds(std::vector<std::string>* serialised) {
  const xmr::Context ctx = Quiet();
  xmr::TextVectorizerOptions o;
  serialised->push_back(xmr::TextVectorizer::Fit(Corpus(), o, ctx).Serialize());
  xmr::BaseVectorizerOptions ch;
  ch.analyzer = xmr::Analyzer::kChar;
  ch.ngram_min = 1;
  ch.ngram_max = 3;
  ch.sublinear_tf = true;
  ch.max_features = 40;
  xmr::BaseVectorizerOptions wb;
  wb.analyzer = xmr::Analyzer::kCharWb;
  wb.ngram_min = 2;
  wb.ngram_max = 4;
  wb.position_decay = 1.0;
  wb.binary = true;
  o.bases = {ch, wb};
  o.invalid_utf8 = xmr::TextVectorizerOptions::InvalidUtf8::kReplace;
  serialised->push_back(xmr::TextVectorizer::Fit(Corpus(), o, ctx).Serialize());
  try {
    xmr::TextVectorizerOptions u;
    u.case_mapping = xmr::TextVectorizerOptions::CaseMapping::kUnicode;
    u.tokenizer = xmr::TextVectorizerOptions::Tokenizer::kUnicodeWord;
    serialised->push_back(xmr::TextVectorizer::Fit(Corpus(), u, ctx).Serialize());
  } catch (const xmr::Error&) {
    // no C.UTF-8 locale here
  }
  // The oldest format, without case_mapping / tokenizer lines.
  serialised->push_back(
      "xmr-tfidf 1\nlowercase 1\ninvalid_utf8 error\nbases 1\n"
      "base word 1 2 1 1 0 0 0 1 1 0 3\n1.5\techo\n1.25\techo with\n2\tscreen\n");
  for (std::size_t i = 0; i < serialised->size(); ++i) {
    Seed("fuzz_vocab", "lib_" + std::to_string(i), (*serialised)[i]);
  }
}

void ModelSeeds(const std::string& tmp) {
  const xmr::Context ctx = Quiet();
  xmr::SaveModel(xmr_fuzz::PecosTemplateModel(), tmp);
  const std::string plain = ReadAll(tmp);
  Seed("fuzz_model", "lib_plain_fixcrc", Mode(1, plain));
  Seed("fuzz_model", "lib_plain_raw", Mode(0, plain));
  // Label names as an attachment of a plain model.
  xmr::SaveModel(xmr::WithLabelNames(xmr_fuzz::PecosTemplateModel(), {"a", "b", "c", "d", "e"}),
                 tmp);
  Seed("fuzz_model", "lib_names_fixcrc", Mode(1, ReadAll(tmp)));

  // A text model: vectorizer + label names attachments.
  xmr::CsrMatrix y;
  y.rows = static_cast<xmr::Index>(Corpus().size());
  y.cols = 4;
  y.indptr = {0};
  for (xmr::Index i = 0; i < y.rows; ++i) {
    y.indices.push_back(i / 3);
    y.data.push_back(1.f);
    y.indptr.push_back(static_cast<xmr::Offset>(y.indices.size()));
  }
  xmr::TextTrainOptions to;
  to.train.indexer.nr_splits = 2;
  to.train.indexer.max_leaf_size = 2;
  const xmr::TextModel tm = xmr::TextModel::Train(Corpus(), y.view(), to, ctx, nullptr,
                                                  {"terminal", "network", "media", "dev"});
  tm.Save(tmp);
  Seed("fuzz_model", "lib_text_fixcrc", Mode(1, ReadAll(tmp)));

  // A QAC model (trie indexer, a handful of labels).
  std::vector<std::string> log;
  const char* const topics[] = {"apple", "banana", "cherry", "peach", "plum"};
  const char* const heads[] = {"price of ", "pie with ", "pictures of "};
  for (int s = 0; s < 60; ++s) {
    const std::string t = topics[(s * 7) % 5];
    log.push_back(t);
    log.push_back(heads[(s * 5) % 3] + t);
    log.push_back("separator " + std::to_string(s % 3));
  }
  xmr::QacDataOptions qd;
  qd.pair_rule = xmr::PairRule::kDistinct;
  qd.skip_header = false;
  qd.train_fraction = 0.8;
  const xmr::QacDataset d = xmr::BuildQacDataset(log, qd);
  xmr::QacModelOptions qo;
  qo.indexer = xmr::QacIndexerKind::kTrie;
  qo.trie.depth = 2;
  xmr::QacModel::Train(d, qo, ctx).Save(tmp);
  Seed("fuzz_model", "lib_qac_fixcrc", Mode(1, ReadAll(tmp)));
}

void PecosSeeds(const std::string& dir) {
  xmr::ExportPecos(xmr_fuzz::PecosTemplateModel(), dir);
  for (int k = 0; k < xmr_fuzz::kNumPecosFiles; ++k) {
    const std::string path = dir + "/" + xmr_fuzz::kPecosFiles[k];
    const std::string name = "lib_file" + std::to_string(k);
    Seed("fuzz_pecos", name, Mode(static_cast<unsigned char>(k), ReadAll(path)));
    if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0) {
      Seed("fuzz_pecos", name + "_parts",
           Mode(static_cast<unsigned char>(k | 0x10), FramedNpz(path)));
      Seed("fuzz_pecos", name + "_parts_deflate",
           Mode(static_cast<unsigned char>(k | 0x30), FramedNpz(path)));
    }
  }
  Seed("fuzz_pecos", "lib_delete_root_c", Mode(4 | 8, ""));
  // Several edits in one input: the level files of the same model without bias (W without the
  // bias row, bias 0 in every level).
  xmr::ExportPecos(xmr_fuzz::PecosTemplateModel(0.0f), dir);
  std::string edits;
  for (int k : {2, 3, 5, 6}) {
    if (!edits.empty()) edits += xmr_fuzz::kEditSeparator;
    edits += Mode(static_cast<unsigned char>(k), ReadAll(dir + "/" + xmr_fuzz::kPecosFiles[k]));
  }
  Seed("fuzz_pecos", "lib_nobias_edits", edits);
  for (const char* f : xmr_fuzz::kPecosFiles) std::remove((dir + "/" + f).c_str());
  for (const char* d : {"/ranker/0.model", "/ranker/1.model", "/ranker", ""}) {
    ::rmdir((dir + d).c_str());
  }
}

void TextSeeds(const std::string& tmp) {
  xmr::WritePredictionText(
      tmp, xmr::CsrMatrix{3, 9, {0, 2, 2, 5}, {4, 1, 8, 0, 3}, {0.9f, 0.25f, 0.5f, 0.125f, 1e-7f}}
               .view());
  Seed("fuzz_text_tsv", "lib_predictions", ReadAll(tmp));
  Seed("fuzz_text_tsv", "lib_tsv",
       "terminal,dev\techo with screen\n"
       "network\techo server network\n"
       "\tno label at all\n"
       "media , dev\tc++ player\tsecond column\n");
  Seed("fuzz_text_tsv", "lib_tsv_ids",
       "header\tlabels\ttext\nx\t0,3\tfirst\ny\t\tsecond\r\nz\t 7 , 1 \tthird\n");
  Seed("fuzz_text_tsv", "lib_label_names", "\xEF\xBB\xBFterminal\t12\nnetwork\nmedia\t3\tx\ndev\n");

  xmr::WriteXmlRepo(
      tmp, SmallCsr().view(),
      xmr::CsrMatrix{4, 3, {0, 1, 3, 3, 4}, {2, 0, 1, 1}, {1.f, 1.f, 1.f, 1.f}}.view());
  Seed("fuzz_xml_repo", "lib_xmlrepo", ReadAll(tmp));
  Seed("fuzz_xml_repo", "lib_matrix", "3 5\n0:1 4:2.5\n\n1:-3e-2\n");
  Seed("fuzz_libsvm", "lib_svmlight",
       "# comment line\n1,0 1:0.5 3:1e3 # trailing comment\n2 2:-1\n\n 5:7\n4,3,2 1:1 2:2 3:3\n");
  Seed("fuzz_libsvm", "lib_svmlight_crlf", "0 0:1 1:2\r\n1 1:3\r\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR SOURCE_DIR\n");
    return 2;
  }
  g_out = argv[1];
  const std::string src = argv[2];
  MkDir(g_out);
  const std::string scratch = xmr_fuzz::TempDir() + "/xmr_make_seeds_" + std::to_string(::getpid());
  try {
    BinarySeeds(scratch);
    NpzSeeds(src, scratch);
    std::vector<std::string> vocabs;
    VocabSeeds(&vocabs);
    ModelSeeds(scratch);
    PecosSeeds(scratch + "_pecos");
    TextSeeds(scratch);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_seeds: %s\n", e.what());
    std::remove(scratch.c_str());
    return 1;
  }
  std::remove(scratch.c_str());
  std::printf("make_seeds: %d seeds in %s\n", g_count, g_out.c_str());
  return 0;
}
