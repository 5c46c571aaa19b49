// Synthetic XMC data (see include/xmr/synth.h for the model).
#include "xmr/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "core/log.h"
#include "core/parallel.h"
#include "io/formats.h"
#include "xmr/error.h"

namespace xmr {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRowSigma = 0.5;      // log-normal spread of the row lengths
constexpr double kTokensPerNnz = 1.3;  // tokens drawn per distinct feature (for the idf)
constexpr Index kProfileFactor = 4;    // topic profile = 4 x signature size

std::uint64_t Mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
std::uint64_t Hash(std::uint64_t a, std::uint64_t b) { return Mix64(a ^ Mix64(b)); }
std::uint64_t Hash(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  return Hash(Hash(a, b), c);
}

// SplitMix64 stream: small state, good enough statistics for data generation, and fully
// specified (unlike std:: distributions), so files are the same on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t Next() {
    s_ += 0x9E3779B97F4A7C15ULL;
    std::uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double OpenUniform() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }
  double Normal() {
    return std::sqrt(-2.0 * std::log(OpenUniform())) * std::cos(2.0 * kPi * Uniform());
  }
  double Exponential() { return -std::log(OpenUniform()); }
  std::int64_t Poisson(double lambda) {
    if (lambda <= 0) return 0;
    if (lambda < 30) {
      const double limit = std::exp(-lambda);
      std::int64_t k = 0;
      for (double p = Uniform(); p > limit; p *= Uniform()) ++k;
      return k;
    }
    return std::max<std::int64_t>(0, std::llround(lambda + std::sqrt(lambda) * Normal()));
  }

 private:
  std::uint64_t s_;
};

// Cumulative power-law weights (i + 1)^-exponent for i in [0, n).
std::vector<double> PowerCdf(Index n, double exponent) {
  std::vector<double> cdf(static_cast<std::size_t>(n));
  double acc = 0;
  for (Index i = 0; i < n; ++i) {
    acc += std::pow(static_cast<double>(i) + 1.0, -exponent);
    cdf[i] = acc;
  }
  return cdf;
}

// A Fisher-Yates permutation of [0, n) drawn from `seed`.
std::vector<Index> RandomPermutation(Index n, std::uint64_t seed) {
  std::vector<Index> perm(static_cast<std::size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(seed);
  for (Index i = n - 1; i > 0; --i) {
    std::swap(perm[i], perm[rng.Below(static_cast<std::uint64_t>(i) + 1)]);
  }
  return perm;
}

// Index drawn from the cumulative weights [begin, end) (not normalised).
Index SampleCdf(const double* begin, const double* end, double u) {
  const double target = u * end[-1];
  const double* it = std::upper_bound(begin, end, target);
  return static_cast<Index>(std::min<std::ptrdiff_t>(it - begin, end - begin - 1));
}

[[noreturn]] void Bad(const std::string& msg) {
  throw Error(ErrorCode::kInvalidArgument, "synthetic data: " + msg);
}

// Per-worker scratch: an open-addressing counter of the features of one row.
struct RowScratch {
  std::vector<Index> keys;  // -1 = empty
  std::vector<std::int32_t> counts;
  std::vector<std::uint32_t> used;  // slots in insertion order
  std::vector<Index> ranks;         // label ranks of the row
  std::vector<Index> topics;
  std::vector<std::pair<Index, float>> entries;

  void Reset(Index want) {
    std::size_t cap = 64;
    while (cap < 2 * static_cast<std::size_t>(want) + 2) cap <<= 1;
    if (keys.size() < cap) {
      keys.assign(cap, -1);
      counts.assign(cap, 0);
    }
    for (const std::uint32_t s : used) keys[s] = -1;
    used.clear();
  }
  // Adds one token; returns true if the feature is new.
  bool Add(Index f) {
    const std::size_t mask = keys.size() - 1;
    std::size_t s = (static_cast<std::uint32_t>(f) * 0x9E3779B1u) & mask;
    while (keys[s] != -1) {
      if (keys[s] == f) {
        ++counts[s];
        return false;
      }
      s = (s + 1) & mask;
    }
    keys[s] = f;
    counts[s] = 1;
    used.push_back(static_cast<std::uint32_t>(s));
    return true;
  }
};

}  // namespace

// ----- spec and presets -------------------------------------------------------------------

void SynthSpec::Validate() const {
  if (n_train < 0 || n_test < 0) Bad("n_train and n_test must be >= 0");
  if (n_features < 1) Bad("n_features must be >= 1, got " + std::to_string(n_features));
  if (n_labels < 1) Bad("n_labels must be >= 1, got " + std::to_string(n_labels));
  if (!(nnz_per_row >= 1 && nnz_per_row <= n_features)) {
    Bad(StrFormat("nnz_per_row must be in [1, n_features = %d], got %g", n_features, nnz_per_row));
  }
  if (!(labels_per_row >= 1 && labels_per_row <= n_labels)) {
    Bad(StrFormat("labels_per_row must be in [1, n_labels = %d], got %g", n_labels,
                  labels_per_row));
  }
  if (!(label_exponent >= 0 && label_exponent <= 3)) Bad("label_exponent must be in [0, 3]");
  if (!(feature_exponent >= 0 && feature_exponent <= 3)) Bad("feature_exponent must be in [0, 3]");
  if (!(signal >= 0 && signal <= 1)) Bad("signal must be in [0, 1]");
  if (signature_size < 1) Bad("signature_size must be >= 1");
  if (topic_size < 1) Bad("topic_size must be >= 1");
  if (feature_pool < 0) Bad("feature_pool must be >= 0");
  if (!(topic_cooccurrence >= 0 && topic_cooccurrence <= 1)) {
    Bad("topic_cooccurrence must be in [0, 1]");
  }
}

std::string SynthSpec::Describe() const {
  return StrFormat(
      "%s: train %d, test %d, features %d, labels %d, nnz/row %.1f, labels/row %.2f, label "
      "exponent %.2f, signal %.2f, seed %llu",
      name.c_str(), n_train, n_test, n_features, n_labels, nnz_per_row, labels_per_row,
      label_exponent, signal, static_cast<unsigned long long>(seed));
}

std::vector<std::string> SynthPresetNames() {
  return {"tiny", "amazon670k", "wiki500k", "amazon3m"};
}

SynthSpec SynthPreset(const std::string& name, double scale) {
  if (!(scale > 0) || !std::isfinite(scale)) Bad(StrFormat("scale must be > 0, got %g", scale));
  SynthSpec s;
  s.name = name;
  // Shapes of the real sets (XMLRepository / PECOS tables): rows, d, L, nnz per row, labels
  // per row. The label exponents and the learnability knobs are ours (see the README).
  if (name == "tiny") {
    s.n_train = 4000, s.n_test = 1000, s.n_features = 20000, s.n_labels = 1000;
    s.nnz_per_row = 60, s.labels_per_row = 3, s.label_exponent = 0.8;
  } else if (name == "amazon670k") {
    s.n_train = 490449, s.n_test = 153025, s.n_features = 135909, s.n_labels = 670091;
    s.nnz_per_row = 75.7, s.labels_per_row = 5.45, s.label_exponent = 0.6, s.signal = 0.5;
  } else if (name == "wiki500k") {
    s.n_train = 1779881, s.n_test = 769421, s.n_features = 2381304, s.n_labels = 501070;
    s.nnz_per_row = 387.4, s.labels_per_row = 4.75, s.label_exponent = 0.9, s.signal = 0.05;
  } else if (name == "amazon3m") {
    s.n_train = 1717899, s.n_test = 742507, s.n_features = 337067, s.n_labels = 2812281;
    s.nnz_per_row = 49.2, s.labels_per_row = 36.0, s.label_exponent = 0.7, s.signal = 0.8;
  } else {
    std::string names;
    for (const std::string& n : SynthPresetNames()) names += (names.empty() ? "" : ", ") + n;
    Bad("unknown preset '" + name + "' (presets: " + names + ")");
  }
  auto scaled = [&](Index n, const char* what) {
    const double v = std::round(static_cast<double>(n) * scale);
    if (v > std::numeric_limits<Index>::max()) {
      Bad(StrFormat("scale %g makes %.0f %s (more than 2^31 - 1)", scale, v, what));
    }
    return std::max<Index>(1, static_cast<Index>(v));
  };
  s.n_train = scaled(s.n_train, "training rows");
  s.n_test = scaled(s.n_test, "test rows");
  s.n_labels = scaled(s.n_labels, "labels");
  // Signatures and profiles share features across labels as they do at full scale: the pool
  // shrinks with the labels (so --scale changes the size of the task, not its difficulty).
  s.feature_pool = std::clamp<Index>(static_cast<Index>(std::round(s.n_features * scale)),
                                     std::min<Index>(s.n_features, 1000), s.n_features);
  s.labels_per_row = std::min<double>(s.labels_per_row, s.n_labels);
  if (scale != 1.0) s.name = StrFormat("%s@%g", name.c_str(), scale);
  return s;
}

// ----- generator ----------------------------------------------------------------------------

struct SynthGenerator::Impl {
  SynthSpec spec;
  Index n_topics = 1;
  std::vector<double> label_cdf;          // over ranks
  std::vector<Index> rank_to_label;       // a random permutation
  std::vector<double> topic_cdf;          // per topic, cumulative over its members
  std::vector<std::int64_t> topic_begin;  // n_topics + 1 offsets into topic_cdf
  std::vector<double> feature_cdf;        // background Zipf over feature ranks
  std::vector<Index> feature_perm;        // feature rank -> feature id
  std::vector<double> signature_cdf;      // within a label signature
  std::vector<double> profile_cdf;        // within a topic profile
  std::vector<float> idf;

  std::uint64_t RowSeed(SynthSplit split, Index row, std::uint64_t stream) const {
    return Hash(spec.seed, (split == SynthSplit::kTrain ? 1u : 2u), Hash(row, stream));
  }
  // Label signatures and topic profiles draw from the `pool` rarest background features.
  Index Pool() const {
    return spec.feature_pool > 0 ? std::min(spec.feature_pool, spec.n_features) : spec.n_features;
  }
  Index PoolFeature(std::uint64_t h) const {
    return feature_perm[spec.n_features - 1 - static_cast<Index>(h % Pool())];
  }
  Index SignatureFeature(Index rank, Index j) const {
    return PoolFeature(Hash(spec.seed ^ 0x5157ULL, rank, j));
  }
  Index ProfileFeature(Index topic, Index j) const {
    return PoolFeature(Hash(spec.seed ^ 0x7091CULL, topic, j));
  }
  Index TopicOf(Index rank) const { return rank / spec.topic_size; }

  Index RowLabels(SynthSplit split, Index row) const {
    const double extra = spec.labels_per_row - 1.0;
    if (extra <= 0) return 1;
    Rng rng(RowSeed(split, row, 0));
    const double g = 0.5 * extra * (rng.Exponential() + rng.Exponential());  // Gamma(2, extra/2)
    return static_cast<Index>(std::min<std::int64_t>(spec.n_labels, 1 + rng.Poisson(g)));
  }
  Index RowNnz(SynthSplit split, Index row) const {
    Rng rng(RowSeed(split, row, 1));
    const double z = rng.Normal();
    const double m = spec.nnz_per_row * std::exp(kRowSigma * z - 0.5 * kRowSigma * kRowSigma);
    return static_cast<Index>(std::clamp<double>(std::round(m), 1.0, spec.n_features));
  }

  Index SampleLabelRank(Rng& rng) const {
    return SampleCdf(label_cdf.data(), label_cdf.data() + label_cdf.size(), rng.Uniform());
  }
  Index SampleInTopic(Index topic, Rng& rng) const {
    const double* b = topic_cdf.data() + topic_begin[topic];
    const double* e = topic_cdf.data() + topic_begin[topic + 1];
    return topic * spec.topic_size + SampleCdf(b, e, rng.Uniform());
  }

  // Draws the label ranks of a row into s->ranks (k distinct ranks).
  void DrawLabels(Index k, Rng& rng, RowScratch* s) const {
    s->ranks.clear();
    s->topics.clear();
    auto taken = [&](Index r) {
      return std::find(s->ranks.begin(), s->ranks.end(), r) != s->ranks.end();
    };
    auto accept = [&](Index r) {
      s->ranks.push_back(r);
      const Index t = TopicOf(r);
      if (std::find(s->topics.begin(), s->topics.end(), t) == s->topics.end()) {
        s->topics.push_back(t);
      }
    };
    accept(SampleLabelRank(rng));
    while (static_cast<Index>(s->ranks.size()) < k) {
      Index r = -1;
      for (int attempt = 0; attempt < 32 && r < 0; ++attempt) {
        Index c;
        if (rng.Uniform() < spec.topic_cooccurrence) {
          c = SampleInTopic(s->topics[rng.Below(s->topics.size())], rng);
        } else {
          c = SampleLabelRank(rng);
        }
        if (!taken(c)) r = c;
      }
      if (r < 0) {  // saturated (k close to L): the next free rank after a random one
        r = static_cast<Index>(rng.Below(spec.n_labels));
        while (taken(r)) r = (r + 1) % spec.n_labels;
      }
      accept(r);
    }
  }

  Index DrawToken(Rng& rng, const RowScratch& s) const {
    if (rng.Uniform() < spec.signal) {
      const Index rank = s.ranks[rng.Below(s.ranks.size())];
      if (rng.Uniform() < 0.5) {
        const Index j = SampleCdf(signature_cdf.data(), signature_cdf.data() + signature_cdf.size(),
                                  rng.Uniform());
        return SignatureFeature(rank, j);
      }
      const Index j =
          SampleCdf(profile_cdf.data(), profile_cdf.data() + profile_cdf.size(), rng.Uniform());
      return ProfileFeature(TopicOf(rank), j);
    }
    return feature_perm[SampleCdf(feature_cdf.data(), feature_cdf.data() + feature_cdf.size(),
                                  rng.Uniform())];
  }

  // Draws row `row`: its labels (sorted ids) into *labels and its features into s->entries.
  void DrawRow(SynthSplit split, Index row, RowScratch* s, std::vector<Index>* labels) const {
    const Index k = RowLabels(split, row);
    const Index m = RowNnz(split, row);
    Rng rng(RowSeed(split, row, 2));
    DrawLabels(k, rng, s);
    labels->clear();
    for (const Index r : s->ranks) labels->push_back(rank_to_label[r]);
    std::sort(labels->begin(), labels->end());

    s->Reset(m);
    Index distinct = 0;
    const std::int64_t budget = 64 * static_cast<std::int64_t>(m) + 1024;
    for (std::int64_t t = 0; distinct < m; ++t) {
      // A row longer than the model can fill (m close to d) ends with uniform features.
      const Index f =
          t < budget ? DrawToken(rng, *s) : static_cast<Index>(rng.Below(spec.n_features));
      if (s->Add(f)) ++distinct;
    }
    s->entries.clear();
    double norm2 = 0;
    for (const std::uint32_t slot : s->used) {
      const Index f = s->keys[slot];
      const float v =
          static_cast<float>((1.0 + std::log(static_cast<double>(s->counts[slot]))) * idf[f]);
      s->entries.emplace_back(f, v);
      norm2 += static_cast<double>(v) * v;
    }
    std::sort(s->entries.begin(), s->entries.end());
    const float inv = norm2 > 0 ? static_cast<float>(1.0 / std::sqrt(norm2)) : 1.0f;
    for (auto& e : s->entries) e.second *= inv;
  }

  void BuildTables() {
    const SynthSpec& p = spec;
    const Index L = p.n_labels, d = p.n_features;
    label_cdf = PowerCdf(L, p.label_exponent);
    rank_to_label = RandomPermutation(L, Hash(p.seed, 0x1AB3L));
    n_topics = std::max<Index>(1, (L + p.topic_size - 1) / p.topic_size);
    topic_begin.assign(static_cast<std::size_t>(n_topics) + 1, 0);
    for (Index t = 0; t < n_topics; ++t) {
      const Index members = std::min<Index>(p.topic_size, L - t * p.topic_size);
      topic_begin[t + 1] = topic_begin[t] + members;
    }
    topic_cdf.resize(L);
    for (Index t = 0; t < n_topics; ++t) {
      double acc = 0;
      for (std::int64_t j = 0; j < topic_begin[t + 1] - topic_begin[t]; ++j) {
        acc += std::pow(static_cast<double>(topic_begin[t] + j) + 1.0, -p.label_exponent);
        topic_cdf[topic_begin[t] + j] = acc;
      }
    }
    feature_cdf = PowerCdf(d, p.feature_exponent);
    feature_perm = RandomPermutation(d, Hash(p.seed, 0xFEA7L));
    signature_cdf = PowerCdf(p.signature_size, 1.0);
    profile_cdf = PowerCdf(kProfileFactor * p.signature_size, 1.0);

    // Expected token probability of every feature under the model, then the idf a corpus
    // drawn from it would show: df / N = 1 - exp(-tokens_per_row * p_f).
    std::vector<double> pf(d, 0.0);
    const double bg_total = feature_cdf.back();
    double prev = 0;
    for (Index r = 0; r < d; ++r) {
      pf[feature_perm[r]] += (1.0 - p.signal) * (feature_cdf[r] - prev) / bg_total;
      prev = feature_cdf[r];
    }
    const double label_total = label_cdf.back();
    const double sig_total = signature_cdf.back(), prof_total = profile_cdf.back();
    std::vector<double> topic_mass(n_topics, 0.0);
    prev = 0;
    for (Index r = 0; r < L; ++r) {
      const double w = (label_cdf[r] - prev) / label_total;
      prev = label_cdf[r];
      topic_mass[TopicOf(r)] += w;
      double sp = 0;
      for (Index j = 0; j < p.signature_size; ++j) {
        const double sw = (signature_cdf[j] - sp) / sig_total;
        sp = signature_cdf[j];
        pf[SignatureFeature(r, j)] += p.signal * 0.5 * w * sw;
      }
    }
    for (Index t = 0; t < n_topics; ++t) {
      double sp = 0;
      for (Index j = 0; j < kProfileFactor * p.signature_size; ++j) {
        const double sw = (profile_cdf[j] - sp) / prof_total;
        sp = profile_cdf[j];
        pf[ProfileFeature(t, j)] += p.signal * 0.5 * topic_mass[t] * sw;
      }
    }
    const double tokens = kTokensPerNnz * p.nnz_per_row;
    idf.resize(d);
    for (Index f = 0; f < d; ++f) {
      const double df = std::max(1e-9, -std::expm1(-tokens * pf[f]));
      idf[f] = static_cast<float>(1.0 - std::log(df));
    }
  }
};

SynthGenerator::SynthGenerator(const SynthSpec& spec) : impl_(std::make_unique<Impl>()) {
  spec.Validate();
  impl_->spec = spec;
  impl_->BuildTables();
}

SynthGenerator::~SynthGenerator() = default;

const SynthSpec& SynthGenerator::spec() const noexcept { return impl_->spec; }

Index SynthGenerator::rows(SynthSplit split) const noexcept {
  return split == SynthSplit::kTrain ? impl_->spec.n_train : impl_->spec.n_test;
}

Index SynthGenerator::RowNnz(SynthSplit split, Index row) const {
  return impl_->RowNnz(split, row);
}

Index SynthGenerator::RowLabels(SynthSplit split, Index row) const {
  return impl_->RowLabels(split, row);
}

Dataset SynthGenerator::Generate(SynthSplit split, Index begin, Index end,
                                 const Context& ctx) const {
  XMR_EXPECTS(0 <= begin && begin <= end && end <= rows(split), ErrorCode::kInvalidArgument,
              StrFormat("SynthGenerator::Generate: rows [%d, %d) outside [0, %d)", begin, end,
                        rows(split)));
  const Impl& g = *impl_;
  const Index n = end - begin;
  Dataset ds;
  ds.x.rows = ds.y.rows = n;
  ds.x.cols = g.spec.n_features;
  ds.y.cols = g.spec.n_labels;
  ds.x.indptr.assign(static_cast<std::size_t>(n) + 1, 0);
  ds.y.indptr.assign(static_cast<std::size_t>(n) + 1, 0);
  const int threads = ctx.NumThreads();
  ParallelFor(
      n, threads,
      [&](std::int64_t i, int) {
        ds.x.indptr[i + 1] = g.RowNnz(split, begin + static_cast<Index>(i));
        ds.y.indptr[i + 1] = g.RowLabels(split, begin + static_cast<Index>(i));
      },
      4096);
  for (Index i = 0; i < n; ++i) {
    ds.x.indptr[i + 1] += ds.x.indptr[i];
    ds.y.indptr[i + 1] += ds.y.indptr[i];
  }
  ds.x.indices.resize(ds.x.indptr[n]);
  ds.x.data.resize(ds.x.indptr[n]);
  ds.y.indices.resize(ds.y.indptr[n]);
  ds.y.data.assign(ds.y.indptr[n], 1.0f);
  const int workers = NumWorkers(n, threads, 64);
  std::vector<RowScratch> scratch(static_cast<std::size_t>(std::max(1, workers)));
  std::vector<std::vector<Index>> labels(scratch.size());
  ParallelFor(
      n, threads,
      [&](std::int64_t i, int w) {
        RowScratch& s = scratch[w];
        g.DrawRow(split, begin + static_cast<Index>(i), &s, &labels[w]);
        Offset o = ds.x.indptr[i];
        for (const auto& e : s.entries) {
          ds.x.indices[o] = e.first;
          ds.x.data[o++] = e.second;
        }
        std::copy(labels[w].begin(), labels[w].end(), ds.y.indices.begin() + ds.y.indptr[i]);
      },
      64);
  return ds;
}

Dataset Synthesize(const SynthSpec& spec, SynthSplit split, const Context& ctx) {
  const SynthGenerator gen(spec);
  return gen.Generate(split, 0, gen.rows(split), ctx);
}

std::vector<std::string> WriteSynthetic(const SynthSpec& spec, const std::string& prefix,
                                        const SynthOutput& out, const Context& ctx) {
  XMR_EXPECTS(out.text || out.xmb || out.npz, ErrorCode::kInvalidArgument,
              "WriteSynthetic: no output format selected");
  XMR_EXPECTS(out.block_rows >= 1, ErrorCode::kInvalidArgument,
              "WriteSynthetic: block_rows must be >= 1");
  Timer timer;
  const SynthGenerator gen(spec);
  Log(ctx, StrFormat("synth %s (tables in %.2f s)", spec.Describe().c_str(), timer.Seconds()));
  std::vector<std::string> written;
  for (const SynthSplit split : {SynthSplit::kTrain, SynthSplit::kTest}) {
    const Index n = gen.rows(split);
    const std::string base = prefix + (split == SynthSplit::kTrain ? ".train" : ".test");
    if (out.npz) {
      const Dataset ds = gen.Generate(split, 0, n, ctx);
      WriteNpz(base + ".X.npz", ds.x.view());
      WriteNpz(base + ".Y.npz", ds.y.view());
      written.push_back(base + ".X.npz");
      written.push_back(base + ".Y.npz");
      if (!out.text && !out.xmb) continue;
    }
    std::unique_ptr<detail::XmlRepoStreamWriter> text;
    std::unique_ptr<detail::XmbStreamWriter> xmb_x, xmb_y;
    if (out.text) {
      text = std::make_unique<detail::XmlRepoStreamWriter>(base + ".txt", n, spec.n_features,
                                                           spec.n_labels);
    }
    if (out.xmb) {
      std::vector<Offset> xp(static_cast<std::size_t>(n) + 1, 0), yp(xp.size(), 0);
      ParallelFor(
          n, ctx.NumThreads(),
          [&](std::int64_t i, int) {
            xp[i + 1] = gen.RowNnz(split, static_cast<Index>(i));
            yp[i + 1] = gen.RowLabels(split, static_cast<Index>(i));
          },
          4096);
      for (Index i = 0; i < n; ++i) {
        xp[i + 1] += xp[i];
        yp[i + 1] += yp[i];
      }
      xmb_x = std::make_unique<detail::XmbStreamWriter>(base + ".X.xmb", spec.n_features,
                                                        std::move(xp));
      xmb_y =
          std::make_unique<detail::XmbStreamWriter>(base + ".Y.xmb", spec.n_labels, std::move(yp));
    }
    Timer split_timer, progress;
    for (Index b = 0; b < n; b += out.block_rows) {
      const Index e =
          static_cast<Index>(std::min<std::int64_t>(n, std::int64_t{b} + out.block_rows));
      const Dataset block = gen.Generate(split, b, e, ctx);
      if (text) text->Append(block.x.view(), block.y.view());
      if (xmb_x) {
        xmb_x->Append(block.x.view());
        xmb_y->Append(block.y.view());
      }
      if (progress.Seconds() >= 2.0 || e == n) {
        const double s = split_timer.Seconds();
        Log(ctx, StrFormat("  %s: %d/%d rows, %.1f s, %.0f rows/s", base.c_str(), e, n, s,
                           s > 0 ? e / s : 0.0));
        progress.Reset();
      }
    }
    if (text) {
      text->Commit();
      written.push_back(base + ".txt");
    }
    if (xmb_x) {
      xmb_x->Commit();
      xmb_y->Commit();
      written.push_back(base + ".X.xmb");
      written.push_back(base + ".Y.xmb");
    }
  }
  return written;
}

DataShape MeasureShape(const CsrView& x, const CsrView& y, Index min_count) {
  XMR_EXPECTS(x.rows == y.rows, ErrorCode::kInvalidArgument,
              StrFormat("MeasureShape: x has %d rows, y has %d", x.rows, y.rows));
  DataShape s;
  s.rows = x.rows;
  if (x.rows == 0) return s;
  s.nnz_per_row = static_cast<double>(x.nnz()) / x.rows;
  s.labels_per_row = static_cast<double>(y.nnz()) / y.rows;
  std::vector<std::int64_t> count(static_cast<std::size_t>(y.cols), 0);
  for (Offset k = y.indptr[0]; k < y.indptr[y.rows]; ++k) ++count[y.indices[k]];
  std::sort(count.begin(), count.end(), std::greater<>());
  s.labels_used = static_cast<Index>(
      std::count_if(count.begin(), count.end(), [](std::int64_t c) { return c > 0; }));
  // Least squares of ln(count) on ln(rank) over the labels seen >= min_count times.
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  std::int64_t m = 0;
  for (std::size_t r = 0; r < count.size() && count[r] >= std::max<Index>(1, min_count); ++r) {
    const double lx = std::log(static_cast<double>(r) + 1.0);
    const double ly = std::log(static_cast<double>(count[r]));
    sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly;
    ++m;
  }
  if (m >= 10) {
    const double denom = m * sxx - sx * sx;
    if (denom > 0) s.label_exponent = -(m * sxy - sx * sy) / denom;
  }
  return s;
}

}  // namespace xmr
