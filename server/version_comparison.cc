#include "server/version_comparison.h"

#include "absl/strings/str_cat.h"
#include "common/pixel_drift.h"
#include "common/status_macros.h"
#include "images/image_decoder.h"

namespace stamina::server {
namespace {

// Collects one sampling run's images.
class CollectingSink final : public rpc::SampleSink {
 public:
  CollectingSink(std::function<bool()> cancelled, std::vector<rpc::SampledImage>& images)
      : cancelled_(std::move(cancelled)), images_(images) {}
  bool Cancelled() override { return cancelled_ && cancelled_(); }
  void Progress(rpc::SamplePhase, int, int) override {}
  absl::Status Image(const rpc::SampledImage& image) override {
    images_.push_back(image);
    return absl::OkStatus();
  }

 private:
  const std::function<bool()> cancelled_;
  std::vector<rpc::SampledImage>& images_;
};

}  // namespace

std::vector<ComparisonPrompt> DefaultComparisonPrompts(const std::vector<std::string>& tokens_a,
                                                       const std::vector<std::string>& tokens_b) {
  std::vector<ComparisonPrompt> prompts;
  auto add = [&](const std::string& token) {
    if (static_cast<int>(prompts.size()) >= kMaxComparisonPrompts) return;
    for (const ComparisonPrompt& p : prompts) {
      if (p.token == token) return;
    }
    prompts.push_back({.prompt = absl::StrCat("a photo of ", token), .token = token});
  };
  for (const std::string& token : tokens_a) add(token);
  for (const std::string& token : tokens_b) add(token);
  return prompts;
}

absl::StatusOr<double> PixelDrift(const std::vector<std::string>& pngs_a,
                                  const std::vector<std::string>& pngs_b) {
  if (pngs_a.size() != pngs_b.size() || pngs_a.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("drift of ", pngs_a.size(), " and ", pngs_b.size(), " images"));
  }
  const images::ImageLimits limits{.max_bytes = 64 << 20, .max_pixels = 16 << 20, .min_side = 1};
  std::vector<images::DecodedImage> decoded;
  decoded.reserve(2 * pngs_a.size());
  std::vector<RgbView> a, b;
  for (size_t i = 0; i < pngs_a.size(); ++i) {
    for (const std::string* png : {&pngs_a[i], &pngs_b[i]}) {
      STAMINA_ASSIGN_OR_RETURN(images::DecodedImage image, images::DecodeImage(*png, limits));
      decoded.push_back(std::move(image));
      (png == &pngs_a[i] ? a : b)
          .push_back({decoded.back().width, decoded.back().height, decoded.back().rgb.data()});
    }
  }
  return RmsPixelDrift(a, b);
}

absl::StatusOr<SampledPair> SamplePair(rpc::SampleRouter& router, const rpc::ModelRecipe& a,
                                       const rpc::ModelRecipe& b, const rpc::SampleParams& params,
                                       std::function<bool()> cancelled) {
  SampledPair pair;
  CollectingSink sink_a(cancelled, pair.a);
  STAMINA_RETURN_IF_ERROR(router.Sample(a, params, sink_a));
  CollectingSink sink_b(cancelled, pair.b);
  STAMINA_RETURN_IF_ERROR(router.Sample(b, params, sink_b));
  std::vector<std::string> pngs_a, pngs_b;
  for (const rpc::SampledImage& image : pair.a) pngs_a.push_back(image.png);
  for (const rpc::SampledImage& image : pair.b) pngs_b.push_back(image.png);
  STAMINA_ASSIGN_OR_RETURN(pair.drift, PixelDrift(pngs_a, pngs_b));
  return pair;
}

}  // namespace stamina::server
