// File: core/pipelines/image_tensor.h
//
// world::Image (8-bit RGB) <-> model tensors ([B, 3, H, W] float in [-1, 1],
// the range Stable Diffusion's VAE works in).
// Thread-safe: pure functions. They throw c10::Error like any LibTorch call;
// callers run them inside RunTorch.
#ifndef STAMINA_CORE_PIPELINES_IMAGE_TENSOR_H_
#define STAMINA_CORE_PIPELINES_IMAGE_TENSOR_H_

#include <vector>

#include "core/image.h"
#include "torch/torch.h"

namespace stamina::core {

// Stacks same-sized images into [B, 3, H, W] in [-1, 1].
torch::Tensor ImagesToTensor(const std::vector<Image>& images);

// [B, 3, H, W] (any float range; clamped to [-1, 1]) → images.
std::vector<Image> TensorToImages(const torch::Tensor& batch);

}  // namespace stamina::core

#endif  // STAMINA_CORE_PIPELINES_IMAGE_TENSOR_H_
