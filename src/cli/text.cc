// The raw-text side of the CLI: 'xmr train --text', 'xmr predict --text / --text-tsv' and
// 'xmr serve --stdin'.
#include "xmr/text.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cli/common.h"
#include "core/log.h"
#include "core/utf8.h"
#include "model/json.h"  // AppendString
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/predict.h"
#include "xmr/text_model.h"

namespace xmr::cli {
namespace {

// ----- option parsing ------------------------------------------------------------------------

// "5,5,6" -> {5, 5, 6}.
std::vector<int> ParseColumnList(const std::string& flag, const std::string& s) {
  std::vector<int> cols;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    const std::string tok = s.substr(start, comma - start);
    int v = 0;
    const auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (tok.empty() || ec != std::errc() || p != tok.data() + tok.size() || v < 1) {
      throw UsageError("--" + flag +
                       " expects 1-based column numbers separated by commas (e.g. "
                       "'5,5,6'), got '" +
                       s + "'");
    }
    cols.push_back(v);
    start = comma + 1;
  }
  return cols;
}

TextTsvOptions ParseTsvOptions(const Args& args) {
  TextTsvOptions o;
  o.label_column = IntAtLeast(args, "label-col", 1, 1);
  if (args.Has("text-cols")) o.text_columns = ParseColumnList("text-cols", args.Str("text-cols"));
  o.header = args.Flag("header");
  o.label_ids = args.Flag("label-ids");
  for (const int c : o.text_columns) {
    if (c == o.label_column) {
      throw UsageError(
          StrFormat("--text-cols includes column %d, the label column (--label-col)", c));
    }
  }
  AsUsage([&] { o.Validate(); });
  return o;
}

// "word:1-2,char_wb:3" -> base vectorizers (ranges "n" or "n-m").
std::vector<BaseVectorizerOptions> ParseFeatureSpec(const std::string& spec) {
  const std::string hint =
      "--features expects ANALYZER:N or ANALYZER:N-M items separated by commas, with ANALYZER = "
      "word | char | char_wb (e.g. 'word:1-2,char_wb:3'); got '" +
      spec + "'";
  std::vector<BaseVectorizerOptions> bases;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t comma = spec.find(',', start);
    if (comma == std::string::npos) comma = spec.size();
    const std::string item = spec.substr(start, comma - start);
    start = comma + 1;
    const std::size_t colon = item.find(':');
    if (colon == std::string::npos) throw UsageError(hint);
    BaseVectorizerOptions b;
    b.analyzer = AsUsage([&] { return ParseAnalyzer(item.substr(0, colon)); });
    const std::string range = item.substr(colon + 1);
    const std::size_t dash = range.find('-');
    const std::string lo = range.substr(0, dash);
    const std::string hi = dash == std::string::npos ? lo : range.substr(dash + 1);
    auto parse = [&](const std::string& t) {
      int v = 0;
      const auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || p != t.data() + t.size()) throw UsageError(hint);
      return v;
    };
    b.ngram_min = parse(lo);
    b.ngram_max = parse(hi);
    bases.push_back(b);
  }
  return bases;
}

TextVectorizerOptions ParseVectorizerOptions(const Args& args) {
  TextVectorizerOptions o;
  o.bases = ParseFeatureSpec(args.Str("features", "word:1-2,char_wb:3"));
  const std::string tf = args.Str("tf", "sublinear");
  if (tf != "raw" && tf != "sublinear" && tf != "binary") {
    throw UsageError("--tf must be raw, sublinear or binary; got '" + tf + "'");
  }
  const int min_df = IntAtLeast(args, "min-df", 1, 1);
  const double max_df = args.Double("max-df", 1.0);
  if (!(max_df > 0 && max_df <= 1)) {
    throw UsageError("--max-df must be in (0, 1], got '" + args.Str("max-df") + "'");
  }
  const int max_features = IntAtLeast(args, "max-features", 0, 0);
  for (BaseVectorizerOptions& b : o.bases) {
    b.min_df = min_df;
    b.max_df_ratio = max_df;
    b.max_features = max_features;
    b.sublinear_tf = tf == "sublinear";
    b.binary = tf == "binary";
  }
  o.lowercase = !args.Flag("no-lowercase");
  const std::string tok = args.Str("tokenizer", "blank");
  if (tok == "blank") {
    o.tokenizer = TextVectorizerOptions::Tokenizer::kBlank;
  } else if (tok == "unicode-word") {
    o.tokenizer = TextVectorizerOptions::Tokenizer::kUnicodeWord;
  } else {
    throw UsageError("--tokenizer must be blank or unicode-word; got '" + tok + "'");
  }
  const std::string cm = args.Str("case", "basic");
  if (cm == "basic") {
    o.case_mapping = TextVectorizerOptions::CaseMapping::kBasic;
  } else if (cm == "unicode") {
    o.case_mapping = TextVectorizerOptions::CaseMapping::kUnicode;
  } else {
    throw UsageError("--case must be basic or unicode; got '" + cm + "'");
  }
  const std::string bad = args.Str("invalid-utf8", "error");
  if (bad == "error") {
    o.invalid_utf8 = TextVectorizerOptions::InvalidUtf8::kError;
  } else if (bad == "replace") {
    o.invalid_utf8 = TextVectorizerOptions::InvalidUtf8::kReplace;
  } else {
    throw UsageError("--invalid-utf8 must be error or replace; got '" + bad + "'");
  }
  try {
    o.Validate();
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kInvalidArgument) throw;
    throw UsageError("bad --features or vectorizer option: " + e.message());
  }
  return o;
}

// "name<TAB>text" lines -> text per label id (labels without a line get ""). Returns the texts
// and counts lines whose name is not a label.
std::vector<std::string> ReadLabelTexts(const std::string& path,
                                        const std::vector<std::string>& names,
                                        std::int64_t* unknown, std::int64_t* missing) {
  const std::vector<std::string> lines = ReadTextLines(path);
  std::vector<std::string> texts(names.size());
  std::vector<char> seen(names.size(), 0);
  std::unordered_map<std::string_view, Index> id;
  for (std::size_t i = 0; i < names.size(); ++i) id.emplace(names[i], static_cast<Index>(i));
  *unknown = 0;
  for (std::size_t ln = 0; ln < lines.size(); ++ln) {
    const std::string& line = lines[ln];
    const std::size_t tab = line.find('\t');
    if (tab == std::string::npos) {
      throw Error(
          ErrorCode::kCorruption,
          StrFormat("%s:%zu: expected 'name<TAB>text' (no tab found)", path.c_str(), ln + 1));
    }
    const auto it = id.find(std::string_view(line).substr(0, tab));
    if (it == id.end()) {
      ++*unknown;
      continue;
    }
    texts[it->second] = line.substr(tab + 1);
    seen[it->second] = 1;
  }
  *missing = std::count(seen.begin(), seen.end(), 0);
  return texts;
}

// ----- output --------------------------------------------------------------------------------

void AppendFloat(std::string* out, float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

enum class OutFormat { kTsv, kJson };

OutFormat ParseOutFormat(const Args& args) {
  const std::string f = args.Str("output-format", "tsv");
  if (f == "tsv") return OutFormat::kTsv;
  if (f == "json" || f == "jsonl") return OutFormat::kJson;
  throw UsageError("--output-format must be tsv or json; got '" + f + "'");
}

const char kTsvHeader[] = "query\trank\tlabel\tname\tscore\n";

// Appends one query's answer: TSV rows "query rank label name score", or one JSON line.
// latency_ms < 0: not reported. text: echoed in JSON when not null.
void AppendAnswer(std::string* out, OutFormat fmt, const TextModel& model, std::int64_t query,
                  const ScoredLabel* labels, std::size_t n, double latency_ms,
                  const std::string_view* text) {
  if (fmt == OutFormat::kTsv) {
    for (std::size_t r = 0; r < n; ++r) {
      *out += std::to_string(query);
      *out += '\t';
      *out += std::to_string(r + 1);
      *out += '\t';
      *out += std::to_string(labels[r].label);
      *out += '\t';
      *out += model.label_name(labels[r].label);
      *out += '\t';
      AppendFloat(out, labels[r].score);
      *out += '\n';
    }
    return;
  }
  *out += "{\"query\":";
  *out += std::to_string(query);
  if (text != nullptr) {
    *out += ",\"text\":";
    AppendJsonString(out, *text);
  }
  if (latency_ms >= 0) *out += StrFormat(",\"latency_ms\":%.3f", latency_ms);
  *out += ",\"labels\":[";
  for (std::size_t r = 0; r < n; ++r) {
    if (r > 0) *out += ',';
    *out += "{\"id\":";
    *out += std::to_string(labels[r].label);
    if (!model.label_names().empty()) {
      *out += ",\"name\":";
      AppendJsonString(out, model.label_name(labels[r].label));
    }
    *out += ",\"score\":";
    AppendFloat(out, labels[r].score);
    *out += '}';
  }
  *out += "]}\n";
}

// Writes `s` to the open stream; Error(kIoError) on failure.
void WriteAll(std::FILE* f, const std::string& s, const std::string& what) {
  if (!s.empty() && std::fwrite(s.data(), 1, s.size(), f) != s.size()) {
    IoFail("cannot write " + what + ": " + std::strerror(errno));
  }
}

PredictOptions ParsePredictOptions(const Args& args, const XLinearModel& model) {
  PredictOptions po;
  po.beam_size = args.Has("beam") ? IntAtLeast(args, "beam", 1, 1) : model.meta().beam_size;
  po.top_k = args.Has("top-k") ? IntAtLeast(args, "top-k", 1, 1) : model.meta().top_k;
  po.post_processor = args.Str("post-processor", "");
  AsUsage([&] { po.Validate(); });
  return po;
}

TextModel LoadTextModel(const Args& args, const Context& ctx) {
  Timer t;
  TextModel m = TextModel::Load(args.Required("model"),
                                args.Flag("mmap") ? LoadMode::kMmap : LoadMode::kRead);
  Log(ctx, StrFormat("loaded text model in %.2fs: depth %d, %d labels%s, %d features", t.Seconds(),
                     m.model().depth(), m.model().n_labels(),
                     m.label_names().empty() ? "" : " (named)", m.model().n_features()));
  return m;
}

// With the model's invalid_utf8 = error, names the first text that is not valid UTF-8 by its
// file line (line = index + first_line) rather than by its index, as the vectorizer would.
void CheckUtf8(TextVectorizerOptions::InvalidUtf8 policy, const std::vector<std::string>& texts,
               const std::string& path, std::int64_t first_line) {
  if (policy != TextVectorizerOptions::InvalidUtf8::kError) return;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::size_t bad = FirstInvalidUtf8(texts[i]);
    if (bad != std::string_view::npos) {
      throw Error(ErrorCode::kInvalidArgument,
                  StrFormat("%s:%lld: invalid UTF-8 at byte %zu of the text (fix the file, "
                            "or use --invalid-utf8 replace when training)",
                            path.c_str(), static_cast<long long>(first_line + i), bad));
    }
  }
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5));
  return v[i];
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view raw) {
  // JSON must be valid UTF-8: every invalid byte becomes U+FFFD.
  std::string fixed;
  std::string_view s = raw;
  if (FirstInvalidUtf8(raw) != std::string_view::npos) {
    std::string_view rest = raw;
    while (!rest.empty()) {
      const std::size_t bad = FirstInvalidUtf8(rest);
      if (bad == std::string_view::npos) {
        fixed.append(rest);
        break;
      }
      fixed.append(rest.substr(0, bad));
      fixed += "\xEF\xBF\xBD";
      rest.remove_prefix(bad + 1);
    }
    s = fixed;
  }
  detail::json::AppendString(s, out);
}

// ----- train --text ----------------------------------------------------------------------------

std::vector<OptionSpec> TextTrainOptionSpecs() {
  return {
      {"text", "", "FILE",
       "raw text to train on: 'label1,label2<TAB>text' lines (.gz/.xz ok); labels are names "
       "(or ids with --label-ids)",
       ""},
      {"label-col", "", "N", "with --text/--text-tsv: 1-based column of the labels", "1"},
      {"text-cols", "", "LIST",
       "with --text/--text-tsv: 1-based columns joined into the text, e.g. 5,5,6 (a repeated "
       "column weighs more)",
       "all but the label column"},
      {"header", "", "", "with --text/--text-tsv: the first line is a header (skipped)", ""},
      {"label-ids", "", "", "with --text/--text-tsv: labels are 0-based ids, not names", ""},
      {"label-text", "", "FILE",
       "with --text: 'name<TAB>text' lines giving each label's own text, for the lf label "
       "embeddings",
       ""},
      {"features", "", "SPEC",
       "feature sets: word:N-M, char:N-M, char_wb:N-M (words padded with '#'), comma-separated",
       "word:1-2,char_wb:3"},
      {"tf", "", "TF", "term frequency: raw | sublinear (1 + ln tf) | binary", "sublinear"},
      {"min-df", "", "N", "keep n-grams seen in at least N training texts", "1"},
      {"max-df", "", "R", "drop n-grams seen in more than this share of the texts", "1"},
      {"max-features", "", "N", "keep the N most frequent n-grams per feature set (0 = all)", "0"},
      {"no-lowercase", "", "", "keep the case of the text", ""},
      {"case", "", "MAP",
       "lower-casing: basic (ASCII, Latin-1, Greek, Cyrillic) | unicode (every code point "
       "with a simple lower-case form)",
       "basic"},
      {"tokenizer", "", "TOK",
       "words are: blank (blank-separated, as PECOS) | unicode-word (runs of Unicode letters "
       "and digits; punctuation splits, keeps c++, c#, x86_64)",
       "blank"},
      {"invalid-utf8", "", "MODE", "invalid UTF-8 in text: error | replace (with U+FFFD)", "error"},
  };
}

int TrainFromText(const Args& args, const TrainOptions& opts, const Context& ctx) {
  if (args.Has("data") || args.Has("x") || args.Has("y")) {
    throw UsageError("give either --text or -d / -x -y, not both");
  }
  if (args.Has("label-features")) {
    throw UsageError("--label-features goes with -d / -x; with --text give --label-text");
  }
  const std::string model_path = args.Required("model");
  const std::string path = args.Str("text");
  const TextTsvOptions tsv = ParseTsvOptions(args);
  TextTrainOptions topts;
  topts.vectorizer = ParseVectorizerOptions(args);
  topts.train = opts;
  if (args.Has("labels") && tsv.label_ids) {
    throw UsageError("--labels names the labels; it cannot be used with --label-ids");
  }
  if (args.Has("label-text") && tsv.label_ids && !args.Has("labels")) {
    throw UsageError("--label-text matches labels by name; it needs label names, not --label-ids");
  }
  CheckInputFile(path);
  CheckOutputFile(model_path);
  if (args.Has("labels")) CheckInputFile(args.Str("labels"));
  if (args.Has("label-text")) CheckInputFile(args.Str("label-text"));
  if (args.Has("pecos-out")) CheckOutputDir(args.Str("pecos-out"));
  if (ctx.device == DeviceKind::kCuda) ResolveDevice(ctx);

  Timer total;
  std::vector<std::string> names;
  if (args.Has("labels")) names = ReadLabelNames(args.Str("labels"));
  TextDataset ds = ReadTextTsv(path, tsv, args.Has("labels") ? &names : nullptr);
  XMR_EXPECTS(ds.y.nnz() > 0, ErrorCode::kInvalidArgument, path + ": no labels to train on");
  CheckUtf8(topts.vectorizer.invalid_utf8, ds.texts, path, tsv.header ? 2 : 1);
  Log(ctx, StrFormat("read %zu texts, %d labels (%lld assignments) in %.2fs", ds.texts.size(),
                     ds.y.cols, static_cast<long long>(ds.y.nnz()), total.Seconds()));
  std::vector<std::string> label_texts;
  if (args.Has("label-text")) {
    std::int64_t unknown = 0, missing = 0;
    label_texts = ReadLabelTexts(args.Str("label-text"), ds.label_names, &unknown, &missing);
    for (const std::string& t : label_texts) {
      if (topts.vectorizer.invalid_utf8 == TextVectorizerOptions::InvalidUtf8::kError &&
          FirstInvalidUtf8(t) != std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument,
                    args.Str("label-text") +
                        ": a label text is not valid UTF-8 (fix the file, "
                        "or use --invalid-utf8 replace)");
      }
    }
    Log(ctx, StrFormat("label texts: %lld of %d labels have one (%lld lines name no label)",
                       static_cast<long long>(ds.y.cols - missing), ds.y.cols,
                       static_cast<long long>(unknown)));
  }
  Timer t;
  const TextModel model =
      TextModel::Train(ds.texts, ds.y.view(), topts, ctx, nullptr, ds.label_names,
                       args.Has("label-text") ? &label_texts : nullptr);
  const double train_s = t.Seconds();
  model.Save(model_path);
  if (args.Has("pecos-out")) {
    ExportPecos(model.model(), args.Str("pecos-out"));
    Log(ctx, "exported the model to PECOS folder " + args.Str("pecos-out") +
                 " (weights only: PECOS keeps its vectorizer elsewhere)");
  }
  LogTrained(ctx, model.model(), model_path, train_s, total.Seconds());
  return 0;
}

// ----- predict --text ----------------------------------------------------------------------------

std::vector<OptionSpec> TextPredictOptionSpecs() {
  return {
      {"text", "", "FILE",
       "raw queries, one per line, for a model trained with --text (.gz/.xz ok)", ""},
      {"text-tsv", "", "FILE",
       "labelled raw text ('labels<TAB>text', as for training): predicts and prints metrics", ""},
      {"label-col", "", "N", "with --text-tsv: 1-based column of the labels", "1"},
      {"text-cols", "", "LIST", "with --text-tsv: 1-based columns joined into the text",
       "all but the label column"},
      {"header", "", "", "with --text-tsv: the first line is a header (skipped)", ""},
      {"label-ids", "", "", "with --text-tsv: labels are 0-based ids, not names", ""},
      {"output-format", "", "FMT",
       "output of --text/--text-tsv predictions: tsv (query, rank, label, name, score rows) "
       "| json (one object per query)",
       "tsv"},
  };
}

int PredictFromText(const Args& args, const Context& ctx) {
  if (args.Has("text") && args.Has("text-tsv")) throw UsageError("give --text or --text-tsv");
  if (args.Has("data") || args.Has("x") || args.Has("y")) {
    throw UsageError("give either --text/--text-tsv or -d / -x, not both");
  }
  const bool labelled = args.Has("text-tsv");
  const std::string path = labelled ? args.Str("text-tsv") : args.Str("text");
  const OutFormat fmt = ParseOutFormat(args);
  const TextTsvOptions tsv = ParseTsvOptions(args);
  const std::string out_path = args.Str("output");
  CheckInputFile(args.Required("model"));
  CheckInputFile(path);
  if (args.Has("output")) CheckOutputFile(out_path);
  const TextModel model = LoadTextModel(args, ctx);
  const PredictOptions po = ParsePredictOptions(args, model.model());

  Timer t;
  std::vector<std::string> texts;
  CsrMatrix truth;
  if (labelled) {
    TextTsvOptions o = tsv;
    TextDataset ds;
    if (o.label_ids) {
      ds = ReadTextTsv(path, o, nullptr, model.model().n_labels());
    } else {
      XMR_EXPECTS(!model.label_names().empty(), ErrorCode::kInvalidArgument,
                  args.Str("model") + ": the model has no label names; give --label-ids");
      o.skip_unknown_labels = true;
      ds = ReadTextTsv(path, o, &model.label_names());
      if (ds.unknown_labels > 0) {
        Log(ctx, StrFormat("warning: %s: %lld label occurrence(s) are not labels of the model; "
                           "they are ignored (metrics count only the model's labels)",
                           path.c_str(), static_cast<long long>(ds.unknown_labels)));
      }
    }
    texts = std::move(ds.texts);
    truth = std::move(ds.y);
  } else {
    texts = ReadTextLines(path);
  }
  Log(ctx, StrFormat("read %zu texts in %.2fs", texts.size(), t.Seconds()));
  CheckUtf8(model.vectorizer().options().invalid_utf8, texts, path, labelled && tsv.header ? 2 : 1);
  t.Reset();
  const CsrMatrix pred = model.Predict(texts, po, ctx);
  const double secs = t.Seconds();
  Log(ctx, StrFormat("predicted %zu texts in %.3fs (%.1f us/text incl. featurisation, beam %d, "
                     "top-%d)",
                     texts.size(), secs, texts.empty() ? 0.0 : 1e6 * secs / texts.size(),
                     po.beam_size, po.top_k));

  const bool to_stdout = out_path == "-" || (!args.Has("output") && !labelled);
  if (to_stdout || args.Has("output")) {
    std::FILE* f = stdout;
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
    std::string tmp;
    if (!to_stdout) {
      tmp = out_path + ".tmp." + std::to_string(::getpid());
      file.reset(std::fopen(tmp.c_str(), "wb"));
      if (!file) IoFail(out_path + ": cannot create: " + std::strerror(errno));
      f = file.get();
    }
    std::string buf;
    if (fmt == OutFormat::kTsv) buf = kTsvHeader;
    std::vector<ScoredLabel> row;
    for (Index i = 0; i < pred.rows; ++i) {
      row.clear();
      for (Offset q = pred.indptr[i]; q < pred.indptr[i + 1]; ++q) {
        row.push_back({pred.indices[q], pred.data[q]});
      }
      AppendAnswer(&buf, fmt, model, i, row.data(), row.size(), -1, nullptr);
      if (buf.size() > (1u << 20)) {
        WriteAll(f, buf, to_stdout ? "stdout" : out_path);
        buf.clear();
      }
    }
    WriteAll(f, buf, to_stdout ? "stdout" : out_path);
    if (to_stdout) {
      CheckStdout();
    } else {
      if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) {
        const std::string err = std::strerror(errno);
        std::remove(tmp.c_str());
        IoFail(out_path + ": write failed: " + err);
      }
      file.reset();
      if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
        const std::string err = std::strerror(errno);
        std::remove(tmp.c_str());
        IoFail(out_path + ": cannot rename the temporary file: " + err);
      }
      Log(ctx, "wrote " + out_path);
    }
  }
  if (labelled) {
    const RankingMetrics m = Evaluate(pred.view(), truth.view(), std::max(10, po.top_k));
    if (to_stdout)
      Log(ctx, "metrics: " + m.Summary());
    else
      PrintMetrics(m);
  }
  return 0;
}

// ----- serve -------------------------------------------------------------------------------------

int CmdServe(int argc, char** argv) {
  Args args(
      "serve", "-m MODEL --stdin [options]",
      "Answers queries interactively with a model trained with --text: reads one query per\n"
      "line on stdin and writes its top-k labels (with the time the query took, text to\n"
      "labels) as soon as it is answered: one JSON object per line, or with --format tsv\n"
      "the rows of 'xmr predict --text' followed by an empty line. A bad query (e.g.\n"
      "invalid UTF-8) gets an error answer and serving goes on. Latency percentiles go to\n"
      "stderr at the end of input.",
      Concat(
          CommonOptions(),
          {
              {"model", "m", "FILE", "model file trained with --text (required)", ""},
              {"stdin", "", "", "read queries from standard input (required)", ""},
              {"top-k", "k", "N", "labels per query", "the model's, usually 10"},
              {"beam", "b", "N", "beam size", "the model's, usually 10"},
              {"post-processor", "", "PP",
               "noop | sigmoid | log-sigmoid | lP-hinge | log-lP-hinge (P = 1..4)", "the model's"},
              {"output-format", "", "FMT", "answers as json (one line each) | tsv", "json"},
              {"mmap", "", "", "memory-map the model instead of reading it", ""},
          }));
  if (!args.Parse(argc, argv, 2)) return 0;
  if (!args.Flag("stdin")) throw UsageError("say where queries come from: --stdin");
  const Context ctx = MakeContext(args);
  const OutFormat fmt = args.Has("output-format") ? ParseOutFormat(args) : OutFormat::kJson;
  CheckInputFile(args.Required("model"));
  const TextModel model = LoadTextModel(args, ctx);
  const PredictOptions po = ParsePredictOptions(args, model.model());
  TextSearcher searcher(model);
  Log(ctx,
      StrFormat("ready: one query per line on stdin (top-%d, beam %d)", po.top_k, po.beam_size));

  const bool check_utf8 =
      model.vectorizer().options().invalid_utf8 == TextVectorizerOptions::InvalidUtf8::kError;
  std::vector<ScoredLabel> labels;
  std::vector<double> latencies;
  std::string line, out;
  std::int64_t n = 0, errors = 0;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.clear();
    const std::string_view text(line);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const std::size_t bad = check_utf8 ? FirstInvalidUtf8(text) : std::string_view::npos;
      if (bad != std::string_view::npos) {
        throw Error(ErrorCode::kInvalidArgument,
                    StrFormat("invalid UTF-8 at byte %zu of the query", bad));
      }
      searcher.Search(text, po, &labels);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      latencies.push_back(ms);
      AppendAnswer(&out, fmt, model, n, labels.data(), labels.size(), ms, &text);
      if (fmt == OutFormat::kTsv) out += '\n';
    } catch (const Error& e) {
      ++errors;
      if (fmt == OutFormat::kJson) {
        out = "{\"query\":" + std::to_string(n) + ",\"error\":";
        AppendJsonString(&out, e.message());
        out += "}\n";
      } else {
        out = std::to_string(n) + "\terror\t" + e.message() + "\n\n";
      }
    }
    WriteAll(stdout, out, "stdout");
    CheckStdout();  // flushes: the answer is visible before the next query is read
    ++n;
  }
  if (std::cin.bad()) IoFail(std::string("cannot read stdin: ") + std::strerror(errno));
  Log(ctx,
      StrFormat("served %lld queries (%lld errors): latency p50 %.3f ms, p99 %.3f ms, "
                "max %.3f ms",
                static_cast<long long>(n), static_cast<long long>(errors),
                Percentile(latencies, 0.5), Percentile(latencies, 0.99),
                latencies.empty() ? 0.0 : *std::max_element(latencies.begin(), latencies.end())));
  return 0;
}

}  // namespace xmr::cli
