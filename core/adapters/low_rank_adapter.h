// File: core/adapters/low_rank_adapter.h
//
// One adapted projection W [out, in] of one concept: LoRA factors A [r, in]
// (Kaiming-uniform) and B [out, r] (zero, so the model starts as the
// previous fold), and for STAMINA the mask MLP G = U φ(V) + b 1ᵀ with
// U [out, r_m], V [r_m, in], b [out] (method.md §4.2). The change it makes:
//   LoRA, C-LoRA, STAMINA without mask:  ΔW = s · B A
//   STAMINA:                             ΔW = s · M ⊙ B A [⊙ (1 − C)]
// with s = alpha / r, M = 1[G ≥ 0] in the forward pass and σ(G/τ)'s
// gradient in the backward pass (straight-through), or M = σ(G/τ) when
// hard_mask is off, and C the cumulative mask of earlier concepts (only
// with overlap = exclusive). With context = project, every form is then
// multiplied on the right by (I − Q Qᵀ), Q the preserved context basis of
// the layer (context_preservation.h), so ΔW c ≈ 0 for preserved outputs c.
//
// LayerFactors are the trained tensors; FoldedDelta() is the one function
// that turns them into the dense ΔW added to W at the fold, used both when a
// trainer folds and when an artifact is replayed, so both agree bit for bit.
//
// Thread-compatible (a torch::nn::Module).
#ifndef STAMINA_CORE_ADAPTERS_LOW_RANK_ADAPTER_H_
#define STAMINA_CORE_ADAPTERS_LOW_RANK_ADAPTER_H_

#include <cstdint>

#include "core/adapters/adapter_config.h"
#include "core/nn/attention.h"
#include "torch/torch.h"

namespace stamina::core {

// The trained tensors of one layer; mask_* are undefined without a mask.
struct LayerFactors {
  torch::Tensor lora_A;  // [r, in]
  torch::Tensor lora_B;  // [out, r]
  torch::Tensor mask_U;  // [out, r_m]
  torch::Tensor mask_V;  // [r_m, in]
  torch::Tensor mask_b;  // [out]
  // [in, k] orthonormal, context = project on a cross-attention K/V layer;
  // else undefined.
  torch::Tensor context_basis;

  // The same factors on `device` (the defined ones; no copy where they are
  // there already).
  LayerFactors To(const torch::Device& device) const;
};

// What a layer keeps unchanged (context_preservation.h); all undefined for
// layers whose input is not the text encoder's output.
struct LayerContext {
  torch::Tensor basis;    // [in, k]: context = project
  torch::Tensor outputs;  // [n, in]: context = penalize
  double reference = 1;   // mean_c ‖W c‖² of the layer before training
};

// Whether `config` trains a mask (STAMINA with mask on).
bool UsesMask(const AdapterConfig& config);

// The mask logits G [out, in] of `factors` (which must have a mask).
torch::Tensor MaskLogits(const AdapterConfig& config, const LayerFactors& factors);

// The hard mask 1[G >= 0] the fold applies ([out, in] float 0/1), or an
// undefined tensor without a mask. With overlap = exclusive the entries of
// `cumulative_mask` (bool [out, in]; may be undefined = none) are removed.
torch::Tensor FoldMask(const AdapterConfig& config, const LayerFactors& factors,
                       const torch::Tensor& cumulative_mask);

// The ΔW the fold adds to the weight: s · FoldMask ⊙ B A (no mask: s · B A),
// times (I − Q Qᵀ) with a context basis Q; float32. No autograd.
torch::Tensor FoldedDelta(const AdapterConfig& config, const LayerFactors& factors,
                          const torch::Tensor& cumulative_mask);

class LowRankAdapterImpl : public torch::nn::Module, public LinearAdapter {
 public:
  // Initializes A from `generator` and the mask MLP from `mask_generator`
  // (separate streams, so switching the mask off leaves A as it was);
  // `cumulative_mask` (bool [out, in] or undefined) is used by
  // overlap = penalize | exclusive, `context` by context = project | penalize.
  LowRankAdapterImpl(int64_t in_features, int64_t out_features, const AdapterConfig& config,
                     torch::Tensor cumulative_mask, LayerContext context, at::Generator& generator,
                     at::Generator& mask_generator);

  // x [..., in] → [..., out]: x ΔWᵀ with the training-time mask.
  torch::Tensor Delta(const torch::Tensor& input) override;

  // σ(G/τ) [out, in]; requires a mask.
  torch::Tensor SoftMask() const;
  // Copies of the current tensors (detached).
  LayerFactors Factors() const;
  // The dense ΔW with the training-time mask (autograd on).
  torch::Tensor DenseDelta() const;
  // C-LoRA's ‖P ⊙ ΔW‖²_F for P = W_{t-1} − W_0 [out, in].
  torch::Tensor ForgettingPenalty(const torch::Tensor& previous_delta) const;
  // mean_c ‖ΔW c‖² / reference over the layer's preserved outputs, or an
  // undefined tensor when the layer has none (context = penalize).
  torch::Tensor ContextPenalty() const;

  bool has_mask() const { return mask_U.defined(); }
  const torch::Tensor& cumulative_mask() const { return cumulative_mask_; }

  torch::Tensor lora_A, lora_B;          // registered "lora_A", "lora_B"
  torch::Tensor mask_U, mask_V, mask_b;  // registered "mask_*" with a mask

 private:
  torch::Tensor TrainingMask() const;

  AdapterConfig config_;
  double scale_;
  torch::Tensor cumulative_mask_;
  LayerContext context_;
};
TORCH_MODULE(LowRankAdapter);

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_LOW_RANK_ADAPTER_H_
