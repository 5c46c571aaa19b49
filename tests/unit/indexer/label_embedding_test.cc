// Tests of LabelEmbedding (PIFA with label features): hand-computed examples of both
// combinations, the definitions on random data, errors, names and thread-count independence.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "common/test_util.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/indexer.h"
#include "xmr/sparse.h"

namespace xmr {
namespace {

using testing_util::ExpectCsrEq;
using testing_util::ExpectError;
using testing_util::Quiet;
using testing_util::RandomBinaryCsr;
using testing_util::RandomCsr;
using testing_util::ToDense;

using Row = std::vector<std::pair<Index, float>>;

CsrMatrix MakeCsr(Index cols, const std::vector<Row>& rows) {
  CsrMatrix m = CsrMatrix::Zeros(static_cast<Index>(rows.size()), cols);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (const auto& [j, v] : rows[i]) {
      m.indices.push_back(j);
      m.data.push_back(v);
    }
    m.indptr[i + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

LabelEmbeddingOptions Opts(LabelEmbeddingKind kind, float alpha = 0.5f) {
  LabelEmbeddingOptions o;
  o.kind = kind;
  o.alpha = alpha;
  return o;
}

// 4 instances x 4 features, 3 labels. Every PIFA value is exact in binary:
// label 0 = x_0 = (1, 1, 1, 1) -> 0.5 each; label 1 = x_1 + x_2 = 4 e_2 -> e_2; label 2 has no
// instance -> empty row. Instance 3 has no label.
struct Small {
  CsrMatrix x = MakeCsr(4, {{{0, 1}, {1, 1}, {2, 1}, {3, 1}}, {{2, 3}}, {{2, 1}}, {{1, 5}}});
  CsrMatrix y = MakeCsr(3, {{{0, 1}}, {{1, 1}}, {{1, 1}}, {}});
  CsrMatrix pifa = MakeCsr(4, {{{0, .5f}, {1, .5f}, {2, .5f}, {3, .5f}}, {{2, 1}}, {}});
};

TEST(LabelEmbedding, PifaKindIsPifaEmbedding) {
  const Small s;
  ExpectCsrEq(PifaEmbedding(s.x.view(), s.y.view(), Quiet()), s.pifa);
  ExpectCsrEq(LabelEmbedding(s.x.view(), s.y.view(), nullptr, {}, Quiet()), s.pifa);
  // A given z is checked, then ignored: any column count will do.
  const CsrMatrix z = MakeCsr(9, {{{8, 1}}, {}, {{0, 2}}});
  const CsrView zv = z.view();
  ExpectCsrEq(LabelEmbedding(s.x.view(), s.y.view(), &zv, {}, Quiet()), s.pifa);
}

TEST(LabelEmbedding, ConcatHandComputed) {
  const Small s;
  const CsrMatrix z = MakeCsr(3, {{{1, .25f}}, {}, {{0, 1}, {2, -.5f}}});
  const CsrView zv = z.view();
  const CsrMatrix expected = MakeCsr(
      7, {{{0, .5f}, {1, .5f}, {2, .5f}, {3, .5f}, {5, .25f}}, {{2, 1}}, {{4, 1}, {6, -.5f}}});
  // alpha plays no part in concatenation.
  for (float alpha : {0.0f, 0.5f, 1.0f}) {
    ExpectCsrEq(LabelEmbedding(s.x.view(), s.y.view(), &zv,
                               Opts(LabelEmbeddingKind::kPifaLfConcat, alpha), Quiet()),
                expected);
  }
}

TEST(LabelEmbedding, ConvexCombineHandComputed) {
  const Small s;
  const CsrMatrix z = MakeCsr(4, {{{1, 1}, {3, .5f}}, {{2, .5f}}, {{0, 2}}});
  const CsrView zv = z.view();
  // 0.25 * pifa + 0.75 * z.
  const CsrMatrix expected =
      MakeCsr(4, {{{0, .125f}, {1, .875f}, {2, .125f}, {3, .5f}}, {{2, .625f}}, {{0, 1.5f}}});
  ExpectCsrEq(LabelEmbedding(s.x.view(), s.y.view(), &zv,
                             Opts(LabelEmbeddingKind::kPifaLfConvexCombine, 0.25f), Quiet()),
              expected);
}

TEST(LabelEmbedding, ConvexCombineDropsExactZeros) {
  const Small s;
  // Label 1: 0.5 * 1 + 0.5 * (-1) = 0 at feature 2 is not stored; feature 3 comes from z only.
  const CsrMatrix z = MakeCsr(4, {{}, {{2, -1}, {3, 1}}, {{1, 0}}});
  const CsrView zv = z.view();
  const CsrMatrix expected =
      MakeCsr(4, {{{0, .25f}, {1, .25f}, {2, .25f}, {3, .25f}}, {{3, .5f}}, {}});
  ExpectCsrEq(LabelEmbedding(s.x.view(), s.y.view(), &zv,
                             Opts(LabelEmbeddingKind::kPifaLfConvexCombine, 0.5f), Quiet()),
              expected);
}

TEST(LabelEmbedding, ConvexCombineEndpointsAreExact) {
  const CsrMatrix x = RandomCsr(120, 50, 0.1, 11, -1.0f, 1.0f);
  const CsrMatrix y = RandomBinaryCsr(120, 30, 0.05, 12);
  const CsrMatrix z = RandomCsr(30, 50, 0.2, 13, -1.0f, 1.0f);  // no stored zeros
  const CsrView zv = z.view();
  const Context ctx = Quiet(2);
  const auto kind = LabelEmbeddingKind::kPifaLfConvexCombine;
  ExpectCsrEq(LabelEmbedding(x.view(), y.view(), &zv, Opts(kind, 1.0f), ctx),
              PifaEmbedding(x.view(), y.view(), ctx));
  ExpectCsrEq(LabelEmbedding(x.view(), y.view(), &zv, Opts(kind, 0.0f), ctx), z);
}

TEST(LabelEmbedding, MatchesDefinitionsOnRandomData) {
  const CsrMatrix x = RandomCsr(200, 60, 0.08, 21, -1.0f, 1.0f);
  const CsrMatrix y = RandomBinaryCsr(200, 40, 0.04, 22);
  const CsrMatrix z = RandomCsr(40, 60, 0.15, 23, -1.0f, 1.0f);
  const CsrMatrix zc = RandomCsr(40, 17, 0.3, 24, -1.0f, 1.0f);
  const CsrView zv = z.view(), zcv = zc.view();
  const Context ctx = Quiet(3);
  const CsrMatrix pifa = PifaEmbedding(x.view(), y.view(), ctx);
  const std::vector<double> dp = ToDense(pifa.view()), dz = ToDense(z.view()),
                            dzc = ToDense(zc.view());

  const CsrMatrix cat =
      LabelEmbedding(x.view(), y.view(), &zcv, Opts(LabelEmbeddingKind::kPifaLfConcat), ctx);
  Validate(cat.view(), "concat");
  ASSERT_EQ(cat.rows, 40);
  ASSERT_EQ(cat.cols, 60 + 17);
  EXPECT_EQ(cat.nnz(), pifa.nnz() + zc.nnz());
  const std::vector<double> dcat = ToDense(cat.view());
  for (Index l = 0; l < 40; ++l) {
    for (Index j = 0; j < 77; ++j) {
      const double want = j < 60 ? dp[l * 60 + j] : dzc[l * 17 + (j - 60)];
      EXPECT_EQ(dcat[l * 77 + j], want) << "label " << l << " column " << j;
    }
  }

  const float alpha = 0.3f;
  const CsrMatrix cvx = LabelEmbedding(x.view(), y.view(), &zv,
                                       Opts(LabelEmbeddingKind::kPifaLfConvexCombine, alpha), ctx);
  Validate(cvx.view(), "convex");
  ASSERT_EQ(cvx.rows, 40);
  ASSERT_EQ(cvx.cols, 60);
  const std::vector<double> dcvx = ToDense(cvx.view());
  for (std::size_t k = 0; k < dcvx.size(); ++k) {
    const double want = alpha * dp[k] + (1.0 - alpha) * dz[k];
    EXPECT_FLOAT_EQ(static_cast<float>(dcvx[k]), static_cast<float>(want)) << k;
  }
  for (float v : cvx.data) EXPECT_NE(v, 0.0f);
}

TEST(LabelEmbedding, SameForAnyThreadCount) {
  // Enough labels for several scheduling chunks.
  const CsrMatrix x = RandomCsr(3000, 300, 0.02, 31, 0.0f, 1.0f);
  const CsrMatrix y = RandomBinaryCsr(3000, 1500, 0.002, 32);
  const CsrMatrix z = RandomCsr(1500, 300, 0.03, 33, -1.0f, 1.0f);
  const CsrView zv = z.view();
  for (auto kind : {LabelEmbeddingKind::kPifa, LabelEmbeddingKind::kPifaLfConcat,
                    LabelEmbeddingKind::kPifaLfConvexCombine}) {
    const CsrMatrix one = LabelEmbedding(x.view(), y.view(), &zv, Opts(kind, 0.7f), Quiet(1));
    for (int threads : {2, 3, 8}) {
      SCOPED_TRACE(std::string(LabelEmbeddingKindName(kind)) + " threads " +
                   std::to_string(threads));
      ExpectCsrEq(LabelEmbedding(x.view(), y.view(), &zv, Opts(kind, 0.7f), Quiet(threads)), one);
    }
  }
}

TEST(LabelEmbedding, RejectsMissingOrMisshapenLabelFeatures) {
  const Small s;
  const auto x = s.x.view(), y = s.y.view();
  for (auto kind : {LabelEmbeddingKind::kPifaLfConcat, LabelEmbeddingKind::kPifaLfConvexCombine}) {
    ExpectError([&] { LabelEmbedding(x, y, nullptr, Opts(kind), Quiet()); },
                ErrorCode::kInvalidArgument,
                {LabelEmbeddingKindName(kind), "needs label features"});
  }
  // One row per label: y has 3 labels.
  const CsrMatrix z2 = MakeCsr(4, {{{0, 1}}, {}});
  const CsrView z2v = z2.view();
  for (auto kind : {LabelEmbeddingKind::kPifa, LabelEmbeddingKind::kPifaLfConcat,
                    LabelEmbeddingKind::kPifaLfConvexCombine}) {
    ExpectError([&] { LabelEmbedding(x, y, &z2v, Opts(kind), Quiet()); },
                ErrorCode::kInvalidArgument, {"z have 2 rows", "3 labels"});
  }
  // Convex combination needs d columns; concatenation does not.
  const CsrMatrix z5 = MakeCsr(5, {{{4, 1}}, {}, {}});
  const CsrView z5v = z5.view();
  ExpectError(
      [&] { LabelEmbedding(x, y, &z5v, Opts(LabelEmbeddingKind::kPifaLfConvexCombine), Quiet()); },
      ErrorCode::kInvalidArgument, {"pifa_lf_convex_combine", "columns as x (4), got 5"});
  EXPECT_EQ(LabelEmbedding(x, y, &z5v, Opts(LabelEmbeddingKind::kPifaLfConcat), Quiet()).cols, 9);
  // Concatenated width must fit in Index (checked before z's arrays are read).
  CsrView wide = z5v;
  wide.cols = std::numeric_limits<Index>::max() - 2;
  ExpectError(
      [&] { LabelEmbedding(x, y, &wide, Opts(LabelEmbeddingKind::kPifaLfConcat), Quiet()); },
      ErrorCode::kInvalidArgument, {"overflow"});
  // x and y disagree on the number of instances.
  const CsrMatrix y3 = MakeCsr(3, {{{0, 1}}, {}, {}});
  ExpectError([&] { LabelEmbedding(x, y3.view(), nullptr, {}, Quiet()); },
              ErrorCode::kInvalidArgument, {"4 rows", "3 rows"});
}

TEST(LabelEmbedding, RejectsBrokenLabelFeatures) {
  const Small s;
  CsrMatrix z = MakeCsr(4, {{{2, 1}, {1, 1}}, {}, {}});  // indices not increasing
  CsrView zv = z.view();
  ExpectError(
      [&] {
        LabelEmbedding(s.x.view(), s.y.view(), &zv, Opts(LabelEmbeddingKind::kPifaLfConcat),
                       Quiet());
      },
      ErrorCode::kCorruption, {"LabelEmbedding z"});
  z = MakeCsr(4, {{{7, 1}}, {}, {}});  // column out of range
  zv = z.view();
  ExpectError(
      [&] {
        LabelEmbedding(s.x.view(), s.y.view(), &zv, Opts(LabelEmbeddingKind::kPifaLfConvexCombine),
                       Quiet());
      },
      ErrorCode::kCorruption, {"LabelEmbedding z"});
  z = MakeCsr(4, {{{1, std::nanf("")}}, {}, {}});  // not finite
  zv = z.view();
  ExpectError([&] { LabelEmbedding(s.x.view(), s.y.view(), &zv, {}, Quiet()); },
              ErrorCode::kCorruption, {"LabelEmbedding z"});
}

TEST(LabelEmbeddingOptions, ValidateRejectsBadAlphaAndKind) {
  LabelEmbeddingOptions o;
  EXPECT_NO_THROW(o.Validate());
  for (float alpha : {0.0f, 1.0f}) {
    o.alpha = alpha;
    EXPECT_NO_THROW(o.Validate());
  }
  for (float alpha : {-0.1f, 1.5f, std::nanf(""), std::numeric_limits<float>::infinity()}) {
    o.alpha = alpha;
    ExpectError([&] { o.Validate(); }, ErrorCode::kInvalidArgument,
                {"label_embedding.alpha", "[0, 1]"});
    // LabelEmbedding checks its options before anything else.
    const Small s;
    ExpectError([&] { LabelEmbedding(s.x.view(), s.y.view(), nullptr, o, Quiet()); },
                ErrorCode::kInvalidArgument, {"label_embedding.alpha"});
  }
  o.alpha = 0.5f;
  o.kind = static_cast<LabelEmbeddingKind>(7);
  ExpectError([&] { o.Validate(); }, ErrorCode::kInvalidArgument, {"label_embedding.kind", "7"});
}

TEST(LabelEmbeddingKind, ParseAndNameRoundTrip) {
  for (auto kind : {LabelEmbeddingKind::kPifa, LabelEmbeddingKind::kPifaLfConcat,
                    LabelEmbeddingKind::kPifaLfConvexCombine}) {
    const std::string name = LabelEmbeddingKindName(kind);
    EXPECT_EQ(ParseLabelEmbeddingKind(name), kind) << name;
    std::string dashed = name, upper = name;
    for (char& c : dashed) c = c == '_' ? '-' : c;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(ParseLabelEmbeddingKind(dashed), kind) << dashed;
    EXPECT_EQ(ParseLabelEmbeddingKind(upper), kind) << upper;
  }
  EXPECT_STREQ(LabelEmbeddingKindName(LabelEmbeddingKind::kPifa), "pifa");
  EXPECT_STREQ(LabelEmbeddingKindName(LabelEmbeddingKind::kPifaLfConcat), "pifa_lf_concat");
  EXPECT_STREQ(LabelEmbeddingKindName(LabelEmbeddingKind::kPifaLfConvexCombine),
               "pifa_lf_convex_combine");
  EXPECT_STREQ(LabelEmbeddingKindName(static_cast<LabelEmbeddingKind>(9)), "?");
  for (const char* bad : {"", "pii", "pifa_lf", "pifa lf concat"}) {
    ExpectError([&] { ParseLabelEmbeddingKind(bad); }, ErrorCode::kInvalidArgument,
                {"pifa, pifa_lf_concat, pifa_lf_convex_combine", "'" + std::string(bad) + "'"});
  }
}

}  // namespace
}  // namespace xmr
