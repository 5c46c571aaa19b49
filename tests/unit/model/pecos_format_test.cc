#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/test_util.h"
#include "model/json.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/model.h"

namespace xmr {
namespace {

using testing_util::ReadBytes;
using testing_util::RemoveTree;
using testing_util::TempDir;
using testing_util::WriteBytes;

// Every weight row is kept with probability 1/4, the bias row always.
XLinearModel RandomModel(unsigned seed, float bias, std::vector<Index> sizes, Index d = 30) {
  ModelMeta meta;
  meta.bias = bias;
  meta.beam_size = 3;
  meta.top_k = 7;
  meta.post_processor = "sigmoid";
  return testing_util::RandomModel(seed, sizes, d, testing_util::KeepOneIn(4, true), meta);
}

void ExpectSameWeights(const XLinearModel& a, const XLinearModel& b, bool drop_bias_row) {
  ASSERT_EQ(a.depth(), b.depth());
  EXPECT_EQ(a.chain().parents, b.chain().parents);
  for (int t = 0; t < a.depth(); ++t) {
    CscMatrix wa = a.Weights(t);
    const CscMatrix wb = b.Weights(t);
    if (drop_bias_row) {
      CscMatrix d = wa;
      d.indices.clear();
      d.data.clear();
      for (Index j = 0; j < wa.cols; ++j) {
        for (Offset q = wa.indptr[j]; q < wa.indptr[j + 1]; ++q) {
          if (wa.indices[q] == wa.rows - 1) continue;
          d.indices.push_back(wa.indices[q]);
          d.data.push_back(wa.data[q]);
        }
        d.indptr[j + 1] = static_cast<Offset>(d.indices.size());
      }
      wa = d;
    }
    EXPECT_EQ(wa.rows, wb.rows);
    EXPECT_EQ(wa.indptr, wb.indptr);
    EXPECT_EQ(wa.indices, wb.indices);
    EXPECT_EQ(wa.data, wb.data);
  }
}

TEST(Pecos, ExportImportRoundTrip) {
  const XLinearModel m = RandomModel(1, 1.0f, {4, 12, 50});
  TempDir tmp;
  const std::string dir = tmp.File("roundtrip");
  ExportPecos(m, dir);
  const XLinearModel back = ImportPecos(dir);
  ExpectSameWeights(m, back, false);
  EXPECT_EQ(back.n_features(), m.n_features());
  EXPECT_EQ(back.meta().bias, 1.0f);
  EXPECT_EQ(back.meta().beam_size, 3);
  EXPECT_EQ(back.meta().top_k, 7);
  EXPECT_EQ(back.meta().post_processor, "sigmoid");
  // The ranker folder itself is accepted too.
  ExpectSameWeights(m, ImportPecos(dir + "/ranker"), false);

  // The files PECOS reads.
  using detail::json::Parse;
  const auto root = Parse(ReadBytes(dir + "/param.json"), "root");
  EXPECT_EQ(root.Find("__meta__")->Find("class_fullname")->str(),
            "pecos.xmc.xlinear.model###XLinearModel");
  const auto hier = Parse(ReadBytes(dir + "/ranker/param.json"), "ranker");
  EXPECT_EQ(hier.Find("__meta__")->Find("class_fullname")->str(),
            "pecos.xmc.base###HierarchicalMLModel");
  EXPECT_EQ(hier.Find("model")->str(), "HierarchicalMLModel");
  EXPECT_EQ(hier.Find("depth")->number(), 3);
  EXPECT_EQ(hier.Find("nr_features")->number(), 30);
  EXPECT_EQ(hier.Find("nr_codes")->number(), 12);
  EXPECT_EQ(hier.Find("nr_labels")->number(), 50);
  for (int t = 0; t < 3; ++t) {
    const std::string ld = dir + "/ranker/" + std::to_string(t) + ".model";
    const auto p = Parse(ReadBytes(ld + "/param.json"), "level");
    EXPECT_EQ(p.Find("__meta__")->Find("class_fullname")->str(), "pecos.xmc.base###MLModel");
    EXPECT_EQ(p.Find("model")->str(), "MLModel");
    EXPECT_EQ(p.Find("nr_labels")->number(), m.n_nodes(t));
    EXPECT_EQ(p.Find("nr_codes")->number(), t == 0 ? 1 : m.n_nodes(t - 1));
    EXPECT_EQ(p.Find("bias")->number(), 1.0);
    const auto* kw = p.Find("pred_kwargs");
    EXPECT_EQ(kw->Find("__meta__")->Find("class_fullname")->str(),
              "pecos.xmc.base###MLModel.PredParams");
    EXPECT_EQ(kw->Find("only_topk")->number(), t == 2 ? 7 : 3);
    EXPECT_EQ(kw->Find("post_processor")->str(), "sigmoid");
    const CscMatrix w = ReadNpzCsc(ld + "/W.npz");
    EXPECT_EQ(w.rows, 31);
    EXPECT_EQ(w.cols, m.n_nodes(t));
    const CscMatrix c = ReadNpzCsc(ld + "/C.npz");
    EXPECT_EQ(c.rows, m.n_nodes(t));
    EXPECT_EQ(c.cols, t == 0 ? 1 : m.n_nodes(t - 1));
  }
  RemoveTree(dir);
}

TEST(Pecos, NoBiasDropsTheBiasRow) {
  const XLinearModel m = RandomModel(2, 0.0f, {3, 9});
  TempDir tmp;
  const std::string dir = tmp.File("nobias");
  ExportPecos(m, dir);
  EXPECT_EQ(ReadNpzCsc(dir + "/ranker/0.model/W.npz").rows, 30);
  const XLinearModel back = ImportPecos(dir);
  EXPECT_EQ(back.n_features(), 30);
  EXPECT_EQ(back.meta().bias, 0.0f);
  ExpectSameWeights(m, back, true);
  RemoveTree(dir);
}

TEST(Pecos, RootCodesMayBeMissing) {
  const XLinearModel m = RandomModel(3, 1.0f, {5, 20});
  TempDir tmp;
  const std::string dir = tmp.File("noc0");
  ExportPecos(m, dir);
  ASSERT_EQ(std::remove((dir + "/ranker/0.model/C.npz").c_str()), 0);
  ExpectSameWeights(m, ImportPecos(dir), false);
  // ...but not below the root.
  ASSERT_EQ(std::remove((dir + "/ranker/1.model/C.npz").c_str()), 0);
  try {
    ImportPecos(dir);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("1.model/C.npz"), std::string::npos) << e.what();
  }
  RemoveTree(dir);
}

TEST(Pecos, ImportErrorsNameTheFile) {
  const XLinearModel m = RandomModel(4, 1.0f, {3, 8});
  TempDir tmp;
  const std::string dir = tmp.File("errors");
  auto expect_error = [&](ErrorCode code, const std::string& file) {
    try {
      ImportPecos(dir);
      ADD_FAILURE() << "no error, expected one about " << file;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(e.message().find(file), std::string::npos) << e.what();
    }
  };
  // C of the wrong shape.
  ExportPecos(m, dir);
  WriteNpz(dir + "/ranker/1.model/C.npz",
           CscMatrix{8, 2, {0, 4, 8}, {0, 1, 2, 3, 4, 5, 6, 7}, std::vector<float>(8, 1.f)}.view());
  expect_error(ErrorCode::kCorruption, "1.model/C.npz");
  // A child without a parent (pruned tree).
  ExportPecos(m, dir);
  WriteNpz(dir + "/ranker/1.model/C.npz",
           CscMatrix{8, 3, {0, 3, 5, 7}, {0, 1, 2, 3, 4, 5, 6}, std::vector<float>(7, 1.f)}.view());
  expect_error(ErrorCode::kCorruption, "1.model/C.npz");
  // W with the wrong number of rows.
  ExportPecos(m, dir);
  WriteNpz(dir + "/ranker/1.model/W.npz", CscMatrix::Zeros(12, 8).view());
  expect_error(ErrorCode::kCorruption, "1.model/W.npz");
  // Missing W.
  ExportPecos(m, dir);
  ASSERT_EQ(std::remove((dir + "/ranker/0.model/W.npz").c_str()), 0);
  expect_error(ErrorCode::kIoError, "0.model/W.npz");
  // Broken JSON, wrong model type, per-level bias.
  ExportPecos(m, dir);
  WriteBytes(dir + "/ranker/1.model/param.json", "{\"model\": \"MLModel\", \"bias\": 1.0,");
  expect_error(ErrorCode::kCorruption, "1.model/param.json");
  WriteBytes(dir + "/ranker/1.model/param.json", "{\"model\": \"MLModel\", \"bias\": 2.0}");
  expect_error(ErrorCode::kNotSupported, "1.model/param.json");
  WriteBytes(dir + "/ranker/1.model/param.json", "{\"model\": \"MLModel\"}");
  expect_error(ErrorCode::kCorruption, "1.model/param.json");
  WriteBytes(dir + "/ranker/param.json", "{\"model\": \"Other\", \"depth\": 2}");
  expect_error(ErrorCode::kCorruption, "ranker/param.json");
  RemoveTree(dir);
  expect_error(ErrorCode::kIoError, dir);
}

// Found reviewing ImportPecos for fuzz_pecos, reproduced with it: an integer field holding a
// number beyond the int64 range was converted before its range was checked (undefined behaviour;
// UBSan: "1e+300 is outside the range of representable values of type 'long'").
TEST(Pecos, IntegerFieldsBeyondInt64AreCorruption) {
  const XLinearModel m = RandomModel(5, 1.0f, {3, 8});
  TempDir tmp;
  const std::string dir = tmp.File("bigint");
  ExportPecos(m, dir);
  WriteBytes(dir + "/ranker/param.json", "{\"model\": \"HierarchicalMLModel\", \"depth\": 1e300}");
  testing_util::ExpectError([&] { ImportPecos(dir); }, ErrorCode::kCorruption,
                            {"ranker/param.json", "\"depth\" = 1e300 out of range [1, 1000]"});
  ExportPecos(m, dir);
  WriteBytes(dir + "/ranker/0.model/param.json",
             "{\"model\": \"MLModel\", \"bias\": 1.0, \"nr_features\": -1e19}");
  testing_util::ExpectError([&] { ImportPecos(dir); }, ErrorCode::kCorruption,
                            {"0.model/param.json", "\"nr_features\" = -1e19 out of range"});
  WriteBytes(dir + "/ranker/0.model/param.json",
             "{\"model\": \"MLModel\", \"bias\": 1.0, \"pred_kwargs\": {\"only_topk\": 2.5}}");
  testing_util::ExpectError([&] { ImportPecos(dir); }, ErrorCode::kCorruption,
                            {"0.model/param.json", "\"only_topk\" is not an integer"});
  RemoveTree(dir);
}

// Found reviewing ImportPecos, reproduced with fuzz_pecos (two edited files): a model without bias
// whose W has 2^31 - 1 rows and whose level parameters omit nr_features. xmr appends a bias row to
// W, and the row count overflowed (UBSan: "signed integer overflow: 2147483647 + 1").
TEST(Pecos, MaximalRowCountWithoutBiasIsCorruption) {
  const XLinearModel m = RandomModel(6, 0.0f, {2, 5});
  TempDir tmp;
  const std::string dir = tmp.File("maxrows");
  ExportPecos(m, dir);
  WriteBytes(dir + "/ranker/0.model/param.json", "{\"model\": \"MLModel\", \"bias\": 0.0}");
  WriteNpz(dir + "/ranker/0.model/W.npz", CscMatrix{2147483647, 2, {0, 0, 0}, {}, {}}.view());
  testing_util::ExpectError([&] { ImportPecos(dir); }, ErrorCode::kCorruption,
                            {"0.model/W.npz", "2147483647 feature rows"});
  RemoveTree(dir);
}

}  // namespace
}  // namespace xmr
