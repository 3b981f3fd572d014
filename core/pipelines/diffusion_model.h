// File: core/pipelines/diffusion_model.h
//
// One Stable-Diffusion-style model: the three networks of diffusers'
// StableDiffusionPipeline (text_encoder, unet, vae), its tokenizer and its
// scheduler configs. The built-in tiny base model and real SD 1.x weights are
// both DiffusionModels; they differ only in configs and files.
//
// Not thread-safe to mutate; concurrent inference on one model is safe
// (LibTorch modules are), training needs exclusive use.
#ifndef STAMINA_CORE_PIPELINES_DIFFUSION_MODEL_H_
#define STAMINA_CORE_PIPELINES_DIFFUSION_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/compute_device.h"
#include "core/models/autoencoder_kl.h"
#include "core/models/clip_text_model.h"
#include "core/models/unet_2d_condition.h"
#include "core/schedulers/ddim_scheduler.h"
#include "core/schedulers/ddpm_scheduler.h"
#include "core/tokenizers/tokenizer.h"

namespace stamina::core {

struct DiffusionModelConfig {
  CLIPTextConfig text_encoder;
  UNet2DConditionModelConfig unet;
  AutoencoderKLConfig vae;
  DDPMSchedulerConfig training_scheduler = DDPMSchedulerConfig::StableDiffusion15();
  DDIMSchedulerConfig sampling_scheduler = DDIMSchedulerConfig::StableDiffusion15();
  // The scheduler a diffusers checkpoint ships with (its sampler of choice,
  // e.g. "PNDMScheduler") and that sampler's own fields as JSON texts, kept
  // so that an export names it again; empty for the built-in models.
  std::string scheduler_class;
  std::map<std::string, std::string> scheduler_fields;
  // Concept tokens the checkpoint's tokenizer adds to its vocabulary (an
  // export's concepts, textual inversions), in id order.
  std::vector<std::string> concept_tokens;
};

struct DiffusionModel {
  DiffusionModelConfig config;
  CLIPTextModel text_encoder{nullptr};
  UNet2DConditionModel unet{nullptr};
  AutoencoderKL vae{nullptr};
  std::shared_ptr<Tokenizer> tokenizer;
  // Where the networks are and the precision their forward passes compute
  // in; set by PlaceModel (a new model is on the CPU in fp32).
  ComputeOptions compute;

  // Pixels per latent cell along each side: 2^(VAE down blocks - 1).
  int64_t vae_scale_factor() const;
};

// Builds the networks (randomly initialized from `seed`) around `tokenizer`.
// INVALID_ARGUMENT when the configs disagree: the text encoder's width must
// be the UNet's cross_attention_dim, the VAE's latent_channels the UNet's
// in/out channels, the tokenizer's ids must fit the text encoder's
// vocabulary and its max_length its position embeddings.
absl::StatusOr<DiffusionModel> CreateDiffusionModel(const DiffusionModelConfig& config,
                                                    std::shared_ptr<Tokenizer> tokenizer,
                                                    uint64_t seed);

// The device the model's networks are on (core/compute_device.h: every
// tensor made for the model is made there or moved there).
torch::Device ModelDevice(const DiffusionModel& model);

// Moves the model's three networks to options.device, weights staying fp32,
// and records `options` in model.compute. A model is placed once, after it
// is built or loaded and before it is adapted, trained, folded or sampled.
absl::Status PlaceModel(DiffusionModel& model, const ComputeOptions& options);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_DIFFUSION_MODEL_H_
