// bench:concept_step — what one concept costs on a device, through the
// product's own path: a base model placed with --device/--compute_dtype,
// TrainConcept (STAMINA adapters, the service's defaults) at each --batches
// size, then 25-step CFG sampling of the base model and of the model with
// the trained concept folded in. Prints and writes JSON + markdown: seconds
// per step, images/s, seconds per 1,000-image concept, seconds per sampled
// image, folded/base sampling ratio; and (--unet_only) the UNet-only step
// that tools/gpu/eager_unet.py times in PyTorch eager, with TFLOP/s against
// --peak_tflops, for a like-for-like ratio. Synthetic (random) images at the
// model's resolution: timing only. --architecture=sd15 is SD 1.5's
// networks with random weights (~4.3 GB fp32): the GPU benchmark of issue
// #19 (tools/gpu/run.sh); the tiny default runs anywhere.
//
//   bazel run -c opt //bench:concept_step -- --out=/tmp/concept-step
//   build/bench/concept_step --architecture=sd15 --device=cuda --batches=1,4,8
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "core/adapters/adapter_artifact.h"
#include "core/adapters/concept_adapter.h"
#include "core/compute_device.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/tokenizers/word_tokenizer.h"
#include "core/torch_runtime.h"
#include "core/torch_status.h"
#include "core/training/concept_trainer.h"
#include "core/world/renderer.h"
#include "nlohmann/json.hpp"
#include "torch/cuda.h"
#include "torch/torch.h"

ABSL_FLAG(std::string, out, "/tmp/stamina-bench/concept-step", "Output directory");
ABSL_FLAG(std::string, architecture, "stamina-tiny-v1",
          "stamina-tiny-v1, stamina-test-tiny, or sd15 (SD 1.5's networks, random weights)");
ABSL_FLAG(std::string, device, "auto", "auto, cpu, cuda, cuda:N");
ABSL_FLAG(std::string, compute_dtype, "auto", "auto, fp32, bf16, fp16");
ABSL_FLAG(std::vector<std::string>, batches, std::vector<std::string>({"1", "4"}),
          "Training batch sizes to time");
ABSL_FLAG(int, steps, 12, "Training steps per batch size; the first --warmup are not timed");
ABSL_FLAG(int, warmup, 2, "Untimed training steps");
ABSL_FLAG(int, sample_steps, 25, "Denoising steps of each sampled image (CFG 7.5)");
ABSL_FLAG(int, samples, 2, "Images sampled (timed) from the base and from the folded model");
ABSL_FLAG(int, threads, 0, "LibTorch CPU threads; 0 = all cores");
ABSL_FLAG(bool, unet_only, true,
          "Also time the UNet-only training step (tools/gpu/eager_unet.py's step, for the ratio)");
ABSL_FLAG(double, unet_forward_gflop, 0,
          "GFLOP of one UNet forward per image, for TFLOP/s; 0 = 804 for sd15 (issue #19's count "
          "at 64x64 latents), none otherwise");
ABSL_FLAG(double, peak_tflops, 802,
          "The device's peak TFLOP/s in the compute dtype (802: the H200's bf16 8192^3 matmul, "
          "measured in issue #19)");

namespace {

namespace core = stamina::core;
using Clock = std::chrono::steady_clock;

void Fail(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "error: %s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

void Synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

absl::StatusOr<core::DiffusionModel> BuildModel(const std::string& architecture) {
  if (architecture != "sd15") return core::CreateBaseModel(architecture, 1);
  core::DiffusionModelConfig config;
  config.text_encoder = core::CLIPTextConfig::StableDiffusion15();
  config.unet = core::UNet2DConditionModelConfig::StableDiffusion15();
  config.vae = core::AutoencoderKLConfig::StableDiffusion15();
  auto tokenizer = core::WordTokenizer::Create(
      core::CaptionVocabulary(), static_cast<int>(config.text_encoder.max_position_embeddings));
  if (!tokenizer.ok()) return tokenizer.status();
  return core::CreateDiffusionModel(config, std::shared_ptr<core::Tokenizer>(std::move(*tokenizer)),
                                    1);
}

std::vector<core::Image> RandomImages(int count, int side) {
  std::mt19937 random(7);
  std::vector<core::Image> images;
  for (int i = 0; i < count; ++i) {
    core::Image image(side, side);
    for (uint8_t& value : image.pixels) value = static_cast<uint8_t>(random() & 0xff);
    images.push_back(std::move(image));
  }
  return images;
}

// Seconds per image of `count` sampled images (after one untimed image).
double SampleSeconds(core::DiffusionModel& model, int steps, int count) {
  const core::TextToImageRequest request{
      .prompt = "a photo of <c>", .steps = steps, .guidance_scale = 7.5f, .seed = 1};
  Fail(core::GenerateImages(model, {.prompt = "warm up", .steps = 2, .seed = 0}).status(),
       "warm-up sample");
  Synchronize(core::ModelDevice(model));
  const auto start = Clock::now();
  core::TextToImageRequest timed = request;
  timed.count = count;
  Fail(core::GenerateImages(model, timed).status(), "sampling");
  Synchronize(core::ModelDevice(model));
  return std::chrono::duration<double>(Clock::now() - start).count() / count;
}

// Seconds per UNet-only training step at `batch`, as tools/gpu/eager_unet.py
// times it: the concept's adapters attached (STAMINA's masked LoRA on the
// cross-attention K/V, mask MLP included), random latents and text states,
// noise at random timesteps, forward under the model's autocast, MSE,
// backward, AdamW on the adapter's factors and mask. No VAE, no text
// encoder, no regularization: the part the UNet's size makes expensive.
double UnetStepSeconds(core::DiffusionModel& model, const core::AdapterConfig& config, int batch,
                       int steps, int warmup) {
  auto state = core::ContinualState::Create(model.unet, config.targets);
  Fail(state.status(), "continual state");
  auto adapter = core::ConceptAdapter::Create(model, *state, {.config = config, .token = "<u>"});
  Fail(adapter.status(), "attaching the adapter");
  std::vector<torch::Tensor> frozen;
  for (torch::Tensor& p : model.unet->parameters()) {
    if (p.requires_grad()) frozen.push_back(p.requires_grad_(false));
  }
  std::vector<torch::Tensor> trained = (*adapter)->LoraParameters();
  for (const torch::Tensor& p : (*adapter)->MaskParameters()) trained.push_back(p);
  const torch::Device device = core::ModelDevice(model);
  const core::UNet2DConditionModelConfig& unet = model.unet->config();
  double seconds = 0;
  Fail(core::RunTorchVoid([&] {
         torch::optim::AdamW optimizer(trained, torch::optim::AdamWOptions(1e-4));
         const auto on_device = torch::TensorOptions().device(device);
         const int64_t side = unet.sample_size;
         const torch::Tensor latents =
             torch::randn({batch, unet.in_channels, side, side}, on_device);
         const torch::Tensor context = torch::randn(
             {batch, model.config.text_encoder.max_position_embeddings, unet.cross_attention_dim},
             on_device);
         Clock::time_point start;
         for (int step = 0; step < warmup + steps; ++step) {
           if (step == warmup) {
             Synchronize(device);
             start = Clock::now();
           }
           const torch::Tensor t = torch::randint(0, 1000, {batch}, on_device.dtype(torch::kLong));
           const torch::Tensor noise = torch::randn_like(latents);
           torch::Tensor predicted;
           {
             core::AutocastScope autocast(model.compute);
             predicted = model.unet->forward(latents + noise, t, context);
           }
           const torch::Tensor loss = torch::mse_loss(predicted.to(torch::kFloat32), noise);
           optimizer.zero_grad();
           loss.backward();
           optimizer.step();
         }
         Synchronize(device);
         seconds = std::chrono::duration<double>(Clock::now() - start).count() / steps;
       }),
       "UNet step");
  for (torch::Tensor& p : frozen) p.requires_grad_(true);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  auto runtime = core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  Fail(runtime.status(), "torch runtime");
  auto compute =
      core::ParseComputeOptions(absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_compute_dtype));
  Fail(compute.status(), "--device/--compute_dtype");
  const std::string architecture = absl::GetFlag(FLAGS_architecture);
  auto model = BuildModel(architecture);
  Fail(model.status(), "model");
  Fail(core::PlaceModel(*model, *compute), "placing the model");
  std::string device_description = core::DeviceName(compute->device);
  for (const core::DeviceInfo& info : core::AvailableDevices()) {
    if (info.name == device_description) device_description += " (" + info.description + ")";
  }
  const int side = static_cast<int>(model->config.vae.sample_size);
  const int steps = absl::GetFlag(FLAGS_steps);
  const int warmup = std::min(absl::GetFlag(FLAGS_warmup), steps - 1);
  std::printf("concept_step: %s on %s, compute %s, %d threads; %dx%d images\n",
              architecture.c_str(), device_description.c_str(),
              core::ComputeDtypeName(compute->compute_dtype).c_str(), runtime->threads, side, side);

  nlohmann::json result = {{"architecture", architecture},
                           {"device", device_description},
                           {"compute_dtype", core::ComputeDtypeName(compute->compute_dtype)},
                           {"threads", runtime->threads},
                           {"cores", runtime->available_cores},
                           {"image_side", side},
                           {"training_steps", steps},
                           {"warmup_steps", warmup}};
  std::string md = absl::StrFormat(
      "# bench:concept_step\n\n%s on %s, compute %s, %d LibTorch threads of %d cores; "
      "%dx%d synthetic images; STAMINA defaults; %d steps per batch size, the first %d "
      "untimed.\n\n| batch | s/step | images/s | s per 1,000-image concept |\n|---|---|---|---|\n",
      architecture, device_description, core::ComputeDtypeName(compute->compute_dtype),
      runtime->threads, runtime->available_cores, side, side, steps, warmup);

  const core::AdapterConfig config = core::DefaultAdapterConfig(core::AdapterMethod::kStamina);
  core::AdapterArtifact artifact;
  for (const std::string& batch_text : absl::GetFlag(FLAGS_batches)) {
    const int batch = std::stoi(batch_text);
    auto state = core::ContinualState::Create(model->unet, config.targets);
    Fail(state.status(), "continual state");
    core::ConceptTrainingRequest request;
    request.adapter = {.config = config, .token = "<c>", .seed = 3};
    request.images = RandomImages(std::max(4, batch), side);
    request.training.steps = steps;
    request.training.batch_size = batch;
    double at_warmup = 0, at_end = 0;
    auto trained = core::TrainConcept(*model, *state, request,
                                      [&](const core::ConceptTrainingProgress& progress) {
                                        // loss.item() each step synchronizes the device.
                                        if (progress.step == warmup) at_warmup = progress.seconds;
                                        at_end = progress.seconds;
                                      });
    Fail(trained.status(), "training");
    artifact = trained->artifact;
    const double per_step = (at_end - at_warmup) / (steps - warmup);
    const double images_per_s = batch / per_step;
    std::printf("batch %2d: %8.4f s/step  %8.2f images/s  %8.1f s per 1,000-image concept\n", batch,
                per_step, images_per_s, 1000.0 / images_per_s);
    result["training"].push_back({{"batch", batch},
                                  {"seconds_per_step", per_step},
                                  {"images_per_s", images_per_s},
                                  {"seconds_per_1000_images", 1000.0 / images_per_s}});
    md += absl::StrFormat("| %d | %.4f | %.2f | %.1f |\n", batch, per_step, images_per_s,
                          1000.0 / images_per_s);
  }

  if (absl::GetFlag(FLAGS_unet_only)) {
    double gflop = absl::GetFlag(FLAGS_unet_forward_gflop);
    if (gflop <= 0 && architecture == "sd15") gflop = 804;
    const double peak = absl::GetFlag(FLAGS_peak_tflops);
    md += absl::StrFormat(
        "\nUNet-only training step (tools/gpu/eager_unet.py's step: adapters attached, random "
        "latents and text states, forward + MSE + backward + AdamW)%s:\n\n"
        "| batch | s/step | images/s | TFLOP/s | of %.0f peak |\n|---|---|---|---|---|\n",
        gflop > 0
            ? absl::StrFormat(", %.0f GFLOP per forward per image, a step = 3 forwards", gflop)
            : "",
        peak);
    for (const std::string& batch_text : absl::GetFlag(FLAGS_batches)) {
      const int batch = std::stoi(batch_text);
      const double per_step = UnetStepSeconds(*model, config, batch, steps - warmup, warmup);
      const double tflops = gflop > 0 ? 3 * gflop * batch / per_step / 1000 : 0;
      std::printf("UNet step, batch %2d: %8.4f s/step  %8.2f images/s  %7.1f TFLOP/s\n", batch,
                  per_step, batch / per_step, tflops);
      result["unet_step"].push_back({{"batch", batch},
                                     {"seconds_per_step", per_step},
                                     {"images_per_s", batch / per_step},
                                     {"tflops", tflops},
                                     {"fraction_of_peak", tflops / peak}});
      md += absl::StrFormat("| %d | %.4f | %.2f | %s | %s |\n", batch, per_step, batch / per_step,
                            gflop > 0 ? absl::StrFormat("%.1f", tflops) : "-",
                            gflop > 0 ? absl::StrFormat("%.1f%%", 100 * tflops / peak) : "-");
    }
  }

  const int sample_steps = absl::GetFlag(FLAGS_sample_steps);
  const int samples = absl::GetFlag(FLAGS_samples);
  const double base_seconds = SampleSeconds(*model, sample_steps, samples);
  auto state = core::ContinualState::Create(model->unet, config.targets);
  Fail(state.status(), "continual state");
  Fail(core::FoldAdapterArtifact(artifact, *model, *state), "folding the concept");
  const double folded_seconds = SampleSeconds(*model, sample_steps, samples);
  std::printf("sampling (%d steps, CFG): base %.3f s/image, folded %.3f s/image (ratio %.3f)\n",
              sample_steps, base_seconds, folded_seconds, folded_seconds / base_seconds);
  result["sampling"] = {{"steps", sample_steps},
                        {"images", samples},
                        {"base_seconds_per_image", base_seconds},
                        {"folded_seconds_per_image", folded_seconds},
                        {"folded_over_base", folded_seconds / base_seconds}};
  md += absl::StrFormat(
      "\nSampling, %d steps with CFG 7.5, %d images each: base %.3f s/image, with the concept "
      "folded in %.3f s/image (folded/base %.3f).\n",
      sample_steps, samples, base_seconds, folded_seconds, folded_seconds / base_seconds);

  const std::string out = absl::GetFlag(FLAGS_out);
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  std::ofstream(out + "/concept_step.json") << result.dump(2) << "\n";
  std::ofstream(out + "/concept_step.md") << md;
  return 0;
}
