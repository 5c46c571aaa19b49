// Block-by-block writers (XmlRepoStreamWriter, XmbStreamWriter) and AtomicFileWriter::WriteAt:
// streamed files equal the one-shot writers' output byte for byte, and misuse is an error that
// leaves no file behind.
#include <dirent.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/test_util.h"
#include "io/atomic_file.h"
#include "io/formats.h"
#include "xmr/io.h"

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::RandomBinaryCsr;
using testing_util::RandomCsr;
using testing_util::ReadBytes;
using testing_util::TempDir;

// Number of entries in a directory besides . and .. (temporaries and scratch files included).
int Entries(const std::string& dir) {
  int n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n;
}

std::vector<Offset> Indptr(const CsrMatrix& m) { return m.indptr; }

// Rows [begin, end) as a view into m (indptr not rebased: the writers must cope).
CsrView Rows(const CsrMatrix& m, Index begin, Index end) { return SliceRows(m.view(), begin, end); }

TEST(XmbStreamWriter, BlocksGiveTheSameBytesAsWriteBinary) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(203, 57, 0.2, /*seed=*/3);
  WriteBinary(dir.File("one.xmb"), a.view());
  {
    detail::XmbStreamWriter w(dir.File("streamed.xmb"), a.cols, Indptr(a));
    for (Index b = 0; b < a.rows; b += 50) w.Append(Rows(a, b, std::min(a.rows, b + 50)));
    w.Commit();
  }
  EXPECT_EQ(ReadBytes(dir.File("streamed.xmb")), ReadBytes(dir.File("one.xmb")));
  ExpectCsrEq(ReadBinaryCsr(dir.File("streamed.xmb")), a);
  EXPECT_EQ(Entries(dir.path()), 2);  // no scratch file left
}

TEST(XmbStreamWriter, WrongLengthsMissingRowsAndBadIndicesAreErrorsLeavingNothing) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(40, 20, 0.3, /*seed=*/5);
  const std::string path = dir.File("m.xmb");
  {
    std::vector<Offset> wrong = Indptr(a);
    for (std::size_t i = 10; i < wrong.size(); ++i) wrong[i] += 1;  // row 9 one longer
    detail::XmbStreamWriter w(path, a.cols, wrong);
    ExpectError([&] { w.Append(a.view()); }, ErrorCode::kInvalidArgument, {"row 9", "length"});
  }
  {
    detail::XmbStreamWriter w(path, a.cols, Indptr(a));
    w.Append(Rows(a, 0, 10));
    ExpectError([&] { w.Commit(); }, ErrorCode::kInvalidArgument, {"10 rows written", "40"});
  }
  {
    detail::XmbStreamWriter w(path, a.cols, Indptr(a));
    w.Append(Rows(a, 0, 30));
    ExpectError([&] { w.Append(Rows(a, 0, 20)); }, ErrorCode::kInvalidArgument, {"does not fit"});
  }
  {
    CsrMatrix bad = a;
    bad.indices[bad.indptr[7]] = 25;  // column out of range, reported as row 7 + offset
    detail::XmbStreamWriter w(path, 20, Indptr(a));
    w.Append(Rows(a, 0, 5));
    ExpectError([&] { w.Append(Rows(bad, 5, 40)); }, ErrorCode::kInvalidArgument, {"row 7"});
  }
  ExpectError(
      [&] {
        detail::XmbStreamWriter w(path, 3, {1, 2});
      },
      ErrorCode::kInvalidArgument, {"indptr"});
  ExpectError(
      [&] {
        detail::XmbStreamWriter w(path, 3, {0, 2, 1});
      },
      ErrorCode::kInvalidArgument, {"not monotone"});
  EXPECT_EQ(Entries(dir.path()), 0);
  ExpectError([&] { detail::XmbStreamWriter w("/dev/null", 3, {0}); }, ErrorCode::kInvalidArgument,
              {"device or FIFO"});
}

TEST(XmlRepoStreamWriter, BlocksGiveTheSameBytesAsWriteXmlRepo) {
  TempDir dir;
  const CsrMatrix x = RandomCsr(120, 33, 0.25, /*seed=*/7, 0.0f, 1.0f);
  const CsrMatrix y = RandomBinaryCsr(120, 9, 0.2, /*seed=*/8);  // some rows without labels
  WriteXmlRepo(dir.File("one.txt"), x.view(), y.view());
  {
    detail::XmlRepoStreamWriter w(dir.File("streamed.txt"), x.rows, x.cols, y.cols);
    for (Index b = 0; b < x.rows; b += 37) {
      const Index e = std::min(x.rows, b + 37);
      w.Append(Rows(x, b, e), Rows(y, b, e));
    }
    w.Commit();
  }
  EXPECT_EQ(ReadBytes(dir.File("streamed.txt")), ReadBytes(dir.File("one.txt")));
  const Dataset back = ReadDataFile(dir.File("streamed.txt"));
  ExpectCsrEq(back.x, x);
}

TEST(XmlRepoStreamWriter, RowCountAndShapeMismatchesAreErrorsLeavingNothing) {
  TempDir dir;
  const CsrMatrix x = RandomCsr(10, 8, 0.5, /*seed=*/1);
  const CsrMatrix y = RandomBinaryCsr(10, 4, 0.5, /*seed=*/2);
  const std::string path = dir.File("d.txt");
  {
    detail::XmlRepoStreamWriter w(path, 12, 8, 4);
    w.Append(x.view(), y.view());
    ExpectError([&] { w.Commit(); }, ErrorCode::kInvalidArgument, {"10 rows written", "12"});
  }
  {
    detail::XmlRepoStreamWriter w(path, 15, 8, 4);
    w.Append(x.view(), y.view());
    ExpectError([&] { w.Append(x.view(), y.view()); }, ErrorCode::kInvalidArgument,
                {"more rows", "15"});
  }
  {
    detail::XmlRepoStreamWriter w(path, 10, 7, 4);  // x is 8 wide
    ExpectError([&] { w.Append(x.view(), y.view()); }, ErrorCode::kInvalidArgument, {"wider"});
  }
  ExpectError([&] { detail::XmlRepoStreamWriter w(path, -1, 8, 4); }, ErrorCode::kInvalidArgument,
              {"negative"});
  EXPECT_EQ(Entries(dir.path()), 0);
}

TEST(AtomicFileWriter, WriteAtPatchesEarlierBytes) {
  TempDir dir;
  const std::string path = dir.File("f");
  {
    detail::AtomicFileWriter w(path);
    w.Write("header:????\n");
    w.Write(std::string(3 << 20, 'x'));  // past the 1 MiB buffer: patch after real writes
    w.WriteAt(7, "ABCD", 4);
    w.Write("tail");
    ExpectError([&] { w.WriteAt(w.bytes_written() - 2, "zzz", 3); }, ErrorCode::kInternal,
                {"outside"});
    w.Commit();
  }
  const std::string got = ReadBytes(path);
  EXPECT_EQ(got.substr(0, 12), "header:ABCD\n");
  EXPECT_EQ(got.size(), 12u + (3u << 20) + 4u);
  EXPECT_EQ(got.substr(got.size() - 4), "tail");
  detail::AtomicFileWriter dev("/dev/null");
  dev.Write("abc");
  ExpectError([&] { dev.WriteAt(0, "x", 1); }, ErrorCode::kInvalidArgument, {"device or FIFO"});
}

}  // namespace
}  // namespace xmr
