#include "core/pipelines/text_to_image_pipeline.h"

#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/pipelines/image_tensor.h"
#include "core/schedulers/classifier_free_guidance.h"
#include "core/torch_status.h"

namespace stamina::core {
namespace {

absl::Status Validate(const TextToImageRequest& r, int64_t factor) {
  if (r.count < 1 || r.count > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("count: ", r.count, " is not in [1, 64]"));
  }
  if (r.steps < 1 || r.steps > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("steps: ", r.steps, " is not in [1, 1000]"));
  }
  if (!(r.guidance_scale >= 1.0f) || r.guidance_scale > 100.0f) {
    return absl::InvalidArgumentError(
        absl::StrCat("guidance_scale: ", r.guidance_scale, " is not in [1, 100]"));
  }
  for (auto [name, side] : {std::pair{"width", r.width}, std::pair{"height", r.height}}) {
    if (side < 0 || side % factor != 0 || side > 4096) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": ", side, " must be a multiple of ", factor, " up to 4096"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<torch::Tensor> TokenizeBatch(const Tokenizer& tokenizer,
                                            const std::vector<std::string>& texts) {
  std::vector<int64_t> ids;
  for (const std::string& text : texts) {
    STAMINA_ASSIGN_OR_RETURN(std::vector<int32_t> encoded, tokenizer.Encode(text));
    ids.insert(ids.end(), encoded.begin(), encoded.end());
  }
  const int64_t length = tokenizer.max_length();
  return RunTorch([&] {
    return torch::tensor(ids, torch::kInt64)
        .reshape({static_cast<int64_t>(texts.size()), length});
  });
}

absl::StatusOr<std::vector<Image>> GenerateImages(
    DiffusionModel& model, const TextToImageRequest& request,
    const DenoisingProgressFn& progress, const std::atomic<bool>* cancelled) {
  const int64_t factor = model.vae_scale_factor();
  STAMINA_RETURN_IF_ERROR(Validate(request, factor));
  const int64_t native = model.config.vae.sample_size;
  const int64_t width = request.width == 0 ? native : request.width;
  const int64_t height = request.height == 0 ? native : request.height;
  const bool guided = request.guidance_scale > 1.0f;
  STAMINA_ASSIGN_OR_RETURN(DDIMScheduler scheduler,
                           DDIMScheduler::Create(model.config.sampling_scheduler));
  STAMINA_RETURN_IF_ERROR(scheduler.SetTimesteps(request.steps))
      << "steps";
  std::vector<std::string> texts = {request.prompt};
  if (guided) texts.push_back(request.negative_prompt);
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor ids, TokenizeBatch(*model.tokenizer, texts));

  torch::NoGradGuard no_grad;
  torch::Tensor context;  // [2, L, D] (uncond, cond) or [1, L, D]
  STAMINA_RETURN_IF_ERROR(RunTorch([&] {
    model.text_encoder->eval();
    model.unet->eval();
    model.vae->eval();
    const torch::Tensor embeddings = model.text_encoder->forward(ids);
    context = guided ? torch::stack({embeddings[1], embeddings[0]}) : embeddings;
  }));
  // Each image is denoised and decoded on its own, in a batch of the same
  // shape whatever `count` is: image i of seed s is then the same bytes
  // whether it was asked for alone or among others (batched GEMMs and
  // convolutions round differently for other batch sizes), and memory does
  // not grow with `count`.
  const std::vector<int64_t> timesteps = scheduler.timesteps();
  const int total_steps = request.count * static_cast<int>(timesteps.size());
  std::vector<Image> images;
  for (int i = 0; i < request.count; ++i) {
    torch::Tensor latents;  // [1, C, h, w]
    STAMINA_RETURN_IF_ERROR(RunTorch([&] {
      at::Generator generator =
          at::detail::createCPUGenerator(static_cast<uint64_t>(request.seed + i));
      latents = torch::randn(
          {1, model.config.unet.in_channels, height / factor, width / factor}, generator);
    }));
    for (size_t k = 0; k < timesteps.size(); ++k) {
      if (cancelled != nullptr && cancelled->load()) {
        return absl::CancelledError(absl::StrCat("cancelled after ", k, " of ",
                                                 timesteps.size(), " steps of image ", i));
      }
      torch::Tensor noise_pred;
      STAMINA_RETURN_IF_ERROR(RunTorch([&] {
        torch::Tensor input = guided ? torch::cat({latents, latents}) : latents;
        torch::Tensor t = torch::full({input.size(0)}, timesteps[k], torch::kInt64);
        noise_pred = model.unet->forward(input, t, context);
      }));
      if (guided) {
        auto halves = noise_pred.chunk(2);
        STAMINA_ASSIGN_OR_RETURN(noise_pred,
                                 Guide(halves[0], halves[1], request.guidance_scale));
      }
      STAMINA_ASSIGN_OR_RETURN(DDIMStepOutput out,
                               scheduler.Step(noise_pred, timesteps[k], latents));
      latents = out.prev_sample;
      if (progress) {
        progress({.step = i * static_cast<int>(timesteps.size()) + static_cast<int>(k + 1),
                  .total_steps = total_steps});
      }
    }
    STAMINA_ASSIGN_OR_RETURN(std::vector<Image> decoded, RunTorch([&] {
      torch::Tensor pixels =
          model.vae->Decode(latents / model.config.vae.scaling_factor);
      return TensorToImages(pixels);
    }));
    images.push_back(std::move(decoded.front()));
  }
  return images;
}

}  // namespace stamina::core
