// bench:diffusers_cost — what Stable Diffusion costs on this CPU, so users
// of diffusers-layout checkpoints know before they start: for the fixture
// checkpoint (testdata/diffusers-tiny-sd) and for SD 1.5's architecture with
// random weights (timing only, no quality claim), the median milliseconds
// of a text-encoder pass, one UNet step (batch 1, and the CFG batch of 2),
// a VAE decode, and for the fixture the whole 25-step CFG pipeline. fp32.
// Prints a table; writes JSON + markdown.
//
//   bazel run -c opt //bench:diffusers_cost -- --out=bench/results/diffusers-cost
#include <algorithm>
#include <filesystem>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "common/process.h"
#include "core/pipelines/diffusers_loader.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_runtime.h"
#include "nlohmann/json.hpp"
#include "torch/torch.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-bench/diffusers-cost", "Output directory");
ABSL_FLAG(std::string, checkpoint, "testdata/diffusers-tiny-sd/checkpoint",
          "A diffusers-layout checkpoint to time");
ABSL_FLAG(bool, sd15, true, "Also time SD 1.5's architecture (random weights, ~4.3 GB)");
ABSL_FLAG(int, repeats, 3, "Timed repetitions (after one warm-up)");
ABSL_FLAG(int, threads, 0, "LibTorch threads; 0 = all cores");

namespace {

using Clock = std::chrono::steady_clock;
using stamina::core::DiffusionModel;

double MedianMs(int repeats, const std::function<void()>& run) {
  run();  // warm-up
  std::vector<double> ms;
  for (int r = 0; r < repeats; ++r) {
    const auto start = Clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

struct Row {
  std::string model, part;
  double ms;
};

// Times the networks of `model` at its native size.
void TimeNetworks(const std::string& name, DiffusionModel& model, int repeats,
                  std::vector<Row>& rows) {
  torch::NoGradGuard no_grad;
  model.text_encoder->eval();
  model.unet->eval();
  model.vae->eval();
  const auto& config = model.config;
  const int64_t side = config.unet.sample_size;
  const torch::Tensor ids =
      torch::zeros({2, config.text_encoder.max_position_embeddings}, torch::kInt64);
  torch::Tensor context;
  rows.push_back({name, "text encoder, 2 prompts",
                  MedianMs(repeats, [&] { context = model.text_encoder->forward(ids); })});
  for (int64_t batch : {1, 2}) {
    const torch::Tensor latents = torch::randn({batch, config.unet.in_channels, side, side});
    const torch::Tensor t = torch::full({batch}, 500, torch::kInt64);
    const torch::Tensor states = context.slice(0, 0, batch);
    rows.push_back({name, absl::StrFormat("UNet step, batch %d (%dx%d latent)", batch, side, side),
                    MedianMs(repeats, [&] { model.unet->forward(latents, t, states); })});
  }
  const torch::Tensor z = torch::randn({1, config.vae.latent_channels, side, side});
  rows.push_back({name,
                  absl::StrFormat("VAE decode, 1 image (%dx%d)", side * model.vae_scale_factor(),
                                  side * model.vae_scale_factor()),
                  MedianMs(repeats, [&] { model.vae->Decode(z); })});
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto runtime = stamina::core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) {
    std::fprintf(stderr, "error: %s\n", runtime.status().ToString().c_str());
    return 1;
  }
  const int repeats = absl::GetFlag(FLAGS_repeats);
  std::vector<Row> rows;
  const std::string checkpoint = stamina::WorkspacePath(absl::GetFlag(FLAGS_checkpoint));
  auto fixture = stamina::core::LoadDiffusersModel(checkpoint);
  if (!fixture.ok()) {
    std::fprintf(stderr, "error: %s\n", fixture.status().ToString().c_str());
    return 1;
  }
  TimeNetworks("fixture", *fixture, repeats, rows);
  stamina::core::TextToImageRequest request{.prompt = "a photo of a cat", .steps = 25};
  rows.push_back({"fixture", "whole pipeline, 25 DDIM steps, CFG, 1 image",
                  MedianMs(repeats, [&] {
                    (void)stamina::core::GenerateImages(*fixture, request);
                  })});
  if (absl::GetFlag(FLAGS_sd15)) {
    stamina::core::DiffusionModelConfig config;
    config.text_encoder = stamina::core::CLIPTextConfig::StableDiffusion15();
    config.unet = stamina::core::UNet2DConditionModelConfig::StableDiffusion15();
    config.vae = stamina::core::AutoencoderKLConfig::StableDiffusion15();
    // Any tokenizer of <= 77 positions serves for timing: the fixture's.
    auto sd15 = stamina::core::CreateDiffusionModel(config, fixture->tokenizer, 1);
    if (!sd15.ok()) {
      std::fprintf(stderr, "error: %s\n", sd15.status().ToString().c_str());
      return 1;
    }
    TimeNetworks("SD 1.5 (random weights)", *sd15, repeats, rows);
  }
  const std::string out = absl::GetFlag(FLAGS_out);
  std::filesystem::create_directories(out);
  nlohmann::json json = {{"threads", runtime->threads},
                         {"cores", runtime->available_cores},
                         {"blas", runtime->blas_library},
                         {"repeats", repeats},
                         {"dtype", "float32"},
                         {"rows", nlohmann::json::array()}};
  std::string md = absl::StrFormat(
      "# What Stable Diffusion costs on this CPU\n\n"
      "fp32, %d LibTorch threads of %d cores, BLAS %s; median of %d runs after a "
      "warm-up (`bazel run -c opt //bench:diffusers_cost`). The fixture is "
      "testdata/diffusers-tiny-sd (SD 1.5's blocks at toy width); SD 1.5 is its "
      "architecture with random weights: timing only.\n\n"
      "| model | part | median ms |\n|---|---|---|\n",
      runtime->threads, runtime->available_cores, runtime->blas_library, repeats);
  for (const Row& row : rows) {
    std::printf("%-26s %-44s %10.1f ms\n", row.model.c_str(), row.part.c_str(), row.ms);
    json["rows"].push_back({{"model", row.model}, {"part", row.part}, {"median_ms", row.ms}});
    md += absl::StrFormat("| %s | %s | %.1f |\n", row.model, row.part, row.ms);
  }
  std::ofstream(out + "/cost.json") << json.dump(2) << "\n";
  std::ofstream(out + "/cost.md") << md;
  std::printf("wrote %s/cost.{json,md}\n", out.c_str());
  return 0;
}
