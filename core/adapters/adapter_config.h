// File: core/adapters/adapter_config.h
//
// Every switch of the three continual-personalization methods
// (docs: docs/method.md):
//   LoRA     sequential low-rank adapters folded after each concept (§3.2);
//   C-LoRA   LoRA + the self-regularization λ Σ_l ‖(W_{t-1} − W_0) ⊙ BA‖²_F
//            and a directly learned, randomly initialized token (§3.3-3.4);
//   STAMINA  masked LoRA ΔW = M ⊙ BA with a hard mask M = 1[σ(G/τ) ≥ ½]
//            from a low-rank MLP G = U φ(V) + b, sparsity pressure and an
//            MLP-made token (§4).
// The papers leave most choices open; each reading marked [I] in method.md
// is a field here with its documented default, so benchmarks can compare
// readings. The config travels in every adapter artifact (as JSON), so a
// fold can be replayed exactly.
//
// Plain value types; thread-compatible.
#ifndef STAMINA_CORE_ADAPTERS_ADAPTER_CONFIG_H_
#define STAMINA_CORE_ADAPTERS_ADAPTER_CONFIG_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace stamina::core {

enum class AdapterMethod { kLora, kCLora, kStamina };
// How the sparsity of STAMINA's mask is encouraged (method.md §4.3).
//   kNone: no pressure (masks stay mostly on);
//   kL1:   γ · mean over layers of mean(σ(G/τ));
//   kHat:  γ · Σ σ(G/τ)(1 − C) / Σ (1 − C), reuse of earlier concepts'
//          entries (cumulative mask C) is free.
enum class MaskSparsity { kNone, kL1, kHat };
// Interaction with the cumulative mask C of earlier concepts (§4.3).
//   kFree:      none;
//   kPenalize:  + overlap_weight · mean over layers of mean(C ⊙ σ(G/τ));
//   kExclusive: ΔW = (1 − C) ⊙ M ⊙ BA, earlier concepts' entries frozen.
enum class MaskOverlap { kFree, kPenalize, kExclusive };
enum class MaskActivation { kRelu, kGelu };
// The concept token: kDirect learns the embedding row itself from a random
// start (C-LoRA); kMlp learns v = MLP(z) for a fixed random z and folds
// MLP(z) into the row (STAMINA §4.4).
enum class TokenKind { kDirect, kMlp };
// How a concept's change is kept off prompts that do not name it (the
// "own token" rule, architecture.md): the outputs c of the frozen text
// encoder for the preserved prompts (the training captions without the
// token, "", and the captions with each earlier concept's token instead;
// context_preservation.h) must see the same K/V as before.
//   kNone:     nothing (the papers' methods);
//   kProject:  on cross-attention K/V, ΔW ← ΔW (I − Q Qᵀ) with Q [d, k] an
//              orthonormal basis of those outputs (the fewest directions
//              holding context_energy of their energy): exact up to the
//              energy left out, and still one dense ΔW to fold;
//   kPenalize: + context_weight · Σ_l mean_c ‖ΔW_l c‖² / mean_c ‖W_l c‖²
//              (soft; ΔW relative to the layer's own response).
enum class ContextPreservation { kNone, kProject, kPenalize };

struct AdapterConfig {
  AdapterMethod method = AdapterMethod::kStamina;
  // Adapted projections, as suffixes of UNet module names (method.md §2.3:
  // the K/V projections of every cross-attention). Allowed projections:
  // attn1|attn2 . to_q|to_k|to_v|to_out.0.
  std::vector<std::string> targets = {"attn2.to_k", "attn2.to_v"};
  // LoRA rank r and scale alpha / r (alpha 0 means alpha = r, scale 1).
  int rank = 4;
  // Rank per layer: a target suffix ("attn2.to_v") → its rank, overriding
  // `rank` for the layers it names (RankOf). Empty: `rank` everywhere.
  std::map<std::string, int> target_ranks;
  double alpha = 0;

  // C-LoRA's λ (method kCLora, or kStamina with clora_regularization).
  // Summed over layers, not averaged (method.md §3.3).
  double clora_lambda = 1e3;
  // STAMINA: also add C-LoRA's L_forget (ablation; off by default [I]).
  bool clora_regularization = false;

  // STAMINA mask (ignored by LoRA and C-LoRA). false: M = 1, i.e. plain
  // LoRA factors with STAMINA's token (ablation).
  bool mask = true;
  int mask_rank = 8;  // r_m
  MaskActivation mask_activation = MaskActivation::kRelu;
  double mask_tau = 1.0;
  // b starts at +β so masks start on and STAMINA starts as LoRA (§4.2).
  double mask_init_bias = 2.0;
  // false: train with the soft mask σ(G/τ) (ablation); the fold is hard.
  bool hard_mask = true;
  MaskSparsity sparsity = MaskSparsity::kL1;
  double sparsity_weight = 1e-2;  // γ
  // Sparsity schedule: γ ramps linearly from 0 over this fraction of the
  // training steps (the mask first finds what the concept needs, then is
  // pruned); 0 keeps γ constant.
  double sparsity_warmup = 0;
  MaskOverlap overlap = MaskOverlap::kFree;
  double overlap_weight = 1e-2;

  TokenKind token = TokenKind::kMlp;
  int token_mlp_hidden = 0;  // 0 means the text encoder's width
  // MLP token: the MLP's output u is scaled down to rms(u) <= token_max_rms
  // (in units of the table's per-dimension std), so the row stays in the
  // table's units; 0 leaves it unbounded (rows reached norms of ~385 against
  // ~11 for words).
  double token_max_rms = 0;
  // A word of the base vocabulary the token starts from (Textual Inversion's
  // initializer token, DreamBooth's class noun: "face", "dog"): the direct
  // row starts as the word's row, the MLP token's offset is added to it
  // instead of to the table's mean. Empty: the papers' start.
  std::string token_initializer;

  ContextPreservation context = ContextPreservation::kNone;
  double context_energy = 0.999;  // kProject: energy share Q spans, (0, 1]
  double context_weight = 1.0;    // kPenalize
};

// The defaults of each method as its paper describes it (method.md): LoRA
// and C-LoRA use direct tokens, STAMINA the MLP token and the mask; none
// preserves context. The service adds its measured recipe on top
// (server/training_settings.h: context = project, token_max_rms = 2;
// bench/results/own-token).
AdapterConfig DefaultAdapterConfig(AdapterMethod method);

// The rank of the adapted layer `layer_name` (a UNet module name):
// target_ranks' entry for the target it ends with, else `rank`.
int RankOf(const AdapterConfig& config, absl::string_view layer_name);

// γ's share at `training_fraction` (steps done / steps) of the training:
// min(1, fraction / sparsity_warmup), 1 without a warmup.
double SparsityScale(const AdapterConfig& config, double training_fraction);

// INVALID_ARGUMENT naming the first bad field.
absl::Status ValidateAdapterConfig(const AdapterConfig& config);

absl::string_view Name(AdapterMethod method);
absl::StatusOr<AdapterMethod> ParseAdapterMethod(absl::string_view name);

// Round trip through JSON (artifact metadata); unknown keys are refused.
std::string AdapterConfigToJson(const AdapterConfig& config);
absl::StatusOr<AdapterConfig> AdapterConfigFromJson(absl::string_view json);

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_ADAPTER_CONFIG_H_
