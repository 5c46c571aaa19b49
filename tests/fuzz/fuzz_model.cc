// Fuzzes the model file reader: LoadModel in both LoadMode::kRead and kMmap, then the
// attachments a model file may carry (TextModel::Load: vectorizer + label names; QacModel::Load:
// QAC options, two vectorizers, label strings and frequencies). A model that loads is used:
// its weights are read back and it answers a small query batch. The first input byte is a mode:
// bit 0 = recompute every CRC-32 of the file (sections, section table, header) so that
// mutations reach the structural checks. The rest is the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/qac_model.h"
#include "xmr/text_model.h"

namespace {

xmr::Context OneThread() {
  xmr::Context ctx;
  ctx.threads = 1;
  ctx.verbose = 0;
  return ctx;
}

void Use(const xmr::XLinearModel& m) {
  for (int t = 0; t < m.depth(); ++t) {
    xmr_fuzz::Guard([&] {
      const xmr::CscMatrix w = m.Weights(t);
      xmr_fuzz::CheckCsc("Weights", w);
      if (w.cols != m.n_nodes(t) || w.rows != m.n_features() + 1) {
        xmr_fuzz::Finding("Weights: shape differs from the model's");
      }
    });
  }
  m.chain();
  m.AttachmentNames();
  xmr_fuzz::Guard([&] { xmr::LabelNames(m); });
  // Two queries: an empty one and one touching the first and last feature.
  xmr::CsrMatrix x;
  x.rows = 2;
  x.cols = m.n_features();
  x.indptr = {0, 0};
  if (m.n_features() > 0) {
    x.indices.push_back(0);
    x.data.push_back(1.0f);
    if (m.n_features() > 1) {
      x.indices.push_back(m.n_features() - 1);
      x.data.push_back(-0.5f);
    }
  }
  x.indptr.push_back(static_cast<xmr::Offset>(x.indices.size()));
  xmr::PredictOptions po;
  po.beam_size = 3;
  po.top_k = 5;
  xmr_fuzz::Guard([&] {
    const xmr::CsrMatrix p = xmr::Predict(m, x.view(), po, OneThread());
    xmr_fuzz::CheckCompressed("Predict", p.rows, p.cols, p.indptr, p.indices, p.data,
                              /*sorted=*/false, /*finite=*/false);
    if (p.rows != 2 || p.cols != m.n_labels()) xmr_fuzz::Finding("Predict: bad result shape");
  });
}

void UseText(const xmr::TextModel& tm) {
  xmr::PredictOptions po;
  po.beam_size = 3;
  po.top_k = 5;
  xmr_fuzz::Guard([&] { tm.Predict({"echo with screen", ""}, po, OneThread()); });
  if (tm.model().n_labels() > 0) tm.label_name(0);
}

void UseQac(const xmr::QacModel& qm) {
  xmr_fuzz::Guard([&] {
    xmr::QacSearcher s(qm);
    s.Complete("apple", "p", 5);
    s.Complete("", "", 3);
  });
  qm.CompletionRange("pi");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static xmr_fuzz::InputFile file("model");
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) xmr_fuzz::FixModelCrcs(&bytes);
  const std::string& path = file.Write(bytes);
  for (const xmr::LoadMode mode : {xmr::LoadMode::kRead, xmr::LoadMode::kMmap}) {
    bool has_text = false, has_qac = false;
    xmr_fuzz::Guard([&] {
      const xmr::XLinearModel m = xmr::LoadModel(path, mode);
      has_text = m.Attachment(xmr::kVectorizerAttachment) != nullptr;
      has_qac = m.Attachment(xmr::kQacAttachment) != nullptr;
      Use(m);
    });
    if (has_text) xmr_fuzz::Guard([&] { UseText(xmr::TextModel::Load(path, mode)); });
    if (has_qac) xmr_fuzz::Guard([&] { UseQac(xmr::QacModel::Load(path, mode)); });
  }
  return 0;
}
