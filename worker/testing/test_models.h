// File: worker/testing/test_models.h
//
// Fixtures for tests that train and sample for real on CPU: the random
// "stamina-test-tiny" architecture saved with SaveDiffusionModel under
// TEST_TMPDIR (trains in milliseconds), and training images of held-out
// synthetic-world identities (so that tests outside core/ need not reach the
// world themselves). Torch-free header. Test-only.
#ifndef STAMINA_WORKER_TESTING_TEST_MODELS_H_
#define STAMINA_WORKER_TESTING_TEST_MODELS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/image.h"
#include "worker/base_model_spec.h"

namespace stamina::worker {

inline constexpr char kTestBaseModel[] = "stamina-test-tiny";

// Saves a randomly initialized stamina-test-tiny model (from `seed`) to
// TEST_TMPDIR/<name> and resolves it (digest of the files).
absl::StatusOr<ResolvedBaseModel> SaveTestBaseModel(const std::string& name,
                                                    uint64_t seed = 3);

// `count` 32x32 renders of the held-out identity `identity` (render seeds 0,
// 1, ...), as images and as PNGs.
std::vector<core::Image> IdentityImages(int identity, int count);
std::vector<std::string> IdentityPngs(int identity, int count);

}  // namespace stamina::worker

#endif  // STAMINA_WORKER_TESTING_TEST_MODELS_H_
