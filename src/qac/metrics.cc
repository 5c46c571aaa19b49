// QAC metrics: MRR, success@k and rank-weighted BLEU by prefix length.
#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "core/parallel.h"
#include "qac/qac_internal.h"
#include "xmr/error.h"
#include "xmr/qac.h"

namespace xmr {

void QacMetricsOptions::Validate() const {
  XMR_EXPECTS(!success_k.empty(), ErrorCode::kInvalidArgument,
              "QacMetricsOptions.success_k must not be empty");
  for (int k : success_k) {
    XMR_EXPECTS(k >= 1, ErrorCode::kInvalidArgument,
                "QacMetricsOptions.success_k entries must be >= 1, got " + std::to_string(k));
  }
  XMR_EXPECTS(mrr_k >= 1, ErrorCode::kInvalidArgument,
              "QacMetricsOptions.mrr_k must be >= 1, got " + std::to_string(mrr_k));
  XMR_EXPECTS(bleu_k >= 1, ErrorCode::kInvalidArgument,
              "QacMetricsOptions.bleu_k must be >= 1, got " + std::to_string(bleu_k));
  XMR_EXPECTS(avg_min_prefix_len >= 1 && avg_min_prefix_len <= avg_max_prefix_len,
              ErrorCode::kInvalidArgument,
              "QacMetricsOptions needs 1 <= avg_min_prefix_len <= avg_max_prefix_len, got " +
                  std::to_string(avg_min_prefix_len) + " and " +
                  std::to_string(avg_max_prefix_len));
}

double SentenceBleu(std::string_view candidate, std::string_view reference) {
  std::vector<std::string_view> c, r;
  qac_internal::SplitWords(candidate, &c);
  qac_internal::SplitWords(reference, &r);
  if (c.empty()) return 0.0;
  const int lc = static_cast<int>(c.size()), lr = static_cast<int>(r.size());
  std::vector<char> used;
  double log_sum = 0.0;
  for (int n = 1; n <= 4; ++n) {
    const int cn = std::max(0, lc - n + 1);
    const int rn = std::max(0, lr - n + 1);
    // Clipped matches: each reference n-gram can match one candidate n-gram.
    used.assign(rn, 0);
    int matches = 0;
    for (int i = 0; i < cn; ++i) {
      for (int j = 0; j < rn; ++j) {
        if (used[j] || !std::equal(c.begin() + i, c.begin() + i + n, r.begin() + j)) continue;
        used[j] = 1;
        ++matches;
        break;
      }
    }
    if (n == 1) {
      if (matches == 0) return 0.0;
      log_sum += std::log(static_cast<double>(matches) / cn);
    } else {
      log_sum += std::log((matches + 1.0) / (cn + 1.0));
    }
  }
  const double bp = lc >= lr ? 1.0 : std::exp(1.0 - static_cast<double>(lr) / lc);
  return bp * std::exp(log_sum / 4.0);
}

namespace {

// Rank-weighted BLEU of the first min(bleu_k, n) completions, completion(r) for r = 0..n-1.
template <typename Get>
double RankWeightedBleu(std::string_view truth, std::size_t n, int bleu_k, Get completion) {
  const std::size_t m = std::min<std::size_t>(n, static_cast<std::size_t>(bleu_k));
  if (m == 0) return 0.0;
  double num = 0.0, den = 0.0;
  for (std::size_t r = 0; r < m; ++r) {
    const double w = 1.0 / static_cast<double>(r + 1);
    num += w * SentenceBleu(completion(r), truth);
    den += w;
  }
  return num / den;
}

int MaxK(const QacMetricsOptions& o) {
  return std::max(o.mrr_k, *std::max_element(o.success_k.begin(), o.success_k.end()));
}

bool SameOptions(const QacMetricsOptions& a, const QacMetricsOptions& b) {
  return a.success_k == b.success_k && a.mrr_k == b.mrr_k && a.bleu_k == b.bleu_k &&
         a.avg_min_prefix_len == b.avg_min_prefix_len &&
         a.avg_max_prefix_len == b.avg_max_prefix_len;
}

}  // namespace

QacEvaluator::QacEvaluator(const QacMetricsOptions& opts) : opts_(opts) {
  opts_.Validate();
  max_k_ = MaxK(opts_);
}

void QacEvaluator::AddScored(int prefix_len, int hit_rank, double bleu) {
  XMR_EXPECTS(prefix_len >= 1, ErrorCode::kInvalidArgument,
              "QacEvaluator: prefix_len must be >= 1, got " + std::to_string(prefix_len));
  if (sums_.size() < static_cast<std::size_t>(prefix_len)) {
    Sums empty;
    empty.success.assign(opts_.success_k.size(), 0);
    sums_.resize(prefix_len, empty);
  }
  Sums& s = sums_[prefix_len - 1];
  ++s.n;
  if (hit_rank >= 1) {
    if (hit_rank <= opts_.mrr_k) s.rr += 1.0 / hit_rank;
    for (std::size_t j = 0; j < opts_.success_k.size(); ++j) {
      if (hit_rank <= opts_.success_k[j]) ++s.success[j];
    }
  }
  s.bleu += bleu;
}

void QacEvaluator::Add(int prefix_len, std::string_view truth,
                       const std::vector<std::string_view>& ranked) {
  int hit = 0;
  const std::size_t top = std::min<std::size_t>(ranked.size(), max_k_);
  for (std::size_t r = 0; r < top && hit == 0; ++r) {
    if (ranked[r] == truth) hit = static_cast<int>(r + 1);
  }
  AddScored(prefix_len, hit, RankWeightedBleu(truth, ranked.size(), opts_.bleu_k, [&](size_t r) {
              return ranked[r];
            }));
}

void QacEvaluator::Add(int prefix_len, std::string_view truth,
                       const std::vector<std::string>& ranked) {
  std::vector<std::string_view> views(ranked.begin(), ranked.end());
  Add(prefix_len, truth, views);
}

void QacEvaluator::Merge(const QacEvaluator& other) {
  XMR_EXPECTS(SameOptions(opts_, other.opts_), ErrorCode::kInvalidArgument,
              "QacEvaluator::Merge: the evaluators have different options");
  if (sums_.size() < other.sums_.size()) {
    Sums empty;
    empty.success.assign(opts_.success_k.size(), 0);
    sums_.resize(other.sums_.size(), empty);
  }
  for (std::size_t p = 0; p < other.sums_.size(); ++p) {
    Sums& s = sums_[p];
    const Sums& o = other.sums_[p];
    s.n += o.n;
    s.rr += o.rr;
    s.bleu += o.bleu;
    for (std::size_t j = 0; j < s.success.size(); ++j) s.success[j] += o.success[j];
  }
}

QacMetrics QacEvaluator::Result() const {
  QacMetrics m;
  m.options = opts_;
  const std::size_t nk = opts_.success_k.size();
  auto zero_row = [nk] {
    QacMetricsRow r;
    r.success.assign(nk, 0.0);
    return r;
  };
  Sums total;
  total.success.assign(nk, 0);
  m.by_prefix_len.assign(sums_.size(), zero_row());
  m.averaged = zero_row();
  int averaged_lengths = 0;
  for (std::size_t p = 0; p < sums_.size(); ++p) {
    const Sums& s = sums_[p];
    total.n += s.n;
    total.rr += s.rr;
    total.bleu += s.bleu;
    for (std::size_t j = 0; j < nk; ++j) total.success[j] += s.success[j];
    if (s.n == 0) continue;
    QacMetricsRow& row = m.by_prefix_len[p];
    const double inv = 1.0 / static_cast<double>(s.n);
    row.n = s.n;
    row.mrr = s.rr * inv;
    row.bleu = s.bleu * inv;
    for (std::size_t j = 0; j < nk; ++j) row.success[j] = s.success[j] * inv;
    const int len = static_cast<int>(p + 1);
    if (len >= opts_.avg_min_prefix_len && len <= opts_.avg_max_prefix_len) {
      ++averaged_lengths;
      m.averaged.n += row.n;
      m.averaged.mrr += row.mrr;
      m.averaged.bleu += row.bleu;
      for (std::size_t j = 0; j < nk; ++j) m.averaged.success[j] += row.success[j];
    }
  }
  if (averaged_lengths > 0) {
    const double inv = 1.0 / averaged_lengths;
    m.averaged.mrr *= inv;
    m.averaged.bleu *= inv;
    for (double& v : m.averaged.success) v *= inv;
  }
  m.overall = zero_row();
  if (total.n > 0) {
    const double inv = 1.0 / static_cast<double>(total.n);
    m.overall.n = total.n;
    m.overall.mrr = total.rr * inv;
    m.overall.bleu = total.bleu * inv;
    for (std::size_t j = 0; j < nk; ++j) m.overall.success[j] = total.success[j] * inv;
  }
  return m;
}

std::string QacMetrics::Table() const {
  std::string s = StrFormat("%-10s %10s %8s", "prefix_len", "n",
                            ("MRR@" + std::to_string(options.mrr_k)).c_str());
  for (int k : options.success_k) s += StrFormat(" %7s", ("S@" + std::to_string(k)).c_str());
  s += StrFormat(" %8s\n", ("BLEU@" + std::to_string(options.bleu_k)).c_str());
  auto line = [&s](const std::string& name, const QacMetricsRow& r) {
    s += StrFormat("%-10s %10lld %8.4f", name.c_str(), static_cast<long long>(r.n), r.mrr);
    for (double v : r.success) s += StrFormat(" %7.4f", v);
    s += StrFormat(" %8.4f\n", r.bleu);
  };
  for (std::size_t p = 0; p < by_prefix_len.size(); ++p) {
    line(std::to_string(p + 1), by_prefix_len[p]);
  }
  line("avg " + std::to_string(options.avg_min_prefix_len) + "-" +
           std::to_string(options.avg_max_prefix_len),
       averaged);
  line("all", overall);
  return s;
}

namespace {

// Scores every example on `threads` workers, then adds them in example order (so the sums do
// not depend on the thread count).
template <typename Score>
QacMetrics EvaluateExamples(const QacSplit& split, const QacMetricsOptions& opts, int threads,
                            Score score) {
  QacEvaluator ev(opts);
  const std::int64_t n = split.size();
  std::vector<int> hit(n);
  std::vector<double> bleu(n);
  ParallelFor(
      n, threads, [&](std::int64_t i, int) { score(i, &hit[i], &bleu[i]); }, 256);
  for (std::int64_t i = 0; i < n; ++i) ev.AddScored(split.prefix_len(i), hit[i], bleu[i]);
  return ev.Result();
}

}  // namespace

QacMetrics EvaluateQac(const QacSplit& split, const std::vector<std::vector<Index>>& ranked,
                       const std::vector<std::string>& labels, const QacMetricsOptions& opts,
                       int threads) {
  opts.Validate();
  XMR_EXPECTS(static_cast<std::int64_t>(ranked.size()) == split.size(), ErrorCode::kInvalidArgument,
              "EvaluateQac: " + std::to_string(ranked.size()) + " ranked lists for " +
                  std::to_string(split.size()) + " examples");
  const int max_k = MaxK(opts);
  const Index n_labels = static_cast<Index>(labels.size());
  return EvaluateExamples(split, opts, threads, [&](std::int64_t i, int* hit, double* bleu) {
    const std::vector<Index>& r = ranked[i];
    for (Index id : r) {
      XMR_EXPECTS(id >= 0 && id < n_labels, ErrorCode::kInvalidArgument,
                  "EvaluateQac: example " + std::to_string(i) + " has label id " +
                      std::to_string(id) + " outside [0, " + std::to_string(n_labels) + ")");
    }
    const Index truth = split.label(i);
    *hit = 0;
    const std::size_t top = std::min<std::size_t>(r.size(), max_k);
    for (std::size_t j = 0; j < top && *hit == 0 && truth != kNoLabel; ++j) {
      if (r[j] == truth) *hit = static_cast<int>(j + 1);
    }
    *bleu = RankWeightedBleu(split.next(i), r.size(), opts.bleu_k,
                             [&](std::size_t j) { return std::string_view(labels[r[j]]); });
  });
}

QacMetrics EvaluateQac(const QacSplit& split, const std::vector<std::vector<std::string>>& ranked,
                       const QacMetricsOptions& opts, int threads) {
  opts.Validate();
  XMR_EXPECTS(static_cast<std::int64_t>(ranked.size()) == split.size(), ErrorCode::kInvalidArgument,
              "EvaluateQac: " + std::to_string(ranked.size()) + " ranked lists for " +
                  std::to_string(split.size()) + " examples");
  const int max_k = MaxK(opts);
  return EvaluateExamples(split, opts, threads, [&](std::int64_t i, int* hit, double* bleu) {
    const std::vector<std::string>& r = ranked[i];
    const std::string_view truth = split.next(i);
    *hit = 0;
    const std::size_t top = std::min<std::size_t>(r.size(), max_k);
    for (std::size_t j = 0; j < top && *hit == 0; ++j) {
      if (r[j] == truth) *hit = static_cast<int>(j + 1);
    }
    *bleu = RankWeightedBleu(truth, r.size(), opts.bleu_k,
                             [&](std::size_t j) { return std::string_view(r[j]); });
  });
}

}  // namespace xmr
