// 64-bit offsets end to end, without allocating 2^32 elements. A view's indptr need not start at
// 0 (xmr/sparse.h), so a view whose indptr values lie past 2^32 but whose nonzeros are few is a
// legal input of every function that takes a view. Its index and value arrays are FarArrays:
// only the window [base, base + nnz) is backed by memory, so an offset truncated to 32 bits
// (int32: negative; uint32: 2^31 + ...) reads outside it and faults, and a lost base would
// read the wrong elements. Every result is compared with the same call on a compact copy.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "common/test_util.h"
#include "hardening_util.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/sparse.h"
#include "xmr/train.h"

namespace xmr {
namespace {

using hardening::FarArray;
using testing_util::ExpectCscEq;
using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::Quiet;
using testing_util::RandomCsr;
using testing_util::ReadBytes;
using testing_util::TempDir;

static_assert(std::is_same_v<Offset, std::int64_t>, "offsets must be 64-bit");
static_assert(std::is_same_v<decltype(CsrView{}.nnz()), Offset>, "CsrView::nnz is an Offset");
static_assert(std::is_same_v<decltype(CscView{}.nnz()), Offset>, "CscView::nnz is an Offset");
static_assert(std::is_same_v<decltype(CsrMatrix{}.nnz()), Offset>, "CsrMatrix::nnz is an Offset");
static_assert(std::is_same_v<decltype(CsrMatrix{}.indptr)::value_type, Offset>, "indptr type");

// Past 2^32, and not a multiple of any page or block size: truncation to int32 gives a negative
// offset, truncation to uint32 gives 2^31 + 12345, both outside the window.
constexpr Offset kBase = (Offset{1} << 32) + (Offset{1} << 31) + 12345;

// The compressed arrays of `a` (CSR or CSC) moved to offset kBase.
struct FarMatrix {
  FarMatrix(const std::vector<Offset>& indptr, const std::vector<Index>& indices,
            const std::vector<float>& data)
      : idx(kBase, indices.size()), val(kBase, data.size()) {
    if (!ok()) return;
    for (std::size_t k = 0; k < indices.size(); ++k) idx.at(k) = indices[k];
    for (std::size_t k = 0; k < data.size(); ++k) val.at(k) = data[k];
    for (Offset p : indptr) ptr.push_back(p + kBase);
  }
  bool ok() const { return idx.ok() && val.ok(); }
  FarArray<Index> idx;
  FarArray<float> val;
  std::vector<Offset> ptr;
};

struct FarCsr : FarMatrix {
  explicit FarCsr(const CsrMatrix& a)
      : FarMatrix(a.indptr, a.indices, a.data), rows(a.rows), cols(a.cols) {}
  CsrView view() const { return {rows, cols, ptr.data(), idx.origin(), val.origin()}; }
  Index rows, cols;
};

struct FarCsc : FarMatrix {
  explicit FarCsc(const CscMatrix& a)
      : FarMatrix(a.indptr, a.indices, a.data), rows(a.rows), cols(a.cols) {}
  CscView view() const { return {rows, cols, ptr.data(), idx.origin(), val.origin()}; }
  Index rows, cols;
};

#define XMR_SKIP_IF_NO_RESERVATION(far)                                                 \
  if (!(far).ok()) {                                                                    \
    GTEST_SKIP() << "cannot reserve " << (kBase >> 30) << " GiB of address space here"; \
  }

// A matrix with empty rows at the start, in the middle and at the end.
CsrMatrix Sample(Index rows, Index cols, unsigned seed) {
  CsrMatrix a = RandomCsr(rows, cols, {0.0, 0.3, 0.6, 0.0, 0.2}, seed);
  return a;
}

// nnz arithmetic needs no arrays: values past 2^31 and 2^32 must survive every subtraction.
TEST(Offsets, NnzOfViewsPastTwoToThe32) {
  const std::vector<Offset> ptr = {0, (Offset{1} << 31) + 7, (Offset{1} << 32) + 9, kBase};
  const CsrView r{3, 10, ptr.data(), nullptr, nullptr};
  EXPECT_EQ(r.nnz(), kBase);
  EXPECT_EQ(SliceRows(r, 1, 2).nnz(), (Offset{1} << 31) + 2);
  EXPECT_EQ(SliceRows(r, 1, 3).nnz(), kBase - (Offset{1} << 31) - 7);
  EXPECT_EQ(SliceRows(r, 2, 2).nnz(), 0);
  const CscView c{10, 3, ptr.data(), nullptr, nullptr};
  EXPECT_EQ(c.nnz(), kBase);
  CsrMatrix owner;
  owner.indptr = ptr;
  EXPECT_EQ(owner.nnz(), kBase);
}

TEST(Offsets, CoreFunctionsReadFarViewsExactly) {
  const CsrMatrix a = Sample(37, 23, 1);
  ASSERT_GT(a.nnz(), 50);
  const FarCsr far(a);
  XMR_SKIP_IF_NO_RESERVATION(far);
  const CsrView v = far.view();
  EXPECT_EQ(v.nnz(), a.nnz());
  for (Index i = 0; i < a.rows; ++i) {
    const SparseVecView fr = v.row(i), ar = a.view().row(i);
    ASSERT_EQ(fr.nnz, ar.nnz) << "row " << i;
    for (Index k = 0; k < fr.nnz; ++k) {
      EXPECT_EQ(fr.indices[k], ar.indices[k]);
      EXPECT_EQ(fr.data[k], ar.data[k]);
    }
  }
  ExpectCsrEq(Copy(v), a);
  EXPECT_NO_THROW(Validate(v, "far"));
  ExpectCscEq(CsrToCsc(v), CsrToCsc(a.view()));
  ExpectCsrEq(Transpose(v), Transpose(a.view()));
  // A slice of a far view is a far view whose indptr[0] is past the base.
  const CsrView s = SliceRows(v, 9, 30);
  EXPECT_EQ(s.indptr[0], kBase + a.indptr[9]);
  ExpectCsrEq(Copy(s), Copy(SliceRows(a.view(), 9, 30)));
  ExpectCscEq(CsrToCsc(s), CsrToCsc(SliceRows(a.view(), 9, 30)));

  // SpGemm and HStack with both operands far.
  const CsrMatrix b = Sample(23, 17, 2);
  const FarCsr far_b(b);
  XMR_SKIP_IF_NO_RESERVATION(far_b);
  ExpectCsrEq(SpGemm(v, far_b.view(), 1), SpGemm(a.view(), b.view(), 1));
  ExpectCsrEq(SpGemm(v, far_b.view(), 2), SpGemm(a.view(), b.view(), 1));
  const CsrMatrix c = Sample(37, 5, 3);
  const FarCsr far_c(c);
  XMR_SKIP_IF_NO_RESERVATION(far_c);
  ExpectCsrEq(HStack(v, far_c.view()), HStack(a.view(), c.view()));

  // CSC views: conversion and copy.
  const CscMatrix at = CsrToCsc(a.view());
  const FarCsc far_t(at);
  XMR_SKIP_IF_NO_RESERVATION(far_t);
  ExpectCsrEq(CscToCsr(far_t.view()), a);
  ExpectCscEq(Copy(far_t.view()), at);
  EXPECT_NO_THROW(Validate(far_t.view(), "far csc"));
}

// Validate's messages name the row of the fault, not a position derived from a truncated offset.
TEST(Offsets, ValidateNamesTheRowOfAFarView) {
  CsrMatrix a = Sample(20, 11, 4);
  ASSERT_GT(a.indptr[13], a.indptr[12]);
  a.indices[a.indptr[12]] = 11;  // column out of range in row 12
  const FarCsr far(a);
  XMR_SKIP_IF_NO_RESERVATION(far);
  ExpectError([&] { Validate(far.view(), "far"); }, ErrorCode::kCorruption,
              {"far: row 12: index 11 out of range [0, 11)"});
}

// Every writer rebases a view to offset 0: the files are byte for byte those of the compact copy.
TEST(Offsets, WritersRebaseFarViews) {
  const CsrMatrix x = Sample(41, 29, 5);
  CsrMatrix y = testing_util::RandomBinaryCsr(41, 7, 0.3, 6);
  const FarCsr far_x(x), far_y(y);
  XMR_SKIP_IF_NO_RESERVATION(far_x);
  XMR_SKIP_IF_NO_RESERVATION(far_y);
  TempDir dir;
  auto same_file = [&](const std::string& name, auto write) {
    SCOPED_TRACE(name);
    write(dir.File("near_" + name), true);
    write(dir.File("far_" + name), false);
    const std::string near = ReadBytes(dir.File("near_" + name));
    EXPECT_FALSE(near.empty());
    EXPECT_EQ(ReadBytes(dir.File("far_" + name)), near);
  };
  same_file("m.xmb", [&](const std::string& p, bool near) {
    WriteBinary(p, near ? x.view() : far_x.view());
  });
  same_file("m.npz",
            [&](const std::string& p, bool near) { WriteNpz(p, near ? x.view() : far_x.view()); });
  same_file("mz.npz", [&](const std::string& p, bool near) {
    WriteNpz(p, near ? x.view() : far_x.view(), /*compressed=*/true);
  });
  const CscMatrix xc = CsrToCsc(x.view());
  const FarCsc far_xc(xc);
  XMR_SKIP_IF_NO_RESERVATION(far_xc);
  same_file("c.npz", [&](const std::string& p, bool near) {
    WriteNpz(p, near ? xc.view() : far_xc.view());
  });
  same_file("d.txt", [&](const std::string& p, bool near) {
    WriteXmlRepo(p, near ? x.view() : far_x.view(), near ? y.view() : far_y.view());
  });
  same_file("p.txt", [&](const std::string& p, bool near) {
    WritePredictionText(p, near ? x.view() : far_x.view());
  });
  // The stored nnz is the view's, not its offsets: the files read back to the compact matrix.
  ExpectCsrEq(ReadBinaryCsr(dir.File("far_m.xmb")), x);
  ExpectCsrEq(ReadNpzCsr(dir.File("far_m.npz")), x);
  ExpectCsrEq(ReadNpzCsr(dir.File("far_c.npz")), x);
  // A slice of a far view too.
  const CsrView s = SliceRows(far_x.view(), 10, 40);
  WriteBinary(dir.File("slice.xmb"), s);
  ExpectCsrEq(ReadBinaryCsr(dir.File("slice.xmb")), Copy(SliceRows(x.view(), 10, 40)));
}

// A small labelled data set: label l is given to the rows with feature l or l + 8.
struct TrainSet {
  CsrMatrix x, y;
};
TrainSet SmallTrainSet() {
  const Index d = 40, n_labels = 8;
  TrainSet s;
  s.x = RandomCsr(160, d, 0.15, 7, 0.f, 1.f);
  NormalizeRowsL2(&s.x);
  s.y = CsrMatrix::Zeros(s.x.rows, n_labels);
  for (Index i = 0; i < s.x.rows; ++i) {
    std::vector<bool> has(n_labels, false);
    const SparseVecView r = s.x.view().row(i);
    for (Index k = 0; k < r.nnz; ++k) {
      if (r.indices[k] < 2 * n_labels) has[r.indices[k] % n_labels] = true;
    }
    if (r.nnz > 0 && std::none_of(has.begin(), has.end(), [](bool h) { return h; })) {
      has[r.indices[0] % n_labels] = true;
    }
    for (Index l = 0; l < n_labels; ++l) {
      if (has[l]) {
        s.y.indices.push_back(l);
        s.y.data.push_back(1.0f);
      }
    }
    s.y.indptr[i + 1] = static_cast<Offset>(s.y.indices.size());
  }
  return s;
}

Context Cpu(int threads) {
  Context ctx = Quiet(threads);
  ctx.device = DeviceKind::kCpu;
  return ctx;
}

TEST(Offsets, PredictOnFarViews) {
  const TrainSet s = SmallTrainSet();
  const FarCsr far_x(s.x);
  XMR_SKIP_IF_NO_RESERVATION(far_x);
  const XLinearModel model =
      testing_util::RandomModel(9, {2, 8}, s.x.cols, testing_util::KeepWithProbability({0.5, 0.3}));
  PredictOptions po;
  po.beam_size = 2;
  po.top_k = 3;
  const CsrMatrix want = Predict(model, s.x.view(), po, Quiet(1));
  ExpectCsrEq(Predict(model, far_x.view(), po, Quiet(1)), want);
  ExpectCsrEq(Predict(model, far_x.view(), po, Quiet(2)), want);
  const CsrView tail = SliceRows(far_x.view(), 100, s.x.rows);
  const CsrMatrix want_tail = Predict(model, SliceRows(s.x.view(), 100, s.x.rows), po, Quiet(1));
  ExpectCsrEq(Predict(model, tail, po, Quiet(2)), want_tail);
  Searcher searcher(model);
  for (Index i = 0; i < s.x.rows; i += 7) {
    const std::vector<ScoredLabel> got = searcher.Search(far_x.view().row(i), po);
    ASSERT_EQ(static_cast<Offset>(got.size()), want.indptr[i + 1] - want.indptr[i]);
    for (std::size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].label, want.indices[want.indptr[i] + static_cast<Offset>(k)]);
      EXPECT_EQ(got[k].score, want.data[want.indptr[i] + static_cast<Offset>(k)]);
    }
  }
}

// Exit statuses of the training child.
enum TrainChild { kSame = 0, kDifferent = 1, kTooMuchMemory = 2, kThrew = 3 };

// Trains on `s` and on far copies of it in a child whose RLIMIT_DATA allows 2 GiB more than it
// uses already (PROT_NONE reservations are not counted, the windows are; sanitizer shadow
// memory is, hence relative), so that a buffer sized by indptr[rows]
// instead of indptr[rows] - indptr[0] (4 bytes x 6.4e9 here) fails to allocate instead of
// thrashing. Returns a TrainChild status.
int TrainOnFarCopiesInChild(const TrainSet& s) {
  const FarCsr far_x(s.x), far_y(s.y);
  if (!far_x.ok() || !far_y.ok()) return hardening::kChildSkip;
  return hardening::RunInChild([&]() -> int {
    const std::uint64_t used = hardening::DataBytesInUse();
    if (used == 0) return hardening::kChildSkip;
    struct rlimit lim;
    lim.rlim_cur = lim.rlim_max = used + (std::uint64_t{2} << 30);
    if (::setrlimit(RLIMIT_DATA, &lim) != 0) return hardening::kChildSkip;
    auto same = [](const XLinearModel& a, const XLinearModel& b) {
      if (a.depth() != b.depth() || a.chain().parents != b.chain().parents) return false;
      for (int t = 0; t < a.depth(); ++t) {
        const CscMatrix wa = a.Weights(t), wb = b.Weights(t);
        if (wa.indptr != wb.indptr || wa.indices != wb.indices || wa.data != wb.data) return false;
      }
      return true;
    };
    try {
      ClusterChain tree;
      tree.parents = {{0, 0}, {0, 0, 0, 0, 1, 1, 1, 1}};
      TrainOptions opts;
      const XLinearModel near = TrainWithTree(s.x.view(), s.y.view(), tree, opts, Cpu(2));
      const XLinearModel far = TrainWithTree(far_x.view(), far_y.view(), tree, opts, Cpu(2));
      if (!same(near, far)) return kDifferent;
      opts.indexer.max_leaf_size = 2;
      opts.indexer.nr_splits = 2;
      const XLinearModel near2 = Train(s.x.view(), s.y.view(), opts, Cpu(2));
      const XLinearModel far2 = Train(far_x.view(), far_y.view(), opts, Cpu(2));
      if (!same(near2, far2)) return kDifferent;
    } catch (const std::bad_alloc&) {
      return kTooMuchMemory;
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return e.code() == ErrorCode::kOutOfMemory ? kTooMuchMemory : kThrew;
    }
    return kSame;
  });
}

void ExpectTrainedTheSame(int rc) {
  EXPECT_NE(rc, kDifferent) << "training on far views gave another model";
  EXPECT_NE(rc, kTooMuchMemory) << "training allocated memory for the offsets, not the nonzeros";
  EXPECT_EQ(rc, kSame);
}

// Training on far views gives the model of the compact copy, with memory for the nonzeros
// only. Over more than 65,536 features (ids stay below 40: the same data, a wider space).
TEST(Offsets, TrainOnFarViewsOfAWideFeatureSpace) {
  TrainSet s = SmallTrainSet();
  s.x.cols = 70000;
  const int rc = TrainOnFarCopiesInChild(s);
  if (rc == hardening::kChildSkip) GTEST_SKIP() << "no address space reservation or RLIMIT_DATA";
  ExpectTrainedTheSame(rc);
}

// The same over 40 features, where the CPU solver keeps 16-bit copies of the feature ids. Found
// a defect: CpuLevelSolver::Gather (root-like parent, <= 65,536 features) sized that copy by
// x.indptr[n] instead of the view's nnz (12.9 GB here); it now rebases the view first.
TEST(Offsets, TrainOnFarViewsNeedsMemoryForTheNonzerosOnly) {
  const int rc = TrainOnFarCopiesInChild(SmallTrainSet());
  if (rc == hardening::kChildSkip) GTEST_SKIP() << "no address space reservation or RLIMIT_DATA";
  ExpectTrainedTheSame(rc);
}

}  // namespace
}  // namespace xmr
