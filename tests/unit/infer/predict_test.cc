// Predict / Searcher agreement, thread independence, input validation, and prediction after
// saving, memory-mapping and PECOS export.
#include "xmr/predict.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "xmr/error.h"
#include "xmr/model.h"

// Counts heap allocations made while g_count_allocations is set (for the steady-state test).
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<long> g_allocations{0};
}  // namespace

// The replacement new/delete pair is malloc/free; GCC cannot see that they match.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_count_allocations.load(std::memory_order_relaxed)) ++g_allocations;
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::KeepWithProbability;
using testing_util::Quiet;
using testing_util::RandomModel;
using testing_util::ReadBytes;
using testing_util::TempDir;

// Row i keeps each feature with probability densities[i % size]; values uniform in [0, 1).
CsrMatrix RandomQueries(unsigned seed, Index n, Index d, const std::vector<double>& densities) {
  return testing_util::RandomCsr(n, d, densities, seed, 0.f, 1.f);
}

// Large enough to exercise every path of the batch search: several query groups, chunks with
// a direct row table (dense upper levels), chunks searched by binary search, and queries with
// more nonzeros than a chunk has rows.
class PredictTest : public ::testing::Test {
 protected:
  static constexpr Index kD = 300;
  void SetUp() override {
    model_ = RandomModel(11, {8, 60, 700}, kD, KeepWithProbability({0.2, 0.05, 0.02}));
    x_ = RandomQueries(12, 700, kD, {0.05, 0.01, 0.4, 0.1});
  }
  XLinearModel model_;
  CsrMatrix x_;
};

TEST_F(PredictTest, SearcherMatchesPredictRowByRow) {
  for (const char* pp : {"l3-hinge", "log-sigmoid", "noop"}) {
    PredictOptions o;
    o.beam_size = 5;
    o.top_k = 12;
    o.post_processor = pp;
    const CsrMatrix pred = Predict(model_, x_.view(), o, Quiet(2));
    ASSERT_EQ(pred.rows, x_.rows);
    EXPECT_EQ(pred.cols, model_.n_labels());
    Searcher s(model_);
    std::vector<ScoredLabel> out;
    for (Index i = 0; i < x_.rows; ++i) {
      s.Search(x_.view().row(i), o, &out);
      ASSERT_EQ(static_cast<Offset>(out.size()), pred.indptr[i + 1] - pred.indptr[i]) << i;
      for (std::size_t k = 0; k < out.size(); ++k) {
        EXPECT_EQ(out[k].label, pred.indices[pred.indptr[i] + k]) << pp << " row " << i;
        EXPECT_EQ(out[k].score, pred.data[pred.indptr[i] + k]) << pp << " row " << i;
      }
    }
  }
}

TEST_F(PredictTest, SearcherDoesNotAllocateInSteadyState) {
  PredictOptions o;
  o.beam_size = 6;
  o.top_k = 10;
  Searcher s(model_);
  std::vector<ScoredLabel> out;
  for (Index i = 0; i < x_.rows; ++i) s.Search(x_.view().row(i), o, &out);  // warm up
  g_allocations = 0;
  g_count_allocations = true;
  for (Index i = 0; i < x_.rows; ++i) s.Search(x_.view().row(i), o, &out);
  g_count_allocations = false;
  EXPECT_EQ(g_allocations.load(), 0);
}

TEST_F(PredictTest, SameResultForAnyThreadCount) {
  PredictOptions o;
  o.beam_size = 7;
  o.top_k = 9;
  const CsrMatrix p1 = Predict(model_, x_.view(), o, Quiet(1));
  ExpectCsrEq(p1, Predict(model_, x_.view(), o, Quiet(2)));
  ExpectCsrEq(p1, Predict(model_, x_.view(), o, Quiet(3)));
  ExpectCsrEq(p1, Predict(model_, x_.view(), o, Quiet(0)));
  // A row's result does not depend on the other rows of the batch.
  const CsrView tail{x_.rows - 301, x_.cols, x_.indptr.data() + 301, x_.indices.data(),
                     x_.data.data()};
  const CsrMatrix pt = Predict(model_, tail, o, Quiet(2));
  for (Index i = 0; i < tail.rows; ++i) {
    ASSERT_EQ(pt.indptr[i + 1] - pt.indptr[i], p1.indptr[i + 302] - p1.indptr[i + 301]);
    for (Offset k = 0; k < pt.indptr[i + 1] - pt.indptr[i]; ++k) {
      EXPECT_EQ(pt.indices[pt.indptr[i] + k], p1.indices[p1.indptr[i + 301] + k]);
      EXPECT_EQ(pt.data[pt.indptr[i] + k], p1.data[p1.indptr[i + 301] + k]);
    }
  }
}

TEST_F(PredictTest, LargeBeamsAndTopK) {
  PredictOptions o;
  o.beam_size = 1000000;  // more than any level: every node is kept
  o.top_k = 1000000;
  const CsrMatrix pred = Predict(model_, x_.view(), o, Quiet(2));
  for (Index i = 0; i < x_.rows; ++i) EXPECT_EQ(pred.indptr[i + 1] - pred.indptr[i], 700);
}

TEST_F(PredictTest, EmptyBatch) {
  const CsrMatrix pred = Predict(model_, CsrView{0, kD, nullptr, nullptr, nullptr}, {});
  EXPECT_EQ(pred.rows, 0);
  EXPECT_EQ(pred.nnz(), 0);
}

TEST_F(PredictTest, RejectsBadInput) {
  auto expect_invalid = [&](const CsrView& x, const PredictOptions& o, const std::string& what) {
    try {
      Predict(model_, x, o);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      EXPECT_NE(e.message().find(what), std::string::npos) << e.what();
    }
  };
  PredictOptions o;
  CsrMatrix bad = x_;
  bad.indices[bad.indptr[5]] = kD;  // row 5: id out of range
  expect_invalid(bad.view(), o, "row 5");
  bad = x_;
  ASSERT_GE(bad.indptr[4] - bad.indptr[3], 2);
  std::swap(bad.indices[bad.indptr[3]], bad.indices[bad.indptr[3] + 1]);
  expect_invalid(bad.view(), o, "row 3");
  bad = x_;
  ASSERT_GT(bad.indptr[7], bad.indptr[6]);
  bad.data[bad.indptr[6]] = std::numeric_limits<float>::quiet_NaN();
  expect_invalid(bad.view(), o, "row 6");
  bad = x_;
  bad.cols = kD + 1;
  expect_invalid(bad.view(), o, "features");
  o.top_k = 0;
  expect_invalid(x_.view(), o, "top_k");
  o = {};
  o.beam_size = -1;
  expect_invalid(x_.view(), o, "beam_size");
  o = {};
  o.post_processor = "l9-hinge";
  expect_invalid(x_.view(), o, "l9-hinge");
  EXPECT_THROW(Predict(XLinearModel(), x_.view(), {}), Error);
  EXPECT_THROW(Searcher{XLinearModel()}, Error);

  Searcher s(model_);
  const std::vector<Index> idx = {3, kD + 7};
  const std::vector<float> val = {1.f, 1.f};
  try {
    s.Search({2, idx.data(), val.data()}, {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(e.message().find(std::to_string(kD + 7)), std::string::npos) << e.what();
  }
  PredictOptions zero;
  zero.top_k = 0;
  EXPECT_THROW(s.Search(x_.view().row(0), zero), Error);
  // The searcher stays usable after an error.
  EXPECT_EQ(s.Search(x_.view().row(0), {}).size(), 10u);
}

TEST_F(PredictTest, SavedMappedAndExportedModelsPredictTheSame) {
  PredictOptions o;
  o.beam_size = 4;
  o.top_k = 8;
  const CsrMatrix want = Predict(model_, x_.view(), o, Quiet(2));
  TempDir tmp;
  const std::string path = tmp.File("model.xmr");
  SaveModel(model_, path);
  ExpectCsrEq(want, Predict(LoadModel(path, LoadMode::kRead), x_.view(), o, Quiet(2)));
  const XLinearModel mapped = LoadModel(path, LoadMode::kMmap);
  ExpectCsrEq(want, Predict(mapped, x_.view(), o, Quiet(2)));
  Searcher s(mapped);
  EXPECT_EQ(s.Search(x_.view().row(3), o).front().label, want.indices[want.indptr[3]]);

  const std::string dir = tmp.File("pecos");
  ExportPecos(model_, dir);
  ExpectCsrEq(want, Predict(ImportPecos(dir), x_.view(), o, Quiet(2)));
  testing_util::RemoveTree(dir);
}

// A memory-mapped file's weights are not checksummed; whatever a damaged byte does, prediction
// must neither crash nor read or write out of bounds.
TEST(PredictMapped, DamagedWeightsNeverCrash) {
  const XLinearModel m = RandomModel(21, {3, 9}, 20, KeepWithProbability({0.3, 0.3}));
  TempDir tmp;
  const std::string path = tmp.File("damaged_src.xmr");
  SaveModel(m, path);
  const std::string good = ReadBytes(path);
  const CsrMatrix x = RandomQueries(22, 20, 20, {0.4});
  const std::string bad = tmp.File("damaged.xmr");
  const int fd = open(bad.c_str(), O_CREAT | O_RDWR | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  PredictOptions o;
  o.beam_size = 3;
  o.top_k = 9;
  int loaded = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string b = good;
    b[i] = static_cast<char>(b[i] ^ 0x5A);
    // Rewritten in place: thousands of truncating writes would be slow.
    ASSERT_EQ(pwrite(fd, b.data(), b.size(), 0), static_cast<ssize_t>(b.size()));
    try {
      const XLinearModel mm = LoadModel(bad, LoadMode::kMmap);
      ++loaded;
      const CsrMatrix pred = Predict(mm, x.view(), o, Quiet(1));
      for (Offset p = 0; p < pred.nnz(); ++p) {
        ASSERT_GE(pred.indices[p], 0);
        ASSERT_LT(pred.indices[p], 9);
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
    }
  }
  EXPECT_GT(loaded, 0);
  close(fd);
}

}  // namespace
}  // namespace xmr
