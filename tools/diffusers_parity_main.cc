// stamina diffusers_parity: loads a diffusers-layout Stable Diffusion
// checkpoint and recomputes every tensor of a reference file that diffusers
// computed for it (core/pipelines/diffusers_parity.h), printing one line per
// tensor ("name max_abs_err") and a last line "parity: ok" or
// "parity: FAILED"; the exit status is non-zero over tolerance.
//
//   bazel run -c opt //tools:diffusers_parity --
//     --checkpoint=testdata/diffusers-tiny-sd/checkpoint
//     --reference=testdata/diffusers-tiny-sd/reference.safetensors
// (one command line).
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "common/process.h"
#include "core/pipelines/diffusers_loader.h"
#include "core/pipelines/diffusers_parity.h"
#include "core/torch_runtime.h"

ABSL_FLAG(std::string, checkpoint, "", "a diffusers-layout checkpoint folder");
ABSL_FLAG(std::string, reference, "",
          "reference.safetensors, with reference.json beside it");
ABSL_FLAG(double, tolerance, 1e-4, "largest absolute error allowed per tensor");
ABSL_FLAG(double, pipeline_tolerance, 1e-3,
          "largest absolute error allowed in the whole pipeline's [0, 1] image");
ABSL_FLAG(int, threads, 0, "LibTorch threads (0: every core)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto runtime =
      stamina::core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "diffusers_parity: %s\n", runtime.status().ToString().c_str());
    return 2;
  }
  const std::string checkpoint = stamina::WorkspacePath(absl::GetFlag(FLAGS_checkpoint));
  const std::string reference = stamina::WorkspacePath(absl::GetFlag(FLAGS_reference));
  if (checkpoint.empty() || reference.empty()) {
    std::fprintf(stderr, "diffusers_parity: --checkpoint and --reference are required\n");
    return 2;
  }
  stamina::core::DiffusersLoadReport report;
  auto model = stamina::core::LoadDiffusersModel(checkpoint, {}, &report);
  if (!model.ok()) {
    std::fprintf(stderr, "diffusers_parity: %s\n", model.status().ToString().c_str());
    return 2;
  }
  std::printf("# %s: text_encoder %zu, unet %zu, vae %zu tensors; scheduler %s; %d threads\n",
              checkpoint.c_str(), report.text_encoder.loaded.size(),
              report.unet.loaded.size(), report.vae.loaded.size(),
              report.scheduler_class.c_str(), runtime->threads);
  auto lines = stamina::core::CheckDiffusersParity(
      *model, reference,
      {.tensors = absl::GetFlag(FLAGS_tolerance),
       .pipeline_image = absl::GetFlag(FLAGS_pipeline_tolerance)});
  if (!lines.ok()) {
    std::fprintf(stderr, "diffusers_parity: %s\n", lines.status().ToString().c_str());
    std::printf("parity: FAILED\n");
    return 1;
  }
  bool ok = !lines->empty();
  for (const auto& line : *lines) {
    std::printf("%s %.3g%s\n", line.name.c_str(), line.max_abs_error,
                line.ok() ? "" : "  (over tolerance)");
    ok = ok && line.ok();
  }
  std::printf("parity: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
