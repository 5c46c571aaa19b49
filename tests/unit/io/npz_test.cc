// Tests of the zip container, .npy arrays, scipy .npz files, .xmb files and ReadMatrix.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "core/memory.h"  // for AvailableMemoryBytes
#include "io/atomic_file.h"
#include "io/npy.h"
#include "io/zip.h"
#include "io_test_util.h"
#include "xmr/io.h"

namespace xmr {
namespace {

using detail::MakeNpyHeader;
using detail::ZipReader;
using detail::ZipWriter;
using io_test::Dense;
using io_test::Gzip;
using io_test::Xz;
using testing_util::ExpectCscEq;
using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::RandomCsr;
using testing_util::ReadBytes;
using testing_util::ReadCooText;
using testing_util::TempDir;
using testing_util::WriteBytes;

const std::string kFixtures = testing_util::PecosFixture("");

// Raw bytes of a little-endian array.
template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// One .npy array: header for `descr` and a 1-d shape, plus its data.
std::string Npy(const std::string& descr, const std::string& data, std::int64_t n) {
  return MakeNpyHeader(descr, {n}) + data;
}
template <typename T>
std::string Npy(const std::string& descr, const std::vector<T>& v) {
  return Npy(descr, Bytes(v), static_cast<std::int64_t>(v.size()));
}
std::string FormatNpy(const std::string& f) { return MakeNpyHeader("|S3", {}) + f; }

using Entries = std::vector<std::pair<std::string, std::string>>;

void WriteZip(const std::string& path, const Entries& entries, bool compressed = false,
              bool zip64 = false) {
  detail::AtomicFileWriter out(path);
  ZipWriter zip(&out, zip64);
  for (const auto& [name, bytes] : entries) zip.Add(name, {bytes}, compressed);
  zip.Finish();
  out.Commit();
}

// The five entries of a scipy CSR file for a 2 x 3 matrix [[1 0 2] [0 3 0]].
Entries SmallCsrEntries() {
  return {{"indices.npy", Npy("<i4", std::vector<std::int32_t>{0, 2, 1})},
          {"indptr.npy", Npy("<i4", std::vector<std::int32_t>{0, 2, 3})},
          {"format.npy", FormatNpy("csr")},
          {"shape.npy", Npy("<i8", std::vector<std::int64_t>{2, 3})},
          {"data.npy", Npy("<f4", std::vector<float>{1, 2, 3})}};
}

void Replace(Entries* e, const std::string& name, std::string bytes) {
  for (auto& [n, b] : *e) {
    if (n == name) b = std::move(bytes);
  }
}

// ----- npz ------------------------------------------------------------------------------------

TEST(Npz, EveryPecosFixtureMatchesItsCooDump) {
  const char* names[] = {"X",
                         "Xt",
                         "Y",
                         "Yt",
                         "Yt_pred",
                         "Yt_pred_with_tfn+man",
                         "Yt_primal_pred",
                         "P_nr_splits=2",
                         "P_nr_splits=4",
                         "L.pifa"};
  for (const char* name : names) {
    SCOPED_TRACE(name);
    const CsrMatrix expect = ReadCooText(kFixtures + name + ".coo.txt");
    ASSERT_GT(expect.rows, 0);
    ExpectCsrEq(ReadNpzCsr(kFixtures + name + ".npz"), expect);
    ExpectCsrEq(ReadMatrix(kFixtures + name + ".npz"), expect);
    ExpectCscEq(ReadNpzCsc(kFixtures + name + ".npz"), CsrToCsc(expect.view()));
  }
}

TEST(Npz, FixtureValuesAreThoseOfTheReadme) {
  const CsrMatrix y = ReadNpzCsr(kFixtures + "Y.npz");
  ExpectCsrEq(y, Dense(20, {{0, 1}, {0, 0, 0, 0, 1}}));
}

TEST(Npz, CsrRoundTripStoredAndCompressed) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(57, 300, 0.05, 1);
  for (bool compressed : {false, true}) {
    SCOPED_TRACE(compressed);
    const std::string path = dir.File(compressed ? "c.npz" : "s.npz");
    WriteNpz(path, a.view(), compressed);
    ExpectCsrEq(ReadNpzCsr(path), a);
    const ZipReader zip(path);
    ASSERT_EQ(zip.entries().size(), 5u);
    const char* order[] = {"indices.npy", "indptr.npy", "format.npy", "shape.npy", "data.npy"};
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(zip.entries()[k].name, order[k]);
      EXPECT_EQ(zip.entries()[k].method, compressed ? 8 : 0);
    }
  }
  // Deterministic bytes.
  WriteNpz(dir.File("s2.npz"), a.view());
  EXPECT_EQ(ReadBytes(dir.File("s.npz")), ReadBytes(dir.File("s2.npz")));
  EXPECT_LT(ReadBytes(dir.File("c.npz")).size(), ReadBytes(dir.File("s.npz")).size());
}

TEST(Npz, WrittenHeadersAreThoseScipyWrites) {
  TempDir dir;
  const CsrMatrix a = Dense(3, {{1, 0, 2}, {0, 3, 0}});
  WriteNpz(dir.File("a.npz"), a.view());
  const ZipReader zip(dir.File("a.npz"));
  auto header = [&](const char* name) {
    detail::ZipEntryReader r = zip.Open(*zip.Find(name));
    return detail::ReadNpyHeader(&r);
  };
  EXPECT_EQ(header("format.npy").descr, "<U3");
  EXPECT_TRUE(header("format.npy").shape.empty());
  EXPECT_EQ(header("shape.npy").descr, "<i8");
  EXPECT_EQ(header("shape.npy").shape, std::vector<std::int64_t>{2});
  EXPECT_EQ(header("indptr.npy").descr, "<i4");
  EXPECT_EQ(header("indices.npy").descr, "<i4");
  EXPECT_EQ(header("data.npy").descr, "<f4");
  // numpy's own layout: 128-byte preamble for these small dicts.
  const std::string h = MakeNpyHeader("<f4", {16});
  EXPECT_EQ(h.size(), 128u);
  EXPECT_EQ(h.substr(10, 60), "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }  ");
  EXPECT_EQ(h.back(), '\n');
}

TEST(Npz, CscRoundTripAndConversions) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(40, 25, 0.1, 2);
  const CscMatrix c = CsrToCsc(a.view());
  for (bool compressed : {false, true}) {
    const std::string path = dir.File(compressed ? "c.npz" : "s.npz");
    WriteNpz(path, c.view(), compressed);
    ExpectCscEq(ReadNpzCsc(path), c);
    ExpectCsrEq(ReadNpzCsr(path), a);  // CSC file read as CSR
  }
}

TEST(Npz, SlicesEmptyMatricesAndCompressedContainers) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(30, 12, 0.3, 3);
  const CsrView slice = SliceRows(a.view(), 10, 20);
  WriteNpz(dir.File("slice.npz"), slice);
  ExpectCsrEq(ReadNpzCsr(dir.File("slice.npz")), Copy(slice));
  for (Index r : {0, 4}) {
    const CsrMatrix z = CsrMatrix::Zeros(r, 0);
    WriteNpz(dir.File("z.npz"), z.view());
    ExpectCsrEq(ReadNpzCsr(dir.File("z.npz")), z);
  }
  WriteNpz(dir.File("plain.npz"), a.view());
  WriteBytes(dir.File("a.npz.gz"), Gzip(ReadBytes(dir.File("plain.npz"))));
  ExpectCsrEq(ReadNpzCsr(dir.File("a.npz.gz")), a);
  WriteBytes(dir.File("a.npz.xz"), Xz(ReadBytes(dir.File("plain.npz"))));
  ExpectCsrEq(ReadMatrix(dir.File("a.npz.xz")), a);
}

TEST(Npz, OtherDtypesAndByteOrdersAreConverted) {
  TempDir dir;
  const CsrMatrix expect = Dense(3, {{1, 0, 2}, {0, 3, 0}});
  Entries e = SmallCsrEntries();
  Replace(&e, "indices.npy", Npy("<i8", std::vector<std::int64_t>{0, 2, 1}));
  Replace(&e, "indptr.npy", Npy("<u8", std::vector<std::uint64_t>{0, 2, 3}));
  Replace(&e, "data.npy", Npy("<f8", std::vector<double>{1, 2, 3}));
  Replace(&e, "format.npy", MakeNpyHeader("<U3", {}) + std::string("c\0\0\0s\0\0\0r\0\0\0", 12));
  WriteZip(dir.File("wide.npz"), e);
  ExpectCsrEq(ReadNpzCsr(dir.File("wide.npz")), expect);

  Entries b = SmallCsrEntries();
  Replace(&b, "indices.npy", Npy(">i4", std::string("\0\0\0\0\0\0\0\2\0\0\0\1", 12), 3));
  Replace(&b, "data.npy", Npy("<f2", std::string("\x00\x3c\x00\x40\x00\x42", 6), 3));
  Replace(&b, "shape.npy", Npy("<i4", std::vector<std::int32_t>{2, 3}));
  WriteZip(dir.File("be.npz"), b, /*compressed=*/true);
  ExpectCsrEq(ReadNpzCsr(dir.File("be.npz")), expect);

  Entries bools = SmallCsrEntries();
  Replace(&bools, "data.npy", Npy("|b1", std::string("\1\1\1", 3), 3));
  WriteZip(dir.File("bool.npz"), bools);
  ExpectCsrEq(ReadNpzCsr(dir.File("bool.npz")), Dense(3, {{1, 0, 1}, {0, 1, 0}}));
}

TEST(Npz, UnsortedIndicesAreSortedAndDuplicatesSummed) {
  TempDir dir;
  Entries e = SmallCsrEntries();
  // Row 0: (2, 1.0) (0, 2.0) (2, 0.5); row 1: (1, 3.0); trailing unused entries are pruned.
  Replace(&e, "indices.npy", Npy("<i4", std::vector<std::int32_t>{2, 0, 2, 1, 0}));
  Replace(&e, "indptr.npy", Npy("<i4", std::vector<std::int32_t>{0, 3, 4}));
  Replace(&e, "data.npy", Npy("<f4", std::vector<float>{1, 2, 0.5f, 3, 9}));
  WriteZip(dir.File("u.npz"), e);
  ExpectCsrEq(ReadNpzCsr(dir.File("u.npz")), Dense(3, {{2, 0, 1.5f}, {0, 3, 0}}));
}

TEST(Npz, Zip64RecordsAreRead) {
  TempDir dir;
  WriteZip(dir.File("z64.npz"), SmallCsrEntries(), false, /*zip64=*/true);
  WriteZip(dir.File("z64c.npz"), SmallCsrEntries(), true, /*zip64=*/true);
  const CsrMatrix expect = Dense(3, {{1, 0, 2}, {0, 3, 0}});
  ExpectCsrEq(ReadNpzCsr(dir.File("z64.npz")), expect);
  ExpectCsrEq(ReadNpzCsr(dir.File("z64c.npz")), expect);
  const std::string bytes = ReadBytes(dir.File("z64.npz"));
  EXPECT_NE(bytes.find("PK\x06\x06"), std::string::npos);  // zip64 end record
  EXPECT_NE(bytes.find("PK\x06\x07"), std::string::npos);  // and its locator
}

TEST(Npz, UnsupportedFormatsAndDtypes) {
  TempDir dir;
  Entries coo = SmallCsrEntries();
  Replace(&coo, "format.npy", FormatNpy("coo"));
  WriteZip(dir.File("coo.npz"), coo);
  ExpectError([&] { ReadNpzCsr(dir.File("coo.npz")); }, ErrorCode::kNotSupported,
              {"coo.npz", "'coo' is not supported"});
  Entries junk = SmallCsrEntries();
  Replace(&junk, "format.npy", FormatNpy("xyz"));
  WriteZip(dir.File("xyz.npz"), junk);
  ExpectError([&] { ReadNpzCsr(dir.File("xyz.npz")); }, ErrorCode::kCorruption,
              {"unknown sparse format 'xyz'"});
  Entries cplx = SmallCsrEntries();
  Replace(&cplx, "data.npy", Npy("<c8", std::string(24, '\0'), 3));
  WriteZip(dir.File("c8.npz"), cplx);
  ExpectError([&] { ReadNpzCsr(dir.File("c8.npz")); }, ErrorCode::kCorruption,
              {"data.npy", "unsupported .npy dtype '<c8'"});
  Entries fl = SmallCsrEntries();
  Replace(&fl, "indices.npy", Npy("<f4", std::vector<float>{0, 2, 1}));
  WriteZip(dir.File("fi.npz"), fl);
  ExpectError([&] { ReadNpzCsr(dir.File("fi.npz")); }, ErrorCode::kCorruption,
              {"indices", "integer dtype"});
  // A zip entry with another compression method (bzip2 = 12).
  WriteZip(dir.File("m.npz"), SmallCsrEntries());
  std::string bytes = ReadBytes(dir.File("m.npz"));
  const std::size_t central = bytes.find("PK\x01\x02");
  bytes[central + 10] = 12;
  WriteBytes(dir.File("m.npz"), bytes);
  ExpectError([&] { ReadNpzCsr(dir.File("m.npz")); }, ErrorCode::kNotSupported,
              {"indices.npy", "compression method 12"});
}

TEST(Npz, StructuralErrorsAreCorruption) {
  TempDir dir;
  auto bad = [&](Entries e, std::initializer_list<std::string> needles) {
    WriteZip(dir.File("bad.npz"), e);
    ExpectError([&] { ReadNpzCsr(dir.File("bad.npz")); }, ErrorCode::kCorruption, needles);
  };
  Entries e = SmallCsrEntries();
  Replace(&e, "indices.npy", Npy("<i4", std::vector<std::int32_t>{0, 3, 1}));
  bad(e, {"bad.npz", "indices.npy", "entry 1 (row 0) = 3 outside [0, 3)"});
  e = SmallCsrEntries();
  Replace(&e, "indices.npy", Npy("<i4", std::vector<std::int32_t>{0, -1, 1}));
  bad(e, {"outside"});
  e = SmallCsrEntries();
  Replace(&e, "indptr.npy", Npy("<i4", std::vector<std::int32_t>{0, 3, 2}));
  bad(e, {"indptr.npy", "not monotone"});
  e = SmallCsrEntries();
  Replace(&e, "indptr.npy", Npy("<i4", std::vector<std::int32_t>{0, 3}));
  bad(e, {"indptr.npy", "has 2 entries", "needs 3"});
  e = SmallCsrEntries();
  Replace(&e, "indptr.npy", Npy("<i4", std::vector<std::int32_t>{1, 2, 3}));
  bad(e, {"indptr[0] = 1"});
  e = SmallCsrEntries();
  Replace(&e, "indptr.npy", Npy("<i4", std::vector<std::int32_t>{0, 2, 4}));
  bad(e, {"exceeds the 3 stored nonzeros"});
  e = SmallCsrEntries();
  Replace(&e, "data.npy", Npy("<f4", std::vector<float>{1, 2}));
  bad(e, {"indices.npy has 3 entries but data.npy has 2"});
  e = SmallCsrEntries();
  Replace(&e, "data.npy", Npy("<f4", std::vector<float>{1, std::nanf(""), 3}));
  bad(e, {"data[1] is NaN/Inf"});
  e = SmallCsrEntries();
  Replace(&e, "data.npy", Npy("<f8", std::vector<double>{1, 1e300, 3}));
  bad(e, {"data[1]", "out of float32 range"});
  e = SmallCsrEntries();
  Replace(&e, "indices.npy", Npy("<i8", std::vector<std::int64_t>{0, std::int64_t{1} << 40, 1}));
  bad(e, {"indices[1] out of range for a 32-bit integer"});
  e = SmallCsrEntries();
  Replace(&e, "shape.npy", Npy("<i8", std::vector<std::int64_t>{2, 3, 4}));
  bad(e, {"shape.npy", "expected 2 dimensions"});
  e = SmallCsrEntries();
  Replace(&e, "shape.npy", Npy("<i8", std::vector<std::int64_t>{2, -3}));
  bad(e, {"shape.npy", "dimension -3"});
  e = SmallCsrEntries();
  e.pop_back();
  bad(e, {"no 'data.npy' entry"});
  e = SmallCsrEntries();
  Replace(&e, "data.npy", "\x93NUMPX" + Npy("<f4", std::vector<float>{1, 2, 3}).substr(6));
  bad(e, {"data.npy", "bad magic"});
  e = SmallCsrEntries();
  Replace(&e, "data.npy", Npy("<f4", std::string(12, '\0'), 4));
  bad(e, {"data.npy", "array data is 12 bytes", "need 16"});
  e = SmallCsrEntries();
  Replace(&e, "data.npy",
          MakeNpyHeader("<f4", {3}).replace(10, 10, "{'descX': ") + std::string(12, '\0'));
  bad(e, {"data.npy", "bad .npy header"});
}

TEST(Npz, DamagedAndTruncatedArchives) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(50, 40, 0.2, 4);
  WriteNpz(dir.File("s.npz"), a.view(), false);
  WriteNpz(dir.File("c.npz"), a.view(), true);
  const std::string stored = ReadBytes(dir.File("s.npz"));
  const std::string packed = ReadBytes(dir.File("c.npz"));
  auto bad = [&](const std::string& bytes, std::initializer_list<std::string> needles) {
    WriteBytes(dir.File("bad.npz"), bytes);
    ExpectError([&] { ReadNpzCsr(dir.File("bad.npz")); }, ErrorCode::kCorruption, needles);
  };
  // A flipped bit in the values of data.npy: only the CRC can tell.
  // The first "data.npy" is the name in its local header; the array follows the 128-byte
  // .npy preamble.
  std::string flip = stored;
  flip[stored.find("data.npy") + 8 + 128 + 4] ^= 0x01;
  bad(flip, {"bad.npz: data.npy", "CRC-32 mismatch"});
  std::string flip_packed = packed;
  flip_packed[packed.size() / 3] ^= 0x40;
  bad(flip_packed, {"bad.npz"});
  for (std::size_t cut :
       {stored.size() - 1, stored.size() - 30, stored.size() / 2, std::size_t{100}}) {
    SCOPED_TRACE(cut);
    bad(stored.substr(0, cut), {"bad.npz", "truncated"});
  }
  bad("this is not a zip file at all, just some text", {"not a zip archive"});
  bad("", {"not a zip archive"});
  // Cut inside the central directory but keep the end record: offsets out of range.
  const std::size_t cd = stored.find("PK\x01\x02");
  bad(stored.substr(0, cd + 10) + stored.substr(stored.size() - 22), {"bad.npz"});
}

// Found reviewing the reader for fuzz_npz, reproduced with it: duplicate entries are summed
// (as scipy does), and two finite float32 values may sum to infinity, which the reader then
// returned in a matrix it promises is finite.
TEST(Npz, DuplicatesSummingBeyondFloat32AreCorruption) {
  TempDir dir;
  Entries e = SmallCsrEntries();
  Replace(&e, "indices.npy", Npy("<i4", std::vector<std::int32_t>{1, 1, 1}));
  Replace(&e, "data.npy", Npy("<f4", std::vector<float>{3e38f, 3e38f, 1}));
  WriteZip(dir.File("dup.npz"), e);
  ExpectError([&] { ReadNpzCsr(dir.File("dup.npz")); }, ErrorCode::kCorruption,
              {"dup.npz", "data.npy", "row 0 at index 1", "sum beyond the float32 range"});
}

// Found reviewing the reader for fuzz_npz, reproduced with it: a deflate entry whose directory
// record declares 4 GiB (a header for 2^30 - 34 int32 indices) but whose data is only that
// header. Arrays are sized by the declared size, so a 700-byte file made the reader allocate
// 4 GiB before inflating a byte of the array; deflate cannot expand more than 1032:1.
TEST(Npz, DeflateEntryDeclaringMoreThanItsDataCanHold) {
  TempDir dir;
  const std::int64_t n = 1073741790;  // 128-byte header + 4 n bytes < 2^32
  Entries e = SmallCsrEntries();
  Replace(&e, "indices.npy", MakeNpyHeader("<i4", {n}));
  WriteZip(dir.File("big.npz"), e, /*compressed=*/true);
  std::string bytes = ReadBytes(dir.File("big.npz"));
  const std::size_t central = bytes.find("PK\x01\x02");  // indices.npy is the first entry
  ASSERT_EQ(bytes.compare(central + 46, 11, "indices.npy"), 0);
  const std::uint32_t declared = static_cast<std::uint32_t>(128 + 4 * n);
  std::memcpy(&bytes[central + 24], &declared, 4);
  WriteBytes(dir.File("big.npz"), bytes);
  ExpectError([&] { ReadNpzCsr(dir.File("big.npz")); }, ErrorCode::kCorruption,
              {"big.npz: indices.npy", "declares 4294967288 bytes", "1032:1"});
}

// Found by fuzz_npz (minimised: format.npy alone with dtype '|S32147483646'): the item size of
// a dtype was accumulated in an int past its bound (UBSan: signed integer overflow in
// ParseDescr); a 'U' size of 9 digits also overflowed when converted to bytes (x 4).
TEST(Npz, HugeDtypeItemSizesAreUnsupported) {
  TempDir dir;
  for (const std::string descr : {"|S32147483646", "<U999999999", "|S100000000"}) {
    Entries e = SmallCsrEntries();
    Replace(&e, "format.npy", MakeNpyHeader(descr, {}) + "csr");
    WriteZip(dir.File("dtype.npz"), e);
    ExpectError([&] { ReadNpzCsr(dir.File("dtype.npz")); }, ErrorCode::kCorruption,
                {"dtype.npz: format.npy", "unsupported .npy dtype '" + descr + "'"});
  }
}

// Found by fuzz_npz (minimised: 22 bytes, gzip-compressed): an empty zip archive, only its end
// record. Reading its empty central directory from the decompressed copy in memory called
// memcpy with the null data() of an empty vector (UBSan: null pointer passed as argument 1).
TEST(Npz, EmptyArchiveInMemoryIsNotAnNpz) {
  const std::string empty_zip("PK\x05\x06" + std::string(18, '\0'));
  TempDir dir;
  for (const std::string& bytes : {empty_zip, Gzip(empty_zip)}) {
    WriteBytes(dir.File("empty.npz"), bytes);
    ExpectError([&] { ReadNpzCsr(dir.File("empty.npz")); }, ErrorCode::kCorruption,
                {"empty.npz", "not a scipy sparse .npz file (no 'format.npy' entry)"});
  }
}

// Found by fuzz_npz: a CSR file of a few hundred bytes declaring 2 x 989,855,764 read as CSC
// is transposed into column pointers (7.9 GB here). That is the conversion asked for; the
// reader refuses it when it cannot fit in memory instead of dying half-way. The fuzz harnesses
// skip such conversions (tests/fuzz/npz_shape.h).
TEST(Npz, ConversionThatCannotFitIsOutOfMemory) {
  const Index cols = std::numeric_limits<Index>::max();
  const std::uint64_t need = (static_cast<std::uint64_t>(cols) + 1) * 16;  // 32 GiB
  if (AvailableMemoryBytes() >= need) GTEST_SKIP() << "more than 32 GiB of memory available";
  TempDir dir;
  WriteNpz(dir.File("wide.npz"), CsrMatrix::Zeros(2, cols).view());
  EXPECT_EQ(ReadNpzCsr(dir.File("wide.npz")).cols, cols);  // no conversion needed
  ExpectError([&] { ReadNpzCsc(dir.File("wide.npz")); }, ErrorCode::kOutOfMemory,
              {"wide.npz", "csr matrix (2 x 2147483647) as CSC needs", "available"});
}

// ----- xmb ------------------------------------------------------------------------------------

TEST(Binary, RoundTripSlicesAndEmpty) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(123, 77, 0.1, 5);
  WriteBinary(dir.File("a.xmb"), a.view());
  ExpectCsrEq(ReadBinaryCsr(dir.File("a.xmb")), a);
  EXPECT_EQ(ReadBytes(dir.File("a.xmb")).size(), 64 + 8 * (123 + 1) + 8 * a.nnz());
  const CsrView slice = SliceRows(a.view(), 50, 60);
  WriteBinary(dir.File("s.xmb"), slice);
  ExpectCsrEq(ReadBinaryCsr(dir.File("s.xmb")), Copy(slice));
  for (Index r : {0, 3}) {
    const CsrMatrix z = CsrMatrix::Zeros(r, 9);
    WriteBinary(dir.File("z.xmb"), z.view());
    ExpectCsrEq(ReadBinaryCsr(dir.File("z.xmb")), z);
  }
  WriteBytes(dir.File("a.xmb.xz"), Xz(ReadBytes(dir.File("a.xmb"))));
  ExpectCsrEq(ReadBinaryCsr(dir.File("a.xmb.xz")), a);
  ExpectCsrEq(ReadMatrix(dir.File("a.xmb.xz")), a);
}

TEST(Binary, DamageIsDetected) {
  TempDir dir;
  const CsrMatrix a = RandomCsr(40, 30, 0.2, 6);
  WriteBinary(dir.File("a.xmb"), a.view());
  const std::string good = ReadBytes(dir.File("a.xmb"));
  auto bad = [&](const std::string& bytes, ErrorCode code,
                 std::initializer_list<std::string> needles) {
    WriteBytes(dir.File("bad.xmb"), bytes);
    ExpectError([&] { ReadBinaryCsr(dir.File("bad.xmb")); }, code, needles);
  };
  bad(good.substr(0, good.size() - 4), ErrorCode::kCorruption, {"bad.xmb", "truncated"});
  bad(good.substr(0, 30), ErrorCode::kCorruption, {"bad.xmb", "truncated", "header"});
  bad(good + "x", ErrorCode::kCorruption, {"trailing bytes"});
  std::string flip = good;
  flip[good.size() - 3] ^= 0x10;
  bad(flip, ErrorCode::kCorruption, {"payload CRC-32 mismatch"});
  flip = good;
  flip[24] ^= 0x01;  // rows
  bad(flip, ErrorCode::kCorruption, {"header CRC-32 mismatch"});
  flip = good;
  flip[0] = 'Y';
  bad(flip, ErrorCode::kCorruption, {"bad magic"});
  // A future version with a valid header checksum.
  std::string v2 = good;
  v2[12] = 2;
  const std::uint32_t crc = detail::Crc32(0, v2.data(), 48);
  std::memcpy(v2.data() + 48, &crc, 4);
  bad(v2, ErrorCode::kNotSupported, {"version 2"});
  const std::string xz = Xz(good);
  WriteBytes(dir.File("t.xmb.xz"), xz.substr(0, xz.size() - 10));
  ExpectError([&] { ReadBinaryCsr(dir.File("t.xmb.xz")); }, ErrorCode::kCorruption, {"xz"});
}

// Found by fuzz_binary: a gzip-compressed header with valid checksums that declares 2^24 rows
// and 2^38 nonzeros, and no payload. A compressed file's size cannot be checked against the
// header, so the reader must find the data missing before allocating the 1 TiB declared.
TEST(Binary, CompressedHeaderDeclaringHugeArraysIsTruncated) {
  static const unsigned char kHeader[64] = {
      0x58, 0x4d, 0x52, 0x4d, 0x41, 0x54, 0x30, 0x31, 0x04, 0x03, 0x02, 0x01, 0x01,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x17, 0xc9, 0x60, 0x16,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  TempDir dir;
  const std::string path = dir.File("huge.xmb.gz");
  WriteBytes(path, Gzip(std::string(reinterpret_cast<const char*>(kHeader), sizeof(kHeader))));
  ExpectError([&] { ReadBinaryCsr(path); }, ErrorCode::kCorruption,
              {"huge.xmb.gz", "xmb data ends after 64 bytes", "truncated file"});
}

TEST(Binary, WriterRejectsInvalidMatrices) {
  TempDir dir;
  CsrMatrix a = Dense(4, {{1, 0, 2, 0}});
  std::swap(a.indices[0], a.indices[1]);
  ExpectError([&] { WriteBinary(dir.File("u.xmb"), a.view()); }, ErrorCode::kInvalidArgument,
              {"not strictly increasing"});
  EXPECT_FALSE(PathExists(dir.File("u.xmb")));
  ExpectError([&] { WriteBinary(dir.File("nodir/u.xmb"), Dense(1, {{1}}).view()); },
              ErrorCode::kIoError, {"nodir/u.xmb"});
}

// ----- ReadMatrix / PathExists ----------------------------------------------------------------

TEST(ReadMatrix, DetectsEveryFormatByContent) {
  TempDir dir;
  const CsrMatrix a = Dense(4, {{1, 0, 0.5f, 0}, {}, {0, 0, 0, -2}});
  WriteNpz(dir.File("m1"), a.view());
  WriteNpz(dir.File("m2"), a.view(), true);
  WriteBinary(dir.File("m3"), a.view());
  WriteBytes(dir.File("m4"), "3 4\n0:1 2:0.5\n\n3:-2\n");
  WriteBytes(dir.File("m5"), Gzip("3 4\n0:1 2:0.5\n\n3:-2\n"));
  WriteBytes(dir.File("m6"), Gzip(ReadBytes(dir.File("m3"))));
  for (const char* name : {"m1", "m2", "m3", "m4", "m5", "m6"}) {
    SCOPED_TRACE(name);
    ExpectCsrEq(ReadMatrix(dir.File(name)), a);
  }
  ExpectError([&] { ReadMatrix(dir.File("none")); }, ErrorCode::kIoError, {"none"});
}

TEST(PathExists, FilesAndDirectories) {
  TempDir dir;
  EXPECT_TRUE(PathExists(dir.path()));
  EXPECT_FALSE(PathExists(dir.File("x")));
  WriteBytes(dir.File("x"), "1");
  EXPECT_TRUE(PathExists(dir.File("x")));
  EXPECT_FALSE(PathExists("/dev/null"));
}

}  // namespace
}  // namespace xmr
