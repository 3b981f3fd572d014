// bench:sample_batch — would batching Sample requests for the same folded
// model be faster? Times the work of N images of one prompt done the way the
// sampler does it (each image's [uncond, cond] pair through the UNet alone,
// each latent decoded alone) against the same work as one batch (2N rows per
// UNet call, N latents per decode), on the base model, and reports how far
// the batched rows drift from the per-image ones (batched GEMMs round
// differently: the price in determinism).
//
//   bazel run -c opt //bench:sample_batch -- --out=/tmp/bench --threads=2
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/process.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_runtime.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-bench", "Output directory");
ABSL_FLAG(std::string, base_model_dir, "models/stamina-tiny-v1", "Base model to sample");
ABSL_FLAG(std::string, batches, "1,2,4,8", "Images per batch to compare");
ABSL_FLAG(int, steps, 25, "Denoising steps per image");
ABSL_FLAG(int, repeats, 3, "Timed repetitions per setting (median; after one warm-up)");
ABSL_FLAG(int, threads, 2, "LibTorch threads; 0 = all cores");

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Work {
  torch::Tensor noise_predictions;  // [2N, C, h, w] of the last step
  torch::Tensor pixels;             // [N, 3, H, W]
};

// `steps` guided UNet evaluations and one decode of `latents` [N, C, h, w],
// with the rows taken `rows_per_call` images at a time (1: as the sampler
// does; N: one batch). The latents are not updated between steps: the cost
// of a UNet call does not depend on its input values.
Work Run(stamina::core::DiffusionModel& model, const torch::Tensor& latents,
         const torch::Tensor& context, int steps, int64_t rows_per_call) {
  torch::NoGradGuard no_grad;
  const int64_t n = latents.size(0);
  std::vector<torch::Tensor> predictions;
  std::vector<torch::Tensor> pixels;
  for (int64_t start = 0; start < n; start += rows_per_call) {
    const int64_t rows = std::min(rows_per_call, n - start);
    const torch::Tensor part = latents.slice(0, start, start + rows);
    // [uncond × rows, cond × rows], as the pipeline's torch::cat({x, x}).
    const torch::Tensor input = torch::cat({part, part});
    const torch::Tensor contexts = context.repeat_interleave(rows, 0);
    torch::Tensor prediction;
    for (int k = 0; k < steps; ++k) {
      const torch::Tensor t = torch::full({2 * rows}, 999 - 40 * k, torch::kInt64);
      prediction = model.unet->forward(input, t, contexts);
    }
    predictions.push_back(prediction.view({2, rows, -1}));
    pixels.push_back(model.vae->Decode(part / model.config.vae.scaling_factor));
  }
  return {torch::cat(predictions, 1), torch::cat(pixels)};
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto runtime = stamina::core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "error: %s\n", runtime.status().ToString().c_str());
    return 1;
  }
  auto model = stamina::core::LoadDiffusionModel(
      stamina::WorkspacePath(absl::GetFlag(FLAGS_base_model_dir)));
  if (!model.ok()) {
    std::fprintf(stderr, "error: %s\n", model.status().ToString().c_str());
    return 1;
  }
  model->unet->eval();
  model->vae->eval();
  model->text_encoder->eval();
  auto ids = stamina::core::TokenizeBatch(*model->tokenizer, {"", "a photo of a face"});
  if (!ids.ok()) {
    std::fprintf(stderr, "error: %s\n", ids.status().ToString().c_str());
    return 1;
  }
  torch::Tensor context;
  {
    torch::NoGradGuard no_grad;
    context = model->text_encoder->forward(*ids);
  }
  const int steps = absl::GetFlag(FLAGS_steps);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  const int64_t side = model->config.vae.sample_size / model->vae_scale_factor();
  nlohmann::json result = {{"threads", runtime->threads},
                           {"cores", runtime->available_cores},
                           {"steps", steps},
                           {"base_model_dir", absl::GetFlag(FLAGS_base_model_dir)}};
  std::string md = absl::StrFormat(
      "# bench:sample_batch\n\nBase model %s (%lldx%lld latents), %d guided UNet steps + one "
      "decode per image; LibTorch %d threads of %d cores. Median of %d runs.\n\n"
      "| images | per-image images/s | batched images/s | batched / per-image | max abs "
      "difference of batched rows (UNet output, pixels) |\n|---|---|---|---|---|\n",
      absl::GetFlag(FLAGS_base_model_dir), static_cast<long long>(side),
      static_cast<long long>(side), steps, runtime->threads, runtime->available_cores, repeats);
  for (absl::string_view text : absl::StrSplit(absl::GetFlag(FLAGS_batches), ',')) {
    int n = 0;
    if (!absl::SimpleAtoi(text, &n) || n < 1) {
      std::fprintf(stderr, "--batches: \"%s\" is not a positive count\n",
                   std::string(text).c_str());
      return 2;
    }
    at::Generator generator = at::detail::createCPUGenerator(7);
    const torch::Tensor latents =
        torch::randn({n, model->config.unet.in_channels, side, side}, generator);
    std::vector<double> alone_s, batched_s;
    Work alone, batched;
    for (int r = 0; r <= repeats; ++r) {
      auto t0 = Clock::now();
      alone = Run(*model, latents, context, steps, 1);
      auto t1 = Clock::now();
      batched = Run(*model, latents, context, steps, n);
      auto t2 = Clock::now();
      if (r == 0) continue;  // warm-up
      alone_s.push_back(Seconds(t0, t1));
      batched_s.push_back(Seconds(t1, t2));
    }
    const double alone_rate = n / Median(alone_s);
    const double batched_rate = n / Median(batched_s);
    const double unet_diff =
        (alone.noise_predictions - batched.noise_predictions).abs().max().item<double>();
    const double pixel_diff = (alone.pixels - batched.pixels).abs().max().item<double>();
    std::printf(
        "%d images: per-image %.2f images/s, batched %.2f images/s (x%.3f); max abs "
        "difference UNet %.3g, pixels %.3g\n",
        n, alone_rate, batched_rate, batched_rate / alone_rate, unet_diff, pixel_diff);
    result["rows"].push_back({{"images", n},
                              {"per_image_images_per_s", alone_rate},
                              {"batched_images_per_s", batched_rate},
                              {"ratio", batched_rate / alone_rate},
                              {"unet_max_abs_difference", unet_diff},
                              {"pixel_max_abs_difference", pixel_diff}});
    md += absl::StrFormat("| %d | %.2f | %.2f | %.3f | %.3g, %.3g |\n", n, alone_rate, batched_rate,
                          batched_rate / alone_rate, unet_diff, pixel_diff);
  }
  const std::string out = absl::GetFlag(FLAGS_out);
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  std::ofstream(out + "/sample_batch.json") << result.dump(2) << "\n";
  std::ofstream(out + "/sample_batch.md") << md;
  std::printf("wrote %s/sample_batch.json and sample_batch.md\n", out.c_str());
  return 0;
}
