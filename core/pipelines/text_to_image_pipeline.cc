#include "core/pipelines/text_to_image_pipeline.h"

#include <cmath>
#include <memory>

#include "ATen/CPUGeneratorImpl.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/compute_device.h"
#include "core/pipelines/image_tensor.h"
#include "core/schedulers/classifier_free_guidance.h"
#include "core/schedulers/sampling_scheduler.h"
#include "core/torch_status.h"

namespace stamina::core {
namespace {

absl::Status Validate(const TextToImageRequest& r, int64_t factor) {
  if (r.count < 1 || r.count > 64) {
    return absl::InvalidArgumentError(absl::StrCat("count: ", r.count, " is not in [1, 64]"));
  }
  if (r.steps < 1 || r.steps > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("steps: ", r.steps, " is not in [1, 1000]"));
  }
  if (!(r.guidance_scale >= 1.0f) || r.guidance_scale > 100.0f) {
    return absl::InvalidArgumentError(
        absl::StrCat("guidance_scale: ", r.guidance_scale, " is not in [1, 100]"));
  }
  for (auto [name, side] : {std::pair{"width", r.width}, std::pair{"height", r.height}}) {
    if (side < 0 || side % factor != 0 || side > 4096) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": ", side, " must be a multiple of ", factor, " up to 4096"));
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
    return torch::tensor(ids, torch::kInt64).reshape({static_cast<int64_t>(texts.size()), length});
  });
}

namespace {

// The text conditioning of one request: [2, L, D] (uncond, cond) with
// guidance, else [1, L, D]; the networks set to eval mode.
absl::StatusOr<torch::Tensor> EncodePrompts(DiffusionModel& model,
                                            const TextToImageRequest& request) {
  const bool guided = request.guidance_scale > 1.0f;
  std::vector<std::string> texts = {request.prompt};
  if (guided) texts.push_back(request.negative_prompt);
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor ids, TokenizeBatch(*model.tokenizer, texts));
  torch::NoGradGuard no_grad;
  return RunTorch([&] {
    model.text_encoder->eval();
    model.unet->eval();
    model.vae->eval();
    AutocastScope autocast(model.compute);
    const torch::Tensor embeddings =
        model.text_encoder->forward(ids.to(ModelDevice(model))).to(torch::kFloat32);
    return guided ? torch::stack({embeddings[1], embeddings[0]}) : embeddings;
  });
}

// The sampler's loop for one latent [1, C, h, w] of unit variance (scaled
// by the scheduler's initial sigma here), from a fresh run of `scheduler`.
// `before_step(k)` may stop the loop with its status; `after_step(k)` runs
// after evaluation k (0-based).
absl::StatusOr<torch::Tensor> Denoise(DiffusionModel& model, SamplingScheduler& scheduler,
                                      int steps, const torch::Tensor& context, float guidance_scale,
                                      torch::Tensor latents,
                                      const std::function<absl::Status(size_t)>& before_step,
                                      const std::function<void(size_t)>& after_step) {
  torch::NoGradGuard no_grad;
  STAMINA_RETURN_IF_ERROR(scheduler.SetTimesteps(steps)) << "steps";
  const bool guided = guidance_scale > 1.0f;
  const std::vector<double>& timesteps = scheduler.timesteps();
  STAMINA_RETURN_IF_ERROR(
      RunTorch([&] { latents = latents * static_cast<float>(scheduler.init_noise_sigma()); }));
  for (size_t k = 0; k < timesteps.size(); ++k) {
    if (before_step) {
      STAMINA_RETURN_IF_ERROR(before_step(k));
    }
    torch::Tensor noise_pred;
    STAMINA_RETURN_IF_ERROR(RunTorch([&] {
      torch::Tensor scaled = scheduler.ScaleModelInput(latents, k);
      torch::Tensor input = guided ? torch::cat({scaled, scaled}) : scaled;
      // Integer timesteps as integers (DDIM, PNDM); Euler's may fall between.
      const double step = timesteps[k];
      torch::Tensor t =
          step == std::floor(step)
              ? torch::full({input.size(0)}, static_cast<int64_t>(step),
                            input.options().dtype(torch::kInt64))
              : torch::full({input.size(0)}, step, input.options().dtype(torch::kFloat32));
      AutocastScope autocast(model.compute);
      // The scheduler's arithmetic stays in fp32 whatever the compute dtype.
      noise_pred = model.unet->forward(input, t, context).to(torch::kFloat32);
    }));
    if (guided) {
      auto halves = noise_pred.chunk(2);
      STAMINA_ASSIGN_OR_RETURN(noise_pred, Guide(halves[0], halves[1], guidance_scale));
    }
    STAMINA_ASSIGN_OR_RETURN(latents, scheduler.Step(noise_pred, k, latents));
    if (after_step) after_step(k);
  }
  return latents;
}

absl::StatusOr<std::unique_ptr<SamplingScheduler>> SchedulerFor(const DiffusionModel& model,
                                                                const TextToImageRequest& request) {
  STAMINA_ASSIGN_OR_RETURN(SamplerKind kind, ParseSamplerKind(request.sampler, "sampler"));
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<SamplingScheduler> scheduler,
                           CreateSamplingScheduler(kind, model.config.sampling_scheduler,
                                                   model.config.scheduler_fields));
  STAMINA_RETURN_IF_ERROR(scheduler->SetTimesteps(request.steps)) << "steps";
  return scheduler;
}

}  // namespace

absl::StatusOr<torch::Tensor> GenerateFromLatents(DiffusionModel& model,
                                                  const TextToImageRequest& request,
                                                  const torch::Tensor& latents) {
  STAMINA_RETURN_IF_ERROR(Validate(request, model.vae_scale_factor()));
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<SamplingScheduler> scheduler,
                           SchedulerFor(model, request));
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor context, EncodePrompts(model, request));
  std::vector<torch::Tensor> images;
  for (int64_t i = 0; i < latents.size(0); ++i) {
    STAMINA_ASSIGN_OR_RETURN(
        torch::Tensor denoised,
        Denoise(model, *scheduler, request.steps, context, request.guidance_scale,
                latents.slice(0, i, i + 1).to(ModelDevice(model), torch::kFloat32), nullptr,
                nullptr));
    STAMINA_ASSIGN_OR_RETURN(
        torch::Tensor image, RunTorch([&] {
          torch::NoGradGuard no_grad;
          AutocastScope autocast(model.compute);
          torch::Tensor pixels = model.vae->Decode(denoised / model.config.vae.scaling_factor)
                                     .to(torch::kCPU, torch::kFloat32);
          return (pixels / 2 + 0.5).clamp(0, 1).permute({0, 2, 3, 1}).contiguous();
        }));
    images.push_back(image);
  }
  return RunTorch([&] { return torch::cat(images); });
}

absl::StatusOr<std::vector<Image>> GenerateImages(DiffusionModel& model,
                                                  const TextToImageRequest& request,
                                                  const DenoisingProgressFn& progress,
                                                  const std::atomic<bool>* cancelled) {
  const int64_t factor = model.vae_scale_factor();
  STAMINA_RETURN_IF_ERROR(Validate(request, factor));
  const int64_t native = model.config.vae.sample_size;
  const int64_t width = request.width == 0 ? native : request.width;
  const int64_t height = request.height == 0 ? native : request.height;
  STAMINA_ASSIGN_OR_RETURN(std::unique_ptr<SamplingScheduler> scheduler,
                           SchedulerFor(model, request));
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor context, EncodePrompts(model, request));
  // Each image is denoised and decoded on its own, in a batch of the same
  // shape whatever `count` is: image i of seed s is then the same bytes
  // whether it was asked for alone or among others (batched GEMMs and
  // convolutions round differently for other batch sizes), and memory does
  // not grow with `count`.
  const int steps = static_cast<int>(scheduler->timesteps().size());
  const int total_steps = request.count * steps;
  std::vector<Image> images;
  for (int i = 0; i < request.count; ++i) {
    torch::Tensor latents;  // [1, C, h, w]
    STAMINA_RETURN_IF_ERROR(RunTorch([&] {
      at::Generator generator =
          at::detail::createCPUGenerator(static_cast<uint64_t>(request.seed + i));
      // Drawn on the CPU whatever the device: a seed starts from the same
      // noise everywhere (core/compute_device.h).
      latents = torch::randn({1, model.config.unet.in_channels, height / factor, width / factor},
                             generator)
                    .to(ModelDevice(model));
    }));
    auto before_step = [&](size_t k) {
      if (cancelled != nullptr && cancelled->load()) {
        return absl::CancelledError(
            absl::StrCat("cancelled after ", k, " of ", steps, " steps of image ", i));
      }
      return absl::OkStatus();
    };
    auto after_step = [&](size_t k) {
      if (progress) {
        progress({.step = i * steps + static_cast<int>(k + 1), .total_steps = total_steps});
      }
    };
    STAMINA_ASSIGN_OR_RETURN(
        latents, Denoise(model, *scheduler, request.steps, context, request.guidance_scale, latents,
                         before_step, after_step));
    STAMINA_ASSIGN_OR_RETURN(std::vector<Image> decoded, RunTorch([&] {
                               torch::NoGradGuard no_grad;
                               AutocastScope autocast(model.compute);
                               torch::Tensor pixels =
                                   model.vae->Decode(latents / model.config.vae.scaling_factor);
                               return TensorToImages(pixels);
                             }));
    images.push_back(std::move(decoded.front()));
  }
  return images;
}

}  // namespace stamina::core
