// File: core/pipelines/base_models.h
//
// The built-in base model's architecture, "stamina-tiny-v1": a latent
// diffusion model exactly like Stable Diffusion 1.x (CLIPTextModel +
// UNet2DConditionModel + AutoencoderKL) at toy scale for a 2-core CPU:
// 32x32 RGB images, a VAE with one downsampling (16x16x8 latents: the
// world's 2-pixel details, like eyes, survive it), a 3-level UNet with
// cross-attention at 8x8 and 4x4, and a 4-layer text encoder over the
// synthetic world's word vocabulary with room for 256 concept tokens.
// And the on-disk layout of any DiffusionModel:
//   <dir>/model_index.json        {"architecture": "...",
//                                  "vae_scaling_factor": "...", ...metadata}
//   <dir>/text_encoder.safetensors, unet.safetensors, vae.safetensors
//   <dir>/vocabulary.txt          the word tokenizer's words, one per line
#ifndef STAMINA_CORE_PIPELINES_BASE_MODELS_H_
#define STAMINA_CORE_PIPELINES_BASE_MODELS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

inline constexpr char kStaminaTinyV1[] = "stamina-tiny-v1";
// The smallest configs of every network (core tests only; trains in ms).
inline constexpr char kStaminaTestTiny[] = "stamina-test-tiny";

// model_index.json key of the VAE's scaling_factor (diffusers keeps it in
// vae/config.json): it belongs to trained weights, not to the architecture,
// since it is measured on the trained encoder's latents (pretraining.h).
// Absent = the architecture's default.
inline constexpr char kVaeScalingFactorKey[] = "vae_scaling_factor";

// The configs of the named architecture; NOT_FOUND for unknown names.
absl::StatusOr<DiffusionModelConfig> BaseModelConfig(const std::string& name);

// A randomly initialized model of the named architecture with the world's
// word tokenizer (max_length = the text encoder's positions).
absl::StatusOr<DiffusionModel> CreateBaseModel(const std::string& name,
                                               uint64_t seed);

// Writes `model` to `dir` (created if missing) in the layout above, with
// `metadata` (strings) merged into model_index.json and each safetensors
// header. `half_precision` stores floating tensors as F16 (the shipped base
// model: half the bytes; loading converts back to the module's dtype).
absl::Status SaveDiffusionModel(const DiffusionModel& model,
                                const std::string& architecture,
                                const std::string& dir,
                                const std::map<std::string, std::string>& metadata,
                                bool half_precision = false);

// Reads a model written by SaveDiffusionModel, or a diffusers-layout
// checkpoint (IsDiffusersLayout; LoadDiffusersModel with default options).
// Strict: every tensor must match the architecture (DATA_LOSS for corrupt
// files, INVALID_ARGUMENT for mismatched tensors, NOT_FOUND for missing
// files).
absl::StatusOr<DiffusionModel> LoadDiffusionModel(const std::string& dir);

// The configs of the model in `dir` (either layout) without reading weights.
absl::StatusOr<DiffusionModelConfig> ReadDiffusionModelConfig(const std::string& dir);

// Copies the weights of a model written by SaveDiffusionModel into `model`,
// which must have the same architecture (same errors as LoadDiffusionModel).
absl::Status LoadDiffusionModelWeights(const std::string& dir,
                                       DiffusionModel& model);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_BASE_MODELS_H_
