#include "core/nn/attention_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "torch/torch.h"

namespace stamina::core {
namespace {

// The most negative finite value of the scores' dtype: a masked score must
// vanish in the softmax without overflowing a bf16/fp16 tensor (autocast).
double LowestScore(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kBFloat16:
      return static_cast<float>(std::numeric_limits<c10::BFloat16>::lowest());
    case torch::kHalf:
      return static_cast<float>(std::numeric_limits<c10::Half>::lowest());
    default:
      return std::numeric_limits<float>::lowest();
  }
}

// softmax(q k^T * scale + mask) v for one block of query rows.
torch::Tensor AttendBlock(const torch::Tensor& q, const torch::Tensor& k,
                          const torch::Tensor& value, const torch::Tensor& mask, double scale) {
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (mask.defined()) {
    if (mask.scalar_type() == torch::kBool) {
      scores = scores.masked_fill(mask.logical_not(), LowestScore(scores.scalar_type()));
    } else {
      scores = scores + mask.to(scores.scalar_type());
    }
  }
  return torch::matmul(torch::softmax(scores, -1).to(value.scalar_type()), value);
}

}  // namespace

torch::Tensor ScaledDotProductAttention(const torch::Tensor& query, const torch::Tensor& key,
                                        const torch::Tensor& value, const torch::Tensor& mask) {
  return ScaledDotProductAttention(query, key, value, mask, kMaxAttentionScoreElements);
}

torch::Tensor ScaledDotProductAttention(const torch::Tensor& query, const torch::Tensor& key,
                                        const torch::Tensor& value, const torch::Tensor& mask,
                                        int64_t max_score_elements) {
  TORCH_CHECK(query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2,
              "ScaledDotProductAttention: query, key and value need at least "
              "2 dimensions");
  TORCH_CHECK(query.size(-1) == key.size(-1),
              "ScaledDotProductAttention: query and key head sizes differ (", query.size(-1),
              " vs ", key.size(-1), ")");
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size(-1)));
  const bool upcast =
      query.scalar_type() == torch::kHalf || query.scalar_type() == torch::kBFloat16;
  const torch::Tensor q = upcast ? query.to(torch::kFloat) : query;
  const torch::Tensor k = upcast ? key.to(torch::kFloat) : key;

  const int64_t query_rows = q.size(-2);
  const int64_t key_rows = k.size(-2);
  // Scores per query row: the broadcast leading dimensions times Lk.
  const int64_t leading = std::max(q.numel() / std::max<int64_t>(1, query_rows * q.size(-1)),
                                   k.numel() / std::max<int64_t>(1, key_rows * k.size(-1)));
  const int64_t per_row = std::max<int64_t>(1, leading * key_rows);
  const int64_t block_rows = std::max<int64_t>(1, max_score_elements / per_row);
  if (block_rows >= query_rows) return AttendBlock(q, k, value, mask, scale);

  // A mask with a query dimension of its own is cut with the queries; one
  // that broadcasts over queries (size 1 there, or fewer dimensions) is not.
  const bool mask_has_rows =
      mask.defined() && mask.dim() >= 2 && mask.size(-2) == query_rows && query_rows > 1;
  std::vector<torch::Tensor> blocks;
  for (int64_t start = 0; start < query_rows; start += block_rows) {
    const int64_t rows = std::min(block_rows, query_rows - start);
    blocks.push_back(AttendBlock(q.narrow(-2, start, rows), k, value,
                                 mask_has_rows ? mask.narrow(-2, start, rows) : mask, scale));
  }
  return torch::cat(blocks, -2);
}

}  // namespace stamina::core
