#include "core/pipelines/diffusers_export.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/io/safetensors.h"
#include "core/io/state_dict.h"
#include "core/tokenizers/clip_tokenizer.h"
#include "core/torch_status.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

using Json = nlohmann::ordered_json;

// Version stamps readers check loosely; the configs use no field newer.
constexpr char kDiffusersVersion[] = "0.30.0";
constexpr char kTransformersVersion[] = "4.44.0";

absl::Status WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

absl::Status WriteJson(const std::filesystem::path& path, const Json& json) {
  return WriteText(path, json.dump(2) + "\n");
}

Json HeadCounts(const std::vector<int64_t>& heads) {
  return heads.size() == 1 ? Json(heads[0]) : Json(heads);
}

Json UNetConfig(const UNet2DConditionModelConfig& c) {
  return {{"_class_name", "UNet2DConditionModel"},
          {"_diffusers_version", kDiffusersVersion},
          {"act_fn", c.act_fn},
          {"attention_head_dim", HeadCounts(c.attention_head_dim)},
          {"block_out_channels", c.block_out_channels},
          {"center_input_sample", c.center_input_sample},
          {"cross_attention_dim", c.cross_attention_dim},
          {"down_block_types", c.down_block_types},
          {"downsample_padding", c.downsample_padding},
          {"flip_sin_to_cos", c.flip_sin_to_cos},
          {"freq_shift", c.freq_shift},
          {"in_channels", c.in_channels},
          {"layers_per_block", c.layers_per_block},
          {"mid_block_scale_factor", c.mid_block_scale_factor},
          {"mid_block_type", c.mid_block_type},
          {"norm_eps", c.norm_eps},
          {"norm_num_groups", c.norm_num_groups},
          {"out_channels", c.out_channels},
          {"sample_size", c.sample_size},
          {"up_block_types", c.up_block_types},
          {"upcast_attention", c.upcast_attention},
          {"use_linear_projection", c.use_linear_projection}};
}

Json VaeConfig(const AutoencoderKLConfig& c) {
  return {{"_class_name", "AutoencoderKL"},
          {"_diffusers_version", kDiffusersVersion},
          {"act_fn", c.act_fn},
          {"block_out_channels", c.block_out_channels},
          {"down_block_types", c.down_block_types},
          {"in_channels", c.in_channels},
          {"latent_channels", c.latent_channels},
          {"layers_per_block", c.layers_per_block},
          {"norm_num_groups", c.norm_num_groups},
          {"out_channels", c.out_channels},
          {"sample_size", c.sample_size},
          {"scaling_factor", c.scaling_factor},
          {"up_block_types", c.up_block_types}};
}

Json TextEncoderConfig(const CLIPTextConfig& c, const Tokenizer& tokenizer) {
  return {{"architectures", {"CLIPTextModel"}},
          {"bos_token_id", tokenizer.bos_id()},
          {"eos_token_id", tokenizer.eos_id()},
          {"hidden_act", c.hidden_act},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"layer_norm_eps", c.layer_norm_eps},
          {"max_position_embeddings", c.max_position_embeddings},
          {"model_type", "clip_text_model"},
          {"num_attention_heads", c.num_attention_heads},
          {"num_hidden_layers", c.num_hidden_layers},
          {"pad_token_id", tokenizer.pad_id()},
          {"projection_dim", c.hidden_size},
          {"torch_dtype", "float32"},
          {"transformers_version", kTransformersVersion},
          {"vocab_size", tokenizer.vocab_size()}};
}

Json SchedulerConfig(const DiffusionModelConfig& config) {
  const DDIMSchedulerConfig& d = config.sampling_scheduler;
  Json json = {{"_class_name", config.scheduler_class.empty() ? "DDIMScheduler"
                                                              : config.scheduler_class},
               {"_diffusers_version", kDiffusersVersion},
               {"beta_end", d.beta_end},
               {"beta_schedule", d.beta_schedule},
               {"beta_start", d.beta_start},
               {"clip_sample", d.clip_sample},
               {"clip_sample_range", d.clip_sample_range},
               {"num_train_timesteps", d.num_train_timesteps},
               {"prediction_type", d.prediction_type},
               {"set_alpha_to_one", d.set_alpha_to_one},
               {"steps_offset", d.steps_offset},
               {"timestep_spacing", d.timestep_spacing},
               {"trained_betas", nullptr}};
  for (const auto& [key, text] : config.scheduler_fields) json[key] = Json::parse(text);
  return json;
}

Json AddedToken(const std::string& content, bool special) {
  return {{"content", content}, {"lstrip", false}, {"normalized", !special},
          {"rstrip", false},    {"single_word", false}, {"special", special}};
}

absl::Status WriteTokenizer(const CLIPTokenizer& tokenizer, const std::filesystem::path& dir) {
  STAMINA_RETURN_IF_ERROR(WriteText(dir / "vocab.json", tokenizer.vocab_json()));
  STAMINA_RETURN_IF_ERROR(WriteText(dir / "merges.txt", tokenizer.merges_txt()));
  const CLIPTokenizerOptions& options = tokenizer.options();
  const std::string bos(CLIPTokenizer::kBosToken);
  const std::string eos(CLIPTokenizer::kEosToken);
  Json decoder = Json::object();
  decoder[absl::StrCat(tokenizer.bos_id())] = AddedToken(bos, true);
  decoder[absl::StrCat(tokenizer.eos_id())] = AddedToken(eos, true);
  Json added = Json::object();
  for (int32_t id = tokenizer.base_vocab_size(); id < tokenizer.vocab_size(); ++id) {
    const std::string* token = tokenizer.concepts().Token(id);
    if (token == nullptr) {
      return absl::InternalError(absl::StrCat("tokenizer: no concept token has id ", id));
    }
    decoder[absl::StrCat(id)] = AddedToken(*token, false);
    added[*token] = id;
  }
  STAMINA_RETURN_IF_ERROR(
      WriteJson(dir / "tokenizer_config.json",
                {{"add_prefix_space", false},
                 {"added_tokens_decoder", decoder},
                 {"bos_token", bos},
                 {"clean_up_tokenization_spaces", true},
                 {"do_lower_case", true},
                 {"eos_token", eos},
                 {"errors", "replace"},
                 {"model_max_length", options.max_length},
                 {"pad_token", options.pad_token},
                 {"tokenizer_class", "CLIPTokenizer"},
                 {"unk_token", options.unk_token}}));
  STAMINA_RETURN_IF_ERROR(WriteJson(dir / "special_tokens_map.json",
                                    {{"bos_token", bos},
                                     {"eos_token", eos},
                                     {"pad_token", options.pad_token},
                                     {"unk_token", options.unk_token}}));
  return WriteJson(dir / "added_tokens.json", added);
}

// The module's tensors for saving (sharing the module's storage unless
// converted to F16: saving copies them into the file's bytes anyway); the
// text encoder's embedding cut to the tokenizer's ids and its position_ids
// buffer left out (transformers >= 4.31 neither writes nor needs it).
std::map<std::string, torch::Tensor> Weights(const torch::nn::Module& module, bool half,
                                             int64_t embedding_rows = -1) {
  std::map<std::string, torch::Tensor> tensors;
  for (auto& [key, tensor] : StateDict(module)) {
    if (key == "text_model.embeddings.position_ids") continue;
    torch::Tensor value = tensor;
    if (embedding_rows >= 0 && key == "text_model.embeddings.token_embedding.weight") {
      value = value.slice(0, 0, embedding_rows);
    }
    if (half && value.is_floating_point()) value = value.to(torch::kFloat16);
    tensors[key] = value.contiguous();
  }
  return tensors;
}

}  // namespace

absl::Status SaveDiffusersModel(const DiffusionModel& model, const std::string& dir,
                                const DiffusersExportOptions& options) {
  const auto* tokenizer = dynamic_cast<const CLIPTokenizer*>(model.tokenizer.get());
  if (tokenizer == nullptr) {
    return absl::FailedPreconditionError(
        "this model's tokenizer is not CLIP's BPE (a built-in base model's word "
        "tokenizer): it has no diffusers form; export its adapters instead");
  }
  const std::filesystem::path root(dir);
  std::error_code error;
  for (const char* sub : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}) {
    std::filesystem::create_directories(root / sub, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create ", (root / sub).string(), ": ", error.message()));
    }
  }
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  const bool half = options.half_precision;
  STAMINA_ASSIGN_OR_RETURN(auto unet, RunTorch([&] { return Weights(*model.unet, half); }));
  STAMINA_RETURN_IF_ERROR(WriteSafetensors(
      (root / "unet/diffusion_pytorch_model.safetensors").string(), unet, metadata));
  unet.clear();
  STAMINA_ASSIGN_OR_RETURN(auto vae, RunTorch([&] { return Weights(*model.vae, half); }));
  STAMINA_RETURN_IF_ERROR(WriteSafetensors(
      (root / "vae/diffusion_pytorch_model.safetensors").string(), vae, metadata));
  STAMINA_ASSIGN_OR_RETURN(auto text, RunTorch([&] {
                             return Weights(*model.text_encoder, half,
                                            tokenizer->vocab_size());
                           }));
  STAMINA_RETURN_IF_ERROR(
      WriteSafetensors((root / "text_encoder/model.safetensors").string(), text, metadata));
  STAMINA_RETURN_IF_ERROR(WriteJson(root / "unet/config.json", UNetConfig(model.config.unet)));
  STAMINA_RETURN_IF_ERROR(WriteJson(root / "vae/config.json", VaeConfig(model.config.vae)));
  STAMINA_RETURN_IF_ERROR(
      WriteJson(root / "text_encoder/config.json",
                TextEncoderConfig(model.config.text_encoder, *tokenizer)));
  STAMINA_RETURN_IF_ERROR(
      WriteJson(root / "scheduler/scheduler_config.json", SchedulerConfig(model.config)));
  STAMINA_RETURN_IF_ERROR(WriteTokenizer(*tokenizer, root / "tokenizer"));
  const Json null_pair = Json::array({nullptr, nullptr});
  return WriteJson(
      root / "model_index.json",
      {{"_class_name", "StableDiffusionPipeline"},
       {"_diffusers_version", kDiffusersVersion},
       {"feature_extractor", null_pair},
       {"image_encoder", null_pair},
       {"requires_safety_checker", false},
       {"safety_checker", null_pair},
       {"scheduler", {"diffusers", SchedulerConfig(model.config)["_class_name"]}},
       {"text_encoder", {"transformers", "CLIPTextModel"}},
       {"tokenizer", {"transformers", "CLIPTokenizer"}},
       {"unet", {"diffusers", "UNet2DConditionModel"}},
       {"vae", {"diffusers", "AutoencoderKL"}}});
}

}  // namespace stamina::core
