#include "bench/continual/concept_scoring.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "core/pipelines/text_to_image_pipeline.h"

namespace stamina::bench {

double UnbiasedMmd(const torch::Tensor& x, const torch::Tensor& y) {
  torch::NoGradGuard no_grad;
  const double d = static_cast<double>(x.size(1));
  const auto kernel = [d](const torch::Tensor& a, const torch::Tensor& b) {
    return (torch::matmul(a, b.t()) / d + 1).pow(3);
  };
  const double m = static_cast<double>(x.size(0));
  const double n = static_cast<double>(y.size(0));
  const torch::Tensor kxx = kernel(x, x);
  const torch::Tensor kyy = kernel(y, y);
  const double xx = (kxx.sum() - kxx.diagonal().sum()).item<double>() / (m * (m - 1));
  const double yy = (kyy.sum() - kyy.diagonal().sum()).item<double>() / (n * (n - 1));
  const double xy = kernel(x, y).sum().item<double>() / (m * n);
  return xx + yy - 2 * xy;
}

absl::StatusOr<ConceptScorer> ConceptScorer::Create(
    const core::AttributeOracle* oracle, const std::vector<BenchConcept>* concepts,
    SampleSettings settings) {
  if (settings.count < 2) {
    return absl::InvalidArgumentError("samples per concept must be >= 2 (MMD)");
  }
  ConceptScorer scorer;
  scorer.oracle_ = oracle;
  scorer.concepts_ = concepts;
  scorer.settings_ = settings;
  for (const BenchConcept& c : *concepts) {
    scorer.candidates_.push_back(c.labels);
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor features, oracle->Features(c.reference_images));
    scorer.reference_features_.push_back(features);
  }
  return scorer;
}

absl::StatusOr<std::vector<core::Image>> ConceptScorer::Sample(
    core::DiffusionModel& model, const std::string& prompt) const {
  core::TextToImageRequest request;
  request.prompt = prompt;
  request.count = settings_.count;
  request.steps = settings_.steps;
  request.guidance_scale = settings_.guidance;
  request.seed = settings_.seed;
  return core::GenerateImages(model, request);
}

absl::StatusOr<ConceptScore> ConceptScorer::ScoreImages(
    const std::vector<core::Image>& images, int concept) const {
  const BenchConcept& c = (*concepts_)[concept];
  ConceptScore score;
  STAMINA_ASSIGN_OR_RETURN(std::vector<double> attributes,
                           oracle_->AttributeScores(images, c.labels));
  for (double a : attributes) {
    score.attribute += a / attributes.size();
    score.exact += (a >= 1.0 ? 1.0 : 0.0) / attributes.size();
    score.reads += (a >= kReadsAsThreshold ? 1.0 : 0.0) / attributes.size();
  }
  STAMINA_ASSIGN_OR_RETURN(std::vector<int> matches,
                           oracle_->MatchIdentities(images, candidates_));
  for (int m : matches) score.identity += (m == concept ? 1.0 : 0.0) / matches.size();
  STAMINA_ASSIGN_OR_RETURN(torch::Tensor features, oracle_->Features(images));
  score.mmd = 1e3 * UnbiasedMmd(features, reference_features_[concept]);
  return score;
}

absl::StatusOr<ConceptScore> ConceptScorer::Score(core::DiffusionModel& model, int concept,
                                                  std::vector<core::Image>* samples) const {
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<core::Image> images,
      Sample(model, absl::StrCat("a photo of ", (*concepts_)[concept].token)));
  if (samples) *samples = images;
  return ScoreImages(images, concept);
}

absl::StatusOr<FidelityScore> ConceptScorer::Fidelity(core::DiffusionModel& model,
                                                      int concept) const {
  const BenchConcept& c = (*concepts_)[concept];
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<core::Image> images,
      Sample(model, core::CaptionWithToken(c.token, c.fidelity_background)));
  FidelityScore score;
  STAMINA_ASSIGN_OR_RETURN(std::vector<core::AttributePrediction> predictions,
                           oracle_->Predict(images));
  const core::AttributeLabels want =
      core::WithBackground(core::AttributeLabels(), c.fidelity_background);
  for (const core::AttributePrediction& p : predictions) {
    score.background +=
        (p.label[core::OracleHead::kBackground] == want[core::OracleHead::kBackground] ? 1.0
                                                                                      : 0.0) /
        predictions.size();
  }
  STAMINA_ASSIGN_OR_RETURN(std::vector<double> attributes,
                           oracle_->AttributeScores(images, c.labels));
  for (double a : attributes) score.attribute += a / attributes.size();
  return score;
}

absl::StatusOr<PairScore> ConceptScorer::Pair(core::DiffusionModel& model, int first,
                                              int second) const {
  STAMINA_ASSIGN_OR_RETURN(
      std::vector<core::Image> images,
      Sample(model, absl::StrCat("a photo of ", (*concepts_)[first].token, " and ",
                                 (*concepts_)[second].token)));
  STAMINA_ASSIGN_OR_RETURN(std::vector<int> matches,
                           oracle_->MatchIdentities(images, candidates_));
  PairScore score;
  for (int m : matches) {
    score.first += (m == first ? 1.0 : 0.0) / matches.size();
    score.second += (m == second ? 1.0 : 0.0) / matches.size();
  }
  STAMINA_ASSIGN_OR_RETURN(std::vector<bool> a, ReadsAs(images, first));
  STAMINA_ASSIGN_OR_RETURN(std::vector<bool> b, ReadsAs(images, second));
  const double n = static_cast<double>(images.size());
  for (size_t k = 0; k < images.size(); ++k) {
    score.reads_first += a[k] / n;
    score.reads_second += b[k] / n;
    score.reads_both += (a[k] && b[k]) / n;
  }
  return score;
}

absl::StatusOr<std::vector<bool>> ConceptScorer::ReadsAs(
    const std::vector<core::Image>& images, int concept) const {
  STAMINA_ASSIGN_OR_RETURN(std::vector<double> attributes,
                           oracle_->AttributeScores(images, (*concepts_)[concept].labels));
  std::vector<bool> reads;
  for (double a : attributes) reads.push_back(a >= kReadsAsThreshold);
  return reads;
}

absl::StatusOr<double> ConceptScorer::Leak(core::DiffusionModel& model,
                                           const std::string& prompt, int learned) const {
  STAMINA_ASSIGN_OR_RETURN(std::vector<core::Image> images, Sample(model, prompt));
  std::vector<bool> any(images.size(), false);
  for (int i = 0; i < learned; ++i) {
    STAMINA_ASSIGN_OR_RETURN(std::vector<bool> reads, ReadsAs(images, i));
    for (size_t k = 0; k < images.size(); ++k) any[k] = any[k] || reads[k];
  }
  double leak = 0;
  for (bool a : any) leak += a / static_cast<double>(images.size());
  return leak;
}

}  // namespace stamina::bench
