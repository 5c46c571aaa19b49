// End-to-end tests of the `xmr` command-line tool: each test runs the real binary (built next
// to this test) with its output redirected to files, and checks exit status, stdout and stderr.
// Data: the bundled Bibtex split (real, ~4.9K training rows; trained at most once per process)
// and small synthetic files written to a per-test temporary directory.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "xmr/context.h"

namespace {

namespace fs = std::filesystem;

const std::string kXmr = std::string(XMR_BINARY_DIR) + "/xmr";
const std::string kData = std::string(XMR_SOURCE_DIR) + "/data/";
const std::string kBibtexTrain = kData + "bibtex_train.txt.xz";
const std::string kBibtexTest = kData + "bibtex_test.txt.xz";
constexpr int kBibtexTestRows = 2515;

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  ASSERT_TRUE(out.good()) << path;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The line of `text` that starts with `prefix` ("" if none).
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

struct Result {
  int code = -1;         // exit status (valid unless crashed)
  bool crashed = false;  // killed by a signal, or by the timeout
  std::string out, err;
};

// Writes a gzip file with stored (uncompressed) deflate blocks: enough to test that readers
// detect and decode gzip, without depending on zlib here.
std::string Gzip(const std::string& data) {
  std::uint32_t table[256];
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char ch : data) crc = table[(crc ^ ch) & 0xFF] ^ (crc >> 8);
  crc ^= 0xFFFFFFFFu;
  auto le32 = [](std::string* s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  std::string gz = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, 3};  // magic, deflate, no flags, Unix
  size_t pos = 0;
  do {
    const size_t n = std::min<size_t>(65535, data.size() - pos);
    const bool last = pos + n == data.size();
    gz.push_back(last ? 1 : 0);  // BFINAL, BTYPE = 00 (stored)
    gz.push_back(static_cast<char>(n & 0xFF));
    gz.push_back(static_cast<char>(n >> 8));
    gz.push_back(static_cast<char>(~n & 0xFF));
    gz.push_back(static_cast<char>((~n >> 8) & 0xFF));
    gz.append(data, pos, n);
    pos += n;
  } while (pos < data.size());
  le32(&gz, crc);
  le32(&gz, static_cast<std::uint32_t>(data.size()));
  return gz;
}

// Synthetic XMLRepository data: every label owns a few "signature" features; each row has
// 1..3 labels and carries their signatures plus noise, so a model can learn it. `scale`
// multiplies every value (a power of two keeps the normalised rows bit-identical).
std::string SyntheticData(int rows, int features, int labels, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::ostringstream out;
  out << rows << " " << features << " " << labels << "\n";
  for (int i = 0; i < rows; ++i) {
    std::vector<int> ls;
    const int n_labels = 1 + static_cast<int>(rng() % 3);
    while (static_cast<int>(ls.size()) < n_labels) {
      const int l = static_cast<int>(rng() % labels);
      if (std::find(ls.begin(), ls.end(), l) == ls.end()) ls.push_back(l);
    }
    std::sort(ls.begin(), ls.end());
    std::vector<std::pair<int, float>> fs;
    for (int l : ls) {
      for (int k = 0; k < 3; ++k) fs.emplace_back((l * 3 + k) % features, 1.0f + 0.25f * k);
    }
    for (int k = 0; k < 4; ++k) fs.emplace_back(static_cast<int>(rng() % features), 0.2f);
    std::sort(fs.begin(), fs.end());
    for (size_t k = 0; k < ls.size(); ++k) out << (k ? "," : "") << ls[k];
    int last = -1;
    for (const auto& [f, v] : fs) {
      if (f == last) continue;  // ids must be strictly increasing
      out << " " << f << ":" << v * scale;
      last = f;
    }
    out << "\n";
  }
  return out.str();
}

class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = testing::TempDir() + "xmr_cli_test_" + std::to_string(::getpid()) + "/" +
           info->test_suite_name() + "." + info->name() + "/";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure()) return;  // keep the files for inspection
    fs::remove_all(dir_);
    std::error_code ec;
    fs::remove(fs::path(dir_).parent_path().parent_path(), ec);  // the per-process folder, if empty
  }

  std::string Path(const std::string& name) const { return dir_ + name; }

  // Runs "xmr <args>" (args are passed through the shell as written), with stdin from
  // /dev/null and a 120 s limit, so that a hang fails the test instead of blocking it.
  Result Xmr(const std::string& args) const {
    const std::string out = Path("stdout.txt"), err = Path("stderr.txt");
    static const bool has_timeout = std::system("command -v timeout >/dev/null 2>&1") == 0;
    const std::string cmd = std::string(has_timeout ? "timeout -s KILL 120 " : "") + Quote(kXmr) +
                            " " + args + " >" + Quote(out) + " 2>" + Quote(err) + " </dev/null";
    const int status = std::system(cmd.c_str());
    Result r;
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    if (status == -1 || WIFSIGNALED(status)) {
      r.crashed = true;
    } else {
      r.code = WEXITSTATUS(status);
      r.crashed = r.code >= 124;  // timeout's 124/137, or the shell's 128 + signal
    }
    return r;
  }

  // Runs a command that must succeed.
  Result Ok(const std::string& args) const {
    Result r = Xmr(args);
    EXPECT_FALSE(r.crashed) << "xmr " << args << "\n" << r.err;
    EXPECT_EQ(r.code, 0) << "xmr " << args << "\nstderr: " << r.err;
    return r;
  }

  // Runs a command that must fail with `code` and exactly one line "xmr <cmd>: ..." on stderr
  // (nothing on stdout); returns that line.
  std::string Fails(const std::string& args, int code, const std::string& cmd) const {
    const Result r = Xmr(args);
    EXPECT_FALSE(r.crashed) << "xmr " << args << "\n" << r.err;
    EXPECT_EQ(r.code, code) << "xmr " << args << "\nstderr: " << r.err;
    const std::vector<std::string> lines = Lines(r.err);
    EXPECT_EQ(lines.size(), 1u) << "xmr " << args << "\nstderr:\n" << r.err;
    EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << r.err;
    const std::string prefix = cmd.empty() ? "xmr: " : "xmr " + cmd + ": ";
    EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << "xmr " << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << "xmr " << args;
    if (code == 2) {
      EXPECT_NE(r.err.find("usage error"), std::string::npos) << r.err;
    }
    return lines.empty() ? "" : lines[0];
  }

  // A small synthetic training set (deep enough for a 3-level tree with --max-leaf-size 4)
  // and a test set drawn from the same distribution.
  void WriteSynthetic() {
    WriteFile(Path("train.txt"), SyntheticData(300, 60, 20, 1));
    WriteFile(Path("test.txt"), SyntheticData(50, 60, 20, 2));
  }
  std::string TrainSynthetic(const std::string& extra = "") {
    const std::string model = Path("syn.xmr");
    Ok("train -q -d " + Quote(Path("train.txt")) + " -m " + Quote(model) +
       " --max-leaf-size 4 --nr-splits 2 " + extra);
    return model;
  }

  std::string dir_;
};

// Checks the prediction text: `rows` lines, at most `k` "label:score" pairs each, scores
// non-increasing along the line.
void ExpectPredictionText(const std::string& text, size_t rows, int k) {
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), rows);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::istringstream in(lines[i]);
    std::string pair;
    double prev = 0;
    int n = 0;
    while (in >> pair) {
      const size_t colon = pair.find(':');
      ASSERT_NE(colon, std::string::npos) << "line " << i + 1 << ": " << lines[i];
      ASSERT_GE(std::stol(pair.substr(0, colon)), 0);
      const double score = std::strtod(pair.substr(colon + 1).c_str(), nullptr);
      if (n > 0) {
        ASSERT_LE(score, prev) << "line " << i + 1 << " not by descending score: " << lines[i];
      }
      prev = score;
      ++n;
    }
    ASSERT_GE(n, 1) << "line " << i + 1;
    ASSERT_LE(n, k) << "line " << i + 1;
  }
}

// ----- help --------------------------------------------------------------------------------------

TEST_F(CliTest, HelpOfEveryCommandMentionsItsKeyFlags) {
  const Result top = Ok("--help");
  for (const char* cmd : {"train", "predict", "eval", "info", "convert", "synth"}) {
    EXPECT_NE(top.out.find(std::string("  ") + cmd + " "), std::string::npos) << cmd;
  }
  // Each command's help names these (space-separated) flags and values.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"train",
       "--data -x -y --model --threads --seed --quiet --no-normalize --nr-splits --max-leaf-size "
       "--solver --cp --cn --bias --eps --max-iter --threshold --neg tfn+man --beam "
       "--post-processor --device"},
      {"predict",
       "--model --data -x --output .npz --top-k --beam --post-processor --threads --quiet "
       "--no-normalize"},
      {"eval", "--pred --data -y --top-k"},
      {"info", "--model --pecos --data"},
      {"convert", "--data --x-out --y-out --model --pecos-out --pecos-in"},
  };
  for (const auto& [cmd, flag_list] : expected) {
    std::istringstream flags(flag_list);
    const std::vector<std::string> flag_vec(std::istream_iterator<std::string>{flags},
                                            std::istream_iterator<std::string>{});
    for (const char* form : {" --help", " -h"}) {
      const Result r = Ok(cmd + form);
      EXPECT_EQ(r.out.rfind("usage: xmr " + cmd, 0), 0u) << r.out;
      EXPECT_EQ(r.err, "");
      for (const std::string& flag : flag_vec) {
        EXPECT_NE(r.out.find(flag), std::string::npos) << cmd << " --help lacks " << flag;
      }
      for (const std::string& line : Lines(r.out)) {
        EXPECT_LE(line.size(), 100u) << cmd << " --help: line too long: " << line;
      }
    }
  }
  EXPECT_EQ(Ok("help train").out, Ok("train --help").out);
  // Without arguments: the overview on stderr, usage exit status.
  const Result none = Xmr("");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("commands:"), std::string::npos);
}

// ----- Bibtex: the real data set (one training run, shared) --------------------------------------

// Trains on bibtex_train.txt.xz once per process (shared by the tests of this suite).
class BibtexCliTest : public CliTest {
 protected:
  static void SetUpTestSuite() {
    model_dir_ = testing::TempDir() + "xmr_cli_bibtex_" + std::to_string(::getpid()) + "/";
    fs::create_directories(model_dir_);
    model_ = model_dir_ + "bibtex.xmr";
    const std::string cmd = Quote(kXmr) + " train -d " + Quote(kBibtexTrain) + " -m " +
                            Quote(model_) + " >" + Quote(model_dir_ + "out.txt") + " 2>" +
                            Quote(model_dir_ + "err.txt") + " </dev/null";
    const int status = std::system(cmd.c_str());
    train_.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    train_.crashed = !WIFEXITED(status);
    train_.out = ReadFile(model_dir_ + "out.txt");
    train_.err = ReadFile(model_dir_ + "err.txt");
  }
  static void TearDownTestSuite() { fs::remove_all(model_dir_); }
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_EQ(train_.code, 0) << train_.err;
  }

  static std::string model_dir_, model_;
  static Result train_;
};
std::string BibtexCliTest::model_dir_, BibtexCliTest::model_;
Result BibtexCliTest::train_;

TEST_F(BibtexCliTest, TrainPredictEvalRoundTrip) {
  // train: progress (level, nodes, seconds) on stderr, ending with a summary; nothing on stdout.
  EXPECT_EQ(train_.out, "");
  for (const char* progress : {"level 1/2", "level 2/2", "159 nodes"}) {
    EXPECT_NE(train_.err.find(progress), std::string::npos) << progress << "\n" << train_.err;
  }
  const std::string summary = Lines(train_.err).back();
  EXPECT_NE(summary.find("done: " + model_), std::string::npos) << summary;
  EXPECT_NE(summary.find("159 labels"), std::string::npos) << summary;

  // predict -o pred.txt: one line per test row, descending scores; metrics on stdout.
  const std::string pred_txt = Path("pred.txt");
  const Result pred = Ok("predict -m " + Quote(model_) + " -d " + Quote(kBibtexTest) +
                         " -k 10 -o " + Quote(pred_txt));
  ExpectPredictionText(ReadFile(pred_txt), kBibtexTestRows, 10);
  EXPECT_EQ(LineStartingWith(pred.out, "rows "), "rows " + std::to_string(kBibtexTestRows));
  const std::string p_at_1 = LineStartingWith(pred.out, "P@1 ");
  ASSERT_NE(p_at_1, "") << pred.out;
  EXPECT_GE(std::stod(p_at_1.substr(4)), 60.0) << p_at_1;  // PECOS: 63.66 (see e2e tests)
  EXPECT_NE(pred.err.find("predicted 2515 rows"), std::string::npos) << pred.err;

  // eval of the text predictions prints exactly the same metrics.
  const Result eval = Ok("eval -p " + Quote(pred_txt) + " -d " + Quote(kBibtexTest));
  EXPECT_EQ(eval.out, pred.out);
  EXPECT_EQ(LineStartingWith(eval.out, "P@1 "), p_at_1);
  for (const char* key : {"P@3 ", "P@5 ", "R@10 ", "nDCG@5 "}) {
    EXPECT_NE(eval.out.find(key), std::string::npos) << key;
  }

  // -o pred.npz, then eval -p pred.npz: the same numbers.
  const std::string pred_npz = Path("pred.npz");
  const Result pred2 = Ok("predict -q -m " + Quote(model_) + " -d " + Quote(kBibtexTest) +
                          " -k 10 -o " + Quote(pred_npz));
  EXPECT_EQ(pred2.out, pred.out);
  EXPECT_EQ(pred2.err, "");
  EXPECT_EQ(ReadFile(pred_npz).rfind("PK", 0), 0u);  // a zip archive
  const Result eval2 = Ok("eval -q -p " + Quote(pred_npz) + " -d " + Quote(kBibtexTest));
  EXPECT_EQ(eval2.out, eval.out);
  EXPECT_EQ(eval2.err, "");

  // info -m
  const Result info = Ok("info -m " + Quote(model_));
  for (const char* line :
       {"depth 2", "features 1836", "labels 159", "post_processor l3-hinge",
        "level 0: 2 nodes under 1 parents", "level 1: 159 nodes under 2 parents", "nr_splits=16"}) {
    EXPECT_NE(LineStartingWith(info.out, line), "") << line << " missing in\n" << info.out;
  }
}

TEST_F(BibtexCliTest, NpzInputGivesTheSameResultsAsText) {
  const std::string x = Path("X.npz"), y = Path("Y.npz");
  const Result conv =
      Ok("convert -q -d " + Quote(kBibtexTest) + " --x-out " + Quote(x) + " --y-out " + Quote(y));
  EXPECT_EQ(conv.err, "");
  const Result from_text = Ok("predict -q -m " + Quote(model_) + " -d " + Quote(kBibtexTest) +
                              " -o " + Quote(Path("a.txt")));
  const Result from_npz = Ok("predict -q -m " + Quote(model_) + " -x " + Quote(x) + " -y " +
                             Quote(y) + " -o " + Quote(Path("b.txt")));
  EXPECT_EQ(from_npz.out, from_text.out);
  EXPECT_NE(from_npz.out.find("P@1 "), std::string::npos);
  EXPECT_EQ(ReadFile(Path("a.txt")), ReadFile(Path("b.txt")));
  // eval takes the labels alone.
  const Result eval = Ok("eval -q -p " + Quote(Path("b.txt")) + " -y " + Quote(y));
  EXPECT_EQ(eval.out, from_text.out);
}

// ----- synthetic data ----------------------------------------------------------------------------

TEST_F(CliTest, PredictWritesToStdoutWithoutLabelsOrOutput) {
  WriteSynthetic();
  const std::string model = TrainSynthetic();
  // Strip the labels: a line starting with a blank has none.
  std::string unlabelled;
  for (const std::string& line : Lines(ReadFile(Path("test.txt")))) {
    if (unlabelled.empty()) {
      unlabelled = line + "\n";
      continue;
    }
    unlabelled += " " + line.substr(line.find(' ') + 1) + "\n";
  }
  WriteFile(Path("unlabelled.txt"), unlabelled);
  const Result r =
      Ok("predict -q -m " + Quote(model) + " -d " + Quote(Path("unlabelled.txt")) + " -k 3");
  ExpectPredictionText(r.out, 50, 3);
  EXPECT_EQ(r.err, "");
  // The same text as -o FILE, and as "-o -" on labelled data (metrics then go to stderr).
  Ok("predict -q -m " + Quote(model) + " -d " + Quote(Path("unlabelled.txt")) + " -k 3 -o " +
     Quote(Path("p.txt")));
  EXPECT_EQ(ReadFile(Path("p.txt")), r.out);
  const Result dash =
      Ok("predict -m " + Quote(model) + " -d " + Quote(Path("test.txt")) + " -k 3 -o -");
  EXPECT_EQ(dash.out, r.out);
  EXPECT_NE(Lines(dash.err).back().find("metrics: P@1 "), std::string::npos) << dash.err;
  // With labels and no -o: metrics only.
  const Result labelled = Ok("predict -q -m " + Quote(model) + " -d " + Quote(Path("test.txt")));
  EXPECT_EQ(labelled.out.rfind("rows 50\n", 0), 0u) << labelled.out;
}

TEST_F(CliTest, GzipAndLibsvmInputReadTransparently) {
  WriteSynthetic();
  const std::string model = TrainSynthetic();
  WriteFile(Path("test.txt.gz"), Gzip(ReadFile(Path("test.txt"))));
  // libsvm: the same rows without the header, with 1-based feature ids (as libsvm files have
  // them; the reader maps id i to column i - 1).
  std::string svm;
  bool header = true;
  for (const std::string& line : Lines(ReadFile(Path("test.txt")))) {
    if (header) {
      header = false;
      continue;
    }
    std::istringstream in(line);
    std::string field;
    in >> field;
    svm += field;
    while (in >> field) {
      const size_t colon = field.find(':');
      svm += " " + std::to_string(std::stoi(field.substr(0, colon)) + 1) + field.substr(colon);
    }
    svm += "\n";
  }
  WriteFile(Path("test.svm"), svm);
  const std::string base = "predict -q -m " + Quote(model) + " -k 5 -o - -d ";
  const Result plain = Ok(base + Quote(Path("test.txt")));
  const Result gz = Ok(base + Quote(Path("test.txt.gz")));
  EXPECT_EQ(gz.out, plain.out);
  ExpectPredictionText(gz.out, 50, 5);
  const Result lib = Ok(base + Quote(Path("test.svm")) + " --format libsvm");
  ExpectPredictionText(lib.out, 50, 5);
  EXPECT_EQ(lib.out, plain.out);
}

TEST_F(CliTest, NormalizationIsOnByDefaultAndNoNormalizeKeepsRows) {
  WriteSynthetic();
  const std::string model = TrainSynthetic();
  WriteFile(Path("test5.txt"), SyntheticData(50, 60, 20, 2, 4.0f));
  const std::string base = "predict -q -m " + Quote(model) + " -k 5 -o - -d ";
  const Result a = Ok(base + Quote(Path("test.txt")));
  const Result b = Ok(base + Quote(Path("test5.txt")));
  EXPECT_EQ(a.out, b.out);  // rows are L2-normalised, so the scale does not matter
  const Result c = Ok(base + Quote(Path("test5.txt")) + " --no-normalize");
  EXPECT_NE(c.out, b.out);
  ExpectPredictionText(c.out, 50, 5);
}

TEST_F(CliTest, EveryTrainingOptionIsAcceptedAndStored) {
  WriteSynthetic();
  const std::string model = TrainSynthetic(
      "--nr-splits 4 --kmeans-max-iter 5 --solver lr --cp 2 --cn 0.5 --bias 0.5 --eps 0.01 "
      "--max-iter 50 --threshold 0.01 --max-nonzeros 20 --neg tfn+man --man-beam 3 --beam 5 "
      "--top-k 3 --post-processor sigmoid --threads 1 --seed 7 --device cpu --no-normalize");
  const Result info = Ok("info -m " + Quote(model));
  for (const char* line :
       {"bias 0.5", "post_processor sigmoid", "beam_size 5", "top_k 3", "nr_splits=4",
        "max_leaf_size=4", "kmeans_max_iter=5", "solver=lr", "cp=2", "cn=0.5", "max_iter=50",
        "max_nonzeros_per_label=20", "negative_sampling=tfn+man", "man_beam_size=3"}) {
    EXPECT_NE(LineStartingWith(info.out, line), "") << line << " missing in\n" << info.out;
  }
  // The stored top-k is predict's default.
  const Result pred =
      Ok("predict -q -m " + Quote(model) + " -d " + Quote(Path("test.txt")) + " -o -");
  ExpectPredictionText(pred.out, 50, 3);
}

TEST_F(CliTest, SameSeedSameModelWhateverTheThreadCount) {
  WriteSynthetic();
  const std::string base =
      "train -q -d " + Quote(Path("train.txt")) + " --max-leaf-size 4 --nr-splits 2 --seed 11 -m ";
  Ok(base + Quote(Path("a.xmr")) + " --threads 1");
  Ok(base + Quote(Path("b.xmr")) + " --threads 3");
  const std::string pred = "predict -q -o - -d " + Quote(Path("test.txt")) + " -m ";
  EXPECT_EQ(Ok(pred + Quote(Path("a.xmr"))).out, Ok(pred + Quote(Path("b.xmr"))).out);
}

TEST_F(CliTest, QuietSilencesStderr) {
  WriteSynthetic();
  const std::string model = Path("m.xmr");
  const Result loud = Ok("train -d " + Quote(Path("train.txt")) + " -m " + Quote(model) +
                         " --max-leaf-size 4 --nr-splits 2");
  EXPECT_NE(loud.err.find("level 1/"), std::string::npos) << loud.err;
  EXPECT_NE(loud.err.find("nodes"), std::string::npos) << loud.err;
  EXPECT_EQ(loud.out, "");
  for (const std::string& args :
       {"train -q -d " + Quote(Path("train.txt")) + " -m " + Quote(model),
        "train --quiet -d " + Quote(Path("train.txt")) + " -m " + Quote(model),
        "predict -q -m " + Quote(model) + " -d " + Quote(Path("test.txt")) + " -o " +
            Quote(Path("p.txt")),
        "eval -q -p " + Quote(Path("p.txt")) + " -d " + Quote(Path("test.txt")),
        "convert -q -d " + Quote(Path("test.txt")) + " --x-out " + Quote(Path("x.xmb")),
        "convert -q -m " + Quote(model) + " --pecos-out " + Quote(Path("pecos"))}) {
    const Result r = Ok(args);
    EXPECT_EQ(r.err, "") << args;
  }
}

TEST_F(CliTest, PecosExportImportKeepsPredictions) {
  WriteSynthetic();
  const std::string model = TrainSynthetic();
  const std::string pecos = Path("pecos_model");
  Ok("convert -q -m " + Quote(model) + " --pecos-out " + Quote(pecos));
  EXPECT_TRUE(fs::exists(pecos + "/param.json"));
  EXPECT_TRUE(fs::exists(pecos + "/ranker/0.model/W.npz"));
  const std::string back = Path("back.xmr");
  Ok("convert -q --pecos-in " + Quote(pecos) + " -m " + Quote(back));
  const std::string pred = "predict -q -k 10 -d " + Quote(Path("test.txt")) + " -m ";
  const Result a = Ok(pred + Quote(model) + " -o " + Quote(Path("a.txt")));
  const Result b = Ok(pred + Quote(back) + " -o " + Quote(Path("b.txt")));
  EXPECT_EQ(ReadFile(Path("a.txt")), ReadFile(Path("b.txt")));
  EXPECT_EQ(a.out, b.out);
  // info reads the folder too, and so does train's --pecos-out.
  const Result info = Ok("info --pecos " + Quote(pecos));
  EXPECT_EQ(LineStartingWith(info.out, "labels "), "labels 20");
  Ok("train -q -d " + Quote(Path("train.txt")) + " -m " + Quote(Path("t.xmr")) +
     " --max-leaf-size 4 --nr-splits 2 --pecos-out " + Quote(Path("pecos2")));
  Ok("convert -q --pecos-in " + Quote(Path("pecos2")) + " -m " + Quote(Path("t2.xmr")));
  EXPECT_EQ(Ok(pred + Quote(Path("t.xmr")) + " -o -").out,
            Ok(pred + Quote(Path("t2.xmr")) + " -o -").out);
}

TEST_F(CliTest, ConvertDataRoundTrips) {
  WriteSynthetic();
  const std::string in = Path("test.txt");
  Ok("convert -q -d " + Quote(in) + " --x-out " + Quote(Path("X.npz")) + " --y-out " +
     Quote(Path("Y.xmb")));
  Ok("convert -q -x " + Quote(Path("X.npz")) + " -y " + Quote(Path("Y.xmb")) + " -o " +
     Quote(Path("back.txt")));
  const Result a = Ok("info -d " + Quote(in));
  const Result b = Ok("info -d " + Quote(Path("back.txt")));
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(LineStartingWith(a.out, "rows "), "rows 50");
  // Training from -x/-y gives the model that -d gives.
  Ok("train -q -d " + Quote(in) + " -m " + Quote(Path("a.xmr")) + " --max-leaf-size 4");
  Ok("train -q -x " + Quote(Path("X.npz")) + " -y " + Quote(Path("Y.xmb")) + " -m " +
     Quote(Path("b.xmr")) + " --max-leaf-size 4");
  const std::string pred = "predict -q -o - -d " + Quote(in) + " -m ";
  EXPECT_EQ(Ok(pred + Quote(Path("a.xmr"))).out, Ok(pred + Quote(Path("b.xmr"))).out);
}

// ----- errors ------------------------------------------------------------------------------------

TEST_F(CliTest, UsageErrorsExitTwoWithOneLine) {
  WriteSynthetic();
  const std::string d = " -d " + Quote(Path("train.txt")) + " -m " + Quote(Path("m.xmr"));
  std::string line = Fails("train --bogus" + d, 2, "train");
  EXPECT_NE(line.find("--bogus"), std::string::npos) << line;
  EXPECT_NE(line.find("xmr train --help"), std::string::npos) << line;  // the hint
  line = Fails("train --nr-split 4" + d, 2, "train");
  EXPECT_NE(line.find("did you mean --nr-splits"), std::string::npos) << line;
  line = Fails("train" + d + " --cp", 2, "train");  // missing value at the end
  EXPECT_NE(line.find("--cp needs a value"), std::string::npos) << line;
  line = Fails("train -d -m " + Quote(Path("m.xmr")), 2, "train");  // missing value before -m
  EXPECT_NE(line.find("-d needs a value"), std::string::npos) << line;
  line = Fails("train" + d + " --cp abc", 2, "train");
  EXPECT_NE(line.find("--cp"), std::string::npos) << line;
  EXPECT_NE(line.find("abc"), std::string::npos) << line;
  Fails("train" + d + " --cp 1x", 2, "train");
  Fails("train" + d + " --cp -1", 2, "train");
  Fails("train" + d + " --cp nan", 2, "train");
  Fails("train" + d + " --max-iter 1.5", 2, "train");
  Fails("train" + d + " --max-leaf-size 0", 2, "train");
  Fails("train" + d + " --nr-splits 3", 2, "train");
  Fails("train" + d + " --seed -1", 2, "train");
  Fails("train" + d + " --threads -2", 2, "train");
  line = Fails("train" + d + " --neg foo", 2, "train");
  EXPECT_NE(line.find("foo"), std::string::npos) << line;
  EXPECT_NE(line.find("tfn+man"), std::string::npos) << line;
  line = Fails("train" + d + " --post-processor foo", 2, "train");
  EXPECT_NE(line.find("l3-hinge"), std::string::npos) << line;
  Fails("train" + d + " --solver foo", 2, "train");
  Fails("train" + d + " --device tpu", 2, "train");
  Fails("train" + d + " --format csv", 2, "train");
  Fails("train" + d + " stray", 2, "train");
  Fails("train" + d + " --quiet=1", 2, "train");
  Fails("train -d " + Quote(Path("train.txt")), 2, "train");  // no -m
  Fails("train -m " + Quote(Path("m.xmr")), 2, "train");      // no data
  Fails("train" + d + " -x " + Quote(Path("train.txt")), 2, "train");
  Fails("predict -d " + Quote(Path("test.txt")), 2, "predict");  // no -m
  Fails("predict -m m.xmr -d " + Quote(Path("test.txt")) + " -k 0", 2, "predict");
  Fails("predict -m m.xmr -d " + Quote(Path("test.txt")) + " --post-processor foo", 2, "predict");
  Fails("eval -d " + Quote(Path("test.txt")), 2, "eval");  // no -p
  Fails("eval -p p.txt -d x -k 0", 2, "eval");
  Fails("info", 2, "info");
  Fails("convert -d " + Quote(Path("test.txt")), 2, "convert");  // no output
  Fails("convert -d " + Quote(Path("test.txt")) + " --x-out x.csv", 2, "convert");
  line = Fails("train" + d + " --gpu-memory -5", 2, "train");
  EXPECT_NE(line.find("--gpu-memory"), std::string::npos) << line;
  Fails("nosuchcommand", 2, "");
}

TEST_F(CliTest, BadFilesExitOneWithOneLine) {
  WriteSynthetic();
  const std::string missing = Path("missing.txt");
  std::string line =
      Fails("train -d " + Quote(missing) + " -m " + Quote(Path("m.xmr")), 1, "train");
  EXPECT_NE(line.find(missing), std::string::npos) << line;
  Fails("train -x " + Quote(missing) + " -y " + Quote(missing) + " -m m.xmr", 1, "train");
  Fails("predict -m " + Quote(missing) + " -d " + Quote(Path("test.txt")), 1, "predict");
  Fails("eval -p " + Quote(missing) + " -d " + Quote(Path("test.txt")), 1, "eval");
  Fails("info -m " + Quote(missing), 1, "info");
  Fails("info -m " + Quote(dir_), 1, "info");  // a directory
  Fails("convert --pecos-in " + Quote(missing) + " -m " + Quote(Path("x.xmr")), 1, "convert");

  // A malformed line: the message names the file and the line.
  std::string bad = ReadFile(Path("train.txt"));
  size_t pos = 0;
  for (int i = 0; i < 7; ++i) pos = bad.find('\n', pos) + 1;  // start of line 8
  bad.insert(bad.find(':', pos) + 1, "x");
  WriteFile(Path("bad.txt"), bad);
  line = Fails("train -d " + Quote(Path("bad.txt")) + " -m " + Quote(Path("m.xmr")), 1, "train");
  EXPECT_NE(line.find("bad.txt:8:"), std::string::npos) << line;
  // A truncated .xz file.
  const std::string xz = ReadFile(kBibtexTest);
  WriteFile(Path("cut.txt.xz"), xz.substr(0, xz.size() / 2));
  line = Fails("train -d " + Quote(Path("cut.txt.xz")) + " -m " + Quote(Path("m.xmr")), 1, "train");
  EXPECT_NE(line.find("cut.txt.xz"), std::string::npos) << line;
  // An output location that cannot be written fails before training.
  line = Fails("train -d " + Quote(Path("train.txt")) + " -m " + Quote(Path("no/such/m.xmr")), 1,
               "train");
  EXPECT_NE(line.find("no/such"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(Path("m.xmr")));
}

TEST_F(CliTest, CorruptedAndTruncatedModelsExitOne) {
  WriteSynthetic();
  const std::string model = TrainSynthetic();
  const std::string bytes = ReadFile(model);
  ASSERT_GT(bytes.size(), 100u);
  const std::string test = " -d " + Quote(Path("test.txt"));
  // Flip one byte at several places (header, tables, weights); truncate at several lengths.
  for (size_t at : {size_t{3}, size_t{20}, size_t{64}, bytes.size() / 2, bytes.size() - 5}) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    WriteFile(Path("flip.xmr"), damaged);
    SCOPED_TRACE("byte " + std::to_string(at));
    Fails("predict -m " + Quote(Path("flip.xmr")) + test, 1, "predict");
    Fails("info -m " + Quote(Path("flip.xmr")), 1, "info");
  }
  for (size_t len : {size_t{0}, size_t{7}, size_t{40}, bytes.size() / 3, bytes.size() - 1}) {
    WriteFile(Path("cut.xmr"), bytes.substr(0, len));
    SCOPED_TRACE("length " + std::to_string(len));
    Fails("predict -m " + Quote(Path("cut.xmr")) + test, 1, "predict");
    Fails("predict --mmap -m " + Quote(Path("cut.xmr")) + test, 1, "predict");
  }
  // Not a model at all.
  Fails("predict -m " + Quote(Path("test.txt")) + test, 1, "predict");
}

TEST_F(CliTest, PredictRejectsFeaturesBeyondTheModel) {
  WriteSynthetic();
  const std::string model = TrainSynthetic();  // 60 features
  WriteFile(Path("wide.txt"), "2 100 20\n1 3:1\n2 5:1 99:0.5\n");
  const std::string line =
      Fails("predict -q -m " + Quote(model) + " -d " + Quote(Path("wide.txt")), 1, "predict");
  EXPECT_NE(line.find("wide.txt"), std::string::npos) << line;
  EXPECT_NE(line.find("99"), std::string::npos) << line;
  EXPECT_NE(line.find("60 features"), std::string::npos) << line;
  // Without --quiet the error is still the last line, after the progress lines.
  const Result r = Xmr("predict -m " + Quote(model) + " -d " + Quote(Path("wide.txt")));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(Lines(r.err).back(), line);
  // A header that only declares a larger dimension is fine if the ids fit.
  WriteFile(Path("declared.txt"), "2 100 20\n1 3:1\n2 5:1 59:0.5\n");
  ExpectPredictionText(
      Ok("predict -q -o - -m " + Quote(model) + " -d " + Quote(Path("declared.txt"))).out, 2, 10);
}

TEST_F(CliTest, CudaWithoutGpuFailsInsteadOfTrainingOnCpu) {
  if (xmr::CudaDeviceCount() > 0) GTEST_SKIP() << "a CUDA device is present";
  WriteSynthetic();
  const std::string line =
      Fails("train --device cuda -d " + Quote(Path("train.txt")) + " -m " + Quote(Path("m.xmr")), 1,
            "train");
  EXPECT_NE(line.find("cuda"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(Path("m.xmr")));
}

TEST_F(CliTest, EvalRejectsMismatchedPredictions) {
  WriteSynthetic();
  WriteFile(Path("short.txt"), "0:1\n1:0.5\n");
  std::string line =
      Fails("eval -q -p " + Quote(Path("short.txt")) + " -d " + Quote(Path("test.txt")), 1, "eval");
  EXPECT_NE(line.find("2 rows"), std::string::npos) << line;
  WriteFile(Path("garbage.txt"), "0:1 zz\n");
  Fails("eval -p " + Quote(Path("garbage.txt")) + " -d " + Quote(Path("test.txt")), 1, "eval");
  WriteFile(Path("garbage.npz"), "PK\x03\x04 not really a zip");
  Fails("eval -p " + Quote(Path("garbage.npz")) + " -d " + Quote(Path("test.txt")), 1, "eval");
}

}  // namespace

// ----- synth -------------------------------------------------------------------------------------

TEST_F(CliTest, SynthWritesEveryFormatAndTheFilesTrainAndEvaluate) {
  const std::string prefix = Path("t");
  const Result r =
      Ok("synth -q --preset tiny --scale 0.2 --seed 3 --format text,xmb,npz -o " + Quote(prefix));
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  for (const char* f :
       {".train.txt", ".test.txt", ".train.X.xmb", ".train.Y.xmb", ".test.X.npz", ".test.Y.npz"}) {
    EXPECT_TRUE(fs::exists(prefix + f)) << f;
  }
  // tiny at 0.2: 800 training rows, 200 test rows, 20000 features, 200 labels.
  const Result info = Ok("info -d " + Quote(prefix + ".train.txt"));
  EXPECT_EQ(LineStartingWith(info.out, "rows "), "rows 800");
  // Text and .npz hold the same test split.
  Ok("convert -q -x " + Quote(prefix + ".test.X.npz") + " -y " + Quote(prefix + ".test.Y.npz") +
     " -o " + Quote(Path("back.txt")));
  EXPECT_EQ(ReadFile(Path("back.txt")), ReadFile(prefix + ".test.txt"));
  // The same seed gives the same bytes; progress goes to stderr unless -q.
  const Result again = Ok("synth --preset tiny --scale 0.2 --seed 3 -o " + Quote(Path("u")));
  EXPECT_NE(again.err.find("rows/s"), std::string::npos) << again.err;
  EXPECT_EQ(ReadFile(Path("u.train.txt")), ReadFile(prefix + ".train.txt"));
  Ok("train -q -x " + Quote(prefix + ".train.X.xmb") + " -y " + Quote(prefix + ".train.Y.xmb") +
     " -m " + Quote(Path("m.xmr")));
  const Result pred =
      Ok("predict -q -m " + Quote(Path("m.xmr")) + " -d " + Quote(prefix + ".test.txt"));
  EXPECT_NE(LineStartingWith(pred.out, "P@1 "), "") << pred.out;
}

TEST_F(CliTest, SynthStatsAndUsageErrors) {
  const Result st = Ok("synth -q --preset amazon670k --scale 0.005 --stats");
  EXPECT_NE(st.out.find("amazon670k@0.005: train 2452"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("label exponent"), std::string::npos) << st.out;
  std::string line = Fails("synth --preset wiki --scale 0.1 -o " + Quote(Path("w")), 2, "synth");
  EXPECT_NE(line.find("unknown preset 'wiki'"), std::string::npos) << line;
  EXPECT_NE(line.find("wiki500k"), std::string::npos) << line;
  line = Fails("synth --preset tiny --scale 0 -o " + Quote(Path("w")), 2, "synth");
  EXPECT_NE(line.find("--scale"), std::string::npos) << line;
  line = Fails("synth --preset tiny --format csv -o " + Quote(Path("w")), 2, "synth");
  EXPECT_NE(line.find("csv"), std::string::npos) << line;
  line = Fails("synth --preset tiny", 2, "synth");
  EXPECT_NE(line.find("-o PREFIX"), std::string::npos) << line;
  line = Fails("synth --preset tiny --signal 2 -o " + Quote(Path("w")), 2, "synth");
  EXPECT_NE(line.find("signal"), std::string::npos) << line;
  Fails("synth --preset tiny -o " + Quote(Path("missing-dir/w")), 1, "synth");
  EXPECT_FALSE(fs::exists(Path("w.train.txt")));
}
