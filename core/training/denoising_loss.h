// File: core/training/denoising_loss.h
//
// The Stable Diffusion training objective (diffusers' train_text_to_image.py
// and its DreamBooth/LoRA variants): encode the images with the frozen VAE
// (latent = sample × scaling_factor), noise them at random DDPM timesteps,
// and regress the UNet's prediction on the noise (epsilon prediction, MSE).
// The randomness is an explicit NoiseDraw, so a training step is exactly
// reproducible from a seed and tests can hold it fixed.
//
// Thread-compatible; gradients flow into the UNet and the text encoder (the
// caller chooses which parameters its optimizer owns).
#ifndef STAMINA_CORE_TRAINING_DENOISING_LOSS_H_
#define STAMINA_CORE_TRAINING_DENOISING_LOSS_H_

#include "absl/status/statusor.h"
#include "core/pipelines/diffusion_model.h"
#include "core/schedulers/ddpm_scheduler.h"
#include "torch/torch.h"

namespace stamina::core {

// The random numbers of one training step.
struct NoiseDraw {
  torch::Tensor latent_noise;  // [B, C, h, w]: the VAE posterior sample
  torch::Tensor noise;         // [B, C, h, w]: ε
  torch::Tensor timesteps;     // [B] int64 in [0, num_train_timesteps)
};

// Draws a NoiseDraw for `batch` images of the model's latent shape at
// `height` x `width` pixels.
absl::StatusOr<NoiseDraw> DrawNoise(const DiffusionModel& model, int64_t batch,
                                    int64_t height, int64_t width,
                                    at::Generator& generator);

// Mean squared error between the UNet's ε prediction and ε, for `pixels`
// [B, 3, H, W] in [-1, 1] captioned by `input_ids` [B, L].
absl::StatusOr<torch::Tensor> DenoisingLoss(DiffusionModel& model,
                                            const DDPMScheduler& scheduler,
                                            const torch::Tensor& pixels,
                                            const torch::Tensor& input_ids,
                                            const NoiseDraw& draw);

// The same loss on already-encoded `latents` (posterior sample × the VAE's
// scaling_factor): for trainers that encode their few images once.
// draw.latent_noise is unused.
absl::StatusOr<torch::Tensor> DenoisingLossOnLatents(
    DiffusionModel& model, const DDPMScheduler& scheduler,
    const torch::Tensor& latents, const torch::Tensor& input_ids,
    const NoiseDraw& draw);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TRAINING_DENOISING_LOSS_H_
