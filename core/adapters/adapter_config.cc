#include "core/adapters/adapter_config.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/adapter_targets.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace stamina::core {
namespace {

template <typename Enum, size_t N>
using NameTable = std::array<std::pair<Enum, absl::string_view>, N>;

constexpr NameTable<AdapterMethod, 3> kMethods = {{
    {AdapterMethod::kLora, "lora"},
    {AdapterMethod::kCLora, "clora"},
    {AdapterMethod::kStamina, "stamina"},
}};
constexpr NameTable<MaskSparsity, 3> kSparsities = {{
    {MaskSparsity::kNone, "none"},
    {MaskSparsity::kL1, "l1"},
    {MaskSparsity::kHat, "hat"},
}};
constexpr NameTable<MaskOverlap, 3> kOverlaps = {{
    {MaskOverlap::kFree, "free"},
    {MaskOverlap::kPenalize, "penalize"},
    {MaskOverlap::kExclusive, "exclusive"},
}};
constexpr NameTable<MaskActivation, 2> kActivations = {{
    {MaskActivation::kRelu, "relu"},
    {MaskActivation::kGelu, "gelu"},
}};
constexpr NameTable<ContextPreservation, 3> kContexts = {{
    {ContextPreservation::kNone, "none"},
    {ContextPreservation::kProject, "project"},
    {ContextPreservation::kPenalize, "penalize"},
}};
constexpr NameTable<TokenKind, 2> kTokens = {{
    {TokenKind::kDirect, "direct"},
    {TokenKind::kMlp, "mlp"},
}};

template <typename Enum, size_t N>
absl::string_view NameIn(const NameTable<Enum, N>& table, Enum value) {
  for (const auto& [entry, name] : table) {
    if (entry == value) return name;
  }
  return "?";
}

template <typename Enum, size_t N>
absl::StatusOr<Enum> ParseIn(const NameTable<Enum, N>& table,
                             absl::string_view field, absl::string_view name) {
  std::vector<std::string> names;
  for (const auto& [entry, entry_name] : table) {
    if (entry_name == name) return entry;
    names.emplace_back(entry_name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": \"", name, "\" is not one of ", absl::StrJoin(names, ", ")));
}

}  // namespace

AdapterConfig DefaultAdapterConfig(AdapterMethod method) {
  AdapterConfig config;
  config.method = method;
  config.token =
      method == AdapterMethod::kStamina ? TokenKind::kMlp : TokenKind::kDirect;
  return config;
}

absl::Status ValidateAdapterConfig(const AdapterConfig& config) {
  if (config.targets.empty()) {
    return absl::InvalidArgumentError("targets: at least one projection");
  }
  for (const std::string& target : config.targets) {
    STAMINA_RETURN_IF_ERROR(CheckAdapterTarget(target, "targets"));
  }
  if (config.rank < 1) return absl::InvalidArgumentError("rank must be >= 1");
  for (const auto& [target, rank] : config.target_ranks) {
    if (!absl::c_linear_search(config.targets, target)) {
      return absl::InvalidArgumentError(
          absl::StrCat("target_ranks: ", target, " is not one of the targets"));
    }
    if (rank < 1) {
      return absl::InvalidArgumentError(absl::StrCat("target_ranks: ", target, " must be >= 1"));
    }
  }
  if (config.alpha < 0) return absl::InvalidArgumentError("alpha must be >= 0");
  if (config.clora_lambda < 0) {
    return absl::InvalidArgumentError("clora_lambda must be >= 0");
  }
  if (config.mask_rank < 1) {
    return absl::InvalidArgumentError("mask_rank must be >= 1");
  }
  if (!(config.mask_tau > 0)) {
    return absl::InvalidArgumentError("mask_tau must be > 0");
  }
  if (config.sparsity_weight < 0 || config.overlap_weight < 0) {
    return absl::InvalidArgumentError(
        "sparsity_weight and overlap_weight must be >= 0");
  }
  if (!(config.sparsity_warmup >= 0 && config.sparsity_warmup <= 1)) {
    return absl::InvalidArgumentError("sparsity_warmup must be in [0, 1]");
  }
  if (config.token_mlp_hidden < 0) {
    return absl::InvalidArgumentError("token_mlp_hidden must be >= 0");
  }
  if (!(config.token_max_rms >= 0)) {
    return absl::InvalidArgumentError("token_max_rms must be >= 0");
  }
  if (config.token_initializer.size() > 64 ||
      absl::c_any_of(config.token_initializer, [](char c) {
        return absl::ascii_isspace(static_cast<unsigned char>(c));
      })) {
    return absl::InvalidArgumentError(
        "token_initializer must be one word of at most 64 bytes");
  }
  if (!(config.context_energy > 0 && config.context_energy <= 1)) {
    return absl::InvalidArgumentError("context_energy must be in (0, 1]");
  }
  if (!(config.context_weight >= 0)) {
    return absl::InvalidArgumentError("context_weight must be >= 0");
  }
  return absl::OkStatus();
}

int RankOf(const AdapterConfig& config, absl::string_view layer_name) {
  for (const auto& [target, rank] : config.target_ranks) {
    if (absl::EndsWith(layer_name, target)) return rank;
  }
  return config.rank;
}

double SparsityScale(const AdapterConfig& config, double training_fraction) {
  if (!(config.sparsity_warmup > 0)) return 1;
  return std::clamp(training_fraction / config.sparsity_warmup, 0.0, 1.0);
}

absl::string_view Name(AdapterMethod method) { return NameIn(kMethods, method); }

absl::StatusOr<AdapterMethod> ParseAdapterMethod(absl::string_view name) {
  return ParseIn(kMethods, "method", name);
}

std::string AdapterConfigToJson(const AdapterConfig& config) {
  nlohmann::json json = {
      {"method", NameIn(kMethods, config.method)},
      {"targets", config.targets},
      {"rank", config.rank},
      {"alpha", config.alpha},
      {"clora_lambda", config.clora_lambda},
      {"clora_regularization", config.clora_regularization},
      {"mask", config.mask},
      {"mask_rank", config.mask_rank},
      {"mask_activation", NameIn(kActivations, config.mask_activation)},
      {"mask_tau", config.mask_tau},
      {"mask_init_bias", config.mask_init_bias},
      {"hard_mask", config.hard_mask},
      {"sparsity", NameIn(kSparsities, config.sparsity)},
      {"sparsity_weight", config.sparsity_weight},
      {"overlap", NameIn(kOverlaps, config.overlap)},
      {"overlap_weight", config.overlap_weight},
      {"token", NameIn(kTokens, config.token)},
      {"token_mlp_hidden", config.token_mlp_hidden},
      {"token_max_rms", config.token_max_rms},
      {"context", NameIn(kContexts, config.context)},
      {"context_energy", config.context_energy},
      {"context_weight", config.context_weight},
  };
  // Written only when set, so earlier artifacts keep their bytes.
  if (!config.token_initializer.empty()) json["token_initializer"] = config.token_initializer;
  if (!config.target_ranks.empty()) json["target_ranks"] = config.target_ranks;
  if (config.sparsity_warmup > 0) json["sparsity_warmup"] = config.sparsity_warmup;
  return json.dump();
}

absl::StatusOr<AdapterConfig> AdapterConfigFromJson(absl::string_view text) {
  const nlohmann::json json =
      nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError("adapter config: not a JSON object");
  }
  AdapterConfig config;
  try {
    for (const auto& [key, value] : json.items()) {
      if (key == "method") {
        auto parsed = ParseIn(kMethods, key, value.get<std::string>());
        if (!parsed.ok()) return parsed.status();
        config.method = *parsed;
      } else if (key == "targets") {
        config.targets = value.get<std::vector<std::string>>();
      } else if (key == "rank") {
        config.rank = value.get<int>();
      } else if (key == "target_ranks") {
        config.target_ranks = value.get<std::map<std::string, int>>();
      } else if (key == "alpha") {
        config.alpha = value.get<double>();
      } else if (key == "clora_lambda") {
        config.clora_lambda = value.get<double>();
      } else if (key == "clora_regularization") {
        config.clora_regularization = value.get<bool>();
      } else if (key == "mask") {
        config.mask = value.get<bool>();
      } else if (key == "mask_rank") {
        config.mask_rank = value.get<int>();
      } else if (key == "mask_activation") {
        auto parsed = ParseIn(kActivations, key, value.get<std::string>());
        if (!parsed.ok()) return parsed.status();
        config.mask_activation = *parsed;
      } else if (key == "mask_tau") {
        config.mask_tau = value.get<double>();
      } else if (key == "mask_init_bias") {
        config.mask_init_bias = value.get<double>();
      } else if (key == "hard_mask") {
        config.hard_mask = value.get<bool>();
      } else if (key == "sparsity") {
        auto parsed = ParseIn(kSparsities, key, value.get<std::string>());
        if (!parsed.ok()) return parsed.status();
        config.sparsity = *parsed;
      } else if (key == "sparsity_weight") {
        config.sparsity_weight = value.get<double>();
      } else if (key == "sparsity_warmup") {
        config.sparsity_warmup = value.get<double>();
      } else if (key == "overlap") {
        auto parsed = ParseIn(kOverlaps, key, value.get<std::string>());
        if (!parsed.ok()) return parsed.status();
        config.overlap = *parsed;
      } else if (key == "overlap_weight") {
        config.overlap_weight = value.get<double>();
      } else if (key == "token") {
        auto parsed = ParseIn(kTokens, key, value.get<std::string>());
        if (!parsed.ok()) return parsed.status();
        config.token = *parsed;
      } else if (key == "token_mlp_hidden") {
        config.token_mlp_hidden = value.get<int>();
      } else if (key == "token_max_rms") {
        config.token_max_rms = value.get<double>();
      } else if (key == "token_initializer") {
        config.token_initializer = value.get<std::string>();
      } else if (key == "context") {
        auto parsed = ParseIn(kContexts, key, value.get<std::string>());
        if (!parsed.ok()) return parsed.status();
        config.context = *parsed;
      } else if (key == "context_energy") {
        config.context_energy = value.get<double>();
      } else if (key == "context_weight") {
        config.context_weight = value.get<double>();
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("adapter config: unknown key \"", key, "\""));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("adapter config: wrong value type: ", e.what()));
  }
  if (absl::Status valid = ValidateAdapterConfig(config); !valid.ok()) {
    return valid;
  }
  return config;
}

}  // namespace stamina::core
