// File: core/adapters/context_preservation.h
//
// What a concept must leave alone: the "own token" rule (architecture.md).
// The K/V adapters of a cross-attention see every context vector the text
// encoder gives — the prompt's shared words, BOS, EOS and padding, "" (the
// guidance's negative prompt) and earlier concepts' tokens — so unless
// told otherwise they learn the concept into all of them and the last
// concept taught takes over every prompt. These functions name the prompts
// to keep (PreservedPrompts), encode them with the frozen text encoder
// (ContextOutputs) and reduce the outputs to the orthonormal basis that
// context = project removes from ΔW (ContextBasis).
//
// Pure functions of their inputs; thread-compatible (ContextOutputs runs
// the model's text encoder).
#ifndef STAMINA_CORE_ADAPTERS_CONTEXT_PRESERVATION_H_
#define STAMINA_CORE_ADAPTERS_CONTEXT_PRESERVATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/pipelines/diffusion_model.h"
#include "core/tokenizers/tokenizer.h"
#include "torch/torch.h"

namespace stamina::core {

// The prompts whose encoder outputs a concept trained with `captions` (each
// containing `token`) must not change, sorted and distinct: "", every
// caption with `token` removed, and every caption with `token` replaced by
// each earlier concept token the tokenizer holds (ids from
// base_vocab_size() up, `token` itself excluded), so a later concept also
// keeps earlier concepts' prompts as they were; each with all its word
// prefixes ("a", "a photo", "a photo of", ...), whose EOS and padding
// outputs differ from the full caption's. No user images are needed.
std::vector<std::string> PreservedPrompts(const Tokenizer& tokenizer,
                                          const std::string& token,
                                          const std::vector<std::string>& captions);

// The frozen text encoder's outputs for every position of every prompt
// (padding included: cross-attention attends to it), [prompts × length, d]
// float32, no autograd. INVALID_ARGUMENT for a prompt the tokenizer refuses.
absl::StatusOr<torch::Tensor> ContextOutputs(DiffusionModel& model,
                                             const std::vector<std::string>& prompts);

// The fewest leading right-singular vectors of `outputs` [n, d] whose
// squared singular values hold `energy` (in (0, 1]) of the total, as
// columns of Q [d, k]; k = 0 when the outputs are all zero.
torch::Tensor ContextBasis(const torch::Tensor& outputs, double energy);

}  // namespace stamina::core

#endif  // STAMINA_CORE_ADAPTERS_CONTEXT_PRESERVATION_H_
