// xmr: command-line front end. Subcommands train, predict, eval, info, convert.
//
// Conventions: results go to stdout, progress to stderr ("[xmr <t>s] ..." lines, silenced by
// --quiet). Any failure prints ONE line "xmr <command>: error: <what>" on stderr and exits 1
// (bad data, files or models; no GPU for --device cuda); a bad command line prints one line
// "xmr <command>: usage error: <what> (see 'xmr <command> --help')" and exits 2.
// Options and input paths are checked before any expensive work (reading data, training).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/common.h"
#include "core/log.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/synth.h"
#include "xmr/text_model.h"
#include "xmr/train.h"

namespace xmr::cli {

// The running subcommand, for the one-line messages of main() and the terminate handler.
const char* g_command = "";  // declared in cli/common.h

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string DirName(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

[[noreturn]] void IoFail(const std::string& msg) { throw Error(ErrorCode::kIoError, msg); }

// Fails early (before any expensive work) when an input file is missing or unreadable.
void CheckInputFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) IoFail(path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) IoFail(path + ": is a directory, expected a file");
  if (::access(path.c_str(), R_OK) != 0) IoFail(path + ": " + std::strerror(errno));
}

void CheckInputDir(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) IoFail(path + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) IoFail(path + ": not a directory (expected a PECOS model folder)");
}

// Fails early when an output file cannot be created: its directory is missing or read-only,
// or the path names a directory.
void CheckOutputFile(const std::string& path) {
  if (path == "-") return;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    IoFail(path + ": is a directory, expected a file name");
  }
  const std::string dir = DirName(path);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    IoFail(path + ": directory '" + dir + "' does not exist");
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    IoFail(path + ": cannot write in '" + dir + "': " + std::strerror(errno));
  }
}

// A PECOS output folder is created with its parents; only an existing non-directory is wrong.
void CheckOutputDir(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    IoFail(path + ": exists and is not a directory");
  }
}

// ----- typed option values with range checks (messages name the flag) -------------------------

int IntAtLeast(const Args& args, const std::string& name, int def, int min) {
  const int v = args.Int(name, def);
  if (v < min) {
    throw UsageError("--" + name + " must be >= " + std::to_string(min) + ", got " +
                     std::to_string(v));
  }
  return v;
}

// A finite number > 0 (positive) or >= 0 (!positive).
float FloatOpt(const Args& args, const std::string& name, float def, bool positive) {
  const double v = args.Double(name, def);
  if ((positive && !(v > 0)) || (!positive && !(v >= 0)) || v > 3.0e38) {
    throw UsageError("--" + name + (positive ? " must be > 0" : " must be >= 0") + ", got '" +
                     args.Str(name) + "'");
  }
  return static_cast<float>(v);
}

std::string CheckedPostProcessor(const std::string& name) {
  AsUsage([&] { return PostProcessor::Parse(name); });
  return name;
}

// ----- shared option groups ----------------------------------------------------------------------

std::vector<OptionSpec> CommonOptions() {
  return {
      {"threads", "t", "N", "worker threads; 0 = all cores", "0"},
      {"quiet", "q", "", "no progress output on stderr", ""},
      {"verbose", "v", "", "more detail on stderr", ""},
  };
}

const OptionSpec kDataOpt = {"data", "d", "FILE",
                             "features + labels: XMLRepository or libsvm text (.gz/.xz ok)", ""};
const OptionSpec kFormatOpt = {"format", "", "FMT", "text format of -d: auto | xmlrepo | libsvm",
                               "auto"};

std::vector<OptionSpec> DataOptions() {
  return {
      kDataOpt,
      {"x", "x", "FILE", "feature matrix (.npz, .xmb or text); instead of -d", ""},
      {"y", "y", "FILE", "label matrix (.npz, .xmb or text); with -x", ""},
      kFormatOpt,
      {"no-normalize", "", "", "keep feature rows as read (default: L2-normalise every row)", ""},
  };
}

std::vector<OptionSpec> Concat(std::vector<OptionSpec> a, const std::vector<OptionSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Context MakeContext(const Args& args) {
  Context ctx;
  ctx.threads = IntAtLeast(args, "threads", 0, 0);
  ctx.verbose = args.Flag("quiet") ? 0 : (args.Flag("verbose") ? 2 : 1);
  ctx.seed = args.UInt64("seed", 0);
  if (args.Has("device")) ctx.device = AsUsage([&] { return ParseDeviceKind(args.Str("device")); });
  if (args.Has("gpu-memory")) {
    ctx.gpu_memory_bytes = static_cast<std::int64_t>(IntAtLeast(args, "gpu-memory", 0, 0)) << 20;
  }
  return ctx;
}

ReadOptions ParseReadOptions(const Args& args) {
  ReadOptions ro;
  const std::string fmt = args.Str("format", "auto");
  if (fmt == "auto")
    ro.format = TextFormat::kAuto;
  else if (fmt == "xmlrepo")
    ro.format = TextFormat::kXmlRepo;
  else if (fmt == "libsvm" || fmt == "svmlight")
    ro.format = TextFormat::kSvmLight;
  else
    throw UsageError("--format must be auto, xmlrepo or libsvm; got '" + fmt + "'");
  return ro;
}

// What a command needs from -d / -x / -y.
enum class Need {
  kFeatures,           // predict: features, labels if present
  kFeaturesAndLabels,  // train
  kLabels,             // eval: labels only (-d or -y)
};

// Checks the data options' combination and that the files exist; call before expensive work.
void CheckDataArgs(const Args& args, Need need) {
  if (args.Has("data")) {
    if (args.Has("x") || args.Has("y")) throw UsageError("give either -d or -x/-y, not both");
    CheckInputFile(args.Str("data"));
    ParseReadOptions(args);
    return;
  }
  if (need == Need::kLabels) {
    if (!args.Has("y")) throw UsageError("no labels: give -d FILE or -y FILE");
    CheckInputFile(args.Str("y"));
    return;
  }
  if (!args.Has("x")) {
    throw UsageError(args.Has("y") ? "-y needs -x (the features)"
                                   : "no input: give -d FILE or -x FILE [-y FILE]");
  }
  if (need == Need::kFeaturesAndLabels && !args.Has("y")) {
    throw UsageError("labels are required: give -d with a labelled file, or -x with -y");
  }
  CheckInputFile(args.Str("x"));
  if (args.Has("y")) CheckInputFile(args.Str("y"));
}

// Loads features and/or labels from -d or -x/-y (after CheckDataArgs).
Dataset LoadData(const Args& args, const Context& ctx, Need need) {
  Dataset ds;
  Timer t;
  std::string source;
  if (args.Has("data")) {
    source = args.Str("data");
    ds = ReadDataFile(source, ParseReadOptions(args));
  } else if (need == Need::kLabels) {
    source = args.Str("y");
    ds.y = ReadMatrix(source);
    ds.x = CsrMatrix::Zeros(ds.y.rows, 0);
  } else {
    source = args.Str("x");
    ds.x = ReadMatrix(source);
    if (args.Has("y")) {
      ds.y = ReadMatrix(args.Str("y"));
      XMR_EXPECTS(ds.y.rows == ds.x.rows, ErrorCode::kInvalidArgument,
                  StrFormat("%s has %d rows, but %s has %d", args.Str("y").c_str(), ds.y.rows,
                            source.c_str(), ds.x.rows));
    } else {
      ds.y = CsrMatrix::Zeros(ds.x.rows, 0);
    }
  }
  std::fill(ds.y.data.begin(), ds.y.data.end(), 1.0f);  // labels are binary
  if (need == Need::kFeaturesAndLabels && ds.y.nnz() == 0) {
    throw Error(ErrorCode::kInvalidArgument, source + ": no labels to train on");
  }
  if (need != Need::kLabels && !args.Flag("no-normalize")) NormalizeRowsL2(&ds.x);
  if (need == Need::kLabels) {
    Log(ctx, StrFormat("read %d rows, %d labels (%lld nnz) in %.2fs", ds.y.rows, ds.y.cols,
                       static_cast<long long>(ds.y.nnz()), t.Seconds()));
  } else {
    Log(ctx, StrFormat("read %d rows, %d features (%lld nnz), %d labels (%lld nnz) in %.2fs",
                       ds.x.rows, ds.x.cols, static_cast<long long>(ds.x.nnz()), ds.y.cols,
                       static_cast<long long>(ds.y.nnz()), t.Seconds()));
  }
  return ds;
}

// Checks stdout for a write error (disk full, closed descriptor).
void CheckStdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    IoFail(std::string("cannot write to stdout: ") + std::strerror(errno));
  }
}

void PrintMetrics(const RankingMetrics& m) {
  std::printf("rows %d\n", m.n_rows);
  const std::pair<const char*, const std::vector<double>*> rows[] = {
      {"P", &m.precision}, {"R", &m.recall}, {"nDCG", &m.ndcg}, {"MRR", &m.mrr}};
  for (const auto& [name, v] : rows) {
    std::printf("%-5s", name);
    for (int k : {1, 3, 5, 10}) {
      if (k <= m.max_k) std::printf("  @%-2d %6.2f", k, (*v)[k - 1]);
    }
    std::printf("\n");
  }
  std::printf("%s\n", m.Summary().c_str());
  CheckStdout();  // before any later stderr line, and to catch write errors
}

// ----- training options (shared by training from vectors and from text) -------------------------

std::vector<OptionSpec> TrainOptionSpecs() {
  const TrainOptions d;  // defaults for the help text
  return {
      {"model", "m", "FILE", "output model file (required)", ""},
      {"seed", "", "N", "random seed (same seed = same model, any thread count)", "0"},
      {"device", "", "DEV", "auto | cpu | cuda (cuda fails without a usable GPU; no CPU fallback)",
       "auto"},
      {"gpu-memory", "", "MB",
       "device memory one wave of the GPU solver may use; 0 = 80% of the free memory", "0"},
      {"nr-splits", "", "B", "branching factor of the label tree (a power of two)",
       std::to_string(d.indexer.nr_splits)},
      {"max-leaf-size", "", "N", "largest leaf cluster", std::to_string(d.indexer.max_leaf_size)},
      {"kmeans-max-iter", "", "N", "iterations per 2-means split",
       std::to_string(d.indexer.kmeans_max_iter)},
      {"solver", "s", "S", "l2-svc | l1-svc | lr", "l2-svc"},
      {"cp", "", "C", "loss weight of positives", "1"},
      {"cn", "", "C", "loss weight of negatives", "1"},
      {"bias", "", "B", "bias feature value (0 = none)", "1"},
      {"eps", "", "E", "solver stopping tolerance", "0.1"},
      {"max-iter", "", "N", "solver passes", std::to_string(d.solver.max_iter)},
      {"threshold", "", "T", "prune weights with |w| below T", "0.1"},
      {"max-nonzeros", "", "N", "keep at most N weights per label (0 = all)", "0"},
      {"pecos-order", "", "", "visit instances in PECOS's order (its weights bit for bit; slower)",
       ""},
      {"neg", "", "NS", "negative sampling: tfn | man | tfn+man", "tfn"},
      {"man-beam", "", "N", "beam used for matcher-aware negatives",
       std::to_string(d.man_beam_size)},
      {"beam", "b", "N", "default beam size stored in the model", std::to_string(d.beam_size)},
      {"top-k", "k", "N", "default top-k stored in the model", std::to_string(d.top_k)},
      {"post-processor", "", "PP",
       "default post-processor stored in the model: noop | sigmoid | log-sigmoid | "
       "lP-hinge | log-lP-hinge (P = 1..4)",
       d.post_processor},
      {"pecos-out", "", "DIR", "also export the model in PECOS's folder layout", ""},
      {"labels", "", "FILE",
       "label names, one per line (line k = label k-1; text after a tab ignored); "
       "stored in the model so predictions show names",
       ""},
      {"label-embedding", "", "KIND",
       "labels clustered by: pifa | pifa_lf_concat | pifa_lf_convex_combine (the lf "
       "kinds need --label-features or, with --text, --label-text)",
       "pifa"},
      {"alpha", "", "A", "weight of PIFA in pifa_lf_convex_combine, in [0, 1]", "0.5"},
      {"label-features", "", "FILE",
       "label feature matrix, one row per label (.npz, .xmb or text), for the lf kinds", ""},
  };
}

void LogTrained(const Context& ctx, const XLinearModel& model, const std::string& model_path,
                double train_s, double total_s) {
  std::string shape;
  for (int level = 0; level < model.depth(); ++level) {
    shape += (level ? ", " : "") + std::to_string(model.n_nodes(level));
  }
  Log(ctx, StrFormat("done: %s (depth %d, nodes per level [%s], %d labels, %d features, %lld "
                     "weights); training %.2fs, total %.2fs",
                     model_path.c_str(), model.depth(), shape.c_str(), model.n_labels(),
                     model.n_features(), static_cast<long long>(model.nnz()), train_s, total_s));
}

TrainOptions ParseTrainOptions(const Args& args) {
  TrainOptions opts;
  opts.indexer.nr_splits = IntAtLeast(args, "nr-splits", opts.indexer.nr_splits, 2);
  if ((opts.indexer.nr_splits & (opts.indexer.nr_splits - 1)) != 0) {
    throw UsageError("--nr-splits must be a power of two (2, 4, 8, 16, ...), got " +
                     std::to_string(opts.indexer.nr_splits));
  }
  opts.indexer.max_leaf_size = IntAtLeast(args, "max-leaf-size", opts.indexer.max_leaf_size, 1);
  opts.indexer.kmeans_max_iter =
      IntAtLeast(args, "kmeans-max-iter", opts.indexer.kmeans_max_iter, 1);
  if (args.Has("solver")) {
    opts.solver.type = AsUsage([&] { return ParseSolverType(args.Str("solver")); });
  }
  opts.solver.cp = FloatOpt(args, "cp", opts.solver.cp, true);
  opts.solver.cn = FloatOpt(args, "cn", opts.solver.cn, true);
  opts.solver.eps = FloatOpt(args, "eps", opts.solver.eps, true);
  opts.solver.max_iter = IntAtLeast(args, "max-iter", opts.solver.max_iter, 1);
  opts.solver.threshold = FloatOpt(args, "threshold", opts.solver.threshold, false);
  opts.solver.max_nonzeros_per_label =
      IntAtLeast(args, "max-nonzeros", opts.solver.max_nonzeros_per_label, 0);
  opts.solver.pecos_order = args.Flag("pecos-order");
  opts.bias = FloatOpt(args, "bias", opts.bias, false);
  if (args.Has("neg")) {
    opts.negative_sampling = AsUsage([&] { return ParseNegativeSampling(args.Str("neg")); });
  }
  opts.man_beam_size = IntAtLeast(args, "man-beam", opts.man_beam_size, 1);
  opts.beam_size = IntAtLeast(args, "beam", opts.beam_size, 1);
  opts.top_k = IntAtLeast(args, "top-k", opts.top_k, 1);
  opts.post_processor = CheckedPostProcessor(args.Str("post-processor", opts.post_processor));
  if (args.Has("label-embedding")) {
    opts.label_embedding.kind =
        AsUsage([&] { return ParseLabelEmbeddingKind(args.Str("label-embedding")); });
  }
  opts.label_embedding.alpha = FloatOpt(args, "alpha", opts.label_embedding.alpha, false);
  const bool lf = opts.label_embedding.kind != LabelEmbeddingKind::kPifa;
  if (lf && !args.Has("label-features") && !args.Has("label-text")) {
    throw UsageError(std::string("--label-embedding ") +
                     LabelEmbeddingKindName(opts.label_embedding.kind) +
                     " needs label features: --label-features FILE (or --label-text FILE with "
                     "--text)");
  }
  AsUsage([&] { opts.Validate(); });
  return opts;
}

namespace {

// ----- train -------------------------------------------------------------------------------------

int CmdTrain(int argc, char** argv) {
  Args args("train", "(-d FILE | -x FILE -y FILE | --text FILE) -m MODEL [options]",
            "Builds the label tree (PIFA + hierarchical 2-means) and trains an XR-Linear model,\n"
            "from feature vectors (-d, or -x/-y) or from raw text (--text: TF-IDF features are\n"
            "fitted and saved inside the model, so 'xmr predict --text' takes raw queries).\n"
            "Progress (level, nodes, seconds) goes to stderr; a summary line ends it.",
            Concat(Concat(Concat(DataOptions(), TextTrainOptionSpecs()), CommonOptions()),
                   TrainOptionSpecs()));
  if (!args.Parse(argc, argv, 2)) return 0;
  const std::string model_path = args.Required("model");
  const Context ctx = MakeContext(args);

  const TrainOptions opts = ParseTrainOptions(args);
  if (args.Has("text")) return TrainFromText(args, opts, ctx);

  // Everything that can fail cheaply fails before reading the data and training.
  CheckDataArgs(args, Need::kFeaturesAndLabels);
  CheckOutputFile(model_path);
  if (args.Has("pecos-out")) CheckOutputDir(args.Str("pecos-out"));
  if (args.Has("labels")) CheckInputFile(args.Str("labels"));
  if (args.Has("label-features")) CheckInputFile(args.Str("label-features"));
  if (args.Has("label-text"))
    throw UsageError("--label-text goes with --text; use --label-features");
  if (ctx.device == DeviceKind::kCuda) ResolveDevice(ctx);  // throws without a usable GPU

  Timer total;
  const Dataset ds = LoadData(args, ctx, Need::kFeaturesAndLabels);
  std::vector<std::string> label_names;
  if (args.Has("labels")) {
    label_names = ReadLabelNames(args.Str("labels"));
    XMR_EXPECTS(label_names.size() == static_cast<std::size_t>(ds.y.cols),
                ErrorCode::kInvalidArgument,
                StrFormat("%s: %zu label names, but the data has %d labels",
                          args.Str("labels").c_str(), label_names.size(), ds.y.cols));
  }
  Timer t;
  XLinearModel model;
  if (args.Has("label-features")) {
    const CsrMatrix z = ReadMatrix(args.Str("label-features"));
    model = TrainWithLabelFeatures(ds.x.view(), ds.y.view(), z.view(), opts, ctx);
  } else {
    model = Train(ds.x.view(), ds.y.view(), opts, ctx);
  }
  const double train_s = t.Seconds();
  if (args.Has("labels")) model = WithLabelNames(model, label_names);
  SaveModel(model, model_path);
  if (args.Has("pecos-out")) {
    ExportPecos(model, args.Str("pecos-out"));
    Log(ctx, "exported the model to PECOS folder " + args.Str("pecos-out"));
  }
  LogTrained(ctx, model, model_path, train_s, total.Seconds());
  return 0;
}

// ----- predict -----------------------------------------------------------------------------------

// Sorts each row of a prediction matrix by descending score (ties: smaller label first).
void SortRowsByScore(CsrMatrix* p) {
  std::vector<std::pair<float, Index>> buf;
  for (Index i = 0; i < p->rows; ++i) {
    buf.clear();
    for (Offset q = p->indptr[i]; q < p->indptr[i + 1]; ++q)
      buf.emplace_back(p->data[q], p->indices[q]);
    std::stable_sort(buf.begin(), buf.end(), [](const auto& a, const auto& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    Offset q = p->indptr[i];
    for (const auto& e : buf) {
      p->data[q] = e.first;
      p->indices[q] = e.second;
      ++q;
    }
  }
}

// Prediction text on stdout, in the format of WritePredictionText (shortest float forms).
// Written through stdio rather than by reopening /dev/stdout, so that the output goes where the
// process's stdout points, at its current offset, in order with anything else printed.
void WritePredictionsToStdout(const CsrView& pred) {
  std::string line;
  char num[64];
  for (Index i = 0; i < pred.rows; ++i) {
    line.clear();
    const SparseVecView r = pred.row(i);
    for (Index k = 0; k < r.nnz; ++k) {
      if (k > 0) line += ' ';
      char* p = std::to_chars(num, num + sizeof(num), r.indices[k]).ptr;
      *p++ = ':';
      p = std::to_chars(p, num + sizeof(num), r.data[k]).ptr;
      line.append(num, p);
    }
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size()) CheckStdout();
  }
  CheckStdout();
}

int CmdPredict(int argc, char** argv) {
  Args args(
      "predict", "-m MODEL (-d FILE | -x FILE [-y FILE] | --text FILE | --text-tsv FILE) [options]",
      "Predicts the top-k labels of every input row with a trained model.\n"
      "From raw text (a model trained with --text): --text takes one query per line and writes\n"
      "label ids, names and scores as TSV or JSON lines; --text-tsv takes labelled text and\n"
      "also prints metrics.\n"
      "With -o, predictions go to OUT: .npz = scipy CSR matrix, any other name = text, one line\n"
      "per row of 'label:score' pairs by descending score ('-o -' = text on stdout). Without -o,\n"
      "the text goes to stdout unless the input has labels. If the input has labels, P/R/nDCG/MRR\n"
      "are printed on stdout (on stderr when the predictions go to stdout).",
      Concat(
          Concat(Concat(DataOptions(), TextPredictOptionSpecs()), CommonOptions()),
          {
              {"model", "m", "FILE", "model file (required)", ""},
              {"output", "o", "FILE", "write predictions: .npz, text, or - for stdout", ""},
              {"top-k", "k", "N", "labels per row", "the model's, usually 10"},
              {"beam", "b", "N", "beam size", "the model's, usually 10"},
              {"post-processor", "", "PP",
               "noop | sigmoid | log-sigmoid | lP-hinge | log-lP-hinge (P = 1..4)", "the model's"},
              {"mmap", "", "", "memory-map the model instead of reading it", ""},
          }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const std::string model_path = args.Required("model");
  const Context ctx = MakeContext(args);
  if (args.Has("text") || args.Has("text-tsv")) return PredictFromText(args, ctx);
  if (args.Has("output-format")) {
    throw UsageError("--output-format applies to --text / --text-tsv");
  }
  if (args.Has("beam")) IntAtLeast(args, "beam", 1, 1);
  if (args.Has("top-k")) IntAtLeast(args, "top-k", 1, 1);
  if (args.Has("post-processor")) CheckedPostProcessor(args.Str("post-processor"));
  CheckInputFile(model_path);
  CheckDataArgs(args, Need::kFeatures);
  const std::string out = args.Str("output");
  if (args.Has("output")) CheckOutputFile(out);

  Timer t;
  const XLinearModel model =
      LoadModel(model_path, args.Flag("mmap") ? LoadMode::kMmap : LoadMode::kRead);
  Log(ctx, StrFormat("loaded model in %.2fs: depth %d, %d labels, %d features", t.Seconds(),
                     model.depth(), model.n_labels(), model.n_features()));
  PredictOptions po;
  po.beam_size = args.Int("beam", model.meta().beam_size);
  po.top_k = args.Int("top-k", model.meta().top_k);
  po.post_processor = args.Str("post-processor", "");
  po.Validate();
  Dataset ds = LoadData(args, ctx, Need::kFeatures);
  // A header (or npz shape) may declare more features than the model has; only ids that are
  // actually used must fit.
  if (ds.x.cols > model.n_features()) {
    const std::string input = args.Str("data", args.Str("x"));
    for (Index i = 0; i < ds.x.rows; ++i) {
      for (Offset q = ds.x.indptr[i]; q < ds.x.indptr[i + 1]; ++q) {
        XMR_EXPECTS(ds.x.indices[q] < model.n_features(), ErrorCode::kInvalidArgument,
                    StrFormat("%s: row %d has feature id %d, but the model has only %d "
                              "features (ids 0..%d)",
                              input.c_str(), i + 1, ds.x.indices[q], model.n_features(),
                              model.n_features() - 1));
      }
    }
  }
  ds.x.cols = model.n_features();
  const bool has_labels = ds.y.cols > 0 && ds.y.nnz() > 0;
  if (has_labels && ds.y.cols != model.n_labels()) {
    Log(ctx, StrFormat("warning: the data has %d labels but the model %d; are they the same "
                       "label space?",
                       ds.y.cols, model.n_labels()));
  }
  t.Reset();
  const CsrMatrix pred = Predict(model, ds.x.view(), po, ctx);
  const double secs = t.Seconds();
  Log(ctx, StrFormat("predicted %d rows in %.3fs (%.1f us/row, beam %d, top-%d)", pred.rows, secs,
                     pred.rows ? 1e6 * secs / pred.rows : 0.0, po.beam_size, po.top_k));
  const bool to_stdout = out == "-" || (!args.Has("output") && !has_labels);
  if (to_stdout) {
    WritePredictionsToStdout(pred.view());
  } else if (args.Has("output")) {
    if (EndsWith(out, ".npz"))
      WriteNpz(out, pred.view());
    else
      WritePredictionText(out, pred.view());
    Log(ctx, "wrote " + out);
  }
  if (has_labels) {
    const RankingMetrics m = Evaluate(pred.view(), ds.y.view(), std::max(10, po.top_k));
    if (to_stdout)
      Log(ctx, "metrics: " + m.Summary());
    else
      PrintMetrics(m);
  }
  return 0;
}

// ----- eval --------------------------------------------------------------------------------------

int CmdEval(int argc, char** argv) {
  Args args(
      "eval", "-p PRED (-d FILE | -y FILE) [options]",
      "Scores predictions against the true labels: P@k, R@k, nDCG@k and MRR@k for k = 1, 3, 5, 10\n"
      "(up to -k), then a summary line. Each PRED row is ranked by descending score.",
      Concat(Concat({kDataOpt,
                     {"y", "y", "FILE", "label matrix (.npz, .xmb or text); instead of -d", ""},
                     kFormatOpt},
                    CommonOptions()),
             {
                 {"pred", "p", "FILE", "predictions (.npz or 'label:score' text) (required)", ""},
                 {"top-k", "k", "N", "largest cut-off", "10"},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const std::string pred_path = args.Required("pred");
  const Context ctx = MakeContext(args);
  const int k = IntAtLeast(args, "top-k", 10, 1);
  CheckInputFile(pred_path);
  CheckDataArgs(args, Need::kLabels);
  CsrMatrix pred =
      EndsWith(pred_path, ".npz") ? ReadNpzCsr(pred_path) : ReadPredictionText(pred_path);
  const Dataset ds = LoadData(args, ctx, Need::kLabels);
  XMR_EXPECTS(pred.rows == ds.y.rows, ErrorCode::kInvalidArgument,
              StrFormat("%s has %d rows but %s has %d", pred_path.c_str(), pred.rows,
                        args.Str("data", args.Str("y")).c_str(), ds.y.rows));
  SortRowsByScore(&pred);
  PrintMetrics(Evaluate(pred.view(), ds.y.view(), k));
  return 0;
}

// ----- info --------------------------------------------------------------------------------------

int CmdInfo(int argc, char** argv) {
  Args args("info", "(-m MODEL | --pecos DIR | -d FILE) [options]",
            "Describes a model file (tree shape, weights, stored options), a PECOS model folder, "
            "or a data file.",
            Concat(CommonOptions(), {
                                        {"model", "m", "FILE", "xmr model file", ""},
                                        {"pecos", "", "DIR", "PECOS XR-Linear model folder", ""},
                                        {"data", "d", "FILE", "data file", ""},
                                        kFormatOpt,
                                    }));
  if (!args.Parse(argc, argv, 2)) return 0;
  MakeContext(args);
  const int given = args.Has("model") + args.Has("pecos") + args.Has("data");
  if (given != 1) throw UsageError("give exactly one of -m FILE, --pecos DIR or -d FILE");
  if (args.Has("data")) {
    CheckInputFile(args.Str("data"));
    const Dataset ds = ReadDataFile(args.Str("data"), ParseReadOptions(args));
    const double rows = std::max<double>(1, ds.x.rows);
    std::printf("rows %d\nfeatures %d\nlabels %d\nnnz(X) %lld\nnnz(Y) %lld\n", ds.x.rows, ds.x.cols,
                ds.y.cols, static_cast<long long>(ds.x.nnz()), static_cast<long long>(ds.y.nnz()));
    std::printf("features per row %.2f\nlabels per row %.2f\n", ds.x.nnz() / rows,
                ds.y.nnz() / rows);
    CheckStdout();
    return 0;
  }
  XLinearModel model;
  if (args.Has("model")) {
    CheckInputFile(args.Str("model"));
    model = LoadModel(args.Str("model"));
  } else {
    CheckInputDir(args.Str("pecos"));
    model = ImportPecos(args.Str("pecos"));
  }
  const ModelMeta& m = model.meta();
  std::printf("depth %d\nfeatures %d\nlabels %d\nweights %lld\nbias %g\n", model.depth(),
              model.n_features(), model.n_labels(), static_cast<long long>(model.nnz()), m.bias);
  std::printf("post_processor %s\nbeam_size %d\ntop_k %d\n", m.post_processor.c_str(), m.beam_size,
              m.top_k);
  for (int t = 0; t < model.depth(); ++t) {
    const Index parents = t == 0 ? 1 : model.n_nodes(t - 1);
    std::printf("level %d: %d nodes under %d parents\n", t, model.n_nodes(t), parents);
  }
  if (!m.train_options.empty()) {
    std::string opts = m.train_options;
    while (!opts.empty() && opts.back() == '\n') opts.pop_back();
    std::printf("training options:\n%s\n", opts.c_str());
  }
  for (const std::string& name : model.AttachmentNames()) {
    std::printf("attachment %s: %zu bytes\n", name.c_str(), model.Attachment(name)->size());
  }
  const std::vector<std::string> names = LabelNames(model);
  if (!names.empty()) {
    std::printf("label names: %s", names[0].c_str());
    for (std::size_t i = 1; i < std::min<std::size_t>(names.size(), 5); ++i) {
      std::printf(", %s", names[i].c_str());
    }
    std::printf("%s\n", names.size() > 5 ? ", ..." : "");
  }
  if (const std::string* v = model.Attachment(kVectorizerAttachment)) {
    const TextVectorizer vec = TextVectorizer::Deserialize(*v);
    std::printf("text vectorizer: %d features;", vec.n_features());
    for (const BaseVectorizerOptions& b : vec.options().bases) {
      std::printf(" %s %d-%d", AnalyzerName(b.analyzer), b.ngram_min, b.ngram_max);
    }
    std::printf("\n");
  }
  CheckStdout();
  return 0;
}

// ----- convert -----------------------------------------------------------------------------------

int CmdConvert(int argc, char** argv) {
  Args args(
      "convert", "(DATA -> DATA | MODEL -> PECOS | PECOS -> MODEL) [options]",
      "Converts data or models between formats (data is copied as is unless --normalize).\n"
      "  data:  xmr convert -d in.txt.xz --x-out X.npz --y-out Y.npz   (.npz, .xmb)\n"
      "         xmr convert -x X.npz -y Y.npz -o out.txt               (XMLRepository text)\n"
      "  model: xmr convert -m model.xmr --pecos-out DIR               (to PECOS layout)\n"
      "         xmr convert --pecos-in DIR -m model.xmr                (from PECOS layout)",
      Concat(CommonOptions(),
             {
                 {"data", "d", "FILE", "input data file (features and labels)", ""},
                 {"x", "x", "FILE", "input feature matrix", ""},
                 {"y", "y", "FILE", "input label matrix", ""},
                 kFormatOpt,
                 {"x-out", "", "FILE", "write the features (.npz or .xmb)", ""},
                 {"y-out", "", "FILE", "write the labels (.npz or .xmb)", ""},
                 {"output", "o", "FILE", "write features and labels as XMLRepository text", ""},
                 {"compressed", "", "",
                  "deflate-compress .npz output (PECOS's C++ loader cannot read it)", ""},
                 {"normalize", "", "",
                  "L2-normalise feature rows before writing, as xmr train does (so that PECOS "
                  "trains on exactly what xmr trains on)",
                  ""},
                 {"model", "m", "FILE",
                  "xmr model file (input with --pecos-out, output with --pecos-in)", ""},
                 {"pecos-out", "", "DIR", "export the model to a PECOS folder", ""},
                 {"pecos-in", "", "DIR", "import a PECOS model folder", ""},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  const bool model_mode = args.Has("pecos-in") || args.Has("pecos-out");
  const bool data_mode = args.Has("data") || args.Has("x") || args.Has("y") || args.Has("x-out") ||
                         args.Has("y-out") || args.Has("output");
  if (model_mode && data_mode) {
    throw UsageError("convert either data (-d/-x/-y) or a model (--pecos-in/--pecos-out)");
  }
  if (args.Has("pecos-in") && args.Has("pecos-out")) {
    throw UsageError("give either --pecos-in or --pecos-out, not both");
  }
  if (args.Has("pecos-in")) {
    const std::string model_path = args.Required("model");
    CheckInputDir(args.Str("pecos-in"));
    CheckOutputFile(model_path);
    const XLinearModel model = ImportPecos(args.Str("pecos-in"));
    SaveModel(model, model_path);
    Log(ctx, "imported " + args.Str("pecos-in") + " -> " + model_path);
    return 0;
  }
  if (args.Has("pecos-out")) {
    const std::string model_path = args.Required("model");
    CheckInputFile(model_path);
    CheckOutputDir(args.Str("pecos-out"));
    const XLinearModel model = LoadModel(model_path);
    ExportPecos(model, args.Str("pecos-out"));
    Log(ctx, "exported " + model_path + " -> " + args.Str("pecos-out"));
    return 0;
  }
  if (args.Has("model")) throw UsageError("-m needs --pecos-in or --pecos-out");

  // Data: validate the outputs before reading anything.
  if (!args.Has("x-out") && !args.Has("y-out") && !args.Has("output")) {
    throw UsageError("no output: give --x-out, --y-out or -o");
  }
  for (const char* opt : {"x-out", "y-out"}) {
    if (!args.Has(opt)) continue;
    const std::string path = args.Str(opt);
    if (!EndsWith(path, ".npz") && !EndsWith(path, ".xmb")) {
      throw UsageError(std::string("--") + opt + " must end in .npz or .xmb, got '" + path + "'");
    }
    CheckOutputFile(path);
  }
  if (args.Has("output")) CheckOutputFile(args.Str("output"));
  Dataset ds;
  if (args.Has("data")) {
    if (args.Has("x") || args.Has("y")) throw UsageError("give either -d or -x/-y, not both");
    CheckInputFile(args.Str("data"));
    const ReadOptions ro = ParseReadOptions(args);
    ds = ReadDataFile(args.Str("data"), ro);
  } else if (args.Has("x")) {
    CheckInputFile(args.Str("x"));
    if (args.Has("y")) CheckInputFile(args.Str("y"));
    ds.x = ReadMatrix(args.Str("x"));
    ds.y = args.Has("y") ? ReadMatrix(args.Str("y")) : CsrMatrix::Zeros(ds.x.rows, 0);
    XMR_EXPECTS(ds.y.rows == ds.x.rows, ErrorCode::kInvalidArgument,
                StrFormat("%s has %d rows, but %s has %d", args.Str("y").c_str(), ds.y.rows,
                          args.Str("x").c_str(), ds.x.rows));
  } else {
    throw UsageError("nothing to convert: give -d, -x/-y, -m or --pecos-in");
  }
  if (args.Has("y-out") && ds.y.cols == 0) {
    throw UsageError("--y-out: the input has no labels");
  }
  if (args.Flag("normalize")) NormalizeRowsL2(&ds.x);
  auto write = [&](const std::string& path, const CsrMatrix& m) {
    if (EndsWith(path, ".npz"))
      WriteNpz(path, m.view(), args.Flag("compressed"));
    else
      WriteBinary(path, m.view());
    Log(ctx, StrFormat("wrote %s: %d x %d, %lld nnz", path.c_str(), m.rows, m.cols,
                       static_cast<long long>(m.nnz())));
  };
  if (args.Has("x-out")) write(args.Str("x-out"), ds.x);
  if (args.Has("y-out")) write(args.Str("y-out"), ds.y);
  if (args.Has("output")) {
    WriteXmlRepo(args.Str("output"), ds.x.view(), ds.y.view());
    Log(ctx, StrFormat("wrote %s: %d rows", args.Str("output").c_str(), ds.x.rows));
  }
  return 0;
}

// ----- synth -------------------------------------------------------------------------------------

int CmdSynth(int argc, char** argv) {
  std::string presets;
  for (const std::string& n : SynthPresetNames()) presets += (presets.empty() ? "" : " | ") + n;
  Args args(
      "synth", "--preset NAME -o PREFIX [options]",
      "Generates synthetic XMC data shaped like a standard benchmark: power-law label\n"
      "frequencies, label-dependent topic features plus Zipfian noise, TF-IDF rows "
      "(L2-normalised).\n"
      "Writes PREFIX.train.* and PREFIX.test.*, streamed block by block. Examples:\n"
      "  xmr synth --preset amazon670k --scale 0.05 -o /tmp/a670k        (.txt, XMLRepository)\n"
      "  xmr synth --preset wiki500k --scale 0.01 --format npz -o w5     (X/Y .npz for PECOS)\n"
      "  xmr synth --preset amazon3m --stats --scale 0.01                (shape only, no files)",
      Concat(CommonOptions(),
             {
                 {"preset", "p", "NAME", "data set shape: " + presets, ""},
                 {"scale", "s", "F", "multiply rows (train and test) and labels by F", "1"},
                 {"seed", "", "N", "random seed (same seed, same files)", "1"},
                 {"output", "o", "PREFIX", "output prefix", ""},
                 {"format", "f", "FMTS",
                  "comma-separated: text (.txt), xmb (.X.xmb/.Y.xmb), npz (.X.npz/.Y.npz), all",
                  "text"},
                 {"train-rows", "", "N", "override the number of training rows", ""},
                 {"test-rows", "", "N", "override the number of test rows", ""},
                 {"signal", "", "F", "share of tokens drawn from the row's labels, in [0, 1]", ""},
                 {"stats", "", "",
                  "print the preset's spec and the measured shape of its training split "
                  "(nnz/row, labels/row, label exponent); without -o writes nothing",
                  ""},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  const std::string preset = args.Required("preset");
  const double scale = args.Double("scale", 1.0);
  if (!(scale > 0)) throw UsageError("--scale must be > 0, got '" + args.Str("scale") + "'");
  SynthSpec spec = AsUsage([&] { return SynthPreset(preset, scale); });
  spec.seed = args.UInt64("seed", 1);
  if (args.Has("train-rows")) spec.n_train = IntAtLeast(args, "train-rows", 0, 0);
  if (args.Has("test-rows")) spec.n_test = IntAtLeast(args, "test-rows", 0, 0);
  if (args.Has("signal")) spec.signal = args.Double("signal", spec.signal);
  AsUsage([&] {
    spec.Validate();
    return 0;
  });
  SynthOutput out;
  out.text = false;
  for (std::string rest = args.Str("format", "text"); !rest.empty();) {
    const std::size_t comma = rest.find(',');
    const std::string f = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    if (f == "text" || f == "txt")
      out.text = true;
    else if (f == "xmb")
      out.xmb = true;
    else if (f == "npz")
      out.npz = true;
    else if (f == "all")
      out.text = out.xmb = out.npz = true;
    else
      throw UsageError("--format: expected text, xmb, npz or all, got '" + f + "'");
  }
  if (!args.Has("output") && !args.Flag("stats")) throw UsageError("no output: give -o PREFIX");
  if (args.Flag("stats")) {
    std::printf("%s\n", spec.Describe().c_str());
    const SynthGenerator gen(spec);
    const Index n = std::min<Index>(spec.n_train, 200000);
    const Dataset ds = gen.Generate(SynthSplit::kTrain, 0, n, ctx);
    const DataShape sh = MeasureShape(ds.x.view(), ds.y.view());
    std::printf(
        "measured on %d training rows: nnz/row %.2f (target %.2f), labels/row %.3f (target "
        "%.3f), label exponent %.3f (target %.3f), labels used %d of %d\n",
        n, sh.nnz_per_row, spec.nnz_per_row, sh.labels_per_row, spec.labels_per_row,
        sh.label_exponent, spec.label_exponent, sh.labels_used, spec.n_labels);
    CheckStdout();
  }
  if (args.Has("output")) {
    const std::string prefix = args.Str("output");
    CheckOutputFile(prefix + ".train.txt");
    Timer t;
    const std::vector<std::string> files = WriteSynthetic(spec, prefix, out, ctx);
    for (const std::string& f : files) Log(ctx, "wrote " + f);
    Log(ctx, StrFormat("synth done in %.1f s", t.Seconds()));
  }
  return 0;
}

// ----- main --------------------------------------------------------------------------------------

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"train", CmdTrain, "build the label tree and train a model"},
    {"predict", CmdPredict, "top-k labels for every input row (and metrics if labels are given)"},
    {"eval", CmdEval, "score a prediction file against true labels"},
    {"info", CmdInfo, "describe a model or data file"},
    {"convert", CmdConvert, "convert data (text, npz, xmb) or models (xmr <-> PECOS folder)"},
    {"serve", CmdServe, "answer raw-text queries from stdin, one per line, with latency"},
    {"qac-train", CmdQacTrain, "train a query autocompletion model from a query log"},
    {"qac", CmdQac, "complete a typed prefix given the previous query (or from stdin)"},
    {"synth", CmdSynth, "generate synthetic data shaped like Wiki-500K, Amazon-670K, Amazon-3M"},
};

std::string Usage() {
  std::string s =
      "usage: xmr <command> [options]   (xmr <command> --help for its options)\n\n"
      "eXtreme Multi-label Ranking with XR-Linear trees.\n\ncommands:\n";
  for (const Command& c : kCommands) {
    std::string name = c.name;
    name.resize(10, ' ');
    s += "  " + name + c.summary + "\n";
  }
  s += "\nexample:\n"
       "  xmr train   -d train.txt.xz -m model.xmr\n"
       "  xmr predict -m model.xmr -d test.txt.xz -k 10 -o pred.txt\n"
       "  xmr eval    -p pred.txt -d test.txt.xz\n";
  return s;
}

// Messages may quote file content; keep the error on one line.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return s;
}

void PrintError(const std::string& what) {
  std::fflush(stdout);  // keep stdout output before the message when both go to one place
  std::fprintf(stderr, "xmr %s: %s\n", g_command, OneLine(what).c_str());
}

std::string DescribeError(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInternal:
      return "internal error (a bug in xmr, please report it): " + e.message();
    case ErrorCode::kOutOfMemory:
      return "error: out of memory: " + e.message();
    case ErrorCode::kCuda:
      return "error: CUDA: " + e.message();
    default:
      return "error: " + e.message();
  }
}

// An exception escaping a worker thread would abort (and dump core); report it as an error.
[[noreturn]] void OnTerminate() {
  std::string what = "unknown exception";
  if (std::exception_ptr p = std::current_exception()) {
    try {
      std::rethrow_exception(p);
    } catch (const Error& e) {
      what = DescribeError(e);
    } catch (const std::bad_alloc&) {
      what = "error: out of memory";
    } catch (const std::exception& e) {
      what = std::string("internal error: ") + e.what();
    } catch (...) {
    }
  } else {
    what = "internal error: terminate called";
  }
  PrintError(what);
  std::_Exit(1);
}

int Run(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(Usage().c_str(), stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    if (cmd == "help" && argc > 2) {  // "xmr help train" = "xmr train --help"
      static char help_flag[] = "--help";
      char* help_argv[] = {argv[0], argv[2], help_flag};
      return Run(3, help_argv);
    }
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd != c.name) continue;
    g_command = c.name;
    try {
      const int rc = c.run(argc, argv);
      CheckStdout();
      return rc;
    } catch (const UsageError& e) {
      PrintError(std::string("usage error: ") + e.what() + " (see 'xmr " + c.name + " --help')");
      return 2;
    } catch (const Error& e) {
      PrintError(DescribeError(e));
      return 1;
    } catch (const std::bad_alloc&) {
      PrintError("error: out of memory");
      return 1;
    } catch (const std::exception& e) {
      PrintError(std::string("error: ") + e.what());
      return 1;
    } catch (...) {
      PrintError("error: unknown exception");
      return 1;
    }
  }
  std::string names;
  for (const Command& c : kCommands) names += std::string(names.empty() ? "" : ", ") + c.name;
  std::fprintf(stderr, "xmr: usage error: unknown command '%s' (commands: %s; see 'xmr --help')\n",
               OneLine(cmd).c_str(), names.c_str());
  return 2;
}

}  // namespace
}  // namespace xmr::cli

int main(int argc, char** argv) {
  std::set_terminate(xmr::cli::OnTerminate);
  return xmr::cli::Run(argc, argv);
}
