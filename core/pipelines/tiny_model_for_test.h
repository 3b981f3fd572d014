// File: core/pipelines/tiny_model_for_test.h
//
// A randomly initialized tiny DiffusionModel over the synthetic world's
// caption vocabulary, for CPU tests of pipelines and training. Test-only.
#ifndef STAMINA_CORE_PIPELINES_TINY_MODEL_FOR_TEST_H_
#define STAMINA_CORE_PIPELINES_TINY_MODEL_FOR_TEST_H_

#include <memory>

#include "core/pipelines/diffusion_model.h"
#include "core/tokenizers/word_tokenizer.h"
#include "core/world/renderer.h"

namespace stamina::core {

inline absl::StatusOr<DiffusionModel> TinyModelForTest(uint64_t seed) {
  DiffusionModelConfig config;
  config.text_encoder = CLIPTextConfig::Tiny();
  config.unet = UNet2DConditionModelConfig::Tiny();
  config.vae = AutoencoderKLConfig::Tiny();
  auto tokenizer = WordTokenizer::Create(
      CaptionVocabulary(), static_cast<int>(config.text_encoder.max_position_embeddings));
  if (!tokenizer.ok()) return tokenizer.status();
  return CreateDiffusionModel(config, std::shared_ptr<Tokenizer>(std::move(*tokenizer)),
                              seed);
}

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_TINY_MODEL_FOR_TEST_H_
