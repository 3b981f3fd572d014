// File: core/testing/module_parameters.h
//
// Test helpers that read a LibTorch module's named_parameters(): the shape
// per checkpoint key and the parameter count (buffers excluded), for tests
// that pin core/ models to diffusers/transformers state-dict layouts.
// Thread-compatible: reads the module only.
#ifndef STAMINA_CORE_TESTING_MODULE_PARAMETERS_H_
#define STAMINA_CORE_TESTING_MODULE_PARAMETERS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "torch/torch.h"

namespace stamina::core {

// Key → shape, for every parameter of `module` (recursively).
inline std::map<std::string, std::vector<int64_t>> ParameterShapes(
    const torch::nn::Module& module) {
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& item : module.named_parameters()) {
    shapes[item.key()] = item.value().sizes().vec();
  }
  return shapes;
}

// Number of scalars in all parameters of `module` (buffers excluded), as
// sum(p.numel() for p in model.parameters()) in PyTorch.
inline int64_t ParameterCount(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const torch::Tensor& parameter : module.parameters()) {
    count += parameter.numel();
  }
  return count;
}

}  // namespace stamina::core

#endif  // STAMINA_CORE_TESTING_MODULE_PARAMETERS_H_
