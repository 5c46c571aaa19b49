// End-to-end tests of the raw-text side of the `xmr` command-line tool (train --text,
// predict --text / --text-tsv, serve --stdin, label names in vector-trained models): each test
// runs the real binary with its output redirected to files and checks exit status, stdout and
// stderr. Data: the bundled Debtags sample (real Debian package descriptions -> Debtags; one
// model trained on its first rows, once per process), a Bibtex subset, and tiny hand-made files
// written to a per-test temporary directory.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "io/stream.h"  // LineReader: reads the bundled .xz files

namespace {

namespace fs = std::filesystem;

const std::string kXmr = std::string(XMR_BINARY_DIR) + "/xmr";
const std::string kData = std::string(XMR_SOURCE_DIR) + "/data/";
const std::string kDebtagsTrain = kData + "debtags_train_sample.tsv.xz";
const std::string kDebtagsTest = kData + "debtags_test_sample.tsv.xz";
const std::string kDebtagsLabels = kData + "debtags_labels.txt";
const std::string kBibtexTrain = kData + "bibtex_train.txt.xz";
// The layout of the Debtags TSV files.
const std::string kDebtagsLayout = " --header --label-col 4 --text-cols 5,5,6";
constexpr int kDebtagsRows = 1500;  // training rows used (of 6,053)
constexpr int kDebtagsLabelCount = 560;
constexpr int kBibtexRows = 800;  // training rows used (of 4,880)
constexpr int kBibtexLabels = 159;

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

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return parts;
    start = at + 1;
  }
}

// The first `n` lines of a (possibly compressed) file, each ending in '\n'.
std::string HeadLines(const std::string& path, int n) {
  xmr::detail::LineReader in(path);
  std::string out;
  std::string_view line;
  for (int i = 0; i < n && in.Next(&line); ++i) {
    out.append(line);
    out += '\n';
  }
  return out;
}

// Field 1 of every line of the label file (line k = label k-1).
std::vector<std::string> LabelNames(const std::string& path) {
  std::vector<std::string> names;
  for (const std::string& line : Lines(ReadFile(path))) names.push_back(Split(line, '\t')[0]);
  return names;
}

// The string values of `"key":"..."` in a JSON line (no escapes expected in them).
std::vector<std::string> JsonStrings(const std::string& line, const std::string& key) {
  std::vector<std::string> values;
  const std::string pat = "\"" + key + "\":\"";
  for (std::size_t at = line.find(pat); at != std::string::npos; at = line.find(pat, at)) {
    at += pat.size();
    const std::size_t end = line.find('"', at);
    if (end == std::string::npos) break;
    values.push_back(line.substr(at, end - at));
  }
  return values;
}

// The numbers after `"key":` in a JSON line.
std::vector<double> JsonNumbers(const std::string& line, const std::string& key) {
  std::vector<double> values;
  const std::string pat = "\"" + key + "\":";
  for (std::size_t at = line.find(pat); at != std::string::npos; at = line.find(pat, at)) {
    at += pat.size();
    values.push_back(std::strtod(line.c_str() + at, nullptr));
  }
  return values;
}

// The value after "P@1" on the metrics line, or -1.
double PAt1(const std::string& metrics) {
  for (const std::string& line : Lines(metrics)) {
    if (line.rfind("P@1 ", 0) == 0) return std::stod(line.substr(4));
  }
  return -1;
}

struct Result {
  int code = -1;         // exit status (valid unless crashed)
  bool crashed = false;  // killed by a signal, or by the timeout
  std::string out, err;
};

// Runs "xmr <args>" (through the shell, as written) with output to `dir`/stdout.txt and
// stderr.txt, stdin from `in` (default /dev/null) and a 120 s limit.
Result RunXmr(const std::string& dir, const std::string& args,
              const std::string& in = "/dev/null") {
  const std::string out = dir + "stdout.txt", err = dir + "stderr.txt";
  static const bool has_timeout = std::system("command -v timeout >/dev/null 2>&1") == 0;
  const std::string cmd = std::string(has_timeout ? "timeout -s KILL 120 " : "") + Quote(kXmr) +
                          " " + args + " >" + Quote(out) + " 2>" + Quote(err) + " <" + Quote(in);
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

class CliTextTest : public testing::Test {
 protected:
  void SetUp() override {
    const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = testing::TempDir() + "xmr_cli_text_test_" + std::to_string(::getpid()) + "/" +
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

  Result Xmr(const std::string& args, const std::string& in = "/dev/null") const {
    return RunXmr(dir_, args, in);
  }

  // Runs a command that must succeed.
  Result Ok(const std::string& args, const std::string& in = "/dev/null") const {
    Result r = Xmr(args, in);
    EXPECT_FALSE(r.crashed) << "xmr " << args << "\n" << r.err;
    EXPECT_EQ(r.code, 0) << "xmr " << args << "\nstderr: " << r.err;
    return r;
  }

  // Runs a command that must fail with `code` and one line "xmr <cmd>: ..." at the end of
  // stderr, after progress lines ("[xmr ...") if any, and nothing on stdout; returns that line.
  std::string Fails(const std::string& args, int code, const std::string& cmd) const {
    const Result r = Xmr(args);
    EXPECT_FALSE(r.crashed) << "xmr " << args << "\n" << r.err;
    EXPECT_EQ(r.code, code) << "xmr " << args << "\nstderr: " << r.err;
    const std::vector<std::string> lines = Lines(r.err);
    EXPECT_FALSE(lines.empty()) << "xmr " << args;
    if (lines.empty()) return "";
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
      EXPECT_EQ(lines[i].rfind("[xmr ", 0), 0u) << "xmr " << args << "\nstderr:\n" << r.err;
    }
    const std::string& line = lines.back();
    EXPECT_EQ(line.rfind("xmr " + cmd + ": ", 0), 0u) << "xmr " << args << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << "xmr " << args;
    if (code == 2) {
      EXPECT_NE(line.find("usage error"), std::string::npos) << r.err;
      EXPECT_EQ(lines.size(), 1u) << "xmr " << args << "\nstderr:\n" << r.err;
    }
    return line;
  }

  // The files of the test folder whose name contains `part`.
  std::vector<std::string> FilesContaining(const std::string& part) const {
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name.find(part) != std::string::npos) found.push_back(name);
    }
    return found;
  }

  // A Bibtex subset in XMLRepository format (the header says kBibtexRows rows).
  void WriteBibtexSubset(const std::string& path) const {
    std::string head = HeadLines(kBibtexTrain, kBibtexRows + 1);
    head.replace(0, head.find(' '), std::to_string(kBibtexRows));
    WriteFile(path, head);
  }

  std::string dir_;
};

// ----- Debtags: one text model (shared) ------------------------------------------------------

// Trains on the first kDebtagsRows rows of the Debtags training sample, with the 560 label
// names of debtags_labels.txt, once per process.
class CliTextDebtagsTest : public CliTextTest {
 protected:
  static void SetUpTestSuite() {
    model_dir_ = testing::TempDir() + "xmr_cli_text_debtags_" + std::to_string(::getpid()) + "/";
    fs::create_directories(model_dir_);
    train_tsv_ = model_dir_ + "train.tsv";
    WriteFile(train_tsv_, HeadLines(kDebtagsTrain, kDebtagsRows + 1));  // + the header
    model_ = model_dir_ + "debtags.xmr";
    train_ = RunXmr(model_dir_, "train --text " + Quote(train_tsv_) + kDebtagsLayout +
                                    " --labels " + Quote(kDebtagsLabels) + " -m " + Quote(model_));
    names_ = LabelNames(kDebtagsLabels);
  }
  static void TearDownTestSuite() { fs::remove_all(model_dir_); }
  void SetUp() override {
    CliTextTest::SetUp();
    ASSERT_EQ(train_.code, 0) << train_.err;
    ASSERT_EQ(names_.size(), static_cast<std::size_t>(kDebtagsLabelCount));
  }

  // Queries (one per line) that a Debtags model should place.
  void WriteQueries() const {
    WriteFile(Path("queries.txt"),
              "puzzle game for children\n"
              "library for reading PNG images\n"
              "GTK text editor\n"
              "command-line tool to compress files\n");
  }
  static constexpr int kQueries = 4;

  static std::string model_dir_, model_, train_tsv_;
  static Result train_;
  static std::vector<std::string> names_;
};
std::string CliTextDebtagsTest::model_dir_, CliTextDebtagsTest::model_,
    CliTextDebtagsTest::train_tsv_;
Result CliTextDebtagsTest::train_;
std::vector<std::string> CliTextDebtagsTest::names_;

TEST_F(CliTextDebtagsTest, TrainThenPredictTsvJsonAndFile) {
  // train: nothing on stdout, a summary naming the model and its 560 labels.
  EXPECT_EQ(train_.out, "");
  const std::string summary = Lines(train_.err).back();
  EXPECT_NE(summary.find("done: " + model_), std::string::npos) << train_.err;
  EXPECT_NE(summary.find("560 labels"), std::string::npos) << summary;
  EXPECT_NE(train_.err.find("read 1500 texts"), std::string::npos) << train_.err;

  // predict --text: TSV with a header and k rows per query, ranks 1..k, names of the label ids
  // (line id+1 of debtags_labels.txt), scores descending.
  WriteQueries();
  constexpr int k = 5;
  const std::string predict = "predict -m " + Quote(model_) + " --text " +
                              Quote(Path("queries.txt")) + " -k " + std::to_string(k);
  const Result tsv = Ok(predict);
  const std::vector<std::string> rows = Lines(tsv.out);
  ASSERT_EQ(rows.size(), 1u + kQueries * k) << tsv.out;
  EXPECT_EQ(rows[0], "query\trank\tlabel\tname\tscore");
  std::vector<std::vector<std::string>> top(kQueries);  // names by query
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> f = Split(rows[i], '\t');
    ASSERT_EQ(f.size(), 5u) << rows[i];
    const int query = static_cast<int>((i - 1) / k), rank = static_cast<int>((i - 1) % k) + 1;
    EXPECT_EQ(f[0], std::to_string(query)) << rows[i];
    EXPECT_EQ(f[1], std::to_string(rank)) << rows[i];
    const int id = std::stoi(f[2]);
    ASSERT_TRUE(id >= 0 && id < kDebtagsLabelCount) << rows[i];
    EXPECT_EQ(f[3], names_[id]) << rows[i];
    if (rank > 1) {
      EXPECT_LE(std::stod(f[4]), std::stod(Split(rows[i - 1], '\t')[4])) << rows[i];
    }
    top[query].push_back(f[3]);
  }
  EXPECT_NE(tsv.err.find("predicted 4 texts"), std::string::npos) << tsv.err;
  // The model has learnt something: game tags for the game, image tags for the PNG library.
  auto has = [](const std::vector<std::string>& names, const std::string& prefix) {
    return std::any_of(names.begin(), names.end(),
                       [&](const std::string& n) { return n.rfind(prefix, 0) == 0; });
  };
  EXPECT_TRUE(has(top[0], "game::") || has(top[0], "use::gameplaying"))
      << testing::PrintToString(top[0]);
  EXPECT_TRUE(has(top[1], "works-with::image") || has(top[1], "works-with-format::png"))
      << testing::PrintToString(top[1]);
  EXPECT_TRUE(has(top[2], "uitoolkit::gtk") || has(top[2], "use::editing"))
      << testing::PrintToString(top[2]);

  // --output-format json: one object per query, with the same labels and names.
  const Result json = Ok(predict + " --output-format json");
  const std::vector<std::string> objs = Lines(json.out);
  ASSERT_EQ(objs.size(), static_cast<std::size_t>(kQueries)) << json.out;
  for (int q = 0; q < kQueries; ++q) {
    const std::string& o = objs[q];
    EXPECT_EQ(o.rfind("{\"query\":" + std::to_string(q) + ",", 0), 0u) << o;
    EXPECT_EQ(o.back(), '}') << o;
    EXPECT_NE(o.find("\"labels\":["), std::string::npos) << o;
    EXPECT_EQ(JsonStrings(o, "name"), top[q]) << o;
    const std::vector<double> scores = JsonNumbers(o, "score");
    ASSERT_EQ(scores.size(), static_cast<std::size_t>(k)) << o;
    EXPECT_TRUE(std::is_sorted(scores.rbegin(), scores.rend())) << o;
    EXPECT_EQ(std::count(o.begin(), o.end(), '{'), std::count(o.begin(), o.end(), '}')) << o;
  }

  // -o FILE: the same text in the file (written through a temporary that is renamed), nothing
  // on stdout; for both formats, and replacing an existing file.
  WriteFile(Path("pred.tsv"), "old contents\n");
  const Result to_file = Ok(predict + " -q -o " + Quote(Path("pred.tsv")));
  EXPECT_EQ(to_file.out, "");
  EXPECT_EQ(to_file.err, "");
  EXPECT_EQ(ReadFile(Path("pred.tsv")), tsv.out);
  Ok(predict + " -q --output-format json -o " + Quote(Path("pred.json")));
  EXPECT_EQ(ReadFile(Path("pred.json")), json.out);
  EXPECT_EQ(FilesContaining(".tmp"), std::vector<std::string>{});
  // An output folder that does not exist fails before predicting and leaves nothing behind.
  const std::string line = Fails(predict + " -o " + Quote(Path("no/such/pred.tsv")), 1, "predict");
  EXPECT_NE(line.find("no/such"), std::string::npos) << line;
  EXPECT_EQ(FilesContaining(".tmp"), std::vector<std::string>{});
}

TEST_F(CliTextDebtagsTest, PredictTextTsvPrintsMetricsBetterThanChance) {
  // The whole test sample (1,522 rows, .xz read directly); its labels are names.
  const Result r = Ok("predict -m " + Quote(model_) + " --text-tsv " + Quote(kDebtagsTest) +
                      kDebtagsLayout + " -k 10");
  EXPECT_EQ(r.out.rfind("rows 1522\n", 0), 0u) << r.out;
  for (const char* key : {"P@3 ", "R@10 ", "nDCG@5 ", "MRR@10 "}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << "\n" << r.out;
  }
  // Measured 64.8; always answering the most frequent tag (devel::library) would give 36.1.
  EXPECT_GT(PAt1(r.out), 55.0) << r.out;
  // The same with -o: the predictions go to the file as TSV, the metrics still to stdout.
  const Result o = Ok("predict -q -m " + Quote(model_) + " --text-tsv " + Quote(kDebtagsTest) +
                      kDebtagsLayout + " -k 10 -o " + Quote(Path("pred.tsv")));
  EXPECT_EQ(o.out, r.out);
  const std::vector<std::string> rows = Lines(ReadFile(Path("pred.tsv")));
  ASSERT_EQ(rows.size(), 1u + 1522 * 10);
  EXPECT_EQ(rows[0], "query\trank\tlabel\tname\tscore");
}

TEST_F(CliTextDebtagsTest, ServeAnswersEveryLineAndSurvivesBadQueries) {
  WriteFile(Path("in.txt"),
            "puzzle game for children\n"
            "bad \xff\xfe utf-8 here\n"
            "library for reading PNG images\n");
  const Result r = Ok("serve -m " + Quote(model_) + " --stdin -k 3", Path("in.txt"));
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (int q : {0, 2}) {
    const std::string& o = lines[q];
    EXPECT_EQ(o.rfind("{\"query\":" + std::to_string(q) + ",", 0), 0u) << o;
    EXPECT_NE(o.find("\"latency_ms\":"), std::string::npos) << o;
    ASSERT_EQ(JsonNumbers(o, "latency_ms").size(), 1u) << o;
    EXPECT_GE(JsonNumbers(o, "latency_ms")[0], 0.0) << o;
    EXPECT_NE(o.find("\"labels\":["), std::string::npos) << o;
    const std::vector<std::string> names = JsonStrings(o, "name");
    EXPECT_EQ(names.size(), 3u) << o;
    for (const std::string& n : names) {
      EXPECT_NE(std::find(names_.begin(), names_.end(), n), names_.end()) << n;
    }
    EXPECT_EQ(JsonNumbers(o, "id").size(), 3u) << o;
  }
  EXPECT_EQ(JsonStrings(lines[0], "text"), std::vector<std::string>{"puzzle game for children"});
  EXPECT_EQ(lines[1].rfind("{\"query\":1,\"error\":\"", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find("UTF-8"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].find("\"labels\""), std::string::npos) << lines[1];
  // The latency summary on stderr at the end of input.
  EXPECT_NE(r.err.find("served 3 queries (1 errors)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("p99"), std::string::npos) << r.err;

  // --output-format tsv: the rows of 'predict --text', each answer followed by an empty line.
  const Result tsv =
      Ok("serve -q -m " + Quote(model_) + " --stdin -k 2 --output-format tsv", Path("in.txt"));
  const std::vector<std::string> rows = Lines(tsv.out);
  ASSERT_EQ(rows.size(), 2u + 1 + 1 + 1 + 2 + 1) << tsv.out;
  EXPECT_EQ(Split(rows[0], '\t')[0], "0");
  EXPECT_EQ(rows[2], "");
  EXPECT_EQ(rows[3].rfind("1\terror\t", 0), 0u) << rows[3];
  EXPECT_EQ(Split(rows[5], '\t')[0], "2");
  EXPECT_EQ(tsv.err, "");

  // Empty input: no answers, still exit 0.
  WriteFile(Path("empty.txt"), "");
  EXPECT_EQ(Ok("serve -q -m " + Quote(model_) + " --stdin", Path("empty.txt")).out, "");
  // serve needs --stdin.
  Fails("serve -m " + Quote(model_), 2, "serve");
}

TEST_F(CliTextDebtagsTest, PredictErrorsNameTheFileAndLine) {
  // Invalid UTF-8 in the queries: the message names the queries file and line.
  WriteFile(Path("q.txt"), "first query\nsecond \xc3\x28 query\n");
  std::string line =
      Fails("predict -m " + Quote(model_) + " --text " + Quote(Path("q.txt")), 1, "predict");
  EXPECT_NE(line.find("q.txt:2:"), std::string::npos) << line;
  EXPECT_NE(line.find("UTF-8"), std::string::npos) << line;
  // In --text-tsv, after the header: line 3 of the file.
  WriteFile(Path("t.tsv"), "tags\ttext\nrole::program\tok\nrole::program\tbad \xff\n");
  line = Fails("predict -m " + Quote(model_) + " --text-tsv " + Quote(Path("t.tsv")) +
                   " --header --label-col 1",
               1, "predict");
  EXPECT_NE(line.find("t.tsv:3:"), std::string::npos) << line;
  // Too few columns for --text-cols.
  WriteFile(Path("short.tsv"), "role::program\tsome text\n");
  line = Fails("predict -m " + Quote(model_) + " --text-tsv " + Quote(Path("short.tsv")) +
                   " --text-cols 2,3",
               1, "predict");
  EXPECT_NE(line.find("short.tsv:1:"), std::string::npos) << line;
  // Usage errors.
  Fails("predict -m " + Quote(model_) + " --text " + Quote(Path("q.txt")) + " --output-format xml",
        2, "predict");
  Fails("predict -m " + Quote(model_) + " --text " + Quote(Path("q.txt")) + " --text-tsv " +
            Quote(Path("t.tsv")),
        2, "predict");
  Fails("predict -m " + Quote(model_) + " --text " + Quote(Path("q.txt")) + " -d " +
            Quote(Path("t.tsv")),
        2, "predict");
  line =
      Fails("predict -m " + Quote(model_) + " --text " + Quote(Path("missing.txt")), 1, "predict");
  EXPECT_NE(line.find("missing.txt"), std::string::npos) << line;
}

// ----- training errors -----------------------------------------------------------------------

TEST_F(CliTextTest, TrainTextErrorsNameTheFileLineAndColumn) {
  const std::string m = " -m " + Quote(Path("m.xmr"));
  const std::string labels = " --labels " + Quote(kDebtagsLabels);
  // Too few columns: line 3 of the file (the header is line 1).
  WriteFile(Path("few.tsv"),
            "package\tsource\tsection\ttags\ttitle\tdescription\n"
            "a\ta\tgames\tgame::puzzle\tA puzzle\tA puzzle game.\n"
            "b\tb\tgames\tgame::puzzle\tno description\n");
  std::string line =
      Fails("train --text " + Quote(Path("few.tsv")) + kDebtagsLayout + m, 1, "train");
  EXPECT_NE(line.find("few.tsv:3:"), std::string::npos) << line;
  EXPECT_NE(line.find("expected at least 6"), std::string::npos) << line;
  // A label that is not in --labels: file, line and column.
  WriteFile(Path("unknown.tsv"),
            "package\tsource\tsection\ttags\ttitle\tdescription\n"
            "a\ta\tgames\tgame::puzzle\tA puzzle\tA puzzle game.\n"
            "b\tb\tgames\tgame::puzzle, no::such-tag\tB\tAnother puzzle game.\n");
  line =
      Fails("train --text " + Quote(Path("unknown.tsv")) + kDebtagsLayout + labels + m, 1, "train");
  EXPECT_NE(line.find("unknown.tsv:3:"), std::string::npos) << line;
  EXPECT_NE(line.find("'no::such-tag'"), std::string::npos) << line;
  EXPECT_NE(line.find("column 4"), std::string::npos) << line;
  // An empty label between commas.
  WriteFile(Path("empty.tsv"), "a,,b\ttext\n");
  line = Fails("train --text " + Quote(Path("empty.tsv")) + m, 1, "train");
  EXPECT_NE(line.find("empty.tsv:1:"), std::string::npos) << line;
  EXPECT_NE(line.find("column 1"), std::string::npos) << line;
  // A bad label id with --label-ids.
  WriteFile(Path("ids.tsv"), "0,1\tfirst\nx\tsecond\n");
  line = Fails("train --text " + Quote(Path("ids.tsv")) + " --label-ids" + m, 1, "train");
  EXPECT_NE(line.find("ids.tsv:2:"), std::string::npos) << line;
  // A repeated name in the --labels file.
  WriteFile(Path("dup.txt"), "a\nb\na\n");
  line = Fails("train --text " + Quote(Path("ids.tsv")) + " --labels " + Quote(Path("dup.txt")) + m,
               1, "train");
  EXPECT_NE(line.find("dup.txt:3:"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(Path("m.xmr")));
}

TEST_F(CliTextTest, TrainTextInvalidUtf8NamesTheFileAndLine) {
  WriteFile(Path("bad.tsv"), "a\tfine text\nb\tmore text\na\tbroken \xff text\n");
  const std::string line = Fails(
      "train -q --text " + Quote(Path("bad.tsv")) + " -m " + Quote(Path("m.xmr")), 1, "train");
  EXPECT_NE(line.find("bad.tsv:3:"), std::string::npos) << line;
  EXPECT_NE(line.find("UTF-8"), std::string::npos) << line;
  // With --invalid-utf8 replace the same file trains.
  Ok("train -q --text " + Quote(Path("bad.tsv")) + " --invalid-utf8 replace -m " +
     Quote(Path("m.xmr")));
}

TEST_F(CliTextTest, TrainTextUsageErrorsExitTwo) {
  WriteFile(Path("t.tsv"), "a\tsome text\nb\tother text\n");
  const std::string t = "train --text " + Quote(Path("t.tsv")) + " -m " + Quote(Path("m.xmr"));
  std::string line = Fails(t + " -d " + Quote(kBibtexTrain), 2, "train");
  EXPECT_NE(line.find("--text"), std::string::npos) << line;
  for (const char* spec : {"word", "word:x", "word:1-", ""}) {
    line = Fails(t + " --features " + Quote(spec), 2, "train");
    EXPECT_NE(line.find("--features"), std::string::npos) << spec << ": " << line;
  }
  line = Fails(t + " --features foo:1", 2, "train");
  EXPECT_NE(line.find("'foo'"), std::string::npos) << line;
  Fails(t + " --features word:3-1", 2, "train");
  Fails(t + " --features char:0", 2, "train");
  Fails(t + " --features word:1-9", 2, "train");
  for (const char* cols : {"0", "2,x", "2,", "-1", ""}) {
    line = Fails(t + " --text-cols " + Quote(cols), 2, "train");
    EXPECT_NE(line.find("--text-cols"), std::string::npos) << cols << ": " << line;
  }
  line = Fails(t + " --text-cols 1,2", 2, "train");  // includes the label column
  EXPECT_NE(line.find("--text-cols includes column 1"), std::string::npos) << line;
  Fails(t + " --label-col 0", 2, "train");
  Fails(t + " --tf log", 2, "train");
  Fails(t + " --max-df 0", 2, "train");
  Fails(t + " --max-df 1.5", 2, "train");
  Fails(t + " --min-df 0", 2, "train");
  Fails(t + " --invalid-utf8 ignore", 2, "train");
  Fails(t + " --label-ids --labels " + Quote(kDebtagsLabels), 2, "train");
  Fails(t + " --label-features " + Quote(Path("z.npz")), 2, "train");
  line = Fails(t + " --label-embedding pifa_lf_concat", 2, "train");
  EXPECT_NE(line.find("pifa_lf_concat"), std::string::npos) << line;
  EXPECT_NE(line.find("--label-text"), std::string::npos) << line;
  Fails(t + " --label-embedding nosuch", 2, "train");
  Fails("train -d " + Quote(kBibtexTrain) + " --label-embedding pifa_lf_concat -m " +
            Quote(Path("m.xmr")),
        2, "train");
  Fails("train -d " + Quote(kBibtexTrain) + " --label-text " + Quote(Path("t.tsv")) + " -m " +
            Quote(Path("m.xmr")),
        2, "train");
  // A text column beyond the row: a file error, not a usage error.
  line = Fails(t + " --text-cols 3", 1, "train");
  EXPECT_NE(line.find("t.tsv:1:"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(Path("m.xmr")));
}

// With --invalid-utf8 replace, a query with invalid UTF-8 is answered; the echoed text must
// still be valid UTF-8 (JSON output), i.e. carry U+FFFD instead of the raw byte.
TEST_F(CliTextTest, ServeWithReplaceModelEchoesValidUtf8) {
  WriteFile(Path("t.tsv"), "0,1\tapple banana\n1\tcar truck\n2\tdog cat\n0\tcherry\n");
  const std::string model = Path("r.xmr");
  Ok("train -q --text " + Quote(Path("t.tsv")) + " --label-ids --invalid-utf8 replace -m " +
     Quote(model));
  WriteFile(Path("in.txt"), "apple\nbad \xff byte\n");
  const Result r = Ok("serve -q -m " + Quote(model) + " --stdin -k 1", Path("in.txt"));
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_NE(lines[1].find("\"labels\":[{\"id\":"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[1].find('\xff'), std::string::npos)
      << "raw invalid byte echoed: " << testing::PrintToString(lines[1]);
  // predict --text answers it too.
  WriteFile(Path("q.txt"), "bad \xff byte\n");
  EXPECT_EQ(
      Lines(Ok("predict -q -m " + Quote(model) + " --text " + Quote(Path("q.txt")) + " -k 1").out)
          .size(),
      2u);
}

// ----- label names in vector-trained models ----------------------------------------------------

TEST_F(CliTextTest, VectorModelWithLabelNames) {
  WriteBibtexSubset(Path("train.txt"));
  std::string names;
  for (int l = 0; l < kBibtexLabels; ++l) names += "bibtex_tag_" + std::to_string(l) + "\n";
  WriteFile(Path("names.txt"), names);
  const std::string model = Path("named.xmr");
  const Result train = Ok("train -d " + Quote(Path("train.txt")) + " --labels " +
                          Quote(Path("names.txt")) + " -m " + Quote(model));
  EXPECT_NE(Lines(train.err).back().find("159 labels"), std::string::npos) << train.err;

  // The names are stored, and the model still works as a vector model.
  const Result info = Ok("info -m " + Quote(model));
  EXPECT_NE(info.out.find("labels 159\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("label names: bibtex_tag_0, bibtex_tag_1,"), std::string::npos)
      << info.out;
  const Result pred = Ok("predict -q -m " + Quote(model) + " -d " + Quote(Path("train.txt")));
  EXPECT_GT(PAt1(pred.out), 50.0) << pred.out;  // on its own training rows
  // ... but not as a text model.
  WriteFile(Path("q.txt"), "some query\n");
  std::string line =
      Fails("predict -m " + Quote(model) + " --text " + Quote(Path("q.txt")), 1, "predict");
  EXPECT_NE(line.find("not trained from text"), std::string::npos) << line;
  EXPECT_NE(line.find("named.xmr"), std::string::npos) << line;
  line = Fails("serve -m " + Quote(model) + " --stdin", 1, "serve");
  EXPECT_NE(line.find("not trained from text"), std::string::npos) << line;

  // A names file one line short fails and writes no model.
  WriteFile(Path("short.txt"), names.substr(0, names.rfind("bibtex_tag_158")));
  line = Fails("train -q -d " + Quote(Path("train.txt")) + " --labels " + Quote(Path("short.txt")) +
                   " -m " + Quote(Path("bad.xmr")),
               1, "train");
  EXPECT_NE(line.find("158 label names, but the data has 159 labels"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(Path("bad.xmr")));
  // A repeated name: file and line.
  WriteFile(Path("dup.txt"), "bibtex_tag_5\n" + names.substr(0, names.rfind("bibtex_tag_158")));
  line = Fails("train -q -d " + Quote(Path("train.txt")) + " --labels " + Quote(Path("dup.txt")) +
                   " -m " + Quote(Path("bad.xmr")),
               1, "train");
  EXPECT_NE(line.find("dup.txt:7:"), std::string::npos) << line;
  EXPECT_FALSE(fs::exists(Path("bad.xmr")));
}

TEST_F(CliTextTest, VectorModelWithLabelFeaturesLfConcat) {
  // Label features: here simply the feature vectors of the first 159 training rows, as a
  // single-matrix text file ('rows cols' header); any sparse matrix with one row per label and
  // the model's feature count will do.
  WriteBibtexSubset(Path("train.txt"));
  const std::vector<std::string> rows = Lines(HeadLines(kBibtexTrain, kBibtexLabels + 1));
  std::string z = std::to_string(kBibtexLabels) + " " + Split(rows[0], ' ')[1] + "\n";
  for (std::size_t i = 1; i < rows.size(); ++i) z += rows[i].substr(rows[i].find(' ') + 1) + "\n";
  WriteFile(Path("z.txt"), z);
  const std::string model = Path("lf.xmr");
  Ok("train -q -d " + Quote(Path("train.txt")) + " --label-embedding pifa_lf_concat " +
     "--label-features " + Quote(Path("z.txt")) + " -m " + Quote(model));
  EXPECT_NE(Ok("info -m " + Quote(model)).out.find("pifa_lf_concat"), std::string::npos);
  EXPECT_GT(PAt1(Ok("predict -q -m " + Quote(model) + " -d " + Quote(Path("train.txt"))).out),
            50.0);
}

// ----- label texts (pifa_lf_concat from --label-text) --------------------------------------------

TEST_F(CliTextTest, LabelTextWithLfConcatTrainsAndPredicts) {
  // Four topics; each row mixes two words of its topic with filler.
  const std::vector<std::pair<std::string, std::vector<std::string>>> topics = {
      {"fruit", {"apple", "banana", "cherry", "grape", "mango"}},
      {"vehicle", {"car", "truck", "bicycle", "train", "boat"}},
      {"animal", {"dog", "cat", "horse", "rabbit", "tiger"}},
      {"colour", {"red", "green", "blue", "yellow", "purple"}},
  };
  std::string tsv = "labels\ttext\n";
  for (int i = 0; i < 40; ++i) {
    const auto& [label, words] = topics[i % topics.size()];
    tsv += label + "\t" + words[i % 5] + " and " + words[(i / 4 + 2) % 5] + " today\n";
  }
  tsv += "fruit,colour\tred apple\n";
  WriteFile(Path("train.tsv"), tsv);
  WriteFile(Path("label_text.tsv"),
            "fruit\tfruit apple banana cherry\n"
            "vehicle\tvehicle car truck\n"
            "animal\tanimal dog cat\n"
            "colour\tcolour red blue\n"
            "unused\ta label that no row has\n");  // names no label: counted and skipped
  const std::string model = Path("lt.xmr");
  const Result train = Ok("train --text " + Quote(Path("train.tsv")) +
                          " --header --features word:1 --label-embedding pifa_lf_concat "
                          "--label-text " +
                          Quote(Path("label_text.tsv")) + " --max-leaf-size 2 -m " + Quote(model));
  EXPECT_NE(train.err.find("label texts: 4 of 4 labels"), std::string::npos) << train.err;
  EXPECT_NE(train.err.find("1 lines name no label"), std::string::npos) << train.err;
  EXPECT_NE(Ok("info -m " + Quote(model)).out.find("pifa_lf_concat"), std::string::npos);

  WriteFile(Path("q.txt"), "banana\ntruck\ncat\nblue\n");
  const Result pred = Ok("predict -q -m " + Quote(model) + " --text " + Quote(Path("q.txt")) +
                         " -k 1 --output-format json");
  const std::vector<std::string> lines = Lines(pred.out);
  ASSERT_EQ(lines.size(), 4u) << pred.out;
  const char* expected[] = {"fruit", "vehicle", "animal", "colour"};
  for (int q = 0; q < 4; ++q) {
    EXPECT_EQ(JsonStrings(lines[q], "name"), std::vector<std::string>{expected[q]}) << lines[q];
  }
  // Metrics on the training file itself.
  const Result metrics =
      Ok("predict -q -m " + Quote(model) + " --text-tsv " + Quote(Path("train.tsv")) + " --header");
  EXPECT_GT(PAt1(metrics.out), 90.0) << metrics.out;

  // A label-text line without a tab: file and line.
  WriteFile(Path("bad_label_text.tsv"), "fruit\tapple\nvehicle car\n");
  const std::string line =
      Fails("train --text " + Quote(Path("train.tsv")) +
                " --header --label-embedding pifa_lf_concat --label-text " +
                Quote(Path("bad_label_text.tsv")) + " -m " + Quote(Path("bad.xmr")),
            1, "train");
  EXPECT_NE(line.find("bad_label_text.tsv:2:"), std::string::npos) << line;
}

}  // namespace

namespace {

// A small synthetic query log: sessions of 2-4 queries on one topic, one query per line, with a
// header line as the AOL file has.
std::string SyntheticQueryLog() {
  const std::vector<std::vector<std::string>> topics = {
      {"cheap flights", "cheap flights paris", "hotels paris", "hotels in paris france"},
      {"weather", "weather boston", "weather new york", "new york times"},
      {"bank of america", "bank of america online", "banking login", "bank holidays"},
      {"pizza", "pizza hut", "pizza hut coupons", "pizza delivery boston"},
  };
  std::mt19937 rng(7);
  std::string log = "Query\n";
  for (int s = 0; s < 400; ++s) {
    const auto& t = topics[rng() % topics.size()];
    const int n = 2 + static_cast<int>(rng() % 3);
    for (int i = 0; i < n; ++i) log += t[rng() % t.size()] + "\n";
  }
  return log;
}

}  // namespace

TEST_F(CliTextTest, QacTrainCompletesOnlyExtensionsOfThePrefix) {
  WriteFile(Path("log.txt"), SyntheticQueryLog());
  const std::string model = Path("qac.xmr");
  const Result train = Ok("qac-train -q --log " + Quote(Path("log.txt")) + " -m " + Quote(model) +
                          " --pairs distinct --max-leaf-size 4");
  EXPECT_NE(train.out.find("avg 1-8"), std::string::npos) << train.out;  // the evaluation table
  ASSERT_TRUE(fs::exists(model));
  for (const std::string prefix : {"p", "pizza h", "ba", "w", "zzz"}) {
    const Result r = Ok("qac -q -m " + Quote(model) + " --prev 'pizza' --prefix '" + prefix + "'");
    for (const std::string& line : Lines(r.out)) {
      const std::vector<std::string> f = Split(line, '\t');
      ASSERT_EQ(f.size(), 3u) << line;
      EXPECT_EQ(f[1].rfind(prefix, 0), 0u) << "'" << f[1] << "' does not extend '" << prefix << "'";
    }
    if (std::string(prefix) == "zzz") {
      EXPECT_TRUE(r.out.empty());
    }
    if (std::string(prefix) == "pizza h") {
      EXPECT_FALSE(r.out.empty());
    }
  }
  WriteFile(Path("in.txt"), "pizza\tpizza h\nweather\twea\nno tab here\n");
  const Result s = Ok("qac -q -m " + Quote(model) + " --stdin -k 3", Path("in.txt"));
  const std::vector<std::string> lines = Lines(s.out);
  ASSERT_EQ(lines.size(), 3u) << s.out;
  for (const std::string& line : lines) {
    EXPECT_NE(line.find("\"latency_ms\":"), std::string::npos) << line;
    EXPECT_NE(line.find("\"completions\":["), std::string::npos) << line;
  }
  for (const std::string& q : JsonStrings(lines[1], "query")) EXPECT_EQ(q.rfind("wea", 0), 0u);
}

TEST_F(CliTextTest, QacErrors) {
  WriteFile(Path("log.txt"), SyntheticQueryLog());
  Fails("qac-train -q --log " + Quote(Path("log.txt")) + " -m " + Quote(Path("m.xmr")) +
            " --indexer foo",
        2, "qac-train");
  Fails("qac-train -q --log " + Quote(Path("missing.txt")) + " -m " + Quote(Path("m.xmr")), 1,
        "qac-train");
  Fails("qac -q -m " + Quote(Path("m.xmr")), 2, "qac");  // neither --prefix nor --stdin
  // A model that is not a QAC model.
  WriteFile(Path("t.tsv"), "a\tred apple\nb\tblue sky\n");
  Ok("train -q --text " + Quote(Path("t.tsv")) + " -m " + Quote(Path("text.xmr")));
  const std::string line = Fails("qac -q -m " + Quote(Path("text.xmr")) + " --prefix a", 1, "qac");
  EXPECT_NE(line.find("not a QAC model"), std::string::npos) << line;
}
