// xmr: command-line front end. Subcommands train, predict, eval, info, convert.
// Errors print one line "xmr: error: ..." on stderr; exit 1 for bad data/files, 2 for usage.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/log.h"
#include "xmr/context.h"
#include "xmr/error.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/model.h"
#include "xmr/predict.h"
#include "xmr/train.h"

namespace xmr::cli {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<OptionSpec> CommonOptions() {
  return {
      {"threads", "t", "N", "worker threads; 0 = all cores", "0"},
      {"quiet", "q", "", "no progress output on stderr", ""},
      {"verbose", "v", "", "more detail on stderr", ""},
  };
}

std::vector<OptionSpec> DataOptions() {
  return {
      {"data", "d", "FILE",
       "features and labels in one file (XMLRepository or libsvm text; .gz/.xz ok)", ""},
      {"x", "x", "FILE", "feature matrix (.npz, .xmb or text); use with -y", ""},
      {"y", "y", "FILE", "label matrix (.npz, .xmb or text); use with -x", ""},
      {"format", "", "FMT", "text format of -d: auto | xmlrepo | libsvm", "auto"},
      {"no-normalize", "", "", "keep feature rows as read (default: L2-normalise every row)", ""},
  };
}

std::vector<OptionSpec> Concat(std::vector<OptionSpec> a, const std::vector<OptionSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Context MakeContext(const Args& args) {
  Context ctx;
  ctx.threads = args.Int("threads", 0);
  if (ctx.threads < 0) throw UsageError("--threads must be >= 0");
  ctx.verbose = args.Flag("quiet") ? 0 : (args.Flag("verbose") ? 2 : 1);
  if (args.Has("seed")) {
    const double s = args.Double("seed", 0);
    if (s < 0) throw UsageError("--seed must be >= 0");
    ctx.seed = static_cast<std::uint64_t>(s);
  }
  if (args.Has("device")) ctx.device = ParseDeviceKind(args.Str("device"));
  return ctx;
}

// Loads features (and labels if present) from -d or -x/-y. `need_labels`: error without them.
Dataset LoadData(const Args& args, const Context& ctx, bool need_labels) {
  Dataset ds;
  Timer t;
  if (args.Has("data")) {
    if (args.Has("x") || args.Has("y")) throw UsageError("give either -d or -x/-y, not both");
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
    ds = ReadDataFile(args.Str("data"), ro);
  } else if (args.Has("x")) {
    ds.x = ReadMatrix(args.Str("x"));
    if (args.Has("y")) {
      ds.y = ReadMatrix(args.Str("y"));
      XMR_EXPECTS(ds.y.rows == ds.x.rows, ErrorCode::kInvalidArgument,
                  args.Str("y") + ": " + std::to_string(ds.y.rows) + " rows, but " + args.Str("x") +
                      " has " + std::to_string(ds.x.rows));
      std::fill(ds.y.data.begin(), ds.y.data.end(), 1.0f);
    } else {
      ds.y = CsrMatrix::Zeros(ds.x.rows, 0);
    }
  } else {
    throw UsageError("no input: give -d FILE or -x FILE [-y FILE]");
  }
  if (need_labels && ds.y.cols == 0) {
    throw UsageError("labels are required: give -d with a labelled file, or -y");
  }
  if (!args.Flag("no-normalize")) NormalizeRowsL2(&ds.x);
  Log(ctx, StrFormat("read %d rows, %d features (%lld nnz), %d labels (%lld nnz) in %.2fs",
                     ds.x.rows, ds.x.cols, static_cast<long long>(ds.x.nnz()), ds.y.cols,
                     static_cast<long long>(ds.y.nnz()), t.Seconds()));
  return ds;
}

int CmdTrain(int argc, char** argv) {
  TrainOptions d;  // defaults for the help text
  Args args(
      "train", "Builds the label tree and trains an XR-Linear model.",
      Concat(Concat(DataOptions(), CommonOptions()),
             {
                 {"model", "m", "FILE", "output model file (required)", ""},
                 {"seed", "", "N", "random seed", "0"},
                 {"device", "", "DEV", "auto | cpu | cuda", "auto"},
                 {"nr-splits", "", "B", "branching factor of the label tree",
                  std::to_string(d.indexer.nr_splits)},
                 {"max-leaf-size", "", "N", "largest leaf cluster",
                  std::to_string(d.indexer.max_leaf_size)},
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
                 {"neg", "", "NS", "negative sampling: tfn | man | tfn+man", "tfn"},
                 {"man-beam", "", "N", "beam used for matcher-aware negatives",
                  std::to_string(d.man_beam_size)},
                 {"beam", "b", "N", "default beam size stored in the model",
                  std::to_string(d.beam_size)},
                 {"top-k", "k", "N", "default top-k stored in the model", std::to_string(d.top_k)},
                 {"post-processor", "", "PP", "default post-processor stored in the model",
                  d.post_processor},
                 {"pecos-out", "", "DIR", "also export the model in PECOS's folder layout", ""},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const std::string model_path = args.Required("model");
  const Context ctx = MakeContext(args);
  TrainOptions opts;
  opts.indexer.nr_splits = args.Int("nr-splits", opts.indexer.nr_splits);
  opts.indexer.max_leaf_size = args.Int("max-leaf-size", opts.indexer.max_leaf_size);
  opts.indexer.kmeans_max_iter = args.Int("kmeans-max-iter", opts.indexer.kmeans_max_iter);
  if (args.Has("solver")) opts.solver.type = ParseSolverType(args.Str("solver"));
  opts.solver.cp = static_cast<float>(args.Double("cp", opts.solver.cp));
  opts.solver.cn = static_cast<float>(args.Double("cn", opts.solver.cn));
  opts.solver.eps = static_cast<float>(args.Double("eps", opts.solver.eps));
  opts.solver.max_iter = args.Int("max-iter", opts.solver.max_iter);
  opts.solver.threshold = static_cast<float>(args.Double("threshold", opts.solver.threshold));
  opts.solver.max_nonzeros_per_label = args.Int("max-nonzeros", opts.solver.max_nonzeros_per_label);
  opts.bias = static_cast<float>(args.Double("bias", opts.bias));
  if (args.Has("neg")) opts.negative_sampling = ParseNegativeSampling(args.Str("neg"));
  opts.man_beam_size = args.Int("man-beam", opts.man_beam_size);
  opts.beam_size = args.Int("beam", opts.beam_size);
  opts.top_k = args.Int("top-k", opts.top_k);
  opts.post_processor = args.Str("post-processor", opts.post_processor);
  opts.Validate();
  PostProcessor::Parse(opts.post_processor);  // fail before reading data
  Timer total;
  const Dataset ds = LoadData(args, ctx, /*need_labels=*/true);
  Timer t;
  const XLinearModel model = Train(ds.x.view(), ds.y.view(), opts, ctx);
  const double train_s = t.Seconds();
  SaveModel(model, model_path);
  if (args.Has("pecos-out")) ExportPecos(model, args.Str("pecos-out"));
  Log(ctx, StrFormat("trained in %.2fs (total %.2fs): depth %d, %d labels, %lld weights -> %s",
                     train_s, total.Seconds(), model.depth(), model.n_labels(),
                     static_cast<long long>(model.nnz()), model_path.c_str()));
  return 0;
}

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

void PrintMetrics(const RankingMetrics& m) {
  std::printf("rows %d\n", m.n_rows);
  for (const char* name : {"P", "R", "nDCG", "MRR"}) {
    const std::vector<double>& v = std::strcmp(name, "P") == 0      ? m.precision
                                   : std::strcmp(name, "R") == 0    ? m.recall
                                   : std::strcmp(name, "nDCG") == 0 ? m.ndcg
                                                                    : m.mrr;
    std::printf("%-5s", name);
    for (int k : {1, 3, 5, 10}) {
      if (k <= m.max_k) std::printf("  @%-2d %6.2f", k, v[k - 1]);
    }
    std::printf("\n");
  }
  std::printf("%s\n", m.Summary().c_str());
}

int CmdPredict(int argc, char** argv) {
  Args args(
      "predict",
      "Predicts the top-k labels of every input row with a trained model.\n"
      "If the input has labels, P/R/nDCG/MRR are printed as well.",
      Concat(Concat(DataOptions(), CommonOptions()),
             {
                 {"model", "m", "FILE", "model file (required)", ""},
                 {"output", "o", "FILE",
                  "write predictions: .npz = scipy CSR, else text 'label:score ...' lines", ""},
                 {"top-k", "k", "N", "labels per row", "model's (10)"},
                 {"beam", "b", "N", "beam size", "model's (10)"},
                 {"post-processor", "", "PP",
                  "noop | sigmoid | log-sigmoid | lP-hinge | log-lP-hinge (P=1..4)", "model's"},
                 {"mmap", "", "", "memory-map the model instead of reading it", ""},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  Timer t;
  const XLinearModel model =
      LoadModel(args.Required("model"), args.Flag("mmap") ? LoadMode::kMmap : LoadMode::kRead);
  Log(ctx, StrFormat("loaded model in %.2fs: depth %d, %d labels, %d features", t.Seconds(),
                     model.depth(), model.n_labels(), model.n_features()));
  PredictOptions po;
  po.beam_size = args.Int("beam", model.meta().beam_size);
  po.top_k = args.Int("top-k", model.meta().top_k);
  po.post_processor = args.Str("post-processor", "");
  po.Validate();
  if (!po.post_processor.empty()) PostProcessor::Parse(po.post_processor);
  Dataset ds = LoadData(args, ctx, /*need_labels=*/false);
  XMR_EXPECTS(ds.x.cols <= model.n_features(), ErrorCode::kInvalidArgument,
              StrFormat("input has %d features but the model was trained with %d", ds.x.cols,
                        model.n_features()));
  ds.x.cols = model.n_features();
  t.Reset();
  const CsrMatrix pred = Predict(model, ds.x.view(), po, ctx);
  const double secs = t.Seconds();
  Log(ctx, StrFormat("predicted %d rows in %.3fs (%.1f us/row, beam %d, top-%d)", pred.rows, secs,
                     pred.rows ? 1e6 * secs / pred.rows : 0.0, po.beam_size, po.top_k));
  if (args.Has("output")) {
    const std::string out = args.Str("output");
    if (EndsWith(out, ".npz"))
      WriteNpz(out, pred.view());
    else
      WritePredictionText(out, pred.view());
  }
  if (ds.y.cols > 0 && ds.y.nnz() > 0) {
    PrintMetrics(Evaluate(pred.view(), ds.y.view(), std::max(10, po.top_k)));
  } else if (!args.Has("output")) {
    WritePredictionText("/dev/stdout", pred.view());
  }
  return 0;
}

int CmdEval(int argc, char** argv) {
  Args args(
      "eval", "Scores a prediction file against the true labels: P@k, R@k, nDCG@k, MRR@k.",
      Concat(Concat(DataOptions(), CommonOptions()),
             {
                 {"pred", "p", "FILE", "predictions (.npz or 'label:score' text) (required)", ""},
                 {"top-k", "k", "N", "largest cut-off", "10"},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  const int k = args.Int("top-k", 10);
  if (k < 1) throw UsageError("--top-k must be >= 1");
  const Dataset ds = LoadData(args, ctx, /*need_labels=*/true);
  const std::string pred_path = args.Required("pred");
  CsrMatrix pred;
  if (EndsWith(pred_path, ".npz"))
    pred = ReadNpzCsr(pred_path);
  else
    pred = ReadPredictionText(pred_path, ds.y.cols);
  SortRowsByScore(&pred);
  XMR_EXPECTS(
      pred.rows == ds.y.rows, ErrorCode::kInvalidArgument,
      StrFormat("%s has %d rows but the data has %d", pred_path.c_str(), pred.rows, ds.y.rows));
  PrintMetrics(Evaluate(pred.view(), ds.y.view(), k));
  return 0;
}

int CmdInfo(int argc, char** argv) {
  Args args("info", "Describes a model file (or a PECOS model folder, or a data file).",
            Concat(CommonOptions(), {
                                        {"model", "m", "FILE", "xmr model file", ""},
                                        {"pecos", "", "DIR", "PECOS XR-Linear model folder", ""},
                                        {"data", "d", "FILE", "data file", ""},
                                    }));
  if (!args.Parse(argc, argv, 2)) return 0;
  if (args.Has("data")) {
    const Dataset ds = ReadDataFile(args.Str("data"));
    std::printf("rows %d\nfeatures %d\nlabels %d\nnnz(X) %lld\nnnz(Y) %lld\n", ds.x.rows, ds.x.cols,
                ds.y.cols, static_cast<long long>(ds.x.nnz()), static_cast<long long>(ds.y.nnz()));
    return 0;
  }
  XLinearModel model;
  if (args.Has("model"))
    model = LoadModel(args.Str("model"));
  else if (args.Has("pecos"))
    model = ImportPecos(args.Str("pecos"));
  else
    throw UsageError("give -m FILE, --pecos DIR or -d FILE");
  const ModelMeta& m = model.meta();
  std::printf("depth %d\nfeatures %d\nlabels %d\nweights %lld\nbias %g\n", model.depth(),
              model.n_features(), model.n_labels(), static_cast<long long>(model.nnz()), m.bias);
  std::printf("post_processor %s\nbeam_size %d\ntop_k %d\n", m.post_processor.c_str(), m.beam_size,
              m.top_k);
  for (int t = 0; t < model.depth(); ++t) {
    const Index parents = t == 0 ? 1 : model.n_nodes(t - 1);
    std::printf("level %d: %d nodes under %d parents\n", t, model.n_nodes(t), parents);
  }
  if (!m.train_options.empty()) std::printf("training options:\n%s\n", m.train_options.c_str());
  return 0;
}

int CmdConvert(int argc, char** argv) {
  Args args(
      "convert",
      "Converts data or models between formats.\n"
      "  data:  xmr convert -d in.txt.xz --x-out X.npz --y-out Y.npz   (.npz, .xmb)\n"
      "         xmr convert -x X.npz -y Y.npz -o out.txt               (XMLRepository text)\n"
      "  model: xmr convert -m model.xmr --pecos-out DIR               (to PECOS layout)\n"
      "         xmr convert --pecos-in DIR -m model.xmr                (from PECOS layout)",
      Concat(CommonOptions(),
             {
                 {"data", "d", "FILE", "input data file (features and labels)", ""},
                 {"x", "x", "FILE", "input feature matrix", ""},
                 {"y", "y", "FILE", "input label matrix", ""},
                 {"format", "", "FMT", "text format of -d: auto | xmlrepo | libsvm", "auto"},
                 {"x-out", "", "FILE", "write the features (.npz or .xmb)", ""},
                 {"y-out", "", "FILE", "write the labels (.npz or .xmb)", ""},
                 {"output", "o", "FILE", "write features and labels as XMLRepository text", ""},
                 {"compressed", "", "",
                  "deflate-compress .npz output (PECOS's C++ loader cannot read it)", ""},
                 {"model", "m", "FILE",
                  "xmr model file (input with --pecos-out, output with --pecos-in)", ""},
                 {"pecos-out", "", "DIR", "export the model to a PECOS folder", ""},
                 {"pecos-in", "", "DIR", "import a PECOS model folder", ""},
             }));
  if (!args.Parse(argc, argv, 2)) return 0;
  const Context ctx = MakeContext(args);
  if (args.Has("pecos-in")) {
    const XLinearModel model = ImportPecos(args.Str("pecos-in"));
    SaveModel(model, args.Required("model"));
    Log(ctx, "imported " + args.Str("pecos-in") + " -> " + args.Str("model"));
    return 0;
  }
  if (args.Has("pecos-out")) {
    const XLinearModel model = LoadModel(args.Required("model"));
    ExportPecos(model, args.Str("pecos-out"));
    Log(ctx, "exported " + args.Str("model") + " -> " + args.Str("pecos-out"));
    return 0;
  }
  Dataset ds;
  if (args.Has("data")) {
    ReadOptions ro;
    const std::string fmt = args.Str("format", "auto");
    if (fmt == "xmlrepo")
      ro.format = TextFormat::kXmlRepo;
    else if (fmt == "libsvm" || fmt == "svmlight")
      ro.format = TextFormat::kSvmLight;
    else if (fmt != "auto")
      throw UsageError("--format must be auto, xmlrepo or libsvm");
    ds = ReadDataFile(args.Str("data"), ro);
  } else if (args.Has("x")) {
    ds.x = ReadMatrix(args.Str("x"));
    ds.y = args.Has("y") ? ReadMatrix(args.Str("y")) : CsrMatrix::Zeros(ds.x.rows, 0);
  } else {
    throw UsageError("nothing to convert: give -d, -x/-y, -m or --pecos-in");
  }
  auto write = [&](const std::string& path, const CsrMatrix& m) {
    if (EndsWith(path, ".npz"))
      WriteNpz(path, m.view(), args.Flag("compressed"));
    else if (EndsWith(path, ".xmb"))
      WriteBinary(path, m.view());
    else
      throw UsageError(path + ": output must end in .npz or .xmb");
  };
  bool wrote = false;
  if (args.Has("x-out")) {
    write(args.Str("x-out"), ds.x);
    wrote = true;
  }
  if (args.Has("y-out")) {
    write(args.Str("y-out"), ds.y);
    wrote = true;
  }
  if (args.Has("output")) {
    WriteXmlRepo(args.Str("output"), ds.x.view(), ds.y.view());
    wrote = true;
  }
  if (!wrote) throw UsageError("no output: give --x-out, --y-out or -o");
  return 0;
}

const char kUsage[] =
    "usage: xmr <command> [options]   (xmr <command> --help for its options)\n\n"
    "eXtreme Multi-label Ranking with XR-Linear trees.\n\n"
    "commands:\n"
    "  train     build the label tree and train a model\n"
    "  predict   top-k labels for every input row (and metrics if labels are given)\n"
    "  eval      score a prediction file against true labels\n"
    "  info      describe a model or data file\n"
    "  convert   convert data (text, npz, xmb) or models (xmr <-> PECOS folder)\n";

}  // namespace
}  // namespace xmr::cli

int main(int argc, char** argv) {
  using namespace xmr::cli;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "train") return CmdTrain(argc, argv);
    if (cmd == "predict") return CmdPredict(argc, argv);
    if (cmd == "eval") return CmdEval(argc, argv);
    if (cmd == "info") return CmdInfo(argc, argv);
    if (cmd == "convert") return CmdConvert(argc, argv);
    std::fprintf(stderr, "xmr: error: unknown command '%s'\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "xmr %s: usage error: %s (see 'xmr %s --help')\n", cmd.c_str(), e.what(),
                 cmd.c_str());
    return 2;
  } catch (const xmr::Error& e) {
    std::fprintf(stderr, "xmr %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "xmr %s: error: out of memory\n", cmd.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "xmr %s: error: %s\n", cmd.c_str(), e.what());
    return 1;
  }
}
