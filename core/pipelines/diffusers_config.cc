#include "core/pipelines/diffusers_config.h"

#include <algorithm>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "core/pipelines/config_fields.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

using Json = nlohmann::json;

// The transformers PretrainedConfig keys every model config may carry
// (generation and serialization settings; none changes a forward pass).
constexpr std::initializer_list<const char*> kTransformersGenericKeys = {
    "_name_or_path", "architectures", "transformers_version", "dtype", "torch_dtype",
    "output_attentions", "output_hidden_states", "return_dict", "use_bfloat16",
    "torchscript", "tie_word_embeddings", "chunk_size_feed_forward",
    "is_encoder_decoder", "is_decoder", "add_cross_attention", "tie_encoder_decoder",
    "pruned_heads", "id2label", "label2id", "problem_type", "tokenizer_class",
    "prefix", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
    "decoder_start_token_id", "task_specific_params", "finetuning_task",
    "cross_attention_hidden_size", "max_length", "min_length", "do_sample",
    "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty",
    "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
    "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size",
    "bad_words_ids", "num_return_sequences", "output_scores",
    "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id",
    "remove_invalid_values", "exponential_decay_length_penalty",
    "suppress_tokens", "begin_suppress_tokens", "gradient_checkpointing",
    "_attn_implementation_autoset", "use_cache"};

// Schedulers diffusers ships that share the DDPM noise-schedule fields.
const std::set<std::string>& KnownSchedulers() {
  static const auto* names = new std::set<std::string>{
      "DDIMScheduler", "DDPMScheduler", "PNDMScheduler", "LMSDiscreteScheduler",
      "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler",
      "DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler",
      "UniPCMultistepScheduler", "HeunDiscreteScheduler", "KDPM2DiscreteScheduler",
      "KDPM2AncestralDiscreteScheduler", "DEISMultistepScheduler"};
  return *names;
}

}  // namespace

absl::StatusOr<DiffusersPipelineIndex> ParseDiffusersModelIndex(
    absl::string_view json, absl::string_view label) {
  STAMINA_ASSIGN_OR_RETURN(ConfigFields fields, ConfigFields::Parse(json, label));
  DiffusersPipelineIndex index;
  fields.String("_class_name", &index.pipeline_class);
  if (index.pipeline_class != "StableDiffusionPipeline") {
    return absl::UnimplementedError(absl::StrCat(
        label, ": _class_name: \"", index.pipeline_class,
        "\" is not implemented (only StableDiffusionPipeline: SD 1.x/2.x)"));
  }
  auto component = [&](const char* key, std::initializer_list<Json> classes) {
    std::vector<Json> allowed;
    for (const Json& name : classes) {
      for (const char* library : {"diffusers", "transformers"}) {
        allowed.push_back(Json::array({library, name}));
      }
    }
    const Json value = fields.Raw(key);
    if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
      fields.Fail(key, absl::StrCat(value.dump(), " is not implemented"));
    }
  };
  component("text_encoder", {"CLIPTextModel"});
  component("unet", {"UNet2DConditionModel"});
  component("vae", {"AutoencoderKL"});
  component("tokenizer", {"CLIPTokenizer", "CLIPTokenizerFast"});
  std::vector<std::string> scheduler;
  fields.Strings("scheduler", &scheduler);
  if (scheduler.size() == 2) index.scheduler_class = scheduler[1];
  // The safety checker and its feature extractor are an optional
  // post-filter of images, not part of the model; we run none.
  fields.Ignore({"_diffusers_version", "_name_or_path", "safety_checker",
                 "feature_extractor", "image_encoder", "requires_safety_checker"});
  STAMINA_RETURN_IF_ERROR(fields.Finish());
  if (KnownSchedulers().count(index.scheduler_class) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": scheduler: \"", index.scheduler_class, "\" is not a known scheduler"));
  }
  return index;
}

absl::StatusOr<UNet2DConditionModelConfig> ParseDiffusersUNetConfig(
    absl::string_view json, absl::string_view label) {
  STAMINA_ASSIGN_OR_RETURN(ConfigFields fields, ConfigFields::Parse(json, label));
  // diffusers' UNet2DConditionModel defaults (SD 1.x's blocks, width 1280).
  UNet2DConditionModelConfig c = UNet2DConditionModelConfig::StableDiffusion15();
  c.cross_attention_dim = 1280;
  c.sample_size = 0;
  fields.Only("_class_name", {"UNet2DConditionModel"});
  fields.Int("sample_size", &c.sample_size);
  fields.Int("in_channels", &c.in_channels);
  fields.Int("out_channels", &c.out_channels);
  fields.Bool("center_input_sample", &c.center_input_sample);
  fields.Bool("flip_sin_to_cos", &c.flip_sin_to_cos);
  fields.Double("freq_shift", &c.freq_shift);
  fields.Strings("down_block_types", &c.down_block_types);
  fields.Only("mid_block_type", {"UNetMidBlock2DCrossAttn"});
  fields.Strings("up_block_types", &c.up_block_types);
  fields.Ints("block_out_channels", &c.block_out_channels);
  fields.Int("layers_per_block", &c.layers_per_block);
  fields.Int("downsample_padding", &c.downsample_padding);
  fields.Double("mid_block_scale_factor", &c.mid_block_scale_factor);
  fields.Only("act_fn", {"silu"});
  fields.Int("norm_num_groups", &c.norm_num_groups);
  fields.Double("norm_eps", &c.norm_eps);
  fields.Int("cross_attention_dim", &c.cross_attention_dim);
  // SD's "attention_head_dim" is the number of heads (diffusers' misnomer);
  // diffusers itself refuses num_attention_heads for this class.
  fields.Ints("attention_head_dim", &c.attention_head_dim, /*scalar_ok=*/true);
  fields.Only("num_attention_heads", {nullptr});
  fields.Bool("use_linear_projection", &c.use_linear_projection);
  fields.Bool("upcast_attention", &c.upcast_attention);
  fields.Only("transformer_layers_per_block", {1});
  fields.Only("reverse_transformer_layers_per_block", {nullptr});
  fields.Only("only_cross_attention", {false});
  fields.Only("dual_cross_attention", {false});
  fields.Only("mid_block_only_cross_attention", {nullptr, false});
  fields.Only("class_embed_type", {nullptr});
  fields.Only("num_class_embeds", {nullptr});
  fields.Only("class_embeddings_concat", {false});
  fields.Only("projection_class_embeddings_input_dim", {nullptr});
  fields.Only("addition_embed_type", {nullptr});
  fields.Only("addition_time_embed_dim", {nullptr});
  fields.Only("encoder_hid_dim", {nullptr});
  fields.Only("encoder_hid_dim_type", {nullptr});
  fields.Only("time_embedding_type", {"positional"});
  fields.Only("time_embedding_dim", {nullptr});
  fields.Only("time_embedding_act_fn", {nullptr});
  fields.Only("timestep_post_act", {nullptr});
  fields.Only("time_cond_proj_dim", {nullptr});
  fields.Only("conv_in_kernel", {3});
  fields.Only("conv_out_kernel", {3});
  fields.Only("attention_type", {"default"});
  fields.Only("cross_attention_norm", {nullptr});
  fields.Only("resnet_time_scale_shift", {"default"});
  fields.Only("resnet_skip_time_act", {false});
  fields.Only("resnet_out_scale_factor", {1, 1.0});
  // addition_embed_type_num_heads only matters with an addition embedding.
  fields.Ignore({"_diffusers_version", "_name_or_path", "dropout",
                 "addition_embed_type_num_heads"});
  if (c.sample_size <= 0) fields.Fail("sample_size", "required, a positive integer");
  STAMINA_RETURN_IF_ERROR(fields.Check(ValidateUNet2DConditionModelConfig(c)));
  return c;
}

absl::StatusOr<AutoencoderKLConfig> ParseDiffusersVaeConfig(
    absl::string_view json, absl::string_view label) {
  STAMINA_ASSIGN_OR_RETURN(ConfigFields fields, ConfigFields::Parse(json, label));
  AutoencoderKLConfig c;  // diffusers' AutoencoderKL defaults
  fields.Only("_class_name", {"AutoencoderKL"});
  fields.Int("in_channels", &c.in_channels);
  fields.Int("out_channels", &c.out_channels);
  fields.Strings("down_block_types", &c.down_block_types);
  fields.Strings("up_block_types", &c.up_block_types);
  fields.Ints("block_out_channels", &c.block_out_channels);
  fields.Int("layers_per_block", &c.layers_per_block);
  fields.Only("act_fn", {"silu"});
  fields.Int("latent_channels", &c.latent_channels);
  fields.Int("norm_num_groups", &c.norm_num_groups);
  fields.Int("sample_size", &c.sample_size);
  fields.Double("scaling_factor", &c.scaling_factor);
  fields.Only("shift_factor", {nullptr});
  fields.Only("latents_mean", {nullptr});
  fields.Only("latents_std", {nullptr});
  fields.Only("use_quant_conv", {true});
  fields.Only("use_post_quant_conv", {true});
  fields.Only("mid_block_add_attention", {true});
  // force_upcast asks fp16 pipelines to decode in fp32; weights load as
  // float32 here, so it holds already.
  fields.Ignore({"_diffusers_version", "_name_or_path", "force_upcast"});
  if (!(c.scaling_factor > 0)) fields.Fail("scaling_factor", "must be positive");
  STAMINA_RETURN_IF_ERROR(fields.Check(ValidateAutoencoderKLConfig(c)));
  return c;
}

absl::StatusOr<CLIPTextConfig> ParseTransformersCLIPTextConfig(
    absl::string_view json, absl::string_view label) {
  STAMINA_ASSIGN_OR_RETURN(ConfigFields fields, ConfigFields::Parse(json, label));
  CLIPTextConfig c;  // transformers' CLIPTextConfig defaults
  fields.Only("model_type", {"clip_text_model"});
  fields.Int("vocab_size", &c.vocab_size);
  fields.Int("hidden_size", &c.hidden_size);
  fields.Int("intermediate_size", &c.intermediate_size);
  fields.Int("num_hidden_layers", &c.num_hidden_layers);
  fields.Int("num_attention_heads", &c.num_attention_heads);
  fields.Int("max_position_embeddings", &c.max_position_embeddings);
  fields.String("hidden_act", &c.hidden_act);
  fields.Double("layer_norm_eps", &c.layer_norm_eps);
  // projection_dim sizes CLIPTextModelWithProjection's head, which SD does
  // not use; dropout and init settings matter only for training from scratch.
  fields.Ignore({"projection_dim", "attention_dropout", "dropout",
                 "initializer_factor", "initializer_range"});
  fields.Ignore(kTransformersGenericKeys);
  STAMINA_RETURN_IF_ERROR(fields.Check(ValidateCLIPTextConfig(c)));
  return c;
}

absl::StatusOr<DiffusersSchedulerConfig> ParseDiffusersSchedulerConfig(
    absl::string_view json, absl::string_view label) {
  STAMINA_ASSIGN_OR_RETURN(ConfigFields fields, ConfigFields::Parse(json, label));
  DiffusersSchedulerConfig s;
  fields.String("_class_name", &s.class_name);
  if (KnownSchedulers().count(s.class_name) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": _class_name: \"", s.class_name, "\" is not a known scheduler"));
  }
  // Absent fields take DDIMScheduler's / DDPMScheduler's defaults, as
  // diffusers' from_config does (SD 1.x's PNDM config has no clip_sample, so
  // DDIM clips x̂0 to [-1, 1]: diffusers' own reference does too).
  DDIMSchedulerConfig& d = s.sampling;
  fields.Int("num_train_timesteps", &d.num_train_timesteps);
  fields.Double("beta_start", &d.beta_start);
  fields.Double("beta_end", &d.beta_end);
  fields.String("beta_schedule", &d.beta_schedule);
  fields.String("prediction_type", &d.prediction_type);
  fields.Int("steps_offset", &d.steps_offset);
  fields.String("timestep_spacing", &d.timestep_spacing);
  fields.Bool("clip_sample", &d.clip_sample);
  fields.Double("clip_sample_range", &d.clip_sample_range);
  fields.Bool("set_alpha_to_one", &d.set_alpha_to_one);
  fields.Only("trained_betas", {nullptr});
  fields.Only("thresholding", {false});
  fields.Only("rescale_betas_zero_snr", {false});
  fields.Only("timestep_type", {"discrete"});
  // Used only with thresholding, refused above.
  fields.Ignore({"_diffusers_version", "_use_default_values",
                 "dynamic_thresholding_ratio", "sample_max_value"});
  s.sampler_fields = fields.Rest();
  STAMINA_RETURN_IF_ERROR(fields.Check(DDIMScheduler::Create(d).status()));
  s.training.num_train_timesteps = d.num_train_timesteps;
  s.training.beta_start = d.beta_start;
  s.training.beta_end = d.beta_end;
  s.training.beta_schedule = d.beta_schedule;
  s.training.prediction_type = d.prediction_type;
  return s;
}

absl::StatusOr<CLIPTokenizerOptions> ParseCLIPTokenizerConfig(
    absl::string_view json, absl::string_view label) {
  STAMINA_ASSIGN_OR_RETURN(ConfigFields fields, ConfigFields::Parse(json, label));
  CLIPTokenizerOptions options;
  // Special tokens are strings or (older files) {"content": "...", ...}.
  auto token = [&](const char* key, std::string* out) {
    const Json v = fields.Raw(key);
    if (v.is_null()) return;
    if (v.is_string()) {
      *out = v.get<std::string>();
    } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
      *out = v["content"].get<std::string>();
    } else {
      fields.Fail(key, "must be a string or {\"content\": string}");
    }
  };
  int64_t max_length = options.max_length;
  fields.Int("model_max_length", &max_length);
  if (max_length < 2 || max_length > 4096) {
    fields.Fail("model_max_length", absl::StrCat(max_length, " is not in [2, 4096]"));
  }
  options.max_length = static_cast<int>(max_length);
  token("pad_token", &options.pad_token);
  token("unk_token", &options.unk_token);
  std::string bos(CLIPTokenizer::kBosToken);
  std::string eos(CLIPTokenizer::kEosToken);
  token("bos_token", &bos);
  token("eos_token", &eos);
  if (bos != CLIPTokenizer::kBosToken) fields.Fail("bos_token", "must be <|startoftext|>");
  if (eos != CLIPTokenizer::kEosToken) fields.Fail("eos_token", "must be <|endoftext|>");
  fields.Only("tokenizer_class", {"CLIPTokenizer", "CLIPTokenizerFast"});
  fields.Only("do_lower_case", {true});
  fields.Only("add_prefix_space", {false});
  fields.Only("additional_special_tokens", {Json::array()});
  // Serialization details of transformers' tokenizer classes.
  fields.Ignore({"name_or_path", "special_tokens_map_file", "errors", "backend",
                 "added_tokens_decoder", "clean_up_tokenization_spaces",
                 "extra_special_tokens", "model_input_names", "padding_side",
                 "truncation_side", "_commit_hash", "auto_map",
                 "split_special_tokens"});
  STAMINA_RETURN_IF_ERROR(fields.Finish());
  return options;
}

absl::StatusOr<std::map<int64_t, std::string>> ParseAddedTokens(
    absl::string_view tokenizer_config_json, absl::string_view added_tokens_json) {
  std::map<int64_t, std::string> tokens;
  auto add = [&](int64_t id, const std::string& token,
                 absl::string_view file) -> absl::Status {
    const auto [it, inserted] = tokens.emplace(id, token);
    if (!inserted && it->second != token) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ": id ", id, " is both \"", it->second, "\" and \"", token, "\""));
    }
    return absl::OkStatus();
  };
  if (!tokenizer_config_json.empty()) {
    const Json config = Json::parse(tokenizer_config_json.begin(),
                                    tokenizer_config_json.end(), nullptr, false);
    if (config.is_object() && config.contains("added_tokens_decoder")) {
      const Json& decoder = config["added_tokens_decoder"];
      if (!decoder.is_object()) {
        return absl::InvalidArgumentError(
            "tokenizer_config.json: added_tokens_decoder: must be an object");
      }
      for (const auto& [key, entry] : decoder.items()) {
        int64_t id = 0;
        if (!absl::SimpleAtoi(key, &id) || id < 0 || !entry.is_object() ||
            !entry.contains("content") || !entry["content"].is_string()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "tokenizer_config.json: added_tokens_decoder: bad entry \"", key, "\""));
        }
        STAMINA_RETURN_IF_ERROR(
            add(id, entry["content"].get<std::string>(), "tokenizer_config.json"));
      }
    }
  }
  if (!added_tokens_json.empty()) {
    const Json added =
        Json::parse(added_tokens_json.begin(), added_tokens_json.end(), nullptr, false);
    if (!added.is_object()) {
      return absl::InvalidArgumentError("added_tokens.json: not a JSON object");
    }
    for (const auto& [token, id] : added.items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("added_tokens.json: \"", token, "\" has no valid id"));
      }
      STAMINA_RETURN_IF_ERROR(add(id.get<int64_t>(), token, "added_tokens.json"));
    }
  }
  return tokens;
}

}  // namespace stamina::core
