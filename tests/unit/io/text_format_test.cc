// Tests of the text formats: XMLRepository, svmlight, single-matrix text, prediction text.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>

#include "common/test_util.h"
#include "io/text_parse.h"
#include "io_test_util.h"
#include "xmr/io.h"

namespace xmr {
namespace {

using io_test::Dense;
using io_test::Gzip;
using io_test::Xz;
using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::ReadBytes;
using testing_util::TempDir;
using testing_util::WriteBytes;

// Writes `text` to dir/name and reads it with ReadDataFile.
Dataset ReadText(const TempDir& dir, const std::string& name, const std::string& text,
                 const ReadOptions& opts = {}) {
  WriteBytes(dir.File(name), text);
  return ReadDataFile(dir.File(name), opts);
}

// Expects ReadDataFile on `text` to fail with kCorruption at "<file>:<line>:" and `what`.
void ExpectBadData(const std::string& text, int line, const std::string& what,
                   const ReadOptions& opts = {}) {
  SCOPED_TRACE(text);
  TempDir dir;
  WriteBytes(dir.File("bad.txt"), text);
  ExpectError([&] { ReadDataFile(dir.File("bad.txt"), opts); }, ErrorCode::kCorruption,
              {"bad.txt:" + std::to_string(line) + ":", what});
}

const char kSmall[] =
    "4 5 4\n"
    "0,2 0:1 3:0.5\n"
    " 1:2\n"
    "3\n"
    "1 4:-1.25e-3\n";

void ExpectSmall(const Dataset& d) {
  ExpectCsrEq(d.x, Dense(5, {{1, 0, 0, 0.5f, 0}, {0, 2, 0, 0, 0}, {}, {0, 0, 0, 0, -1.25e-3f}}));
  ExpectCsrEq(d.y, Dense(4, {{1, 0, 1, 0}, {}, {0, 0, 0, 1}, {0, 1, 0, 0}}));
}

TEST(XmlRepo, ReadsRowsLabelsAndEmptyLabelField) {
  TempDir dir;
  ExpectSmall(ReadText(dir, "s.txt", kSmall));
  ReadOptions forced;
  forced.format = TextFormat::kXmlRepo;
  ExpectSmall(ReadText(dir, "s.txt", kSmall, forced));
}

TEST(XmlRepo, AcceptsCrLfTabsTrailingBlankLinesAndNoFinalNewline) {
  TempDir dir;
  std::string crlf;
  for (const char* p = kSmall; *p; ++p) {
    if (*p == '\n') crlf += '\r';
    crlf += *p;
  }
  ExpectSmall(ReadText(dir, "crlf.txt", crlf));
  ExpectSmall(ReadText(dir, "bom.txt", "\xEF\xBB\xBF" + crlf));
  ExpectSmall(ReadText(dir, "blank.txt", std::string(kSmall) + "\n\n  \n"));
  std::string no_newline = kSmall;
  no_newline.pop_back();
  ExpectSmall(ReadText(dir, "nonl.txt", no_newline));
  ExpectSmall(ReadText(dir, "tabs.txt", "4 5 4\n0,2\t0:1  3:0.5\n\t1:2\n3\n1 4:-1.25e-3\n"));
  // A row without labels written without the leading blank.
  ExpectSmall(ReadText(dir, "nolead.txt", "4 5 4\n0,2 0:1 3:0.5\n1:2\n3\n1 4:-1.25e-3\n"));
}

TEST(XmlRepo, GzipAndXzFilesReadLikePlainOnes) {
  TempDir dir;
  WriteBytes(dir.File("s.txt.gz"), Gzip(kSmall));
  WriteBytes(dir.File("s.txt.xz"), Xz(kSmall));
  ExpectSmall(ReadDataFile(dir.File("s.txt.gz")));
  ExpectSmall(ReadDataFile(dir.File("s.txt.xz")));
}

TEST(XmlRepo, UnsortedLabelsAreSortedAndValuesKeepPrecision) {
  TempDir dir;
  const Dataset d = ReadText(dir, "u.txt", "1 3 5\n4,0,2 0:1e-40 1:+0.1 2:1e-60\n");
  EXPECT_EQ(d.y.indices, (std::vector<Index>{0, 2, 4}));
  EXPECT_EQ(d.y.data, (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(d.x.indices, (std::vector<Index>{0, 1, 2}));
  // Denormals are kept, values below the float range round to zero.
  EXPECT_EQ(d.x.data, (std::vector<float>{1e-40f, 0.1f, 0.0f}));
}

TEST(XmlRepo, BlankLineWithinTheDeclaredRowsIsAnEmptyRow) {
  TempDir dir;
  const Dataset d = ReadText(dir, "b.txt", "3 5 4\n0 1:1\n1 2:1\n\n");
  EXPECT_EQ(d.x.rows, 3);
  EXPECT_EQ(d.x.indptr, (std::vector<Offset>{0, 1, 2, 2}));
  EXPECT_EQ(d.y.indptr, (std::vector<Offset>{0, 1, 2, 2}));
}

TEST(XmlRepo, EmptyDatasetAndHeaderOnly) {
  TempDir dir;
  const Dataset d = ReadText(dir, "h.txt", "0 7 3\n");
  EXPECT_EQ(d.x.rows, 0);
  EXPECT_EQ(d.x.cols, 7);
  EXPECT_EQ(d.y.cols, 3);
  EXPECT_EQ(d.x.indptr, std::vector<Offset>{0});
}

TEST(XmlRepo, BadInputsNameFileLineAndField) {
  ExpectBadData("2 5 4\n0 1:1\n0,1 a:1\n", 3, "bad feature index in 'a:1' (field 2)");
  ExpectBadData("1 5 4\n0 1:abc\n", 2, "bad value in '1:abc'");
  ExpectBadData("1 5 4\n0 2:0.5 1:\n", 2, "missing value in '1:' (field 3)");
  ExpectBadData("1 5 4\n0 1:nan\n", 2, "NaN/Inf");
  ExpectBadData("1 5 4\n0 1:-inf\n", 2, "NaN/Inf");
  ExpectBadData("1 5 4\n0 1:1e50\n", 2, "out of float32 range");
  ExpectBadData("2 5 4\n0 1:1\n0 0:1 5:1\n", 3,
                "feature index 5 >= declared dimension 5 (field 3)");
  ExpectBadData("1 5 4\n4 1:1\n", 2, "label id 4 >= declared number of labels 4 (field 1)");
  ExpectBadData("1 5 4\n0 -1:1\n", 2, "negative feature index -1");
  ExpectBadData("1 5 4\n-1 1:1\n", 2, "negative label id -1");
  ExpectBadData("1 5 4\n0 3:1 1:1\n", 2, "feature index 1 after 3");
  ExpectBadData("1 5 4\n0 1:1 1:2\n", 2, "duplicate feature index 1 (field 3)");
  ExpectBadData("1 5 4\n1,1 2:1\n", 2, "duplicate label id 1");
  ExpectBadData("1 5 4\n0 1 2:1\n", 2, "missing ':' in '1'");
  ExpectBadData("1 5 4\n0 1:1.5x\n", 2, "bad value in '1:1.5x'");
  ExpectBadData("1 5 4\n0 1:1.5:2\n", 2, "bad value");
  ExpectBadData("1 5 4\n0,,1 1:1\n", 2, "empty label id");
  ExpectBadData("1 5 4\n0, 1:1\n", 2, "empty label id");
  ExpectBadData("1 5 4\nab 1:1\n", 2, "bad label id 'ab'");
  ExpectBadData("1 5 4\n0 99999999999999999999:1\n", 2, "out of range");
  ExpectBadData("3 5 4\n0 1:1\n1 2:1\n", 4,
                "unexpected end of file: the header declares 3 rows, found 2");
  ExpectBadData("2 5 4\n0 1:1\n1 2:1\n2 3:1\n", 4, "more rows than the 2 declared");
  ExpectBadData("2 5 4\n0 1:1\n1 2:1\n\n3 1:1\n", 5, "more rows than the 2 declared");
  ReadOptions xml;
  xml.format = TextFormat::kXmlRepo;
  ExpectBadData("2 5\n0 1:1\n", 1, "bad header '2 5': expected 'N D L'", xml);
  ExpectBadData("2 5 -4\n0 1:1\n", 1, "bad header", xml);
  ExpectBadData("2 5 4 extra\n", 1, "bad header", xml);
  // Auto-detection falls back to svmlight, which then rejects the header line.
  ExpectBadData("2 5\n0 1:1\n", 1, "missing ':' in '5'");
}

TEST(XmlRepo, EmptyAndTruncatedFiles) {
  TempDir dir;
  WriteBytes(dir.File("empty.txt"), "");
  ExpectError([&] { ReadDataFile(dir.File("empty.txt")); }, ErrorCode::kCorruption,
              {"empty.txt", "empty file"});
  std::string text = "300 50 10\n";
  for (int i = 0; i < 300; ++i) text += std::to_string(i % 10) + " 1:0.5 7:0.25\n";
  const std::string xz = Xz(text);
  WriteBytes(dir.File("cut.txt.xz"), xz.substr(0, xz.size() - 30));
  ExpectError([&] { ReadDataFile(dir.File("cut.txt.xz")); }, ErrorCode::kCorruption,
              {"cut.txt.xz", "xz"});
  const std::string gz = Gzip(text);
  WriteBytes(dir.File("cut.txt.gz"), gz.substr(0, gz.size() - 5));
  ExpectError([&] { ReadDataFile(dir.File("cut.txt.gz")); }, ErrorCode::kCorruption,
              {"cut.txt.gz", "truncated gzip"});
  // A plain file cut between lines has too few rows; cut inside a line, that line is bad.
  WriteBytes(dir.File("cut.txt"), text.substr(0, text.rfind('\n', text.size() / 2) + 1));
  ExpectError([&] { ReadDataFile(dir.File("cut.txt")); }, ErrorCode::kCorruption,
              {"cut.txt:151: unexpected end of file: the header declares 300 rows, found 149"});
  WriteBytes(dir.File("cut.txt"), text.substr(0, text.rfind('\n', text.size() / 2) + 11));
  ExpectError([&] { ReadDataFile(dir.File("cut.txt")); }, ErrorCode::kCorruption,
              {"cut.txt:151: missing value in '7:' (field 3)"});
  ExpectError([&] { ReadDataFile(dir.File("missing.txt")); }, ErrorCode::kIoError, {"missing.txt"});
}

// Random data set as XMLRepository text, with the matching expected matrices.
struct Generated {
  std::string text;
  CsrMatrix x, y;
};

Generated Generate(int rows, Index d, Index l, unsigned seed) {
  std::mt19937 rng(seed);
  Generated g;
  g.x.rows = g.y.rows = rows;
  g.x.cols = d;
  g.y.cols = l;
  g.text = std::to_string(rows) + " " + std::to_string(d) + " " + std::to_string(l) + "\n";
  char buf[64];
  for (int i = 0; i < rows; ++i) {
    const int nl = static_cast<int>(rng() % 4);
    Index lab = 0;
    for (int k = 0; k < nl; ++k) {
      lab += 1 + static_cast<Index>(rng() % 5);
      if (lab >= l) break;
      g.text += (k ? "," : "") + std::to_string(lab);
      g.y.indices.push_back(lab);
      g.y.data.push_back(1.0f);
    }
    Index f = -1;
    const int nf = static_cast<int>(rng() % 30);
    for (int k = 0; k < nf; ++k) {
      f += 1 + static_cast<Index>(rng() % 40);
      if (f >= d) break;
      const float v = std::uniform_real_distribution<float>(-2, 2)(rng);
      std::snprintf(buf, sizeof(buf), " %d:%.9g", f, static_cast<double>(v));
      g.text += buf;
      g.x.indices.push_back(f);
      g.x.data.push_back(v);
    }
    g.text += '\n';
    g.x.indptr.push_back(static_cast<Offset>(g.x.indices.size()));
    g.y.indptr.push_back(static_cast<Offset>(g.y.indices.size()));
  }
  return g;
}

TEST(XmlRepo, LargeFileParsesInParallelExactly) {
  TempDir dir;
  const Generated g = Generate(60000, 2000, 300, 11);  // several MB: many pieces
  WriteBytes(dir.File("big.txt"), g.text);
  WriteBytes(dir.File("big.txt.gz"), Gzip(g.text, 1));
  for (const char* name : {"big.txt", "big.txt.gz"}) {
    SCOPED_TRACE(name);
    const Dataset d = ReadDataFile(dir.File(name));
    ExpectCsrEq(d.x, g.x);
    ExpectCsrEq(d.y, g.y);
  }
}

TEST(XmlRepo, ErrorLineIsExactDeepInsideALargeFile) {
  TempDir dir;
  Generated g = Generate(60000, 2000, 300, 12);
  // Damage line 45,678 (row 45,677) and a later line; the first one must be reported.
  std::size_t pos = 0;
  for (int line = 1; line < 45678; ++line) pos = g.text.find('\n', pos) + 1;
  g.text.insert(pos, "0 1:x ");
  std::size_t later = g.text.find('\n', pos + 100000) + 1;
  g.text.insert(later, "0 2:y ");
  WriteBytes(dir.File("bad_big.txt"), g.text);
  ExpectError([&] { ReadDataFile(dir.File("bad_big.txt")); }, ErrorCode::kCorruption,
              {"bad_big.txt:45678: bad value in '1:x'"});
}

TEST(TextParser, ResultDoesNotDependOnThreads) {
  const Generated g = Generate(20000, 500, 50, 13);
  const std::string body = g.text.substr(g.text.find('\n') + 1);
  detail::LineFormat f;
  f.labels = true;
  f.index_limit = 500;
  f.label_limit = 50;
  detail::TextParser one("mem", f, 1), four("mem", f, 4);
  one.Parse(body, 2);
  four.Parse(body, 2);
  EXPECT_EQ(one.result().x_indptr, four.result().x_indptr);
  EXPECT_EQ(one.result().x_indices, four.result().x_indices);
  EXPECT_EQ(one.result().x_data, four.result().x_data);
  EXPECT_EQ(one.result().y_indices, four.result().y_indices);
  EXPECT_EQ(one.result().x_indices, g.x.indices);
}

TEST(XmlRepo, WriteThenReadRoundTripsExactly) {
  TempDir dir;
  std::mt19937 rng(5);
  CsrMatrix x, y;
  x.rows = y.rows = 300;
  x.cols = 1000;
  y.cols = 40;
  // Rows 5, 15, ... have no features; rows 0, 3, ... no labels; row 15 neither.
  for (int i = 0; i < 300; ++i) {
    for (Index j = static_cast<Index>(rng() % 7); j < 1000 && i % 10 != 5;
         j += 1 + static_cast<Index>(rng() % 90)) {
      x.indices.push_back(j);
      // Arbitrary float bit patterns (finite) must survive the text form.
      std::uint32_t bits = static_cast<std::uint32_t>(rng()) & 0xbf7fffffu;
      float v;
      std::memcpy(&v, &bits, 4);
      x.data.push_back(v);
    }
    if (i % 3 != 0) {
      for (Index j = static_cast<Index>(rng() % 3); j < 40;
           j += 1 + static_cast<Index>(rng() % 15)) {
        y.indices.push_back(j);
        y.data.push_back(1.0f);
      }
    }
    x.indptr.push_back(static_cast<Offset>(x.indices.size()));
    y.indptr.push_back(static_cast<Offset>(y.indices.size()));
  }
  const std::string path = dir.File("rt.txt");
  WriteXmlRepo(path, x.view(), y.view());
  const Dataset d = ReadDataFile(path);
  ExpectCsrEq(d.x, x);
  ExpectCsrEq(d.y, y);
  EXPECT_EQ(ReadBytes(path).substr(0, 12), "300 1000 40\n");
}

TEST(XmlRepo, WriteHandlesEmptyRowsAndRejectsBadArguments) {
  TempDir dir;
  const CsrMatrix x = Dense(3, {{0, 1.5f, 0}, {}, {}, {2, 0, 0}});
  const CsrMatrix y = Dense(2, {{1, 0}, {0, 1}, {}, {}});
  const std::string path = dir.File("e.txt");
  WriteXmlRepo(path, x.view(), y.view());
  EXPECT_EQ(ReadBytes(path), "4 3 2\n0 1:1.5\n1\n\n 0:2\n");
  const Dataset d = ReadDataFile(path);
  ExpectCsrEq(d.x, x);
  ExpectCsrEq(d.y, y);
  const CsrMatrix y3 = Dense(2, {{1, 0}});
  ExpectError([&] { WriteXmlRepo(path, x.view(), y3.view()); }, ErrorCode::kInvalidArgument,
              {"rows"});
  ExpectError([&] { WriteXmlRepo(dir.File("no/dir.txt"), x.view(), y.view()); },
              ErrorCode::kIoError, {"no/dir.txt"});
}

// ----- svmlight -------------------------------------------------------------------------------

TEST(SvmLight, AutoBaseIsOneUnlessIndexZeroAppears) {
  TempDir dir;
  Dataset d = ReadText(dir, "a.svm", "1,2 1:0.5 3:1\n0 2:1\n");
  ExpectCsrEq(d.x, Dense(3, {{0.5f, 0, 1}, {0, 1, 0}}));
  ExpectCsrEq(d.y, Dense(3, {{0, 1, 1}, {1, 0, 0}}));
  d = ReadText(dir, "b.svm", "1 0:0.5 3:1\n0 2:1\n");
  ExpectCsrEq(d.x, Dense(4, {{0.5f, 0, 0, 1}, {0, 0, 1, 0}}));
}

TEST(SvmLight, ExplicitBaseDimensionsCommentsAndBlankLines) {
  TempDir dir;
  ReadOptions o;
  o.format = TextFormat::kSvmLight;
  o.feature_base = 1;
  o.n_features = 6;
  o.n_labels = 5;
  const char* text =
      "# a comment line\n"
      "3,1 1:1 6:2  # trailing comment\n"
      "\n"
      " 2:0.25\n"
      "\n";
  const Dataset d = ReadText(dir, "c.svm", text, o);
  // The blank middle line is an empty row; the blank last line is not a row.
  ExpectCsrEq(d.x, Dense(6, {{1, 0, 0, 0, 0, 2}, {}, {0, 0.25f}}));
  ExpectCsrEq(d.y, Dense(5, {{0, 1, 0, 1, 0}, {}, {}}));
  o.feature_base = 0;
  o.n_features = 7;
  const Dataset d0 = ReadText(dir, "c.svm", text, o);
  EXPECT_EQ(d0.x.cols, 7);
  EXPECT_EQ(d0.x.indices, (std::vector<Index>{1, 6, 2}));
}

TEST(SvmLight, GzipInputAndEmptyFile) {
  TempDir dir;
  WriteBytes(dir.File("g.svm.gz"), Gzip("0 1:1\n1 2:2\n"));
  const Dataset d = ReadDataFile(dir.File("g.svm.gz"));
  ExpectCsrEq(d.x, Dense(2, {{1, 0}, {0, 2}}));
  ReadOptions o;
  o.format = TextFormat::kSvmLight;
  o.n_features = 4;
  const Dataset e = ReadText(dir, "e.svm", "", o);
  EXPECT_EQ(e.x.rows, 0);
  EXPECT_EQ(e.x.cols, 4);
}

TEST(SvmLight, BadInputs) {
  ReadOptions one;
  one.feature_base = 1;
  ExpectBadData("0 1:1\n0 0:1\n", 2, "feature index 0 in a 1-based file", one);
  ReadOptions dims;
  dims.n_features = 3;
  ExpectBadData("0 1:1\n0 1:1\n1 4:1\n0 2:1\n", 3, "feature index 4 >= n_features 3", dims);
  ReadOptions labels;
  labels.n_labels = 2;
  ExpectBadData("0 1:1\n2 1:1\n", 2, "label id 2 >= n_labels 2", labels);
  ExpectBadData("0 1:1\n0 2:1 2:3\n", 2, "duplicate feature index 2");
  ExpectBadData("3,1,3 1:1\n", 1, "duplicate label id 3");
  ExpectBadData("0 qid:3 1:1\n", 1, "bad feature index");
  ReadOptions bad;
  bad.feature_base = 2;
  TempDir dir;
  WriteBytes(dir.File("x.svm"), "0 1:1\n");
  ExpectError([&] { ReadDataFile(dir.File("x.svm"), bad); }, ErrorCode::kInvalidArgument,
              {"feature_base"});
}

// ----- single-matrix text and predictions ------------------------------------------------------

TEST(TextMatrix, ReadMatrixReadsRowsColsText) {
  TempDir dir;
  WriteBytes(dir.File("m.txt"), "3 4\n0:1 3:2\n\n1:0.5\n");
  ExpectCsrEq(ReadMatrix(dir.File("m.txt")), Dense(4, {{1, 0, 0, 2}, {}, {0, 0.5f}}));
  WriteBytes(dir.File("m.txt.xz"), Xz("1 2\n1:3\r\n\n"));
  ExpectCsrEq(ReadMatrix(dir.File("m.txt.xz")), Dense(2, {{0, 3}}));
}

TEST(TextMatrix, BadInputs) {
  TempDir dir;
  auto bad = [&](const std::string& text, const std::string& loc, const std::string& what) {
    SCOPED_TRACE(text);
    WriteBytes(dir.File("m.txt"), text);
    return ExpectError([&] { ReadMatrix(dir.File("m.txt")); }, ErrorCode::kCorruption,
                       {"m.txt:" + loc + ":", what});
  };
  // A data file given where a matrix is expected: said in terms of files, not of the C++ API.
  const std::string data_file =
      bad("3 4 5\n0:1\n", "1",
          "header has 3 fields ('N D L'), which is a data file with labels, not a single matrix");
  EXPECT_EQ(data_file.find("ReadDataFile"), std::string::npos) << data_file;
  bad("x\n", "1", "expected 'rows cols'");
  bad("2 4\n0:1\n", "3", "unexpected end of file");
  bad("1 4\n0:1\n1:1\n", "3", "more rows than the 1 declared");
  bad("1 4\n4:1\n", "2", "feature index 4 >= declared dimension 4 (field 1)");
  bad("1 4\n2:1 1:1\n", "2", "feature index 1 after 2");
  bad("1 4\n0 2:1\n", "2", "missing ':'");
  WriteBytes(dir.File("empty.txt"), "");
  ExpectError([&] { ReadMatrix(dir.File("empty.txt")); }, ErrorCode::kCorruption, {"empty file"});
}

TEST(PredictionText, RoundTripKeepsOrderScoresAndEmptyRows) {
  TempDir dir;
  CsrMatrix p;
  p.rows = 4;
  p.cols = 10;
  p.indptr = {0, 3, 3, 4, 4};
  p.indices = {7, 2, 9, 0};
  p.data = {0.987654321f, 0.5f, 1e-30f, -3.25f};
  const std::string path = dir.File("pred.txt");
  WritePredictionText(path, p.view());
  const std::string text = ReadBytes(path);
  // Shortest text that reads back to the same float32.
  EXPECT_EQ(text.substr(0, 18), "7:0.9876543 2:0.5 ");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  ExpectCsrEq(ReadPredictionText(path, 10), p);
  CsrMatrix auto_cols = ReadPredictionText(path);
  EXPECT_EQ(auto_cols.cols, 10);
  EXPECT_EQ(auto_cols.data, p.data);
  WriteBytes(dir.File("p.gz"), Gzip(text));
  ExpectCsrEq(ReadPredictionText(dir.File("p.gz"), 10), p);
}

TEST(PredictionText, BadInputs) {
  TempDir dir;
  auto bad = [&](const std::string& text, Index n_labels, const std::string& what) {
    SCOPED_TRACE(text);
    WriteBytes(dir.File("p.txt"), text);
    ExpectError([&] { ReadPredictionText(dir.File("p.txt"), n_labels); }, ErrorCode::kCorruption,
                {"p.txt:2:", what});
  };
  bad("1:0.5\n3:0.5 3:0.1\n", 0, "duplicate label id 3");
  bad("1:0.5\n3:0.5 10:0.1\n", 10, "label id 10 >= n_labels 10 (field 2)");
  bad("1:0.5\n3:zz\n", 0, "bad value");
  bad("1:0.5\n3:nan\n", 0, "NaN/Inf");
  bad("1:0.5\n3\n", 0, "missing ':'");
}

// ----- real data ------------------------------------------------------------------------------

TEST(RealData, BibtexTrainHasTheDocumentedShape) {
  std::string path = std::string(XMR_SOURCE_DIR) + "/data/bibtex_train.txt.xz";
  if (!PathExists(path))
    path = std::string(XMR_SOURCE_DIR) + "/../shared/data/bibtex/bibtex_train.txt.xz";
  if (!PathExists(path)) GTEST_SKIP() << "bibtex_train.txt.xz not available";
  const Dataset d = ReadDataFile(path);
  EXPECT_EQ(d.x.rows, 4880);
  EXPECT_EQ(d.x.cols, 1836);
  EXPECT_EQ(d.y.rows, 4880);
  EXPECT_EQ(d.y.cols, 159);
  EXPECT_EQ(d.x.nnz(), 334668);
  EXPECT_EQ(d.y.nnz(), 11681);
  for (Index i = 0; i < d.y.rows; ++i) EXPECT_GT(d.y.indptr[i + 1], d.y.indptr[i]) << i;
}

}  // namespace
}  // namespace xmr
