#include "core/nn/attention_ops.h"

#include <cmath>
#include <limits>

#include "torch/torch.h"

namespace stamina::core {

torch::Tensor ScaledDotProductAttention(const torch::Tensor& query,
                                        const torch::Tensor& key,
                                        const torch::Tensor& value,
                                        const torch::Tensor& mask) {
  TORCH_CHECK(query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2,
              "ScaledDotProductAttention: query, key and value need at least "
              "2 dimensions");
  TORCH_CHECK(query.size(-1) == key.size(-1),
              "ScaledDotProductAttention: query and key head sizes differ (",
              query.size(-1), " vs ", key.size(-1), ")");
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
  const bool upcast = query.scalar_type() == torch::kHalf ||
                      query.scalar_type() == torch::kBFloat16;
  const torch::Tensor q = upcast ? query.to(torch::kFloat) : query;
  const torch::Tensor k = upcast ? key.to(torch::kFloat) : key;
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (mask.defined()) {
    if (mask.scalar_type() == torch::kBool) {
      scores = scores.masked_fill(mask.logical_not(),
                                  std::numeric_limits<float>::lowest());
    } else {
      scores = scores + mask.to(scores.scalar_type());
    }
  }
  const torch::Tensor probs =
      torch::softmax(scores, -1).to(value.scalar_type());
  return torch::matmul(probs, value);
}

}  // namespace stamina::core
