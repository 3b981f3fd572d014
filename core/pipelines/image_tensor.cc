#include "core/pipelines/image_tensor.h"

#include <cstring>

namespace stamina::core {

torch::Tensor ImagesToTensor(const std::vector<Image>& images) {
  TORCH_CHECK(!images.empty(), "ImagesToTensor: no images");
  const int h = images[0].height;
  const int w = images[0].width;
  torch::Tensor bytes = torch::empty({static_cast<int64_t>(images.size()), h, w, 3}, torch::kUInt8);
  for (size_t i = 0; i < images.size(); ++i) {
    TORCH_CHECK(images[i].width == w && images[i].height == h,
                "ImagesToTensor: images differ in size");
    std::memcpy(bytes[static_cast<int64_t>(i)].data_ptr<uint8_t>(), images[i].pixels.data(),
                images[i].pixels.size());
  }
  return bytes.permute({0, 3, 1, 2}).to(torch::kFloat32).div(127.5).sub(1.0);
}

std::vector<Image> TensorToImages(const torch::Tensor& batch) {
  TORCH_CHECK(batch.dim() == 4 && batch.size(1) == 3, "TensorToImages: expected [B, 3, H, W]");
  torch::Tensor bytes = batch.detach()
                            .to(torch::kCPU, torch::kFloat32)
                            .clamp(-1.0, 1.0)
                            .add(1.0)
                            .mul(127.5)
                            .round()
                            .to(torch::kUInt8)
                            .permute({0, 2, 3, 1})
                            .contiguous();
  std::vector<Image> images;
  for (int64_t i = 0; i < bytes.size(0); ++i) {
    Image image(static_cast<int>(bytes.size(2)), static_cast<int>(bytes.size(1)));
    std::memcpy(image.pixels.data(), bytes[i].data_ptr<uint8_t>(), image.pixels.size());
    images.push_back(std::move(image));
  }
  return images;
}

}  // namespace stamina::core
