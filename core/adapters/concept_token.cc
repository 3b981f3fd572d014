#include "core/adapters/concept_token.h"

#include <cmath>

namespace stamina::core {
namespace {

// nn.Linear's default initialization, drawn from `generator`.
torch::nn::Linear SeededLinear(int64_t in, int64_t out, at::Generator& generator) {
  torch::nn::Linear linear(in, out);
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  linear->weight.copy_(torch::rand({out, in}, generator) * (2 * bound) - bound);
  linear->bias.copy_(torch::rand({out}, generator) * (2 * bound) - bound);
  return linear;
}

}  // namespace

ConceptTokenImpl::ConceptTokenImpl(TokenKind kind, int hidden, double max_rms,
                                   const torch::Tensor& embedding_table, int64_t base_vocab_size,
                                   int64_t initializer_id, at::Generator& generator)
    : kind_(kind), max_rms_(max_rms) {
  torch::NoGradGuard no_grad;
  const torch::Tensor words = embedding_table.slice(0, 0, base_vocab_size).to(torch::kFloat32);
  // Built on the CPU (the generator's device); the caller moves the module.
  const torch::Tensor mean =
      (initializer_id >= 0 ? words[initializer_id] : words.mean(0)).to(torch::kCPU);
  const torch::Tensor std = words.std(0).to(torch::kCPU);
  const int64_t dim = words.size(1);
  if (kind == TokenKind::kDirect) {
    row_ = register_parameter(
        "row", initializer_id >= 0 ? mean.clone() : mean + std * torch::randn({dim}, generator));
    return;
  }
  const int64_t width = hidden > 0 ? hidden : dim;
  z_ = register_buffer("z", torch::randn({dim}, generator));
  mean_ = register_buffer("mean", mean.clone());
  std_ = register_buffer("std", std.clone());
  mlp_ = register_module(
      "mlp", torch::nn::Sequential(SeededLinear(dim, width, generator), torch::nn::GELU(),
                                   SeededLinear(width, dim, generator)));
}

torch::Tensor ConceptTokenImpl::Row() {
  if (kind_ == TokenKind::kDirect) return row_;
  torch::Tensor offset = mlp_->forward(z_.unsqueeze(0)).squeeze(0);
  if (max_rms_ > 0) {
    const torch::Tensor rms = offset.pow(2).mean().sqrt().clamp_min(1e-12);
    offset = offset * (max_rms_ / rms).clamp_max(1.0);
  }
  return mean_ + std_ * offset;
}

}  // namespace stamina::core
