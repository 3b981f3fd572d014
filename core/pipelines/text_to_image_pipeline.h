// File: core/pipelines/text_to_image_pipeline.h
//
// Text → images with a DiffusionModel, as diffusers' StableDiffusionPipeline
// does it: the prompt (and the negative prompt, for classifier-free guidance)
// through the tokenizer and text encoder, Gaussian latents drawn from the
// seed, the sampler's loop (DDIM by default) with guidance, the VAE
// decoder, 8-bit RGB out. Image i
// of a request uses seed + i, so any single image can be reproduced alone.
// Reports progress after every denoising step and stops with CANCELLED when
// asked to.
//
// Thread-compatible: concurrent calls on one DiffusionModel are safe (no
// gradients, no module state changes).
#ifndef STAMINA_CORE_PIPELINES_TEXT_TO_IMAGE_PIPELINE_H_
#define STAMINA_CORE_PIPELINES_TEXT_TO_IMAGE_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/image.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct TextToImageRequest {
  std::string prompt;
  std::string negative_prompt;
  int count = 1;
  int steps = 25;
  // 1 disables guidance (one UNet pass per step instead of two).
  float guidance_scale = 7.5f;
  int64_t seed = 0;
  // 0 = the VAE's native sample_size. Must be multiples of the VAE scale
  // factor.
  int width = 0;
  int height = 0;
  // "ddim", "pndm" or "euler" (core/schedulers/sampling_scheduler.h), over
  // the model's noise schedule. PNDM evaluates the model once more than
  // `steps`.
  std::string sampler = "ddim";
};

// Images are denoised one after another (each in a batch of its own, so an
// image's bytes do not depend on `count`); steps count over all of them.
struct DenoisingProgress {
  int step = 0;         // model evaluations done, all images together
  int total_steps = 0;  // count × evaluations per image (steps; PNDM: steps + 1)
};

using DenoisingProgressFn = std::function<void(const DenoisingProgress&)>;

// INVALID_ARGUMENT for a bad request (the message names the field),
// CANCELLED when `cancelled` becomes true, RESOURCE_EXHAUSTED when memory
// runs out.
absl::StatusOr<std::vector<Image>> GenerateImages(
    DiffusionModel& model, const TextToImageRequest& request,
    const DenoisingProgressFn& progress = nullptr,
    const std::atomic<bool>* cancelled = nullptr);

// What diffusers' StableDiffusionPipeline returns with output_type "np" for
// given initial latents [N, unet.in_channels, h, w] (image i from row i; a
// request's seed and count are not used): [N, H, W, 3] float32 in [0, 1].
// The same loop as GenerateImages, for parity checks against diffusers.
absl::StatusOr<torch::Tensor> GenerateFromLatents(DiffusionModel& model,
                                                  const TextToImageRequest& request,
                                                  const torch::Tensor& latents);

// Token ids of `texts` as a [B, max_length] int64 tensor (throws like
// LibTorch on failure of tensor ops; tokenizer errors are returned).
absl::StatusOr<torch::Tensor> TokenizeBatch(const Tokenizer& tokenizer,
                                            const std::vector<std::string>& texts);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_TEXT_TO_IMAGE_PIPELINE_H_
