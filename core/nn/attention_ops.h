// File: core/nn/attention_ops.h
//
// Scaled dot-product attention, the one kernel every attention module in
// core/ calls (diffusers' Attention and transformers' CLIPAttention alike).
// LibTorch 1.13 has no public scaled_dot_product_attention, so this is the
// manual softmax(Q K^T / sqrt(d)) V; when LibTorch grows one, only this file
// changes. Mirrors diffusers src/diffusers/models/attention_processor.py
// (AttnProcessor: get_attention_scores + bmm).
//
// Like every LibTorch op it throws c10::Error on bad shapes; library entry
// points wrap model calls in RunTorch (core/torch_status.h).
// Memory: the score matrix is built a block of query rows at a time, at most
// `max_score_elements` scores per block (at least one row), so peak memory
// grows with Lq + Lk rather than Lq x Lk: a self-attention over a 512x512
// latent (262,144 tokens) would otherwise need a 275 GB score matrix. Rows are
// independent, so blocking changes no result beyond GEMM rounding, and inputs
// under the limit take the single-block path unchanged.
// Thread-safe: a pure function.
#ifndef STAMINA_CORE_NN_ATTENTION_OPS_H_
#define STAMINA_CORE_NN_ATTENTION_OPS_H_

#include "torch/torch.h"

namespace stamina::core {

// Returns softmax(query key^T / sqrt(d) + mask) value.
//
// query [..., Lq, d], key [..., Lk, d], value [..., Lk, dv] → [..., Lq, dv];
// leading dimensions broadcast as in torch::matmul.
// `mask` is optional (an undefined tensor means none) and broadcasts to
// [..., Lq, Lk]. A boolean mask keeps the positions where it is true (as
// PyTorch's F.scaled_dot_product_attention); masked-out scores become the
// dtype's lowest finite value (as transformers' masks), so a fully masked row
// attends uniformly instead of producing NaN. A floating mask is added to the
// scores.
// Half-precision inputs are softmaxed in float32 (diffusers' upcast_softmax)
// and the result is returned in the inputs' dtype.
torch::Tensor ScaledDotProductAttention(const torch::Tensor& query,
                                        const torch::Tensor& key,
                                        const torch::Tensor& value,
                                        const torch::Tensor& mask = {});

// Scores per query block by default: 16M floats (64 MiB, twice that with the
// softmax's output).
inline constexpr int64_t kMaxAttentionScoreElements = int64_t{1} << 24;

// As above with an explicit block limit (tests use small ones).
torch::Tensor ScaledDotProductAttention(const torch::Tensor& query,
                                        const torch::Tensor& key,
                                        const torch::Tensor& value,
                                        const torch::Tensor& mask,
                                        int64_t max_score_elements);

}  // namespace stamina::core

#endif  // STAMINA_CORE_NN_ATTENTION_OPS_H_
