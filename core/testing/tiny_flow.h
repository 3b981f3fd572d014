// File: core/testing/tiny_flow.h
//
// The whole tiny flow on one ComputeOptions, for tests that compare devices
// and precisions: a tiny model placed there learns two concepts one after
// the other (STAMINA, a few steps each), folding each, then samples one
// image of the second concept. Everything the flow makes is returned on the
// CPU so that callers compare runs directly. Test-only.
//
// Thread-compatible: each call builds its own model.
#ifndef STAMINA_CORE_TESTING_TINY_FLOW_H_
#define STAMINA_CORE_TESTING_TINY_FLOW_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/adapters/adapter_artifact.h"
#include "core/compute_device.h"
#include "core/image.h"
#include "core/pipelines/diffusion_model.h"

namespace stamina::core {

struct TinyFlowResult {
  std::vector<AdapterArtifact> artifacts;  // one per concept, CPU tensors
  std::vector<double> final_losses;        // one per concept
  // The folded UNet's adapted weights after both concepts, on the CPU.
  std::map<std::string, torch::Tensor> folded_weights;
  Image sample;  // "a photo of <c1>", 8 steps, seed 3
};

// `steps` training steps per concept.
absl::StatusOr<TinyFlowResult> RunTinyFlow(const ComputeOptions& compute, int steps = 4);

// Largest absolute difference between two images' bytes (0-255), and their
// mean absolute difference.
struct ImageDifference {
  int max = 0;
  double mean = 0;
};
ImageDifference CompareImages(const Image& a, const Image& b);

}  // namespace stamina::core

#endif  // STAMINA_CORE_TESTING_TINY_FLOW_H_
