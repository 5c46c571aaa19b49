// GPU training benchmark: the same data and the same tree trained by the CPU solver (all cores)
// and by the CUDA solver, level by level, in one process. Prints per-level times and their
// ratio, the lock-step kernel's time (CUDA events) and estimated bandwidth against the card's
// measured copy bandwidth, Newton-CG time for heavy parents, and P@1/3/5 of both models.
//
//   bench_gpu_train --preset amazon670k --scale 0.1 [--threads 16] [--heavy-rows 16384]
//   bench_gpu_train --train FILE --test FILE
// Without a GPU it says so and exits 2 (it never reports CPU numbers as GPU ones).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/log.h"
#include "train/gpu_plan.h"
#include "train/level_solver.h"
#include "xmr/io.h"
#include "xmr/metrics.h"
#include "xmr/predict.h"
#include "xmr/synth.h"
#include "xmr/train.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: bench_gpu_train (--preset NAME [--scale F] | --train FILE --test FILE)\n"
               "                       [--threads N] [--heavy-rows N] [--json FILE]\n");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace xmr;
  std::string preset, train_path, test_path, json;
  double scale = 0.1;
  int threads = 0;
  long long heavy_rows = detail::kDefaultHeavyRows;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--preset") {
      preset = v;
    } else if (k == "--scale") {
      scale = std::stod(v);
    } else if (k == "--train") {
      train_path = v;
    } else if (k == "--test") {
      test_path = v;
    } else if (k == "--threads") {
      threads = std::stoi(v);
    } else if (k == "--heavy-rows") {
      heavy_rows = std::stoll(v);
    } else if (k == "--json") {
      json = v;
    } else {
      Usage();
      return 2;
    }
  }
  if (preset.empty() == train_path.empty() || train_path.empty() != test_path.empty()) {
    Usage();
    return 2;
  }
  if (CudaDeviceCount() == 0) {
    std::fprintf(stderr, "bench_gpu_train: no CUDA device; nothing to measure\n");
    return 2;
  }
  try {
    Context cpu;
    cpu.device = DeviceKind::kCpu;
    cpu.threads = threads;
    cpu.verbose = 0;
    Context gpu = cpu;
    gpu.device = DeviceKind::kCuda;
    Timer t;
    Dataset train, test;
    std::string name = preset;
    if (!preset.empty()) {
      const SynthSpec spec = SynthPreset(preset, scale);
      name = spec.name;
      train = Synthesize(spec, SynthSplit::kTrain, cpu);
      test = Synthesize(spec, SynthSplit::kTest, cpu);
    } else {
      name = train_path;
      train = ReadDataFile(train_path);
      test = ReadDataFile(test_path);
      NormalizeRowsL2(&train.x);
      NormalizeRowsL2(&test.x);
      test.x.cols = std::max(test.x.cols, train.x.cols);
    }
    std::printf("data %s: %d train rows, %d test rows, %d features, %d labels (%.1f s)\n",
                name.c_str(), train.x.rows, test.x.rows, train.x.cols, train.y.cols, t.Seconds());
    const TrainOptions opts;
    t.Reset();
    const CsrMatrix emb = PifaEmbedding(train.x.view(), train.y.view(), cpu);
    const ClusterChain tree = HierarchicalKMeans(emb.view(), opts.indexer, cpu);
    const double index_s = t.Seconds();
    const double copy_gbs = detail::MeasureGpuCopyBandwidthGBs();

    TrainReport rc, rg;
    auto cpu_solver = MakeCpuLevelSolver(cpu);
    const XLinearModel mc = detail::TrainWithSolver(train.x.view(), train.y.view(), tree, opts, cpu,
                                                    cpu_solver.get(), &rc);
    detail::ResetGpuSolverStats();
    auto gpu_solver = detail::MakeCudaLevelSolver(gpu, heavy_rows);
    const XLinearModel mg = detail::TrainWithSolver(train.x.view(), train.y.view(), tree, opts, gpu,
                                                    gpu_solver.get(), &rg);
    const detail::GpuSolverStats gs = detail::GetGpuSolverStats();
    const RankingMetrics pc = Evaluate(
        Predict(mc, test.x.view(), DefaultPredictOptions(mc), cpu).view(), test.y.view(), 5);
    const RankingMetrics pg = Evaluate(
        Predict(mg, test.x.view(), DefaultPredictOptions(mg), cpu).view(), test.y.view(), 5);

    std::printf("indexing (CPU, shared by both): %.2f s\n", index_s);
    std::printf(
        "| level | nodes | parents | cpu s | gpu s | cpu/gpu |\n|---|---|---|---|---|---|\n");
    for (std::size_t l = 0; l < rc.levels.size() && l < rg.levels.size(); ++l) {
      std::printf("| %zu | %d | %d | %.3f | %.3f | %.1fx |\n", l + 1, rc.levels[l].n_nodes,
                  rc.levels[l].n_parents, rc.levels[l].seconds, rg.levels[l].seconds,
                  rg.levels[l].seconds > 0 ? rc.levels[l].seconds / rg.levels[l].seconds : 0.0);
    }
    const double end_cpu = index_s + rc.train_seconds, end_gpu = index_s + rg.train_seconds;
    std::printf(
        "training: cpu %.2f s, gpu %.2f s (%.1fx); with indexing %.2f s vs %.2f s (%.1fx)\n",
        rc.train_seconds, rg.train_seconds,
        rg.train_seconds > 0 ? rc.train_seconds / rg.train_seconds : 0.0, end_cpu, end_gpu,
        end_gpu > 0 ? end_cpu / end_gpu : 0.0);
    const double gbs = gs.lockstep_ms > 0 ? gs.lockstep_bytes / (gs.lockstep_ms * 1e6) : 0.0;
    std::printf(
        "lock-step kernel: %.1f ms over %lld parents, ~%.0f GB/s estimated = %.0f%% of the "
        "measured copy bandwidth %.0f GB/s; Newton-CG: %.1f ms over %lld heavy parents; "
        "uploads %.1f ms\n",
        gs.lockstep_ms, static_cast<long long>(gs.light_parents), gbs,
        copy_gbs > 0 ? 100.0 * gbs / copy_gbs : 0.0, copy_gbs, gs.newton_ms,
        static_cast<long long>(gs.heavy_parents), gs.upload_ms);
    std::printf("P@1/3/5 cpu %.2f %.2f %.2f | gpu %.2f %.2f %.2f | diff %+.2f %+.2f %+.2f\n",
                pc.precision[0], pc.precision[2], pc.precision[4], pg.precision[0], pg.precision[2],
                pg.precision[4], pg.precision[0] - pc.precision[0],
                pg.precision[2] - pc.precision[2], pg.precision[4] - pc.precision[4]);
    if (!json.empty()) {
      if (FILE* f = std::fopen(json.c_str(), "a")) {
        std::fprintf(f,
                     "{\"name\":\"%s\",\"index_s\":%.3f,\"cpu_train_s\":%.3f,\"gpu_train_s\":%.3f,"
                     "\"lockstep_ms\":%.2f,\"lockstep_gbs\":%.1f,\"copy_gbs\":%.1f,"
                     "\"newton_ms\":%.2f,\"heavy_parents\":%lld,\"cpu_p1\":%.2f,\"cpu_p3\":%.2f,"
                     "\"cpu_p5\":%.2f,\"gpu_p1\":%.2f,\"gpu_p3\":%.2f,\"gpu_p5\":%.2f}\n",
                     name.c_str(), index_s, rc.train_seconds, rg.train_seconds, gs.lockstep_ms, gbs,
                     copy_gbs, gs.newton_ms, static_cast<long long>(gs.heavy_parents),
                     pc.precision[0], pc.precision[2], pc.precision[4], pg.precision[0],
                     pg.precision[2], pg.precision[4]);
        std::fclose(f);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gpu_train: %s\n", e.what());
    return 1;
  }
  return 0;
}
