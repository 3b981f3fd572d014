#include "core/pipelines/diffusion_model.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/torch_status.h"

namespace stamina::core {

int64_t DiffusionModel::vae_scale_factor() const {
  return int64_t{1} << (config.vae.block_out_channels.size() - 1);
}

absl::StatusOr<DiffusionModel> CreateDiffusionModel(const DiffusionModelConfig& config,
                                                    std::shared_ptr<Tokenizer> tokenizer,
                                                    uint64_t seed) {
  if (tokenizer == nullptr) return absl::InvalidArgumentError("tokenizer: required");
  if (config.text_encoder.hidden_size != config.unet.cross_attention_dim) {
    return absl::InvalidArgumentError(absl::StrCat(
        "text_encoder.hidden_size (", config.text_encoder.hidden_size,
        ") must equal unet.cross_attention_dim (", config.unet.cross_attention_dim, ")"));
  }
  if (config.vae.latent_channels != config.unet.in_channels ||
      config.vae.latent_channels != config.unet.out_channels) {
    return absl::InvalidArgumentError(
        "vae.latent_channels must equal unet.in_channels and out_channels");
  }
  if (tokenizer->vocab_size() > config.text_encoder.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer has ", tokenizer->vocab_size(),
                                                   " ids; text_encoder.vocab_size is ",
                                                   config.text_encoder.vocab_size));
  }
  if (tokenizer->max_length() > config.text_encoder.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer max_length ", tokenizer->max_length(),
                                                   " exceeds text_encoder.max_position_embeddings ",
                                                   config.text_encoder.max_position_embeddings));
  }
  DiffusionModel model;
  model.config = config;
  model.tokenizer = std::move(tokenizer);
  STAMINA_RETURN_IF_ERROR(RunTorch([&] { torch::manual_seed(seed); }));
  STAMINA_ASSIGN_OR_RETURN(model.text_encoder, CreateCLIPTextModel(config.text_encoder));
  STAMINA_ASSIGN_OR_RETURN(model.unet, CreateUNet2DConditionModel(config.unet));
  STAMINA_ASSIGN_OR_RETURN(model.vae, CreateAutoencoderKL(config.vae));
  return model;
}

torch::Device ModelDevice(const DiffusionModel& model) { return model.compute.device; }

absl::Status PlaceModel(DiffusionModel& model, const ComputeOptions& options) {
  STAMINA_RETURN_IF_ERROR(RunTorchVoid([&] {
    model.text_encoder->to(options.device);
    model.unet->to(options.device);
    model.vae->to(options.device);
  })) << "placing the model on "
      << DeviceName(options.device);
  model.compute = options;
  return absl::OkStatus();
}

}  // namespace stamina::core
