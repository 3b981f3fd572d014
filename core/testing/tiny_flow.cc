#include "core/testing/tiny_flow.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/adapters/adapted_layers.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "core/torch_status.h"
#include "core/training/concept_trainer.h"
#include "core/world/renderer.h"

namespace stamina::core {

absl::StatusOr<TinyFlowResult> RunTinyFlow(const ComputeOptions& compute, int steps) {
  STAMINA_ASSIGN_OR_RETURN(DiffusionModel model, TinyModelForTest(4));
  STAMINA_RETURN_IF_ERROR(PlaceModel(model, compute));
  AdapterConfig config = DefaultAdapterConfig(AdapterMethod::kStamina);
  config.rank = 2;
  STAMINA_ASSIGN_OR_RETURN(ContinualState state,
                           ContinualState::Create(model.unet, config.targets));
  TinyFlowResult result;
  for (int concept_index = 0; concept_index < 2; ++concept_index) {
    const FaceIdentity face = FaceIdentity::FromSeed(kReservedIdentitySeedStart + concept_index);
    ConceptTrainingRequest request;
    request.adapter = {.config = config,
                       .token = absl::StrCat("<c", concept_index, ">"),
                       .seed = static_cast<uint64_t>(10 + concept_index)};
    for (uint64_t i = 0; i < 3; ++i) {
      request.images.push_back(RenderFace(face, RenderParams::FromSeed(i)));
    }
    request.training.steps = steps;
    request.training.batch_size = 2;
    STAMINA_ASSIGN_OR_RETURN(ConceptTrainingResult trained, TrainConcept(model, state, request));
    STAMINA_RETURN_IF_ERROR(FoldAdapterArtifact(trained.artifact, model, state));
    result.artifacts.push_back(trained.artifact);
    result.final_losses.push_back(trained.final_loss);
  }
  STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] {
    for (const auto& item : model.unet->named_parameters()) {
      if (item.key().find("attn2.to_") != std::string::npos) {
        result.folded_weights[item.key()] = item.value().detach().to(torch::kCPU).clone();
      }
    }
  }));
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<Image> images,
      GenerateImages(model, {.prompt = "a photo of <c1>", .steps = 8, .seed = 3}));
  result.sample = std::move(images.front());
  return result;
}

ImageDifference CompareImages(const Image& a, const Image& b) {
  ImageDifference difference;
  if (a.pixels.size() != b.pixels.size() || a.pixels.empty()) {
    return {.max = 255, .mean = 255};
  }
  double total = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) {
    const int d = std::abs(static_cast<int>(a.pixels[i]) - static_cast<int>(b.pixels[i]));
    difference.max = std::max(difference.max, d);
    total += d;
  }
  difference.mean = total / static_cast<double>(a.pixels.size());
  return difference;
}

}  // namespace stamina::core
