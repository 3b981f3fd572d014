// File: core/pipelines/diffusers_loader.h
//
// Loads a Stable Diffusion 1.x/2.x checkpoint in Hugging Face's diffusers
// folder layout (StableDiffusionPipeline.save_pretrained) as a
// DiffusionModel, with no architecture table: the configs come from the
// folder's JSON files (core/pipelines/diffusers_config.h), the tokenizer from
// tokenizer/vocab.json + merges.txt, the weights from
//   text_encoder/model.safetensors, unet/ and vae/diffusion_pytorch_model.safetensors
// (or the "*.fp16.safetensors" variant), loaded strictly: every missing,
// unexpected or mis-shaped tensor is reported (INVALID_ARGUMENT naming the
// component and keys), never skipped. Accepted as real checkpoints have them:
// text-encoder keys with or without the "text_model." prefix, the optional
// position_ids buffer, the VAE mid-block attention under its old names
// (query/key/value/proj_attn, also as 1x1 convolutions), fp16/bf16 weights
// (converted to float32, the working dtype). Refused with UNIMPLEMENTED
// naming what was found: a single-file original-LDM checkpoint, pickle
// ".bin" weights (unsafe to read), sharded weights, pipelines other than
// StableDiffusionPipeline.
//
// Concept tokens: SD's text encoder has exactly one embedding row per
// vocabulary entry, so `concept_token_rows` zero rows are appended to the
// token embedding (text_encoder.vocab_size grows by as much); each concept's
// row is set when it trains or is folded. Sampling prompts without concept
// tokens never read them, so outputs equal diffusers'.
//
// Thread-safe: no shared state; each call builds a new model.
#ifndef STAMINA_CORE_PIPELINES_DIFFUSERS_LOADER_H_
#define STAMINA_CORE_PIPELINES_DIFFUSERS_LOADER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/io/state_dict.h"
#include "core/pipelines/diffusers_config.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct DiffusersLoadOptions {
  int64_t concept_token_rows = 256;
  // "": the plain weights file, else the "fp16" variant if only it exists;
  // "fp16": the variant first.
  std::string variant;
};

// What a load read, for logs and the parity tool.
struct DiffusersLoadReport {
  std::string scheduler_class;     // the sampler the checkpoint ships with
  std::vector<std::string> files;  // weight files read, relative to the dir
  LoadReport text_encoder, unet, vae;
};

// True when `dir`/model_index.json names a diffusers pipeline class
// ("_class_name"), as opposed to this project's own layout
// (core/pipelines/base_models.h).
bool IsDiffusersLayout(const std::string& dir);

// The configs and tokenizer options alone (no weights read). Errors as
// LoadDiffusersModel's, less the weights'.
absl::StatusOr<DiffusionModelConfig> ReadDiffusersConfig(
    const std::string& dir, const DiffusersLoadOptions& options = {});

// NOT_FOUND for a missing file; INVALID_ARGUMENT for a config or tensor
// that does not fit (naming file and field or keys); DATA_LOSS for a
// corrupt or truncated file; UNIMPLEMENTED as above.
absl::StatusOr<DiffusionModel> LoadDiffusersModel(
    const std::string& dir, const DiffusersLoadOptions& options = {},
    DiffusersLoadReport* report = nullptr);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_DIFFUSERS_LOADER_H_
