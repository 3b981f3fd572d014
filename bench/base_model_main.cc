// base_model: how well the built-in base model draws the synthetic world,
// read by the attribute oracle (issue #3):
//
//   bazel run -c opt //bench:base_model -- --model=models/stamina-tiny-v1 --out=DIR
//
// For --scenes generic scenes (faces, landmarks, shapes; identities never
// reserved, drawn fresh), per oracle head: accuracy on the real render (the
// oracle's ceiling), on its VAE reconstruction (what the latent space
// keeps), and on a sample of the scene's caption (what the model draws);
// plus sampling throughput. Writes DIR/base_model.json, .md and
// DIR/samples.png (columns: real, reconstruction, sample; one row per scene,
// first 16 scenes).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "bench/oracle_file.h"
#include "core/pipelines/base_models.h"
#include "core/pipelines/image_tensor.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_runtime.h"
#include "core/world/oracle.h"
#include "core/world/png.h"
#include "core/world/prng.h"
#include "core/world/renderer.h"
#include "nlohmann/json.hpp"

ABSL_FLAG(std::string, model, "models/stamina-tiny-v1", "Base model directory");
ABSL_FLAG(std::string, out, "/tmp/stamina-base-model", "Output directory");
ABSL_FLAG(std::string, oracle, "", "Oracle file (default DIR/oracle.safetensors; trained if absent)");
ABSL_FLAG(int, oracle_steps, 1500, "Steps when the oracle has to be trained");
ABSL_FLAG(int, scenes, 96, "Scenes to score");
ABSL_FLAG(int, sample_steps, 20, "DDIM steps");
ABSL_FLAG(double, guidance, 5.0, "Classifier-free guidance scale");
ABSL_FLAG(uint64_t, seed, 7, "Scene seed");
ABSL_FLAG(int, threads, 0, "LibTorch threads; 0 = all cores");

namespace stamina::bench {
namespace {

using core::Color;
using core::OracleHead;

struct Scene {
  core::Image image;
  std::string caption;
  core::AttributeLabels labels;
};

// A generic scene like the pretraining stream's, with its labels.
Scene DrawScene(uint64_t seed) {
  core::SplitMix64 rng(seed);
  const uint64_t kind = rng.Below(10);
  const uint64_t identity = rng.Below(core::kReservedIdentitySeedStart);
  Scene scene;
  if (kind < 4) {
    const core::FaceIdentity face = core::FaceIdentity::FromSeed(identity);
    const core::RenderParams params = core::RenderParams::FromSeed(
        rng.Next(), core::kDefaultImageSize, core::ContrastingBackgrounds(face));
    scene = {core::RenderFace(face, params), core::CaptionFace(face, params.background),
             core::WithBackground(core::LabelsOf(face), params.background)};
  } else if (kind < 7) {
    const core::LandmarkIdentity landmark = core::LandmarkIdentity::FromSeed(identity);
    const core::RenderParams params = core::RenderParams::FromSeed(
        rng.Next(), core::kDefaultImageSize, core::ContrastingBackgrounds(landmark));
    scene = {core::RenderLandmark(landmark, params),
             core::CaptionLandmark(landmark, params.background),
             core::WithBackground(core::LabelsOf(landmark), params.background)};
  } else {
    const core::RenderParams params = core::RenderParams::FromSeed(rng.Next());
    const core::ShapeSpec shape = core::ShapeSpec::FromSeed(rng.Next(), params.background);
    scene = {core::RenderShape(shape, params), core::CaptionShape(shape, params.background),
             core::WithBackground(core::LabelsOf(shape), params.background)};
  }
  return scene;
}

struct HeadCounts {
  std::array<int, core::kNumOracleHeads> correct{};
  std::array<int, core::kNumOracleHeads> total{};
  int all_correct = 0;
  int scenes = 0;

  void Add(const core::AttributeLabels& want, const core::AttributeLabels& got) {
    bool all = true;
    for (int h = 0; h < core::kNumOracleHeads; ++h) {
      if (want.value[h] < 0) continue;
      ++total[h];
      const bool ok = got.value[h] == want.value[h];
      correct[h] += ok;
      all = all && ok;
    }
    all_correct += all;
    ++scenes;
  }
  double Accuracy(int h) const { return total[h] ? static_cast<double>(correct[h]) / total[h] : 0; }
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

int Run() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (std::system(("mkdir -p '" + out + "'").c_str()) != 0) return 1;
  auto runtime = core::ConfigureTorchRuntime({.threads = absl::GetFlag(FLAGS_threads)});
  if (!runtime.ok()) return Fail(runtime.status());
  std::string oracle_path = absl::GetFlag(FLAGS_oracle);
  if (oracle_path.empty()) oracle_path = out + "/oracle.safetensors";
  auto oracle = LoadOrTrainOracle(oracle_path, absl::GetFlag(FLAGS_oracle_steps));
  if (!oracle.ok()) return Fail(oracle.status());
  auto model = core::LoadDiffusionModel(absl::GetFlag(FLAGS_model));
  if (!model.ok()) return Fail(model.status());

  HeadCounts real, reconstructed, sampled;
  std::vector<core::Image> grid;
  double sample_seconds = 0;
  const int scenes = absl::GetFlag(FLAGS_scenes);
  for (int i = 0; i < scenes; ++i) {
    const Scene scene = DrawScene(core::DeriveSeed(absl::GetFlag(FLAGS_seed), i));
    std::vector<core::Image> reconstruction;
    {
      torch::NoGradGuard no_grad;
      const torch::Tensor x = core::ImagesToTensor({scene.image});
      reconstruction = core::TensorToImages(
          (*model).vae->Decode((*model).vae->Encode(x).Mode()).clamp(-1, 1));
    }
    core::TextToImageRequest request;
    request.prompt = scene.caption;
    request.steps = absl::GetFlag(FLAGS_sample_steps);
    request.guidance_scale = static_cast<float>(absl::GetFlag(FLAGS_guidance));
    request.seed = i;
    const auto start = std::chrono::steady_clock::now();
    auto sample = core::GenerateImages(*model, request);
    sample_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!sample.ok()) return Fail(sample.status());
    auto predictions = (*oracle)->Predict(
        std::vector<core::Image>{scene.image, reconstruction[0], (*sample)[0]});
    if (!predictions.ok()) return Fail(predictions.status());
    real.Add(scene.labels, (*predictions)[0].label);
    reconstructed.Add(scene.labels, (*predictions)[1].label);
    sampled.Add(scene.labels, (*predictions)[2].label);
    if (i < 16) {
      grid.insert(grid.end(), {scene.image, reconstruction[0], (*sample)[0]});
    }
  }
  nlohmann::json json = {{"model", absl::GetFlag(FLAGS_model)},
                         {"scenes", scenes},
                         {"threads", runtime->threads},
                         {"sample_steps", absl::GetFlag(FLAGS_sample_steps)},
                         {"guidance", absl::GetFlag(FLAGS_guidance)}};
  std::string md = absl::StrFormat(
      "# Base model on the synthetic world\n\nModel `%s`, %d generic scenes (non-reserved "
      "identities), %d DDIM steps, guidance %.1f, %d LibTorch threads of %d cores.\n\n"
      "Oracle accuracy per attribute on the real render, its VAE reconstruction, and a "
      "sample of its caption:\n\n| attribute | scenes | real | VAE reconstruction | sample |\n"
      "|---|---|---|---|---|\n",
      absl::GetFlag(FLAGS_model), scenes, absl::GetFlag(FLAGS_sample_steps),
      absl::GetFlag(FLAGS_guidance), runtime->threads, runtime->available_cores);
  for (int h = 0; h < core::kNumOracleHeads; ++h) {
    if (real.total[h] == 0) continue;
    const std::string name(core::HeadName(static_cast<OracleHead>(h)));
    json["heads"][name] = {{"scenes", real.total[h]},
                           {"real", real.Accuracy(h)},
                           {"reconstruction", reconstructed.Accuracy(h)},
                           {"sample", sampled.Accuracy(h)}};
    md += absl::StrFormat("| %s | %d | %.3f | %.3f | %.3f |\n", name, real.total[h],
                          real.Accuracy(h), reconstructed.Accuracy(h), sampled.Accuracy(h));
  }
  const auto exact = [&](const HeadCounts& c) { return static_cast<double>(c.all_correct) / c.scenes; };
  md += absl::StrFormat("| **every attribute right** | %d | %.3f | %.3f | %.3f |\n", scenes,
                        exact(real), exact(reconstructed), exact(sampled));
  const double ms_per_image = 1e3 * sample_seconds / scenes;
  md += absl::StrFormat("\nSampling: %.0f ms per image (%d steps with guidance, batch 1).\n\n"
                        "samples.png: rows = the first 16 scenes; columns = real render, VAE "
                        "reconstruction, sample of the caption.\n",
                        ms_per_image, absl::GetFlag(FLAGS_sample_steps));
  json["exact"] = {{"real", exact(real)}, {"reconstruction", exact(reconstructed)},
                   {"sample", exact(sampled)}};
  json["sample_ms_per_image"] = ms_per_image;
  std::ofstream(out + "/base_model.json") << json.dump(2) << "\n";
  std::ofstream(out + "/base_model.md") << md;
  const int rows = static_cast<int>(grid.size() / 3);
  if (absl::Status s = core::WriteGridPng(grid, rows, 3, out + "/samples.png"); !s.ok()) return Fail(s);
  std::printf("%s", md.c_str());
  return 0;
}

}  // namespace
}  // namespace stamina::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return stamina::bench::Run();
}
