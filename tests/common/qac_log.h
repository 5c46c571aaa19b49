// A synthetic session log for QAC tests: a topic query is followed by one of its topic's
// follow-ups, which start with a handful of shared letters, so the previous query decides among
// the completions of a short prefix; a "separator" row ends each session. Deterministic.
#pragma once

#include <random>
#include <string>
#include <vector>

namespace xmr {
namespace testing_util {

inline std::vector<std::string> SyntheticQacLog(int n_sessions, unsigned seed) {
  const std::vector<std::string> topics = {"apple", "banana", "cherry", "grape", "lemon",
                                           "mango", "peach",  "plum",   "kiwi",  "melon"};
  const std::vector<std::string> heads = {"price of ", "pie with ", "pictures of ", "best ",
                                          "benefits of "};
  std::mt19937 rng(seed);
  std::vector<std::string> rows;
  for (int s = 0; s < n_sessions; ++s) {
    const std::string& t = topics[rng() % topics.size()];
    rows.push_back(t);
    rows.push_back(heads[rng() % heads.size()] + t);
    rows.push_back("separator " + std::to_string(rng() % 3));
  }
  return rows;
}

}  // namespace testing_util
}  // namespace xmr
