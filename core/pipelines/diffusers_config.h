// File: core/pipelines/diffusers_config.h
//
// Reads the JSON configs of a diffusers-layout Stable Diffusion 1.x/2.x
// checkpoint (what StableDiffusionPipeline.save_pretrained writes) into the
// configs core's networks, tokenizer and schedulers are built from:
//   unet/config.json             → UNet2DConditionModelConfig
//   vae/config.json              → AutoencoderKLConfig (with scaling_factor)
//   text_encoder/config.json     → CLIPTextConfig
//   scheduler/scheduler_config.json → the noise schedule (DDIM for sampling,
//                                  DDPM for training, as diffusers'
//                                  SchedulerClass.from_config would read it)
//   tokenizer/tokenizer_config.json → CLIPTokenizerOptions
//
// Strict, so that a checkpoint we cannot compute exactly is refused rather
// than silently computed differently: every field is either read, accepted
// only at the value our networks implement (INVALID_ARGUMENT naming the file
// and field otherwise: e.g. SDXL's addition_embed_type, conv_in_kernel 5,
// transformer_layers_per_block 2), or known to be metadata or training-only
// (dropout, _diffusers_version, transformers' generic config keys). A field
// none of these lists knows is refused unless its value is null.
//
// The scheduler: the checkpoint names the sampler it was shipped with
// (PNDMScheduler for SD 1.x); its noise-schedule fields (betas, spacing,
// offsets, prediction type) are what every sampler of that model must share,
// and those are read; fields that only tune one sampler's algorithm
// (skip_prk_steps, use_karras_sigmas, solver_order...) are kept in
// `sampler_fields` for the samplers that use them. Fields that change the
// schedule in ways we do not implement (trained_betas, thresholding,
// rescale_betas_zero_snr) are refused when set; unknown class names too.
//
// Thread-safe: pure functions.
#ifndef STAMINA_CORE_PIPELINES_DIFFUSERS_CONFIG_H_
#define STAMINA_CORE_PIPELINES_DIFFUSERS_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/models/autoencoder_kl.h"
#include "core/models/clip_text_model.h"
#include "core/models/unet_2d_condition.h"
#include "core/schedulers/ddim_scheduler.h"
#include "core/schedulers/ddpm_scheduler.h"
#include "core/tokenizers/clip_tokenizer.h"

namespace stamina::core {

// model_index.json: the pipeline class and each component's class.
struct DiffusersPipelineIndex {
  std::string pipeline_class;  // "StableDiffusionPipeline"
  std::string scheduler_class;  // e.g. "PNDMScheduler"
};

struct DiffusersSchedulerConfig {
  std::string class_name;  // as the checkpoint names it
  DDIMSchedulerConfig sampling;
  DDPMSchedulerConfig training;
  // Fields of class_name's own algorithm, as JSON text by name.
  std::map<std::string, std::string> sampler_fields;
};

// Each parser takes the file's text and a label for messages (the file's
// path). INVALID_ARGUMENT for malformed JSON, a wrong type, or a field
// refused as above, naming `label` and the field.
absl::StatusOr<DiffusersPipelineIndex> ParseDiffusersModelIndex(
    absl::string_view json, absl::string_view label);
absl::StatusOr<UNet2DConditionModelConfig> ParseDiffusersUNetConfig(
    absl::string_view json, absl::string_view label);
absl::StatusOr<AutoencoderKLConfig> ParseDiffusersVaeConfig(
    absl::string_view json, absl::string_view label);
absl::StatusOr<CLIPTextConfig> ParseTransformersCLIPTextConfig(
    absl::string_view json, absl::string_view label);
absl::StatusOr<DiffusersSchedulerConfig> ParseDiffusersSchedulerConfig(
    absl::string_view json, absl::string_view label);
absl::StatusOr<CLIPTokenizerOptions> ParseCLIPTokenizerConfig(
    absl::string_view json, absl::string_view label);

// The tokens a CLIP tokenizer has beyond vocab.json (exported concept tokens,
// textual-inversion tokens), by id: from tokenizer_config.json's
// "added_tokens_decoder" and from added_tokens.json (an empty text stands
// for an absent file). Both may also list the special tokens of vocab.json;
// the caller skips ids inside the vocabulary. INVALID_ARGUMENT for malformed
// entries or one id given two different tokens.
absl::StatusOr<std::map<int64_t, std::string>> ParseAddedTokens(
    absl::string_view tokenizer_config_json, absl::string_view added_tokens_json);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_DIFFUSERS_CONFIG_H_
