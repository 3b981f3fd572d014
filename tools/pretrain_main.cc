// stamina-pretrain: trains the built-in base model on the synthetic world
// (core/training/pretraining.h) and writes it to --out/model. Resumable:
// rerun the same command after an interruption (Ctrl-C writes a checkpoint)
// and it continues where it stopped, producing the same weights as an
// uninterrupted run.
//
//   bazel run -c opt //tools:pretrain -- --out=/tmp/stamina-pretrain
//   cp /tmp/stamina-pretrain/model/* models/stamina-tiny-v1/   (to ship it)
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/progress_bar.h"
#include "core/torch_runtime.h"
#include "core/training/pretraining.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-pretrain", "Checkpoints and the model");
ABSL_FLAG(std::string, architecture, "stamina-tiny-v1", "Base model architecture");
ABSL_FLAG(uint64_t, seed, 1, "Seed of everything random");
ABSL_FLAG(int, vae_steps, 2000, "Autoencoder steps");
ABSL_FLAG(int, diffusion_steps, 4000, "Text encoder + UNet steps");
ABSL_FLAG(int, decoder_steps, 1500, "VAE decoder fine-tuning steps (encoder frozen)");
ABSL_FLAG(int, batch_size, 32, "Images per step");
ABSL_FLAG(int, checkpoint_every, 200, "Steps between checkpoints");
ABSL_FLAG(int, threads, 0, "LibTorch threads; 0 = all cores");

namespace {
std::atomic<bool> stop_requested{false};
void OnSignal(int) { stop_requested = true; }
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> command(argv, argv + argc);
  absl::ParseCommandLine(argc, argv);
  auto runtime = stamina::core::ConfigureTorchRuntime(
      {.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "stamina-pretrain: %s\n", runtime.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "stamina-pretrain: %d threads, BLAS %s\n", runtime->threads,
               runtime->blas_library.c_str());
  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);

  stamina::core::PretrainingOptions options;
  options.out_dir = absl::GetFlag(FLAGS_out);
  options.architecture = absl::GetFlag(FLAGS_architecture);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.vae_steps = absl::GetFlag(FLAGS_vae_steps);
  options.diffusion_steps = absl::GetFlag(FLAGS_diffusion_steps);
  options.decoder_steps = absl::GetFlag(FLAGS_decoder_steps);
  options.batch_size = absl::GetFlag(FLAGS_batch_size);
  options.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  options.command_line = absl::StrJoin(command, " ");

  stamina::cli::ProgressBar bar(std::cerr, {.tty = isatty(2) != 0});
  std::string phase;
  double phase_start = 0;
  int phase_first_step = 0;
  absl::Status status = stamina::core::RunPretraining(
      options,
      [&](const stamina::core::PretrainingProgress& p) {
        if (p.phase != phase) {  // rates are per phase, from its first step
          phase = p.phase;
          phase_start = p.seconds;
          phase_first_step = p.step;
        }
        const double elapsed = p.seconds - phase_start;
        const double rate =
            elapsed > 0 ? (p.step - phase_first_step) / elapsed : 0;
        const double eta = rate > 0 ? (p.total_steps - p.step) / rate : 0;
        bar.Update(static_cast<double>(p.step) / p.total_steps,
                   absl::StrFormat("%s %d/%d loss %.4f  %.2f steps/s  ETA %.0f min",
                                   p.phase, p.step, p.total_steps, p.loss, rate,
                                   eta / 60));
      },
      &stop_requested);
  bar.Finish(1.0, status.ok() ? "done" : "stopped");
  if (!status.ok()) {
    std::fprintf(stderr, "stamina-pretrain: %s\n", status.ToString().c_str());
    return absl::IsCancelled(status) ? 130 : 1;
  }
  std::printf("model written to %s/model\n", options.out_dir.c_str());
  return 0;
}
