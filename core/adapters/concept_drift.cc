#include "core/adapters/concept_drift.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/pixel_drift.h"
#include "common/status_macros.h"
#include "core/pipelines/text_to_image_pipeline.h"

namespace stamina::core {

std::vector<std::string> DriftPrompts(const std::string& token,
                                      const std::vector<std::string>& caption_templates) {
  std::vector<std::string> prompts = {absl::StrCat("a photo of ", token)};
  if (!caption_templates.empty()) {
    std::string own = absl::StrReplaceAll(caption_templates[0], {{"{}", token}});
    if (own != prompts[0]) prompts.push_back(std::move(own));
  }
  return prompts;
}

Image Thumbnail(const Image& image, int max_side) {
  const int longer = std::max(image.width, image.height);
  if (max_side <= 0 || longer <= max_side) return image;
  const int factor = (longer + max_side - 1) / max_side;
  Image thumbnail(std::max(1, image.width / factor), std::max(1, image.height / factor));
  for (int y = 0; y < thumbnail.height; ++y) {
    for (int x = 0; x < thumbnail.width; ++x) {
      for (int c = 0; c < 3; ++c) {
        int sum = 0;
        for (int dy = 0; dy < factor; ++dy) {
          for (int dx = 0; dx < factor; ++dx) {
            sum += image.pixels[(static_cast<size_t>(y * factor + dy) * image.width +
                                 (x * factor + dx)) *
                                    3 +
                                c];
          }
        }
        thumbnail.pixels[(static_cast<size_t>(y) * thumbnail.width + x) * 3 + c] =
            static_cast<uint8_t>((sum + factor * factor / 2) / (factor * factor));
      }
    }
  }
  return thumbnail;
}

namespace {

absl::StatusOr<std::vector<Image>> Draw(DiffusionModel& model,
                                        const std::vector<std::string>& prompts,
                                        int images_per_prompt, int steps, float guidance,
                                        int64_t seed, int max_side,
                                        const std::atomic<bool>* cancelled) {
  std::vector<Image> images;
  for (const std::string& prompt : prompts) {
    TextToImageRequest request;
    request.prompt = prompt;
    request.count = images_per_prompt;
    request.steps = steps;
    request.guidance_scale = guidance;
    request.seed = seed;
    STAMINA_ASSIGN_OR_RETURN(std::vector<Image> drawn,
                             GenerateImages(model, request, nullptr, cancelled));
    for (const Image& image : drawn) images.push_back(Thumbnail(image, max_side));
  }
  return images;
}

}  // namespace

absl::StatusOr<DriftReference> SampleDriftReference(DiffusionModel& model,
                                                    const std::vector<std::string>& prompts,
                                                    const DriftProbeSettings& settings,
                                                    const std::atomic<bool>* cancelled) {
  if (prompts.empty()) return absl::InvalidArgumentError("prompts: at least one");
  DriftReference reference{.prompts = prompts,
                           .seed = settings.seed,
                           .images_per_prompt = settings.images_per_prompt,
                           .steps = settings.steps,
                           .guidance = settings.guidance};
  STAMINA_ASSIGN_OR_RETURN(reference.images,
                           Draw(model, prompts, settings.images_per_prompt, settings.steps,
                                settings.guidance, settings.seed, settings.max_side, cancelled));
  return reference;
}

absl::StatusOr<double> MeasureDrift(DiffusionModel& model, const DriftReference& reference,
                                    const std::atomic<bool>* cancelled) {
  if (reference.images.empty()) return absl::InvalidArgumentError("reference: no images");
  const int max_side = std::max(reference.images[0].width, reference.images[0].height);
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<Image> images,
      Draw(model, reference.prompts, reference.images_per_prompt, reference.steps,
           reference.guidance, reference.seed, max_side, cancelled));
  return ImageDrift(reference.images, images);
}

absl::StatusOr<double> ImageDrift(const std::vector<Image>& a, const std::vector<Image>& b) {
  std::vector<RgbView> views_a, views_b;
  for (const Image& image : a) views_a.push_back({image.width, image.height, image.pixels.data()});
  for (const Image& image : b) views_b.push_back({image.width, image.height, image.pixels.data()});
  return RmsPixelDrift(views_a, views_b);
}

}  // namespace stamina::core
