#include "core/adapters/low_rank_adapter.h"

#include <cmath>

namespace stamina::core {
namespace {

// alpha / r for a layer of rank r (its own: AdapterConfig.target_ranks).
double Scale(const AdapterConfig& config, int64_t rank) {
  return config.alpha > 0 ? config.alpha / static_cast<double>(rank) : 1.0;
}

torch::Tensor Activation(const AdapterConfig& config, const torch::Tensor& x) {
  return config.mask_activation == MaskActivation::kGelu ? torch::gelu(x) : torch::relu(x);
}

// 1 − C as a float factor, or undefined when nothing is excluded.
torch::Tensor ExclusionFactor(const AdapterConfig& config, const torch::Tensor& cumulative_mask) {
  if (config.overlap != MaskOverlap::kExclusive || !cumulative_mask.defined()) {
    return {};
  }
  return cumulative_mask.logical_not().to(torch::kFloat32);
}

// ΔW (I − Q Qᵀ), or ΔW itself without a basis.
torch::Tensor ProjectOffContext(const torch::Tensor& delta, const torch::Tensor& basis) {
  if (!basis.defined() || basis.size(1) == 0) return delta;
  return delta - torch::matmul(torch::matmul(delta, basis), basis.t());
}

}  // namespace

bool UsesMask(const AdapterConfig& config) {
  return config.method == AdapterMethod::kStamina && config.mask;
}

torch::Tensor MaskLogits(const AdapterConfig& config, const LayerFactors& factors) {
  return torch::matmul(factors.mask_U, Activation(config, factors.mask_V)) +
         factors.mask_b.unsqueeze(1);
}

torch::Tensor FoldMask(const AdapterConfig& config, const LayerFactors& factors,
                       const torch::Tensor& cumulative_mask) {
  if (!UsesMask(config)) return {};
  torch::NoGradGuard no_grad;
  torch::Tensor mask = (MaskLogits(config, factors) >= 0).to(torch::kFloat32);
  if (torch::Tensor keep = ExclusionFactor(config, cumulative_mask); keep.defined()) {
    mask = mask * keep;
  }
  return mask;
}

torch::Tensor FoldedDelta(const AdapterConfig& config, const LayerFactors& factors,
                          const torch::Tensor& cumulative_mask) {
  torch::NoGradGuard no_grad;
  torch::Tensor delta =
      torch::matmul(factors.lora_B, factors.lora_A) * Scale(config, factors.lora_A.size(0));
  if (torch::Tensor mask = FoldMask(config, factors, cumulative_mask); mask.defined()) {
    delta = delta * mask;
  }
  return ProjectOffContext(delta, factors.context_basis);
}

LayerFactors LayerFactors::To(const torch::Device& device) const {
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  return {.lora_A = move(lora_A),
          .lora_B = move(lora_B),
          .mask_U = move(mask_U),
          .mask_V = move(mask_V),
          .mask_b = move(mask_b),
          .context_basis = move(context_basis)};
}

LowRankAdapterImpl::LowRankAdapterImpl(int64_t in_features, int64_t out_features,
                                       const AdapterConfig& config, torch::Tensor cumulative_mask,
                                       LayerContext context, at::Generator& generator,
                                       at::Generator& mask_generator)
    : config_(config),
      scale_(Scale(config, config.rank)),
      cumulative_mask_(std::move(cumulative_mask)),
      context_(std::move(context)) {
  // nn.Linear's kaiming_uniform_(a=√5): U(±1/√in).
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
  lora_A = register_parameter(
      "lora_A", torch::rand({config.rank, in_features}, generator) * (2 * bound) - bound);
  lora_B = register_parameter("lora_B", torch::zeros({out_features, config.rank}));
  if (UsesMask(config)) {
    // [I] V ~ N(0, 1) (the hidden code of each input column), U ~ N(0, 1/r_m):
    // U φ(V) has a spread of ~0.7, so with b = β ≈ 2 almost every entry starts
    // on and sparsity pressure prunes from there (method.md §4.2).
    mask_U = register_parameter("mask_U",
                                torch::randn({out_features, config.mask_rank}, mask_generator) /
                                    std::sqrt(static_cast<double>(config.mask_rank)));
    mask_V =
        register_parameter("mask_V", torch::randn({config.mask_rank, in_features}, mask_generator));
    mask_b = register_parameter("mask_b", torch::full({out_features}, config.mask_init_bias));
  }
}

torch::Tensor LowRankAdapterImpl::SoftMask() const {
  return torch::sigmoid(MaskLogits(config_, {.lora_A = lora_A,
                                             .lora_B = lora_B,
                                             .mask_U = mask_U,
                                             .mask_V = mask_V,
                                             .mask_b = mask_b}) /
                        config_.mask_tau);
}

torch::Tensor LowRankAdapterImpl::TrainingMask() const {
  torch::Tensor soft = SoftMask();
  torch::Tensor mask = soft;
  if (config_.hard_mask) {
    // Straight-through: the forward value is 1[σ(G/τ) >= ½], the gradient
    // that of σ(G/τ).
    const torch::Tensor hard = (soft >= 0.5).to(soft.dtype());
    mask = soft + (hard - soft).detach();
  }
  if (torch::Tensor keep = ExclusionFactor(config_, cumulative_mask_); keep.defined()) {
    mask = mask * keep;
  }
  return mask;
}

torch::Tensor LowRankAdapterImpl::Delta(const torch::Tensor& input) {
  if (!has_mask() && !context_.basis.defined()) {
    // Factorized: never forms the dense [out, in] product.
    return torch::nn::functional::linear(torch::nn::functional::linear(input, lora_A), lora_B) *
           scale_;
  }
  return torch::nn::functional::linear(input, DenseDelta().to(input.dtype()));
}

torch::Tensor LowRankAdapterImpl::DenseDelta() const {
  torch::Tensor delta = torch::matmul(lora_B, lora_A) * scale_;
  if (has_mask()) delta = TrainingMask() * delta;
  return ProjectOffContext(delta, context_.basis);
}

torch::Tensor LowRankAdapterImpl::ContextPenalty() const {
  if (!context_.outputs.defined()) return {};
  return torch::matmul(context_.outputs, DenseDelta().t()).pow(2).sum(1).mean() /
         context_.reference;
}

LayerFactors LowRankAdapterImpl::Factors() const {
  LayerFactors factors{.lora_A = lora_A.detach().clone(), .lora_B = lora_B.detach().clone()};
  if (context_.basis.defined()) factors.context_basis = context_.basis.clone();
  if (has_mask()) {
    factors.mask_U = mask_U.detach().clone();
    factors.mask_V = mask_V.detach().clone();
    factors.mask_b = mask_b.detach().clone();
  }
  return factors;
}

torch::Tensor LowRankAdapterImpl::ForgettingPenalty(const torch::Tensor& previous_delta) const {
  return (previous_delta * DenseDelta()).pow(2).sum();
}

}  // namespace stamina::core
