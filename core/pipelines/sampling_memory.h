// File: core/pipelines/sampling_memory.h
//
// How much memory sampling one image takes, from the model's configs alone,
// and the sample sizes a model accepts: what the sampler admits a request
// by (a request waits until its working memory fits the process's budget,
// and sizes that could never fit are refused up front).
//
// The estimate is an upper bound on the working memory of GenerateImages
// (core/pipelines/text_to_image_pipeline.h) beyond the model's weights, for
// float32 on the CPU: the UNet's activations for the guidance batch (the skip
// connections it holds across the network, the widest resolution's working
// tensors, attention's projections and one block of scores, see
// core/nn/attention_ops.h) or the VAE decoder's at full resolution,
// whichever is larger. sampling_memory_test measures peak RSS against it.
//
// Thread-safe: pure functions.
#ifndef STAMINA_CORE_PIPELINES_SAMPLING_MEMORY_H_
#define STAMINA_CORE_PIPELINES_SAMPLING_MEMORY_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

// The largest side a model samples, as a multiple of its native side: past
// twice the training resolution SD-style models repeat and tear, and the
// cost grows with the pixels.
inline constexpr int64_t kMaxSampleSideOverNative = 2;

// Bytes sampling one width x height image takes beyond the weights (0 means
// the native size); `guided` doubles the UNet's batch.
int64_t SamplingWorkingBytes(const DiffusionModelConfig& config, int64_t width,
                             int64_t height, bool guided);

// The model's native side (its VAE's sample_size).
int64_t NativeSampleSide(const DiffusionModelConfig& config);

// The largest square side, a multiple of the VAE's scale factor, at most
// kMaxSampleSideOverNative × native, whose guided working memory fits
// `memory_budget_bytes`; 0 when not even one latent cell does.
int64_t MaxSampleSide(const DiffusionModelConfig& config, int64_t memory_budget_bytes);

// INVALID_ARGUMENT naming `width` or `height` beyond
// kMaxSampleSideOverNative × native (or not a multiple of the scale factor);
// RESOURCE_EXHAUSTED when the image's working memory exceeds
// `memory_budget_bytes` (the message gives both in MiB).
absl::Status CheckSampleSize(const DiffusionModelConfig& config, int64_t width,
                             int64_t height, bool guided, int64_t memory_budget_bytes);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_SAMPLING_MEMORY_H_
