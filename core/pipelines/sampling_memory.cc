#include "core/pipelines/sampling_memory.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/nn/attention_ops.h"

namespace stamina::core {
namespace {

constexpr int64_t kFloatBytes = 4;
// Live full-size tensors while a ResNet block runs at the widest level: its
// input, the group norm, SiLU and conv outputs, the time-embedding sum, the
// residual and, in the up path, the concatenation with the skip (twice the
// channels). Counted generously; sampling_memory_test checks the bound.
constexpr int64_t kWorkingTensors = 12;
// Attention holds q, k, v, the merged heads, the output projection and the
// residual: about 8 tensors of the level's size.
constexpr int64_t kAttentionTensors = 8;
// A block of scores lives as the scores, their softmax and the masked or
// scaled copy.
constexpr int64_t kScoreCopies = 3;
// Latents, noise predictions, the text encoder's output and the decoded
// pixels, with LibTorch's bookkeeping: small and constant.
constexpr int64_t kFixedBytes = int64_t{16} << 20;

int64_t HeadsAt(const UNet2DConditionModelConfig& unet, size_t level) {
  return unet.attention_head_dim.size() == 1 ? unet.attention_head_dim[0]
                                             : unet.attention_head_dim[level];
}

int64_t ScoreBlockElements(int64_t batch_heads, int64_t queries, int64_t keys) {
  const int64_t per_row = batch_heads * keys;
  const int64_t rows =
      std::clamp<int64_t>(kMaxAttentionScoreElements / std::max<int64_t>(1, per_row), 1,
                          queries);
  return rows * per_row;
}

int64_t UNetBytes(const UNet2DConditionModelConfig& unet, int64_t latent_h,
                  int64_t latent_w, int64_t batch) {
  int64_t skips = unet.in_channels * latent_h * latent_w;
  int64_t widest = 0;
  int64_t attention = 0;
  int64_t scores = 0;
  int64_t h = latent_h, w = latent_w;
  const size_t levels = unet.block_out_channels.size();
  for (size_t i = 0; i < levels; ++i) {
    const int64_t cells = h * w;
    const int64_t channels = unet.block_out_channels[i];
    skips += (unet.layers_per_block + 1) * channels * cells;
    widest = std::max(widest, 2 * channels * cells);
    const bool attends =
        unet.down_block_types[i].find("CrossAttn") != std::string::npos ||
        i + 1 == levels;  // the mid block attends at the last level
    if (attends) {
      attention = std::max(attention, kAttentionTensors * channels * cells);
      // Self-attention over the level's cells (cross-attention's scores,
      // over the prompt's tokens, are smaller).
      scores = std::max(scores, ScoreBlockElements(batch * HeadsAt(unet, i), cells, cells));
    }
    if (i + 1 < levels) {
      h = (h + 1) / 2;
      w = (w + 1) / 2;
    }
  }
  return kFloatBytes * (batch * (skips + kWorkingTensors * widest / 2 + attention) +
                        kScoreCopies * scores);
}

int64_t VaeDecoderBytes(const AutoencoderKLConfig& vae, int64_t height, int64_t width,
                        int64_t factor) {
  // Level j of the decoder runs at height·2^j/factor with the channels of
  // block_out_channels read backwards (the previous level's channels arrive
  // through its upsampler); the last level is full resolution.
  int64_t widest = 0;
  const size_t levels = vae.block_out_channels.size();
  for (size_t j = 0; j < levels; ++j) {
    const int64_t scale = int64_t{1} << j;
    const int64_t cells = (height / factor * scale) * (width / factor * scale);
    int64_t channels = vae.block_out_channels[levels - 1 - j];
    if (j > 0) channels = std::max(channels, vae.block_out_channels[levels - j]);
    widest = std::max(widest, channels * cells);
  }
  // The mid block's single-head self-attention at the latent resolution.
  const int64_t latent_cells = (height / factor) * (width / factor);
  const int64_t mid = kAttentionTensors * vae.block_out_channels.back() * latent_cells +
                      kScoreCopies * ScoreBlockElements(1, latent_cells, latent_cells);
  return kFloatBytes * (kWorkingTensors * widest + mid);
}

int64_t ScaleFactor(const DiffusionModelConfig& config) {
  return int64_t{1} << (config.vae.block_out_channels.size() - 1);
}

std::string MiB(int64_t bytes) { return absl::StrCat((bytes + (1 << 20) - 1) >> 20, " MiB"); }

}  // namespace

int64_t NativeSampleSide(const DiffusionModelConfig& config) {
  return config.vae.sample_size;
}

int64_t SamplingWorkingBytes(const DiffusionModelConfig& config, int64_t width,
                             int64_t height, bool guided) {
  const int64_t native = NativeSampleSide(config);
  if (width == 0) width = native;
  if (height == 0) height = native;
  const int64_t factor = ScaleFactor(config);
  const int64_t unet = UNetBytes(config.unet, height / factor, width / factor, guided ? 2 : 1);
  return kFixedBytes + std::max(unet, VaeDecoderBytes(config.vae, height, width, factor));
}

int64_t MaxSampleSide(const DiffusionModelConfig& config, int64_t memory_budget_bytes) {
  const int64_t factor = ScaleFactor(config);
  for (int64_t side = kMaxSampleSideOverNative * NativeSampleSide(config) / factor * factor;
       side > 0; side -= factor) {
    if (SamplingWorkingBytes(config, side, side, true) <= memory_budget_bytes) return side;
  }
  return 0;
}

absl::Status CheckSampleSize(const DiffusionModelConfig& config, int64_t width,
                             int64_t height, bool guided, int64_t memory_budget_bytes) {
  const int64_t native = NativeSampleSide(config);
  const int64_t factor = ScaleFactor(config);
  const int64_t largest = kMaxSampleSideOverNative * native;
  for (auto [field, side] : {std::pair{"width", width}, std::pair{"height", height}}) {
    if (side < 0 || side > largest || side % factor != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": ", side, " is not a multiple of ", factor, " up to ", largest,
          " (", kMaxSampleSideOverNative, "x this model's native ", native, ")"));
    }
  }
  const int64_t needed = SamplingWorkingBytes(config, width, height, guided);
  if (needed > memory_budget_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "width x height: ", width == 0 ? native : width, "x", height == 0 ? native : height,
        " needs about ", MiB(needed), " of sampling memory; this sampler's budget is ",
        MiB(memory_budget_bytes), " (largest square side that fits: ",
        MaxSampleSide(config, memory_budget_bytes), ")"));
  }
  return absl::OkStatus();
}

}  // namespace stamina::core
