// File: core/nn/norms.h
//
// GroupNorm and LayerNorm in the precision of their weights. Under
// autocast, CUDA runs group_norm and layer_norm in fp32 (autocast's fp32
// list); LibTorch 1.13's CPU autocast lists neither and fails on a bf16
// input with fp32 weights. Normalize does on every device what CUDA's
// autocast does, and is the plain module call when the input already has
// the weights' dtype (fp32 in, fp32 out, same bytes). Thread-safe as the
// modules are.
#ifndef STAMINA_CORE_NN_NORMS_H_
#define STAMINA_CORE_NN_NORMS_H_

#include "torch/torch.h"

namespace stamina::core {

inline torch::Tensor Normalize(torch::nn::GroupNorm& norm, const torch::Tensor& x) {
  if (!norm->options.affine() || x.scalar_type() == norm->weight.scalar_type()) {
    return norm(x);
  }
  return norm(x.to(norm->weight.scalar_type()));
}

inline torch::Tensor Normalize(torch::nn::LayerNorm& norm, const torch::Tensor& x) {
  if (!norm->options.elementwise_affine() || x.scalar_type() == norm->weight.scalar_type()) {
    return norm(x);
  }
  return norm(x.to(norm->weight.scalar_type()));
}

}  // namespace stamina::core

#endif  // STAMINA_CORE_NN_NORMS_H_
