// bench:train_step — where the time of one pretraining step goes, for a base
// model architecture at a batch size: VAE encode, text encoder, UNet forward,
// UNet+text-encoder backward, AdamW step, and a DDIM sampling step. Prints
// median milliseconds over --repeats and images/s, writes JSON + markdown.
//
//   bazel run -c opt //bench:train_step -- --out=/tmp/bench --batch=32
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "ATen/CPUGeneratorImpl.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_runtime.h"
#include "core/world/renderer.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-bench", "Output directory");
ABSL_FLAG(std::string, architecture, "stamina-tiny-v1", "Base model architecture");
ABSL_FLAG(int, batch, 32, "Images per step");
ABSL_FLAG(int, repeats, 5, "Timed repetitions (after one warm-up)");
ABSL_FLAG(int, threads, stamina::core::kIdleCoreThreads,
          "LibTorch threads; -1 (default) = the idle cores at start (cores minus the 1-minute load "
          "average, at least 1: threads sharing a core with a busy process slow down badly); 0 = "
          "all cores");

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto runtime = stamina::core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  auto model = stamina::core::CreateBaseModel(absl::GetFlag(FLAGS_architecture), 1);
  if (!runtime.ok() || !model.ok()) {
    std::fprintf(stderr, "error: %s\n",
                 (!runtime.ok() ? runtime.status() : model.status()).ToString().c_str());
    return 1;
  }
  const int batch = absl::GetFlag(FLAGS_batch);
  std::vector<stamina::core::Image> images;
  std::vector<std::string> captions;
  for (int i = 0; i < batch; ++i) {
    auto sample = stamina::core::PretrainingSample(static_cast<uint64_t>(i));
    images.push_back(sample.image);
    captions.push_back(sample.caption);
  }
  auto ids = stamina::core::TokenizeBatch(*model->tokenizer, captions);
  torch::Tensor pixels = stamina::core::ImagesToTensor(images);
  std::vector<torch::Tensor> params = model->unet->parameters();
  for (const auto& p : model->text_encoder->parameters()) params.push_back(p);
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-4));
  std::map<std::string, std::vector<double>> times;
  for (int r = 0; r <= absl::GetFlag(FLAGS_repeats); ++r) {
    auto t0 = Clock::now();
    torch::Tensor latents;
    {
      torch::NoGradGuard no_grad;
      latents = model->vae->Encode(pixels).Mode() * model->config.vae.scaling_factor;
    }
    auto t1 = Clock::now();
    torch::Tensor context = model->text_encoder->forward(*ids);
    auto t2 = Clock::now();
    torch::Tensor t = torch::randint(0, 1000, {batch}, torch::kInt64);
    torch::Tensor noise = torch::randn_like(latents);
    torch::Tensor predicted = model->unet->forward(latents + noise, t, context);
    torch::Tensor loss = torch::mse_loss(predicted, noise);
    auto t3 = Clock::now();
    optimizer.zero_grad();
    loss.backward();
    auto t4 = Clock::now();
    optimizer.step();
    auto t5 = Clock::now();
    {
      torch::NoGradGuard no_grad;
      model->unet->forward(torch::cat({latents, latents}), torch::cat({t, t}),
                           torch::cat({context, context}).detach());
    }
    auto t6 = Clock::now();
    if (r == 0) continue;  // warm-up
    times["vae_encode_ms"].push_back(Ms(t0, t1));
    times["text_encoder_forward_ms"].push_back(Ms(t1, t2));
    times["unet_forward_ms"].push_back(Ms(t2, t3));
    times["backward_ms"].push_back(Ms(t3, t4));
    times["adamw_step_ms"].push_back(Ms(t4, t5));
    times["train_step_ms"].push_back(Ms(t0, t5));
    times["sampling_step_cfg_ms"].push_back(Ms(t5, t6));
  }
  nlohmann::json result = {{"architecture", absl::GetFlag(FLAGS_architecture)},
                           {"batch", batch},
                           {"threads", runtime->threads},
                           {"cores", runtime->available_cores}};
  std::string md = absl::StrFormat(
      "# Train-step breakdown\n\n%s, batch %d, %d threads of %d cores.\n\n"
      "| part | median ms |\n|---|---|\n",
      absl::GetFlag(FLAGS_architecture), batch, runtime->threads,
      runtime->available_cores);
  for (const auto& [name, values] : times) {
    const double median = Median(values);
    result[name] = median;
    std::printf("%-24s %9.1f ms\n", name.c_str(), median);
    md += absl::StrFormat("| %s | %.1f |\n", name, median);
  }
  const double images_per_s = batch * 1000.0 / Median(times["train_step_ms"]);
  result["train_images_per_s"] = images_per_s;
  std::printf("training: %.1f images/s; sampling: %.1f ms per image per CFG step\n",
              images_per_s, Median(times["sampling_step_cfg_ms"]) / batch);
  md += absl::StrFormat("\nTraining throughput: %.1f images/s.\n", images_per_s);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  std::ofstream(out + "/train_step.json") << result.dump(2) << "\n";
  std::ofstream(out + "/train_step.md") << md;
  return 0;
}
