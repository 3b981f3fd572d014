// File: worker/base_model_spec.h
//
// Which base models a worker or sampler process has, and their identity:
// a base model is either a directory written by core's SaveDiffusionModel
// (model_index.json, text_encoder/unet/vae.safetensors, vocabulary.txt), a
// Stable Diffusion checkpoint in diffusers' folder layout (model_index.json
// with "_class_name", component folders; core/pipelines/diffusers_loader.h)
// or, when no files are shipped yet, the architecture's random
// initialization from a seed (development only; the caller logs a warning).
// The digest registered for the base model (ModelRecord.base_digest) is the
// SHA-256 of the files' names and SHA-256s (for a diffusers folder: its
// model_index.json and every file of its scheduler, text_encoder, tokenizer,
// unet and vae folders, weights and configs alike), or of
// "random-init:<id>:<seed>"; workers refuse models whose base digest differs
// from theirs.
//
// DeviceSpec is the device half of the same question (--device,
// --compute_dtype); core/compute_device.h parses it where LibTorch is linked.
//
// Torch-free, so that binaries compose it without including LibTorch.
// Thread-safe: pure functions.
#ifndef STAMINA_WORKER_BASE_MODEL_SPEC_H_
#define STAMINA_WORKER_BASE_MODEL_SPEC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace stamina::worker {

struct BaseModelSpec {
  // The base model's id: for random weights its architecture name
  // ("stamina-tiny-v1", "stamina-test-tiny"); for files, any name.
  std::string id;
  // Directory of its files; empty or missing files use random weights when
  // `random_fallback` is set.
  std::string dir;
  bool random_fallback = false;
  uint64_t random_seed = 1;
};

struct ResolvedBaseModel {
  std::string id;
  std::string dir;  // empty: random initialization from `random_seed`
  uint64_t random_seed = 1;
  std::string digest;
};

// Where a worker or sampler computes: "auto", "cpu", "cuda" or "cuda:N";
// "auto", "fp32", "bf16" or "fp16" (core/compute_device.h).
struct DeviceSpec {
  std::string device = "auto";
  std::string compute_dtype = "auto";
};

// NOT_FOUND when `spec.dir` has no model_index.json and random_fallback is
// off; INVALID_ARGUMENT for an empty id.
absl::StatusOr<ResolvedBaseModel> ResolveBaseModel(const BaseModelSpec& spec);

// The warning a binary logs when `resolved` fell back to random weights
// (`dir_label` names where files were looked for); empty otherwise.
std::string RandomWeightsWarning(const ResolvedBaseModel& resolved, const std::string& dir_label);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_BASE_MODEL_SPEC_H_
