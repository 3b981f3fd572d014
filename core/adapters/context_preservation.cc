#include "core/adapters/context_preservation.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "core/pipelines/text_to_image_pipeline.h"
#include "core/torch_status.h"

namespace stamina::core {
namespace {

// `caption` with `token` replaced by `replacement`, spaces collapsed.
std::string Substitute(const std::string& caption, const std::string& token,
                       const std::string& replacement) {
  const std::string replaced = absl::StrReplaceAll(caption, {{token, replacement}});
  return absl::StrJoin(std::vector<std::string>(absl::StrSplit(replaced, ' ', absl::SkipEmpty())),
                       " ");
}

}  // namespace

std::vector<std::string> PreservedPrompts(const Tokenizer& tokenizer, const std::string& token,
                                          const std::vector<std::string>& captions) {
  std::vector<std::string> earlier;
  for (int32_t id = tokenizer.base_vocab_size(); id < tokenizer.vocab_size(); ++id) {
    const int32_t ids[] = {id};
    absl::StatusOr<std::string> word = tokenizer.Decode(ids);
    if (word.ok() && !word->empty() && *word != token) earlier.push_back(*word);
  }
  std::set<std::string> prompts = {""};
  // Every word prefix too: the encoder is causal, so "a photo of" (a prefix
  // of "a photo of on a red background") has its own EOS and padding
  // outputs, which the full caption does not cover.
  const auto add_with_prefixes = [&prompts](const std::string& prompt) {
    const std::vector<std::string> words = absl::StrSplit(prompt, ' ', absl::SkipEmpty());
    for (size_t n = 1; n <= words.size(); ++n) {
      prompts.insert(absl::StrJoin(words.begin(), words.begin() + n, " "));
    }
  };
  for (const std::string& caption : captions) {
    add_with_prefixes(Substitute(caption, token, ""));
    for (const std::string& other : earlier) {
      add_with_prefixes(Substitute(caption, token, other));
    }
  }
  return {prompts.begin(), prompts.end()};
}

absl::StatusOr<torch::Tensor> ContextOutputs(DiffusionModel& model,
                                             const std::vector<std::string>& prompts) {
  absl::StatusOr<torch::Tensor> ids = TokenizeBatch(*model.tokenizer, prompts);
  if (!ids.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("preserved prompts: ", ids.status().message()));
  }
  return RunTorch([&] {
    torch::NoGradGuard no_grad;
    const torch::Tensor outputs = model.text_encoder->forward(ids->to(ModelDevice(model)));
    return outputs.reshape({-1, outputs.size(-1)}).to(torch::kFloat32).contiguous();
  });
}

torch::Tensor ContextBasis(const torch::Tensor& outputs, double energy) {
  torch::NoGradGuard no_grad;
  const torch::Tensor x = outputs.to(torch::kFloat64);
  // Right-singular vectors from the eigen-decomposition of xᵀx [d, d]
  // (ascending eigenvalues), cheaper than an SVD of the tall [n, d] matrix.
  const auto [values, vectors] = torch::linalg_eigh(torch::matmul(x.t(), x));
  const torch::Tensor power = values.flip(0).clamp_min(0);
  const torch::Tensor ordered = vectors.flip(1);
  const double total = power.sum().item<double>();
  if (!(total > 0)) {
    return torch::zeros({outputs.size(1), 0}, outputs.options().dtype(torch::kFloat32));
  }
  // Directions below 1e-9 of the largest are rounding noise, never kept.
  const int64_t significant = (power > power[0].item<double>() * 1e-9).sum().item<int64_t>();
  const torch::Tensor cumulative = power.cumsum(0) / total;
  int64_t k = 1;
  while (k < significant && cumulative[k - 1].item<double>() < energy) ++k;
  return ordered.slice(1, 0, k).to(torch::kFloat32).contiguous();
}

}  // namespace stamina::core
