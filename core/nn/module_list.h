// File: core/nn/module_list.h
//
// Owns RegisterModuleList: registering a vector of sub-modules under one
// name as a torch::nn::ModuleList, so that their parameters carry diffusers'
// checkpoint keys (`resnets.0.conv1.weight`, `resnets.1...`). The vector
// keeps the typed holders the forward pass calls; the list only names them.
// Thread-compatible: call from a module's constructor.
#ifndef STAMINA_CORE_NN_MODULE_LIST_H_
#define STAMINA_CORE_NN_MODULE_LIST_H_

#include <vector>

#include "torch/torch.h"

namespace stamina::core {

// Registers `modules` on `parent` as the ModuleList `name` (keys name.0,
// name.1, ... in order).
template <typename Holder>
void RegisterModuleList(torch::nn::Module& parent, const char* name,
                        const std::vector<Holder>& modules) {
  torch::nn::ModuleList list;
  for (const Holder& module : modules) list->push_back(module);
  parent.register_module(name, list);
}

}  // namespace stamina::core

#endif  // STAMINA_CORE_NN_MODULE_LIST_H_
