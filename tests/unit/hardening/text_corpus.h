// A tiny deterministic text corpus for the hardening tests that need a trained TextModel:
// 6 topics of 8 words each; a text is 4 words of its topic, 2 noise words and, now and then,
// 2 words of a second topic (then a second label).
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "xmr/sparse.h"

namespace xmr {
namespace hardening {

struct TextCorpus {
  std::vector<std::string> texts;
  CsrMatrix y;
};

inline TextCorpus MakeTextCorpus(int n, unsigned seed) {
  static const std::vector<std::vector<std::string>> kTopics = {
      {"guitar", "drums", "melody", "chord", "concert", "band", "singer", "album"},
      {"football", "goal", "referee", "league", "striker", "match", "stadium", "coach"},
      {"compiler", "pointer", "kernel", "thread", "mutex", "syntax", "linker", "debugger"},
      {"recipe", "oven", "butter", "flour", "simmer", "garlic", "sauce", "bake"},
      {"planet", "orbit", "comet", "telescope", "galaxy", "nebula", "asteroid", "rocket"},
      {"vaccine", "doctor", "patient", "fever", "clinic", "surgery", "nurse", "dose"},
  };
  static const std::vector<std::string> kNoise = {"the", "a", "of", "and", "new", "some"};
  const Index n_topics = static_cast<Index>(kTopics.size());
  std::mt19937 rng(seed);
  TextCorpus c;
  c.y = CsrMatrix::Zeros(0, n_topics);
  for (int i = 0; i < n; ++i) {
    const Index t = static_cast<Index>(rng() % n_topics);
    std::vector<std::string> words;
    for (int k = 0; k < 4; ++k) words.push_back(kTopics[t][rng() % 8]);
    for (int k = 0; k < 2; ++k) words.push_back(kNoise[rng() % kNoise.size()]);
    std::vector<Index> labels = {t};
    if (rng() % 4 == 0) {
      const Index u = static_cast<Index>((t + 1 + rng() % (n_topics - 1)) % n_topics);
      for (int k = 0; k < 2; ++k) words.push_back(kTopics[u][rng() % 8]);
      labels.push_back(u);
      std::sort(labels.begin(), labels.end());
    }
    std::shuffle(words.begin(), words.end(), rng);
    std::string text;
    for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
    c.texts.push_back(text);
    for (Index l : labels) {
      c.y.indices.push_back(l);
      c.y.data.push_back(1.0f);
    }
    c.y.indptr.push_back(static_cast<Offset>(c.y.indices.size()));
    ++c.y.rows;
  }
  return c;
}

}  // namespace hardening
}  // namespace xmr
