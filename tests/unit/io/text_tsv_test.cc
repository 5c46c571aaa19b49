// Tests of the raw-text files: label-name files (ReadLabelNames), labelled TSV (ReadTextTsv:
// vocabulary built or given, label ids, column selection, header, CRLF, compression, errors) and
// one-document-per-line files (ReadTextLines).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/test_util.h"
#include "io_test_util.h"
#include "xmr/io.h"

namespace xmr {
namespace {

using io_test::Dense;
using io_test::Gzip;
using io_test::Xz;
using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::TempDir;
using testing_util::WriteBytes;

using Names = std::vector<std::string>;

// Writes `text` to dir/name and reads it with ReadTextTsv.
TextDataset ReadTsv(const TempDir& dir, const std::string& name, const std::string& text,
                    const TextTsvOptions& opts = {}, const Names* names = nullptr,
                    Index n_labels = 0) {
  WriteBytes(dir.File(name), text);
  return ReadTextTsv(dir.File(name), opts, names, n_labels);
}

// Expects ReadTextTsv on `text` to fail with kCorruption at "bad.tsv:<line>:" and every `what`.
void ExpectBadTsv(const std::string& text, int line, const std::vector<std::string>& what,
                  const TextTsvOptions& opts = {}, const Names* names = nullptr,
                  Index n_labels = 0) {
  SCOPED_TRACE(text);
  TempDir dir;
  WriteBytes(dir.File("bad.tsv"), text);
  std::vector<std::string> needles = what;
  needles.push_back("bad.tsv:" + std::to_string(line) + ":");
  ExpectError([&] { ReadTextTsv(dir.File("bad.tsv"), opts, names, n_labels); },
              ErrorCode::kCorruption, needles);
}

// "labels<TAB>text" with names in first-seen order that differs from sorted order, a repeated
// label in a row, blanks around labels and a row without labels.
const char kNamed[] =
    "pear,apple\tred fruit\n"
    "\tno labels here\n"
    " zebra , apple ,zebra\tstriped\n"
    "Banana\tyellow\n";

void ExpectNamed(const TextDataset& d) {
  // Sorted bytewise: upper case before lower case.
  EXPECT_EQ(d.label_names, (Names{"Banana", "apple", "pear", "zebra"}));
  EXPECT_EQ(d.texts, (Names{"red fruit", "no labels here", "striped", "yellow"}));
  ExpectCsrEq(d.y, Dense(4, {{0, 1, 1, 0}, {}, {0, 1, 0, 1}, {1, 0, 0, 0}}));
  EXPECT_EQ(d.unknown_labels, 0);
}

TEST(ReadTextTsv, BuildsASortedVocabularyAndCountsARepeatedLabelOnce) {
  TempDir dir;
  ExpectNamed(ReadTsv(dir, "a.tsv", kNamed));
}

TEST(ReadTextTsv, SortsNamesBytewise) {
  TempDir dir;
  // UTF-8 'é' (0xC3 0xA9) sorts after every ASCII letter; a prefix sorts before its extension.
  const TextDataset d = ReadTsv(dir, "u.tsv", "\xC3\xA9t\xC3\xA9\tsummer\nz,ab\tx\na\ty\n");
  EXPECT_EQ(d.label_names, (Names{"a", "ab", "z", "\xC3\xA9t\xC3\xA9"}));
  ExpectCsrEq(d.y, Dense(4, {{0, 0, 0, 1}, {0, 1, 1, 0}, {1, 0, 0, 0}}));
}

TEST(ReadTextTsv, EmptyFileAndEmptyLines) {
  TempDir dir;
  const TextDataset e = ReadTsv(dir, "e.tsv", "");
  EXPECT_TRUE(e.texts.empty());
  EXPECT_EQ(e.y.rows, 0);
  EXPECT_EQ(e.y.cols, 0);
  // An empty line is a row without labels and with empty text.
  const TextDataset d = ReadTsv(dir, "l.tsv", "a\tone\n\nb\ttwo\n");
  EXPECT_EQ(d.texts, (Names{"one", "", "two"}));
  ExpectCsrEq(d.y, Dense(2, {{1, 0}, {}, {0, 1}}));
}

TEST(ReadTextTsv, AcceptsCrLfAndNoFinalNewline) {
  TempDir dir;
  std::string crlf;
  for (const char* p = kNamed; *p; ++p) {
    if (*p == '\n') crlf += '\r';
    crlf += *p;
  }
  ExpectNamed(ReadTsv(dir, "crlf.tsv", crlf));
  std::string no_newline = kNamed;
  no_newline.pop_back();
  ExpectNamed(ReadTsv(dir, "nonl.tsv", no_newline));
}

TEST(ReadTextTsv, ReadsGzipAndXz) {
  TempDir dir;
  WriteBytes(dir.File("a.tsv.gz"), Gzip(kNamed));
  ExpectNamed(ReadTextTsv(dir.File("a.tsv.gz")));
  WriteBytes(dir.File("a.tsv.xz"), Xz(kNamed));
  ExpectNamed(ReadTextTsv(dir.File("a.tsv.xz")));
}

TEST(ReadTextTsv, SkipsTheHeader) {
  TempDir dir;
  TextTsvOptions opts;
  opts.header = true;
  // The header line would otherwise add the label "labels"; a malformed header is not parsed.
  ExpectNamed(ReadTsv(dir, "h.tsv", std::string("labels\ttext\n") + kNamed, opts));
  ExpectNamed(ReadTsv(dir, "h2.tsv", std::string("just one column\n") + kNamed, opts));
  // Without header = true it is a row like any other.
  const TextDataset d = ReadTsv(dir, "h3.tsv", std::string("labels\ttext\n") + kNamed);
  EXPECT_EQ(d.texts.size(), 5u);
  EXPECT_EQ(d.label_names.size(), 5u);
  EXPECT_EQ(d.texts[0], "text");
  // Errors after a header still name the file's line number.
  ExpectBadTsv("labels\ttext\na\tok\n,b\tbad\n", 3, {"empty label"}, opts);
}

TEST(ReadTextTsv, DefaultTextIsEveryOtherColumnJoinedByASpace) {
  TempDir dir;
  TextTsvOptions opts;
  opts.label_column = 2;
  const TextDataset d =
      ReadTsv(dir, "c.tsv", "id1\tx,y\ttitle one\tbody one\nid2\ty\tt2\tb2\n", opts);
  EXPECT_EQ(d.texts, (Names{"id1 title one body one", "id2 t2 b2"}));
  EXPECT_EQ(d.label_names, (Names{"x", "y"}));
  ExpectCsrEq(d.y, Dense(2, {{1, 1}, {0, 1}}));
  // Only the label column: the text is empty.
  const TextDataset only = ReadTsv(dir, "o.tsv", "a\nb\n");
  EXPECT_EQ(only.texts, (Names{"", ""}));
  ExpectCsrEq(only.y, Dense(2, {{1, 0}, {0, 1}}));
  // Tabs inside the text columns become single spaces.
  EXPECT_EQ(ReadTsv(dir, "t.tsv", "a\tx\ty\tz\n").texts, (Names{"x y z"}));
}

TEST(ReadTextTsv, TextColumnsSelectAndRepeatInTheOrderGiven) {
  TempDir dir;
  const std::string text =
      "id1\tl1\tignored\tsecond\ttitle\tbody\n"
      "id2\tl2,l1\tignored\ts2\tt2\tb2\textra column\n";
  TextTsvOptions opts;
  opts.label_column = 2;
  opts.text_columns = {5, 5, 6};
  const TextDataset d = ReadTsv(dir, "s.tsv", text, opts);
  EXPECT_EQ(d.texts, (Names{"title title body", "t2 t2 b2"}));
  EXPECT_EQ(d.label_names, (Names{"l1", "l2"}));
  ExpectCsrEq(d.y, Dense(2, {{1, 0}, {1, 1}}));
  opts.text_columns = {4, 1};
  EXPECT_EQ(ReadTsv(dir, "s.tsv", text, opts).texts, (Names{"second id1", "s2 id2"}));
}

TEST(ReadTextTsv, DefaultJoinMatchesExplicitColumnsWithEmptyColumns) {
  // "joined by one space" must not depend on whether the columns were listed: an empty column
  // between non-empty ones or at the start still takes its separator.
  TempDir dir;
  const std::string text = "a\t\tbody\nb\ttitle\t\n";
  TextTsvOptions all;
  all.text_columns = {2, 3};
  const TextDataset listed = ReadTsv(dir, "j.tsv", text, all);
  EXPECT_EQ(listed.texts, (Names{" body", "title "}));
  EXPECT_EQ(ReadTsv(dir, "j.tsv", text).texts, listed.texts);
}

TEST(ReadTextTsv, TooFewColumnsNamesTheLine) {
  TextTsvOptions opts;
  opts.label_column = 2;
  ExpectBadTsv("id\ta\ttext\nid-only\n", 2, {"column"}, opts);
  // An empty line still needs the label column.
  ExpectBadTsv("id\ta\ttext\n\nid\tb\ttext\n", 2, {"column 2"}, opts);
  TextTsvOptions text_cols;
  text_cols.text_columns = {3};
  ExpectBadTsv("a\tb\tc\na\tb\n", 2, {"column", "3"}, text_cols);
}

TEST(ReadTextTsv, EmptyLabelBetweenCommasIsAnError) {
  ExpectBadTsv("a\tok\na,,b\tbad\n", 2, {"empty label", "column 1"});
  ExpectBadTsv("a,\tbad\n", 1, {"empty label"});
  ExpectBadTsv(",a\tbad\n", 1, {"empty label"});
  ExpectBadTsv("a, ,b\tbad\n", 1, {"empty label"});
  ExpectBadTsv(" , \tbad\n", 1, {"empty label"});
}

TEST(ReadTextTsv, GivenVocabularyMapsNamesAndRejectsUnknownLabels) {
  TempDir dir;
  WriteBytes(dir.File("labels.txt"), "zebra\t10\napple\t7\nBanana\t1\npear\t3\nunused\t0\n");
  const Names names = ReadLabelNames(dir.File("labels.txt"));
  ASSERT_EQ(names, (Names{"zebra", "apple", "Banana", "pear", "unused"}));
  const TextDataset d = ReadTsv(dir, "a.tsv", kNamed, {}, &names);
  EXPECT_EQ(d.label_names, names);
  EXPECT_EQ(d.texts, (Names{"red fruit", "no labels here", "striped", "yellow"}));
  ExpectCsrEq(d.y, Dense(5, {{0, 1, 0, 1, 0}, {}, {1, 1, 0, 0, 0}, {0, 0, 1, 0, 0}}));
  EXPECT_EQ(d.unknown_labels, 0);

  const Names small{"apple", "pear"};
  ExpectBadTsv(kNamed, 3, {"'zebra'", "column 1"}, {}, &small);
  TextTsvOptions at2;
  at2.label_column = 2;
  ExpectBadTsv("x\tapple\ny\tpear,kiwi\n", 2, {"'kiwi'", "column 2"}, at2, &small);
}

TEST(ReadTextTsv, SkipUnknownLabelsCountsThem) {
  TempDir dir;
  const Names small{"pear", "apple"};
  TextTsvOptions opts;
  opts.skip_unknown_labels = true;
  const TextDataset d = ReadTsv(dir, "a.tsv", kNamed, opts, &small);
  EXPECT_EQ(d.label_names, small);
  EXPECT_EQ(d.texts.size(), 4u);
  ExpectCsrEq(d.y, Dense(2, {{1, 1}, {}, {0, 1}, {}}));
  // "zebra" twice in row 3, "Banana" once in row 4.
  EXPECT_EQ(d.unknown_labels, 3);
}

TEST(ReadTextTsv, LabelIds) {
  TempDir dir;
  TextTsvOptions opts;
  opts.label_ids = true;
  const std::string text = "3,0\tfirst\n\tnone\n 1 , 3 ,1\tthird\n";
  const TextDataset d = ReadTsv(dir, "i.tsv", text, opts);
  EXPECT_TRUE(d.label_names.empty());
  EXPECT_EQ(d.texts, (Names{"first", "none", "third"}));
  ExpectCsrEq(d.y, Dense(4, {{1, 0, 0, 1}, {}, {0, 1, 0, 1}}));
  // n_labels fixes the dimension.
  const TextDataset wide = ReadTsv(dir, "i.tsv", text, opts, nullptr, 6);
  ExpectCsrEq(wide.y, Dense(6, {{1, 0, 0, 1, 0, 0}, {}, {0, 1, 0, 1, 0, 0}}));
  // No labels at all: zero columns.
  EXPECT_EQ(ReadTsv(dir, "n.tsv", "\ta\n\tb\n", opts).y.cols, 0);
}

TEST(ReadTextTsv, BadLabelIds) {
  TextTsvOptions opts;
  opts.label_ids = true;
  ExpectBadTsv("0\tok\n4\tout of range\n", 2, {"'4'", "below 4", "column 1"}, opts, nullptr, 4);
  ExpectBadTsv("0\tok\n1,x\tbad\n", 2, {"'x'", "column 1"}, opts);
  ExpectBadTsv("-1\tneg\n", 1, {"'-1'"}, opts);
  ExpectBadTsv("1.5\tfrac\n", 1, {"'1.5'"}, opts);
  ExpectBadTsv("2a\tjunk\n", 1, {"'2a'"}, opts);
  ExpectBadTsv("99999999999999999999\thuge\n", 1, {"label"}, opts);
  TextTsvOptions at2 = opts;
  at2.label_column = 2;
  ExpectBadTsv("t\t1\nt\tfoo\n", 2, {"'foo'", "column 2"}, at2);
}

TEST(ReadTextTsv, ValidatesOptions) {
  TempDir dir;
  WriteBytes(dir.File("a.tsv"), kNamed);
  TextTsvOptions zero;
  zero.label_column = 0;
  ExpectError([&] { zero.Validate(); }, ErrorCode::kInvalidArgument, {"label_column"});
  ExpectError([&] { ReadTextTsv(dir.File("a.tsv"), zero); }, ErrorCode::kInvalidArgument,
              {"label_column"});
  TextTsvOptions same;
  same.label_column = 2;
  same.text_columns = {1, 2};
  ExpectError([&] { ReadTextTsv(dir.File("a.tsv"), same); }, ErrorCode::kInvalidArgument,
              {"text_columns", "label column 2"});
  TextTsvOptions neg;
  neg.text_columns = {0};
  ExpectError([&] { ReadTextTsv(dir.File("a.tsv"), neg); }, ErrorCode::kInvalidArgument,
              {"text_columns"});
  TextTsvOptions ids;
  ids.label_ids = true;
  const Names names{"a"};
  ExpectError([&] { ReadTextTsv(dir.File("a.tsv"), ids, &names); }, ErrorCode::kInvalidArgument,
              {"label_ids"});
  ExpectError([&] { ReadTextTsv(dir.File("a.tsv"), ids, nullptr, -1); },
              ErrorCode::kInvalidArgument, {"n_labels"});
  TextTsvOptions ok;
  ok.label_column = 3;
  ok.text_columns = {1, 1, 2};
  EXPECT_NO_THROW(ok.Validate());
}

TEST(ReadTextTsv, MissingFileIsAnIoError) {
  TempDir dir;
  ExpectError([&] { ReadTextTsv(dir.File("nope.tsv")); }, ErrorCode::kIoError, {});
  ExpectError([&] { ReadLabelNames(dir.File("nope.txt")); }, ErrorCode::kIoError, {});
  ExpectError([&] { ReadTextLines(dir.File("nope.txt")); }, ErrorCode::kIoError, {});
}

TEST(ReadLabelNames, TakesTheFirstFieldVerbatim) {
  TempDir dir;
  WriteBytes(dir.File("n.txt"), "a b\t12\n c\n\xC3\xA9\t1\textra\r\nlast");
  EXPECT_EQ(ReadLabelNames(dir.File("n.txt")), (Names{"a b", " c", "\xC3\xA9", "last"}));
  WriteBytes(dir.File("n.txt.gz"), Gzip("x\ny\n"));
  EXPECT_EQ(ReadLabelNames(dir.File("n.txt.gz")), (Names{"x", "y"}));
  WriteBytes(dir.File("e.txt"), "");
  EXPECT_TRUE(ReadLabelNames(dir.File("e.txt")).empty());
}

TEST(ReadLabelNames, RejectsEmptyAndDuplicateNames) {
  TempDir dir;
  WriteBytes(dir.File("empty.txt"), "a\n\nb\n");
  ExpectError([&] { ReadLabelNames(dir.File("empty.txt")); }, ErrorCode::kCorruption,
              {"empty.txt:2:", "empty label name"});
  WriteBytes(dir.File("tab.txt"), "a\n\t5\n");
  ExpectError([&] { ReadLabelNames(dir.File("tab.txt")); }, ErrorCode::kCorruption,
              {"tab.txt:2:", "empty"});
  WriteBytes(dir.File("dup.txt"), "a\t1\nb\t2\nc\t3\nb\t4\n");
  ExpectError([&] { ReadLabelNames(dir.File("dup.txt")); }, ErrorCode::kCorruption,
              {"dup.txt:4:", "'b'", "line 2"});
}

TEST(ReadTextLines, KeepsEmptyLinesAndTabs) {
  TempDir dir;
  WriteBytes(dir.File("q.txt"), "first query\n\n\tcol\tumns\t\n  spaced  \r\nlast");
  const Names want{"first query", "", "\tcol\tumns\t", "  spaced  ", "last"};
  EXPECT_EQ(ReadTextLines(dir.File("q.txt")), want);
  WriteBytes(dir.File("q.txt.xz"), Xz("first query\n\n\tcol\tumns\t\n  spaced  \r\nlast\n"));
  EXPECT_EQ(ReadTextLines(dir.File("q.txt.xz")), want);
  WriteBytes(dir.File("e.txt"), "");
  EXPECT_TRUE(ReadTextLines(dir.File("e.txt")).empty());
  WriteBytes(dir.File("blank.txt"), "\n\n");
  EXPECT_EQ(ReadTextLines(dir.File("blank.txt")), (Names{"", ""}));
}

}  // namespace
}  // namespace xmr
