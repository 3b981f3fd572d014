// File: core/pipelines/diffusers_export.h
//
// Writes a DiffusionModel (a base with its concepts folded in) as a
// Stable Diffusion folder in diffusers' layout, so that what a user taught
// leaves with them and loads in diffusers (StableDiffusionPipeline
// .from_pretrained) or here (core/pipelines/diffusers_loader.h) as a base:
//   model_index.json
//   unet/, vae/        config.json + diffusion_pytorch_model.safetensors
//   text_encoder/      config.json + model.safetensors ("text_model." keys);
//                      one embedding row per tokenizer id: the vocabulary's,
//                      then each concept token's (the loader's spare rows
//                      are not written)
//   tokenizer/         vocab.json and merges.txt as they were read, and
//                      tokenizer_config.json, special_tokens_map.json and
//                      added_tokens.json naming the concept tokens as added
//                      tokens with their ids
//   scheduler/         scheduler_config.json: the class the checkpoint came
//                      with, its noise schedule and its sampler's fields
// Only models whose tokenizer is CLIP's BPE (diffusers-layout bases) have a
// diffusers form: others are FAILED_PRECONDITION.
//
// Thread-compatible: reads the model only.
#ifndef STAMINA_CORE_PIPELINES_DIFFUSERS_EXPORT_H_
#define STAMINA_CORE_PIPELINES_DIFFUSERS_EXPORT_H_

#include <string>

#include "absl/status/status.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct DiffusersExportOptions {
  // Store floating tensors as F16 (half the bytes; what "fp16" variants
  // hold). The loader converts back to float32.
  bool half_precision = false;
};

// Writes the folder `dir` (created; existing files are replaced).
// FAILED_PRECONDITION for a tokenizer without a diffusers form or a folder
// that cannot be created; errors of the file writes otherwise.
absl::Status SaveDiffusersModel(const DiffusionModel& model, const std::string& dir,
                                const DiffusersExportOptions& options = {});

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_DIFFUSERS_EXPORT_H_
