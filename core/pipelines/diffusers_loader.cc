#include "core/pipelines/diffusers_loader.h"

#include <sys/stat.h>

#include <map>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status_macros.h"
#include "core/io/file_bytes.h"
#include "core/io/safetensors.h"
#include "core/tokenizers/clip_tokenizer.h"
#include "core/torch_status.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

bool IsFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool IsDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// A single-file checkpoint (the original LDM layout, as CompVis and most
// community fine-tunes ship it) is a file, not a folder.
absl::Status RefuseSingleFile(const std::string& dir) {
  if (IsFile(dir)) {
    return absl::UnimplementedError(absl::StrCat(
        dir, ": a single-file checkpoint (the original LDM layout) is not "
             "implemented; convert it to the diffusers folder layout first "
             "(diffusers' StableDiffusionPipeline.from_single_file(...)"
             ".save_pretrained(dir))"));
  }
  if (!IsDirectory(dir)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such model folder"));
  }
  return absl::OkStatus();
}

struct ParsedFolder {
  DiffusersPipelineIndex index;
  DiffusersSchedulerConfig scheduler;
  CLIPTokenizerOptions tokenizer;
  std::map<int64_t, std::string> added_tokens;
  DiffusionModelConfig config;
};

absl::StatusOr<ParsedFolder> ParseFolder(const std::string& dir,
                                         const DiffusersLoadOptions& options) {
  STAMINA_RETURN_IF_ERROR(RefuseSingleFile(dir));
  if (options.concept_token_rows < 0) {
    return absl::InvalidArgumentError("concept_token_rows must be >= 0");
  }
  ParsedFolder folder;
  STAMINA_ASSIGN_OR_RETURN(std::string text, ReadFileBytes(dir + "/model_index.json"));
  STAMINA_ASSIGN_OR_RETURN(folder.index,
                           ParseDiffusersModelIndex(text, "model_index.json"));
  STAMINA_ASSIGN_OR_RETURN(text, ReadFileBytes(dir + "/unet/config.json"));
  STAMINA_ASSIGN_OR_RETURN(folder.config.unet,
                           ParseDiffusersUNetConfig(text, "unet/config.json"));
  STAMINA_ASSIGN_OR_RETURN(text, ReadFileBytes(dir + "/vae/config.json"));
  STAMINA_ASSIGN_OR_RETURN(folder.config.vae,
                           ParseDiffusersVaeConfig(text, "vae/config.json"));
  STAMINA_ASSIGN_OR_RETURN(text, ReadFileBytes(dir + "/text_encoder/config.json"));
  STAMINA_ASSIGN_OR_RETURN(
      folder.config.text_encoder,
      ParseTransformersCLIPTextConfig(text, "text_encoder/config.json"));
  folder.config.text_encoder.vocab_size += options.concept_token_rows;
  STAMINA_ASSIGN_OR_RETURN(text,
                           ReadFileBytes(dir + "/scheduler/scheduler_config.json"));
  STAMINA_ASSIGN_OR_RETURN(
      folder.scheduler,
      ParseDiffusersSchedulerConfig(text, "scheduler/scheduler_config.json"));
  folder.config.sampling_scheduler = folder.scheduler.sampling;
  folder.config.training_scheduler = folder.scheduler.training;
  folder.config.scheduler_class = folder.scheduler.class_name;
  folder.config.scheduler_fields = folder.scheduler.sampler_fields;
  std::string tokenizer_config;
  if (IsFile(dir + "/tokenizer/tokenizer_config.json")) {
    STAMINA_ASSIGN_OR_RETURN(tokenizer_config,
                             ReadFileBytes(dir + "/tokenizer/tokenizer_config.json"));
    STAMINA_ASSIGN_OR_RETURN(
        folder.tokenizer,
        ParseCLIPTokenizerConfig(tokenizer_config, "tokenizer/tokenizer_config.json"));
  }
  std::string added_tokens;
  if (IsFile(dir + "/tokenizer/added_tokens.json")) {
    STAMINA_ASSIGN_OR_RETURN(added_tokens,
                             ReadFileBytes(dir + "/tokenizer/added_tokens.json"));
  }
  STAMINA_ASSIGN_OR_RETURN(folder.added_tokens,
                           ParseAddedTokens(tokenizer_config, added_tokens));
  // Special tokens ("<|endoftext|>") do not have the concept-token form.
  for (const auto& [id, token] : folder.added_tokens) {
    if (ValidateConceptToken(token).ok()) folder.config.concept_tokens.push_back(token);
  }
  return folder;
}

// The weights file of one component, relative to the folder.
absl::StatusOr<std::string> WeightsFile(const std::string& dir,
                                        const std::string& component,
                                        const std::string& stem,
                                        const std::string& variant) {
  const std::string plain = absl::StrCat(component, "/", stem, ".safetensors");
  const std::string fp16 = absl::StrCat(component, "/", stem, ".fp16.safetensors");
  if (!variant.empty() && variant != "fp16") {
    return absl::InvalidArgumentError(
        absl::StrCat("variant: \"", variant, "\" is not \"\" or \"fp16\""));
  }
  for (const std::string& candidate :
       variant == "fp16" ? std::vector{fp16, plain} : std::vector{plain, fp16}) {
    if (IsFile(dir + "/" + candidate)) return candidate;
  }
  for (const char* suffix : {".safetensors.index.json", ".fp16.safetensors.index.json"}) {
    if (IsFile(absl::StrCat(dir, "/", component, "/", stem, suffix))) {
      return absl::UnimplementedError(absl::StrCat(
          component, "/", stem, suffix, ": sharded weights are not implemented"));
    }
  }
  for (const char* suffix : {".bin", ".fp16.bin"}) {
    if (IsFile(absl::StrCat(dir, "/", component, "/", stem, suffix))) {
      return absl::UnimplementedError(absl::StrCat(
          component, "/", stem, suffix,
          ": pickle weights are not read (loading them can run code); save "
          "with safe_serialization=True to get ",
          plain));
    }
  }
  return absl::NotFoundError(absl::StrCat(dir, "/", plain, ": no such file"));
}

// transformers wrote CLIPTextModel keys with the "text_model." prefix; some
// exports (and CLIPTextTransformer state dicts) have them without.
std::map<std::string, torch::Tensor> TextEncoderKeys(
    std::map<std::string, torch::Tensor> tensors, int64_t concept_rows) {
  std::map<std::string, torch::Tensor> out;
  for (auto& [key, tensor] : tensors) {
    const std::string name =
        absl::StartsWith(key, "text_model.") ? key : "text_model." + key;
    out[name] = std::move(tensor);
  }
  const std::string embedding = "text_model.embeddings.token_embedding.weight";
  if (concept_rows > 0 && out.count(embedding) > 0 && out[embedding].dim() == 2) {
    torch::Tensor& rows = out[embedding];
    rows = torch::cat({rows, torch::zeros({concept_rows, rows.size(1)}, rows.options())});
  }
  return out;
}

// Older diffusers (< 0.15) named the VAE mid-block attention query / key /
// value / proj_attn; converted LDM files stored them as 1x1 convolutions.
std::map<std::string, torch::Tensor> VaeKeys(std::map<std::string, torch::Tensor> tensors) {
  static const std::pair<const char*, const char*> kRenames[] = {
      {".query.", ".to_q."}, {".key.", ".to_k."}, {".value.", ".to_v."},
      {".proj_attn.", ".to_out.0."}};
  std::map<std::string, torch::Tensor> out;
  for (auto& [key, tensor] : tensors) {
    std::string name = key;
    const bool attention = absl::StrContains(key, ".attentions.");
    for (const auto& [from, to] : kRenames) {
      if (attention && absl::StrContains(name, from)) {
        name = absl::StrReplaceAll(name, {{from, to}});
      }
    }
    torch::Tensor value = std::move(tensor);
    const bool projection = attention && absl::EndsWith(name, ".weight") &&
                            !absl::StrContains(name, "group_norm");
    if (projection && value.dim() == 4 && value.size(2) == 1 && value.size(3) == 1) {
      value = value.flatten(1);
    }
    out[name] = std::move(value);
  }
  return out;
}

}  // namespace

bool IsDiffusersLayout(const std::string& dir) {
  absl::StatusOr<std::string> text = ReadFileBytes(dir + "/model_index.json");
  if (!text.ok()) return false;
  nlohmann::json index = nlohmann::json::parse(*text, nullptr, false);
  return index.is_object() && index.contains("_class_name");
}

absl::StatusOr<DiffusionModelConfig> ReadDiffusersConfig(
    const std::string& dir, const DiffusersLoadOptions& options) {
  STAMINA_ASSIGN_OR_RETURN(ParsedFolder folder, ParseFolder(dir, options));
  return folder.config;
}

absl::StatusOr<DiffusionModel> LoadDiffusersModel(const std::string& dir,
                                                  const DiffusersLoadOptions& options,
                                                  DiffusersLoadReport* report) {
  STAMINA_ASSIGN_OR_RETURN(ParsedFolder folder, ParseFolder(dir, options));
  STAMINA_ASSIGN_OR_RETURN(
      std::unique_ptr<CLIPTokenizer> tokenizer,
      CLIPTokenizer::Load(dir + "/tokenizer/vocab.json", dir + "/tokenizer/merges.txt",
                          folder.tokenizer));
  // Added tokens past the vocabulary (an export's concept tokens, textual
  // inversions) become concept tokens, with the ids the file gives them.
  const int64_t base_vocabulary = tokenizer->vocab_size();
  for (const auto& [id, token] : folder.added_tokens) {
    if (id < base_vocabulary) continue;  // vocab.json's special tokens
    absl::StatusOr<int32_t> added = tokenizer->AddToken(token);
    if (!added.ok()) {
      return absl::Status(added.status().code(),
                          absl::StrCat("tokenizer: added token \"", token,
                                       "\": ", added.status().message()));
    }
    if (*added != id) {
      return absl::DataLossError(absl::StrCat(
          "tokenizer: added token \"", token, "\" has id ", id, " but ids past the ",
          base_vocabulary, " of vocab.json must follow it without gaps"));
    }
  }
  // The checkpoint's embedding has a row per id, added tokens included.
  const int64_t checkpoint_rows = folder.config.text_encoder.vocab_size -
                                  options.concept_token_rows;
  if (tokenizer->vocab_size() > checkpoint_rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "text_encoder/config.json: vocab_size ", checkpoint_rows, " is smaller than the ",
        tokenizer->vocab_size(), " ids of the tokenizer"));
  }
  STAMINA_ASSIGN_OR_RETURN(
      DiffusionModel model,
      CreateDiffusionModel(folder.config, std::shared_ptr<Tokenizer>(std::move(tokenizer)),
                           /*seed=*/0));
  DiffusersLoadReport local;
  DiffusersLoadReport& out = report != nullptr ? *report : local;
  out.scheduler_class = folder.scheduler.class_name;
  struct Component {
    const char* name;
    const char* stem;
    torch::nn::Module* module;
    LoadReport* report;
  };
  for (const Component& c :
       {Component{"text_encoder", "model", model.text_encoder.get(), &out.text_encoder},
        Component{"unet", "diffusion_pytorch_model", model.unet.get(), &out.unet},
        Component{"vae", "diffusion_pytorch_model", model.vae.get(), &out.vae}}) {
    STAMINA_ASSIGN_OR_RETURN(std::string file,
                             WeightsFile(dir, c.name, c.stem, options.variant));
    STAMINA_ASSIGN_OR_RETURN(Safetensors weights, ReadSafetensors(dir + "/" + file));
    std::map<std::string, torch::Tensor> tensors = std::move(weights.tensors);
    LoadOptions load;
    if (std::string(c.name) == "text_encoder") {
      STAMINA_ASSIGN_OR_RETURN(tensors, RunTorch([&] {
                                 return TextEncoderKeys(std::move(tensors),
                                                        options.concept_token_rows);
                               }));
      load.optional_keys = OptionalCLIPTextModelKeys();
    } else if (std::string(c.name) == "vae") {
      STAMINA_ASSIGN_OR_RETURN(tensors, RunTorch([&] { return VaeKeys(std::move(tensors)); }));
    }
    absl::StatusOr<LoadReport> loaded = LoadStateDict(*c.module, tensors, load);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat(file, ": ", loaded.status().message()));
    }
    *c.report = *std::move(loaded);
    out.files.push_back(file);
  }
  return model;
}

}  // namespace stamina::core
