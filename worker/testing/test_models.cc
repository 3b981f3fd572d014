#include "worker/testing/test_models.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/pipelines/base_models.h"
#include "core/world/attributes.h"
#include "core/world/png.h"
#include "core/world/renderer.h"

namespace stamina::worker {

absl::StatusOr<ResolvedBaseModel> SaveTestBaseModel(const std::string& name,
                                                    uint64_t seed) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel model,
                           core::CreateBaseModel(kTestBaseModel, seed));
  STAMINA_RETURN_IF_ERROR(
      core::SaveDiffusionModel(model, kTestBaseModel, dir, {{"seed", absl::StrCat(seed)}}));
  return ResolveBaseModel({.id = kTestBaseModel, .dir = dir});
}

std::vector<core::Image> IdentityImages(int identity, int count) {
  const core::FaceIdentity face =
      core::FaceIdentity::FromSeed(core::kReservedIdentitySeedStart + identity);
  std::vector<core::Image> images;
  for (int i = 0; i < count; ++i) {
    images.push_back(core::RenderFace(face, core::RenderParams::FromSeed(i)));
  }
  return images;
}

std::vector<std::string> IdentityPngs(int identity, int count) {
  std::vector<std::string> pngs;
  for (const core::Image& image : IdentityImages(identity, count)) {
    absl::StatusOr<std::string> png = core::EncodePng(image);
    if (png.ok()) pngs.push_back(*std::move(png));
  }
  return pngs;
}

}  // namespace stamina::worker
