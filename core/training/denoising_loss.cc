#include "core/training/denoising_loss.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/compute_device.h"
#include "core/torch_status.h"

namespace stamina::core {

absl::StatusOr<NoiseDraw> DrawNoise(const DiffusionModel& model, int64_t batch, int64_t height,
                                    int64_t width, at::Generator& generator) {
  const int64_t factor = model.vae_scale_factor();
  if (batch < 1 || height % factor != 0 || width % factor != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch must be >= 1 and the image sides multiples of ", factor));
  }
  return RunTorch([&] {
    const std::vector<int64_t> shape = {batch, model.config.vae.latent_channels, height / factor,
                                        width / factor};
    // Drawn on the CPU, then moved (core/compute_device.h).
    const torch::Device device = ModelDevice(model);
    NoiseDraw draw;
    draw.latent_noise = torch::randn(shape, generator).to(device);
    draw.noise = torch::randn(shape, generator).to(device);
    draw.timesteps = torch::randint(0, model.config.training_scheduler.num_train_timesteps, {batch},
                                    generator, torch::TensorOptions().dtype(torch::kInt64))
                         .to(device);
    return draw;
  });
}

absl::StatusOr<torch::Tensor> DenoisingLoss(DiffusionModel& model, const DDPMScheduler& scheduler,
                                            const torch::Tensor& pixels,
                                            const torch::Tensor& input_ids, const NoiseDraw& draw) {
  torch::Tensor latents;
  STAMINA_RETURN_IF_ERROR(RunTorch([&] {
    torch::NoGradGuard frozen_vae;
    AutocastScope autocast(model.compute);
    latents = model.vae->Encode(pixels.to(ModelDevice(model)))
                  .Sample(draw.latent_noise)
                  .to(torch::kFloat32) *
              model.config.vae.scaling_factor;
  }));
  return DenoisingLossOnLatents(model, scheduler, latents, input_ids, draw);
}

absl::StatusOr<torch::Tensor> DenoisingLossOnLatents(DiffusionModel& model,
                                                     const DDPMScheduler& scheduler,
                                                     const torch::Tensor& latents,
                                                     const torch::Tensor& input_ids,
                                                     const NoiseDraw& draw) {
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor noisy,
                           scheduler.AddNoise(latents, draw.noise, draw.timesteps));
  return RunTorch([&] {
    AutocastScope autocast(model.compute);
    torch::Tensor context = model.text_encoder->forward(input_ids.to(ModelDevice(model)));
    torch::Tensor predicted = model.unet->forward(noisy, draw.timesteps, context);
    // The loss in fp32 (autocast computes mse_loss in fp32 as well).
    return torch::mse_loss(predicted.to(torch::kFloat32), draw.noise);
  });
}

}  // namespace stamina::core
