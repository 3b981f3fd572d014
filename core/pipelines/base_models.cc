#include "core/pipelines/base_models.h"

#include <sys/stat.h>

#include <cmath>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "core/io/file_bytes.h"
#include "core/pipelines/diffusers_loader.h"
#include "core/io/safetensors.h"
#include "core/io/state_dict.h"
#include "core/tokenizers/word_tokenizer.h"
#include "core/world/renderer.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

DiffusionModelConfig TinyV1() {
  DiffusionModelConfig config;
  CLIPTextConfig& text = config.text_encoder;
  text.vocab_size = 512;  // ~200 world words + room for concept tokens
  text.hidden_size = 128;
  text.intermediate_size = 512;
  text.num_hidden_layers = 4;
  text.num_attention_heads = 4;
  text.max_position_embeddings = 32;

  UNet2DConditionModelConfig& unet = config.unet;
  unet.sample_size = 16;
  unet.in_channels = 8;
  unet.out_channels = 8;
  // Cross-attention at 8x8 and 4x4 only: self-attention over the 256 tokens
  // of the 16x16 level cost ~45% of a training step (bench/train_step:
  // 1,519 -> 827 ms per batch of 32 on 2 cores) and the concept tokens still
  // reach every identity detail through the two lower levels.
  unet.down_block_types = {"DownBlock2D", "CrossAttnDownBlock2D",
                           "CrossAttnDownBlock2D"};
  unet.up_block_types = {"CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                         "UpBlock2D"};
  unet.block_out_channels = {48, 96, 128};
  unet.layers_per_block = 1;
  unet.cross_attention_dim = 128;
  unet.attention_head_dim = {4};
  unet.norm_num_groups = 16;  // divides 48 and 96

  AutoencoderKLConfig& vae = config.vae;
  vae.down_block_types = {"DownEncoderBlock2D", "DownEncoderBlock2D"};
  vae.up_block_types = {"UpDecoderBlock2D", "UpDecoderBlock2D"};
  vae.block_out_channels = {48, 96};
  vae.layers_per_block = 1;
  // 8 latent channels, not SD's 4 (as SD3 went to 16 for detail): the
  // world's identities differ in 2-pixel eyes and mouths, and with 4 channels
  // the oracle read a reconstruction's eye colour and mouth as it read the
  // original only 0.905 of the time (bench/base_model). The UNet's cost is
  // unchanged but for conv_in and conv_out.
  vae.latent_channels = 8;
  vae.norm_num_groups = 16;
  vae.sample_size = 32;
  return config;
}

}  // namespace

absl::StatusOr<DiffusionModelConfig> BaseModelConfig(const std::string& name) {
  if (name == kStaminaTinyV1) return TinyV1();
  if (name == kStaminaTestTiny) {
    DiffusionModelConfig config;
    config.text_encoder = CLIPTextConfig::Tiny();
    config.unet = UNet2DConditionModelConfig::Tiny();
    config.vae = AutoencoderKLConfig::Tiny();
    return config;
  }
  return absl::NotFoundError(absl::StrCat("no base model architecture \"", name, "\""));
}

absl::StatusOr<DiffusionModel> CreateBaseModel(const std::string& name,
                                               uint64_t seed) {
  STAMINA_ASSIGN_OR_RETURN(DiffusionModelConfig config, BaseModelConfig(name));
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<WordTokenizer> tokenizer,
      WordTokenizer::Create(CaptionVocabulary(),
                            static_cast<int>(config.text_encoder.max_position_embeddings)));
  return CreateDiffusionModel(config, std::shared_ptr<Tokenizer>(std::move(tokenizer)),
                              seed);
}

namespace {

std::map<std::string, torch::Tensor> ForSaving(const torch::nn::Module& module,
                                               bool half) {
  std::map<std::string, torch::Tensor> tensors = StateDict(module);
  if (half) {
    for (auto& [key, tensor] : tensors) {
      if (tensor.is_floating_point()) tensor = tensor.to(torch::kFloat16);
    }
  }
  return tensors;
}

}  // namespace

absl::Status SaveDiffusionModel(const DiffusionModel& model,
                                const std::string& architecture,
                                const std::string& dir,
                                const std::map<std::string, std::string>& metadata,
                                bool half_precision) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create ", dir));
  }
  std::map<std::string, std::string> tagged = metadata;
  tagged["architecture"] = architecture;
  tagged[kVaeScalingFactorKey] = absl::StrFormat("%.6g", model.config.vae.scaling_factor);
  STAMINA_RETURN_IF_ERROR(WriteSafetensors(
      dir + "/text_encoder.safetensors",
      ForSaving(*model.text_encoder, half_precision), tagged));
  STAMINA_RETURN_IF_ERROR(WriteSafetensors(
      dir + "/unet.safetensors", ForSaving(*model.unet, half_precision), tagged));
  STAMINA_RETURN_IF_ERROR(WriteSafetensors(
      dir + "/vae.safetensors", ForSaving(*model.vae, half_precision), tagged));
  nlohmann::json index = nlohmann::json::object();
  for (const auto& [key, value] : tagged) index[key] = value;
  std::ofstream(dir + "/model_index.json") << index.dump(2) << "\n";
  std::ofstream vocabulary(dir + "/vocabulary.txt");
  for (const std::string& word : CaptionVocabulary()) vocabulary << word << "\n";
  return absl::OkStatus();
}

absl::StatusOr<DiffusionModelConfig> ReadDiffusionModelConfig(const std::string& dir) {
  if (IsDiffusersLayout(dir)) return ReadDiffusersConfig(dir);
  STAMINA_ASSIGN_OR_RETURN(std::string index_text,
                           ReadFileBytes(dir + "/model_index.json"));
  nlohmann::json index = nlohmann::json::parse(index_text, nullptr, false);
  if (index.is_discarded() || !index.is_object() ||
      !index.contains("architecture") || !index["architecture"].is_string()) {
    return absl::DataLossError(
        absl::StrCat(dir, "/model_index.json: no \"architecture\" string"));
  }
  const std::string architecture = index["architecture"].get<std::string>();
  STAMINA_ASSIGN_OR_RETURN(DiffusionModelConfig config, BaseModelConfig(architecture));
  if (index.contains(kVaeScalingFactorKey)) {
    double factor = 0;
    if (!index[kVaeScalingFactorKey].is_string() ||
        !absl::SimpleAtod(index[kVaeScalingFactorKey].get<std::string>(), &factor) ||
        !std::isfinite(factor) || factor <= 0) {
      return absl::DataLossError(absl::StrCat(dir, "/model_index.json: \"",
                                              kVaeScalingFactorKey,
                                              "\" is not a positive number"));
    }
    config.vae.scaling_factor = factor;
  }
  return config;
}

absl::StatusOr<DiffusionModel> LoadDiffusionModel(const std::string& dir) {
  if (IsDiffusersLayout(dir)) return LoadDiffusersModel(dir);
  STAMINA_ASSIGN_OR_RETURN(DiffusionModelConfig config, ReadDiffusionModelConfig(dir));
  STAMINA_ASSIGN_OR_RETURN(std::string vocabulary_text,
                           ReadFileBytes(dir + "/vocabulary.txt"));
  std::vector<std::string> words =
      absl::StrSplit(vocabulary_text, '\n', absl::SkipEmpty());
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<WordTokenizer> tokenizer,
      WordTokenizer::Create(words,
                            static_cast<int>(config.text_encoder.max_position_embeddings)));
  STAMINA_ASSIGN_OR_RETURN(
      DiffusionModel model,
      CreateDiffusionModel(config, std::shared_ptr<Tokenizer>(std::move(tokenizer)), 0));
  STAMINA_RETURN_IF_ERROR(LoadDiffusionModelWeights(dir, model));
  return model;
}

absl::Status LoadDiffusionModelWeights(const std::string& dir,
                                       DiffusionModel& model) {
  for (auto [file, module] :
       {std::pair<std::string, torch::nn::Module*>{"text_encoder", model.text_encoder.get()},
        {"unet", model.unet.get()},
        {"vae", model.vae.get()}}) {
    STAMINA_ASSIGN_OR_RETURN(Safetensors weights,
                             ReadSafetensors(dir + "/" + file + ".safetensors"));
    STAMINA_RETURN_IF_ERROR(
        LoadStateDict(*module, weights.tensors,
                      {.optional_keys = OptionalCLIPTextModelKeys()})
            .status())
        << "loading " << file;
  }
  return absl::OkStatus();
}

}  // namespace stamina::core
