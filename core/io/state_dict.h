// File: core/io/state_dict.h
//
// Strict weight loading (docs/style.md §5.3 item 14): copies a key → tensor
// map into a module's parameters and buffers by their named_parameters() /
// named_buffers() keys, and reports missing keys, unexpected keys and shape
// mismatches instead of guessing. The default is an error for any of them;
// LoadOptions relaxes missing/unexpected keys, never shape mismatches.
// Loading is all-or-nothing: nothing is copied unless every check passes.
// Key translation (old checkpoint layouts) is the caller's job.
//
// Error code: INVALID_ARGUMENT. The weights handed in do not fit this
// module; that is a property of the arguments, not of system state that the
// caller could fix and then retry the same call (FAILED_PRECONDITION).
//
// Thread-compatible: LoadStateDict needs exclusive access to the module
// (no concurrent forward()); StateDict only reads it.
#ifndef STAMINA_CORE_IO_STATE_DICT_H_
#define STAMINA_CORE_IO_STATE_DICT_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "torch/torch.h"

namespace stamina::core {

struct LoadOptions {
  // Module keys absent from the tensors keep their current values.
  bool allow_missing = false;
  // Tensors with no module key are ignored.
  bool allow_unexpected = false;
  // Keys that may be missing or unexpected even when the flags above are
  // false, e.g. CLIP's "text_model.embeddings.position_ids" (present only in
  // checkpoints written by transformers < 4.31). See
  // OptionalCLIPTextModelKeys().
  std::set<std::string> optional_keys;
};

// The keys of CLIPTextModel that checkpoints may or may not carry.
std::set<std::string> OptionalCLIPTextModelKeys();

struct ShapeMismatch {
  std::string key;
  std::vector<int64_t> expected;  // the module's
  std::vector<int64_t> got;       // the tensor's
};

// What a load did. All lists are sorted by key.
struct LoadReport {
  std::vector<std::string> loaded;
  std::vector<std::string> missing;     // module keys with no tensor
  std::vector<std::string> unexpected;  // tensors with no module key
  std::vector<ShapeMismatch> mismatched;
};

// Copies `tensors` into `module`'s parameters and buffers (converting to each
// target's dtype and device, without recording autograd history). Returns
// the report; INVALID_ARGUMENT, listing the first few offending keys and the
// counts, on a shape mismatch or on missing/unexpected keys not allowed by
// `options`; INTERNAL or RESOURCE_EXHAUSTED if the copy itself fails.
absl::StatusOr<LoadReport> LoadStateDict(
    torch::nn::Module& module,
    const std::map<std::string, torch::Tensor>& tensors,
    const LoadOptions& options = {});

// Every parameter and buffer of `module` by key, detached, sharing storage
// with the module (as PyTorch's state_dict()). Copy before mutating.
std::map<std::string, torch::Tensor> StateDict(const torch::nn::Module& module);

}  // namespace stamina::core

#endif  // STAMINA_CORE_IO_STATE_DICT_H_
