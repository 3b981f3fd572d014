// Trains the attribute oracle on renders and writes it (safetensors), then
// prints its per-attribute accuracy on held-out renders:
//
//   bazel run //core/world:train_oracle -- --steps=2000 --out=/tmp/oracle.st

#include <chrono>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "core/torch_runtime.h"
#include "core/world/oracle.h"
#include "core/world/oracle_training.h"

ABSL_FLAG(int, steps, 2000, "training steps");
ABSL_FLAG(int, batch, 64, "images per step");
ABSL_FLAG(uint64_t, seed, 0, "training seed (weights, scenes, noise)");
ABSL_FLAG(double, lr, 3e-3, "peak AdamW learning rate");
ABSL_FLAG(int, width, 16, "channels of the first conv layer");
ABSL_FLAG(int, threads, 0, "LibTorch intra-op threads (0: all cores)");
ABSL_FLAG(int, eval_count, 2000, "held-out renders to measure accuracy on");
ABSL_FLAG(std::string, out, "", "where to write the oracle (required)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::fprintf(stderr, "error: --out=FILE is required\n");
    return 2;
  }
  auto runtime = stamina::core::ConfigureTorchRuntime(
      {.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "error: %s\n", runtime.status().ToString().c_str());
    return 1;
  }
  stamina::core::OracleTrainingOptions options;
  options.steps = absl::GetFlag(FLAGS_steps);
  options.batch = absl::GetFlag(FLAGS_batch);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.lr = absl::GetFlag(FLAGS_lr);
  options.config.width = absl::GetFlag(FLAGS_width);
  options.progress_every = 100;
  std::printf("training oracle: steps=%d batch=%d width=%d seed=%llu "
              "threads=%d\n",
              options.steps, options.batch, options.config.width,
              static_cast<unsigned long long>(options.seed), runtime->threads);
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  auto oracle = stamina::core::TrainAttributeOracle(
      options, [&](const stamina::core::OracleTrainingProgress& p) {
        std::printf("  step %5d/%d  loss %.4f  %.0fs\n", p.step, p.steps,
                    p.loss, seconds());
        std::fflush(stdout);
      });
  if (!oracle.ok()) {
    std::fprintf(stderr, "error: %s\n", oracle.status().ToString().c_str());
    return 1;
  }
  const double train_seconds = seconds();
  if (auto saved = (*oracle)->Save(out); !saved.ok()) {
    std::fprintf(stderr, "error: %s\n", saved.ToString().c_str());
    return 1;
  }
  auto eval = stamina::core::EvaluateOracle(
      **oracle, stamina::core::HeldOutOracleScenes(
                    options.seed, absl::GetFlag(FLAGS_eval_count)));
  if (!eval.ok()) {
    std::fprintf(stderr, "error: %s\n", eval.status().ToString().c_str());
    return 1;
  }
  std::printf("wrote %s after %.0fs of training (%d threads)\n"
              "held-out accuracy (%d renders):\n",
              out.c_str(), train_seconds, runtime->threads,
              absl::GetFlag(FLAGS_eval_count));
  for (int h = 0; h < stamina::core::kNumOracleHeads; ++h) {
    const auto head = static_cast<stamina::core::OracleHead>(h);
    std::printf("  %-15s %.3f  (n=%d, chance %.3f)\n",
                std::string(stamina::core::HeadName(head)).c_str(),
                eval->Accuracy(head), eval->total[h],
                1.0 / stamina::core::HeadSize(head));
  }
  return 0;
}
