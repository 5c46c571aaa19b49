// Ids past the declared dimensions: files whose checksums are valid but whose ids reach the
// declared dimension are Corruption naming the file and where; API calls given a matrix whose
// ids reach its declared dimension are InvalidArgument naming the row. (The text formats,
// npz CSR files, Predict and Searcher are covered by the io and infer tests; this file covers
// what those do not.)
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "io/zip.h"  // for Crc32
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/train.h"

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::Quiet;
using testing_util::ReadBytes;
using testing_util::TempDir;
using testing_util::WriteBytes;

template <typename T>
T Load(const std::string& b, std::size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}
template <typename T>
void Store(std::string* b, std::size_t off, T v) {
  std::memcpy(&(*b)[off], &v, sizeof(T));
}

// A 3 x 5 matrix whose largest column id is 4, in row 2.
CsrMatrix Small() {
  CsrMatrix a = CsrMatrix::Zeros(3, 5);
  a.indptr = {0, 2, 2, 4};
  a.indices = {0, 3, 1, 4};
  a.data = {1.f, 2.f, 3.f, 4.f};
  return a;
}

// An .xmb file whose header declares fewer columns than its ids need, with valid checksums
// (as a buggy writer would produce): the reader checks ids against the declared dimension.
TEST(Dimensions, BinaryColumnIdAtTheDeclaredDimension) {
  TempDir dir;
  const std::string path = dir.File("m.xmb");
  WriteBinary(path, Small().view());
  const std::string good = ReadBytes(path);
  ASSERT_EQ(Load<std::int64_t>(good, 32), 5);  // cols
  auto with_cols = [&](std::int64_t cols) {
    std::string b = good;
    Store<std::int64_t>(&b, 32, cols);
    Store<std::uint32_t>(&b, 48, detail::Crc32(0, b.data(), 48));
    WriteBytes(path, b);
  };
  with_cols(5);
  ExpectCsrEq(ReadBinaryCsr(path), Small());
  with_cols(4);
  ExpectError([&] { ReadBinaryCsr(path); }, ErrorCode::kCorruption,
              {"m.xmb", "row 2", "column index 4 >= cols 4"});
  with_cols(0);
  ExpectError([&] { ReadBinaryCsr(path); }, ErrorCode::kCorruption,
              {"m.xmb", "row 0", "column index 0 >= cols 0"});
  // A negative id (payload rewritten, payload CRC recomputed).
  std::string b = good;
  const std::size_t indices_at = 64 + 8 * 4;
  Store<std::int32_t>(&b, indices_at, -1);
  const std::uint32_t crc = detail::Crc32(0, b.data() + 64, b.size() - 64);
  Store<std::uint32_t>(&b, 20, crc);
  Store<std::uint32_t>(&b, 48, detail::Crc32(0, b.data(), 48));
  WriteBytes(path, b);
  ExpectError([&] { ReadBinaryCsr(path); }, ErrorCode::kCorruption,
              {"m.xmb", "row 0", "column index -1"});
}

// Rewrites the content of the stored (not deflated) zip entry `name` and fixes its CRC-32 in
// the local header and the central directory. The size must not change.
void PatchStoredEntry(std::string* zip, const std::string& name,
                      void (*patch)(std::string* content)) {
  std::size_t at = 0, data = std::string::npos;
  std::size_t size = 0;
  while ((at = zip->find("PK\x03\x04", at)) != std::string::npos) {
    const std::uint16_t name_len = Load<std::uint16_t>(*zip, at + 26);
    const std::uint16_t extra_len = Load<std::uint16_t>(*zip, at + 28);
    if (zip->compare(at + 30, name_len, name) == 0) {
      ASSERT_EQ(Load<std::uint16_t>(*zip, at + 8), 0) << "entry is not stored";
      size = Load<std::uint32_t>(*zip, at + 18);
      data = at + 30 + name_len + extra_len;
      break;
    }
    at += 4;
  }
  ASSERT_NE(data, std::string::npos) << "no entry " << name;
  std::string content = zip->substr(data, size);
  patch(&content);
  ASSERT_EQ(content.size(), size);
  zip->replace(data, size, content);
  const std::uint32_t crc = detail::Crc32(0, content.data(), content.size());
  Store<std::uint32_t>(zip, at + 14, crc);
  std::size_t c = 0;
  bool found = false;
  while ((c = zip->find("PK\x01\x02", c)) != std::string::npos) {
    const std::uint16_t name_len = Load<std::uint16_t>(*zip, c + 28);
    if (zip->compare(c + 46, name_len, name) == 0) {
      Store<std::uint32_t>(zip, c + 16, crc);
      found = true;
    }
    c += 4;
  }
  ASSERT_TRUE(found) << "no central directory record for " << name;
}

// shape.npy is a .npy of two int64: the first (rows) follows the 64-byte aligned header.
void ShrinkRows(std::string* npy) {
  const std::uint16_t header_len = Load<std::uint16_t>(*npy, 8);
  const std::size_t at = 10 + header_len;
  Store<std::int64_t>(npy, at, Load<std::int64_t>(*npy, at) - 1);
}

// A CSC .npz whose shape declares one row fewer than its row ids need (CRCs valid): both
// readers reject it, naming the file and the entry.
TEST(Dimensions, NpzCscRowIdAtTheDeclaredDimension) {
  TempDir dir;
  const std::string path = dir.File("c.npz");
  const CsrMatrix t = Transpose(Small().view());  // 5 x 3: row ids up to 4
  WriteNpz(path, CsrToCsc(t.view()).view());
  ExpectCsrEq(ReadNpzCsr(path), t);
  std::string b = ReadBytes(path);
  PatchStoredEntry(&b, "shape.npy", ShrinkRows);
  WriteBytes(path, b);
  ExpectError([&] { ReadNpzCsr(path); }, ErrorCode::kCorruption, {"c.npz", "indices.npy", "4"});
  ExpectError([&] { ReadNpzCsc(path); }, ErrorCode::kCorruption, {"c.npz", "indices.npy", "4"});
}

// svmlight with an explicit 1-based feature base: id n_features is the last column, id
// n_features + 1 is past it; label ids are 0-based whatever the feature base.
TEST(Dimensions, SvmLightOneBasedLimits) {
  TempDir dir;
  ReadOptions o;
  o.format = TextFormat::kSvmLight;
  o.feature_base = 1;
  o.n_features = 6;
  o.n_labels = 3;
  WriteBytes(dir.File("ok.svm"), "2 6:1\n0 1:1\n");
  const Dataset d = ReadDataFile(dir.File("ok.svm"), o);
  EXPECT_EQ(d.x.indices, (std::vector<Index>{5, 0}));
  EXPECT_EQ(d.y.indices, (std::vector<Index>{2, 0}));
  WriteBytes(dir.File("f.svm"), "0 1:1\n1 2:1 7:1\n");
  ExpectError([&] { ReadDataFile(dir.File("f.svm"), o); }, ErrorCode::kCorruption,
              {"f.svm:2:", "feature index 7 > n_features 6 (1-based ids) (field 3)"});
  WriteBytes(dir.File("l.svm"), "0 1:1\n1,3 2:1\n");
  ExpectError([&] { ReadDataFile(dir.File("l.svm"), o); }, ErrorCode::kCorruption,
              {"l.svm:2:", "label id 3 >= n_labels 3"});
}

// ----- API: Train ------------------------------------------------------------------------------

struct TrainData {
  CsrMatrix x, y;
};

// 40 rows over 12 features and 4 labels; label of row i = i % 4, features {i % 4, 4 + i % 8}.
TrainData SmallTrainData() {
  TrainData d;
  d.x = CsrMatrix::Zeros(40, 12);
  d.y = CsrMatrix::Zeros(40, 4);
  d.x.indptr.clear();
  d.y.indptr.clear();
  d.x.indptr.push_back(0);
  d.y.indptr.push_back(0);
  for (Index i = 0; i < 40; ++i) {
    d.x.indices.push_back(i % 4);
    d.x.indices.push_back(4 + i % 8);
    d.x.data.push_back(0.8f);
    d.x.data.push_back(0.6f);
    d.x.indptr.push_back(static_cast<Offset>(d.x.indices.size()));
    d.y.indices.push_back(i % 4);
    d.y.data.push_back(1.0f);
    d.y.indptr.push_back(static_cast<Offset>(d.y.indices.size()));
  }
  return d;
}

Context Cpu() {
  Context ctx = Quiet(2);
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

// Expects fn to throw Error(kInvalidArgument) before touching anything out of bounds, with a
// message containing `needle` (the matrix, the row and the id). Train and TrainWithTree check
// x and y up front with the same code and message.
template <typename Fn>
void ExpectRejected(Fn&& fn, const std::string& needle) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
    EXPECT_NE(e.message().find(needle), std::string::npos)
        << "message \"" << e.message() << "\" does not contain \"" << needle << "\"";
    return;
  }
  ADD_FAILURE() << "expected xmr::Error";
}

// Train's matrices must hold ids below their declared dimensions: x.cols is the model's
// feature dimension and y.cols its number of labels. An id at the dimension (or negative) must
// be refused with a message naming the matrix and the row or id.
TEST(Dimensions, TrainRejectsIdsPastTheDeclaredDimensions) {
  const TrainData good = SmallTrainData();
  ClusterChain tree;
  tree.parents = {{0, 0}, {0, 0, 1, 1}};
  TrainOptions opts;
  opts.indexer.max_leaf_size = 2;
  opts.indexer.nr_splits = 2;
  ASSERT_NO_THROW(Train(good.x.view(), good.y.view(), opts, Cpu()));
  ASSERT_NO_THROW(TrainWithTree(good.x.view(), good.y.view(), tree, opts, Cpu()));

  TrainData bad = good;
  bad.x.indices[2 * 17 + 1] = 12;  // row 17: feature 12 of 12
  ExpectRejected([&] { Train(bad.x.view(), bad.y.view(), opts, Cpu()); }, "x: row 17: index 12");
  ExpectRejected([&] { TrainWithTree(bad.x.view(), bad.y.view(), tree, opts, Cpu()); },
                 "x: row 17: index 12");
  bad = good;
  bad.x.indices[2 * 5] = -1;  // row 5: a negative feature id
  ExpectRejected([&] { Train(bad.x.view(), bad.y.view(), opts, Cpu()); }, "x: row 5: index -1");
  ExpectRejected([&] { TrainWithTree(bad.x.view(), bad.y.view(), tree, opts, Cpu()); },
                 "x: row 5: index -1");
  bad = good;
  bad.y.indices[23] = 4;  // row 23: label 4 of 4
  ExpectRejected([&] { Train(bad.x.view(), bad.y.view(), opts, Cpu()); }, "y: row 23: index 4");
  ExpectRejected([&] { TrainWithTree(bad.x.view(), bad.y.view(), tree, opts, Cpu()); },
                 "y: row 23: index 4");
  bad = good;
  bad.y.indices[7] = -1;
  ExpectRejected([&] { Train(bad.x.view(), bad.y.view(), opts, Cpu()); }, "y: row 7: index -1");
  ExpectRejected([&] { TrainWithTree(bad.x.view(), bad.y.view(), tree, opts, Cpu()); },
                 "y: row 7: index -1");
}

}  // namespace
}  // namespace xmr
