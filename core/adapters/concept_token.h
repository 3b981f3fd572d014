// File: core/adapters/concept_token.h
//
// The trainable embedding of one concept token ("<anna>"), in one of two
// forms (method.md §3.4, §4.4):
//   kDirect: the row e itself, initialized per dimension from N(mean, std)
//            of the text encoder's token-embedding table (C-LoRA: "completely
//            random", not copied from a class word);
//   kMlp:    e = mean + std ⊙ MLP(z), MLP = Linear(d, h) → GELU → Linear(h, d),
//            z ~ N(0, I) fixed (STAMINA's customized MLP token; [I] the
//            per-dimension affine puts MLP(z) in the table's units, and
//            with max_rms > 0 MLP(z) is scaled down to an rms of at most
//            max_rms, so the row stays a few stds from the mean like a
//            word's instead of drifting to norms 35x a word's).
// With an initializer word (AdapterConfig::token_initializer) that word's
// row replaces `mean` in both forms (Textual Inversion's initializer token).
// Row() is what the text encoder sees while training; after training the
// row is folded into the table and the MLP discarded.
//
// Thread-compatible (a torch::nn::Module).
#ifndef STAMINA_CORE_ADAPTERS_CONCEPT_TOKEN_H_
#define STAMINA_CORE_ADAPTERS_CONCEPT_TOKEN_H_

#include <cstdint>

#include "core/adapters/adapter_config.h"
#include "torch/torch.h"

namespace stamina::core {

class ConceptTokenImpl : public torch::nn::Module {
 public:
  // `embedding_table` [vocab, d]: the statistics of its first
  // `base_vocab_size` rows (the trained words) set the initialization.
  // `initializer_id` >= 0: the row of that word is the start (kDirect) or
  // the anchor the MLP's offset is added to (kMlp), instead of the mean.
  ConceptTokenImpl(TokenKind kind, int hidden, double max_rms,
                   const torch::Tensor& embedding_table, int64_t base_vocab_size,
                   int64_t initializer_id, at::Generator& generator);

  // The embedding row [d] (autograd on).
  torch::Tensor Row();

  TokenKind kind() const { return kind_; }

 private:
  TokenKind kind_;
  double max_rms_ = 0;
  torch::Tensor row_;         // kDirect: parameter "row"
  torch::Tensor z_;           // kMlp: buffer "z"
  torch::Tensor mean_, std_;  // kMlp: buffers "mean" (the anchor), "std"
  torch::nn::Sequential mlp_{nullptr};  // kMlp: "mlp"
};
TORCH_MODULE(ConceptToken);

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_CONCEPT_TOKEN_H_
