// The README demo's promise, guarded (issue #12): on the shipped base model,
// <anna> (a face) and then <tower> (a landmark) are taught through the
// service's own path (effective default settings → worker training request →
// core trainer → fold) with a small budget, and the attribute oracle reads
// the head version's samples. <anna> must still read as anna after <tower>,
// and "a photo of" (no token) must not draw either concept more often than
// the base model does. The same sequence without context preservation (the
// papers' STAMINA, what the service shipped before) runs as the control: it
// erases <anna>, so this test can tell the difference.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "bench/continual/concept_scoring.h"
#include "bench/continual/concept_sequence.h"
#include "common/status_macros.h"
#include "common/testing/status_matchers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/base_models.h"
#include "core/training/concept_trainer.h"
#include "core/world/oracle_training.h"
#include "gtest/gtest.h"
#include "server/training_settings.h"
#include "worker/training_request.h"

namespace stamina {
namespace {

// The demo's budget (tools/demo.sh trains 250 steps per concept).
constexpr int kSteps = 250;
// Enough for faces and landmarks (held-out accuracy >= 0.9 per head).
constexpr int kOracleSteps = 1500;

std::string ShippedModelDir() {
  return std::string(std::getenv("TEST_SRCDIR")) + "/stamina/models/stamina-tiny-v1";
}

class OwnTokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto oracle = core::TrainAttributeOracle({.steps = kOracleSteps});
    ASSERT_THAT(oracle.status(), IsOk());
    oracle_ = oracle->release();
    auto concepts = bench::BuildConceptSequence("demo", 2, 0, 5, 4);
    ASSERT_THAT(concepts.status(), IsOk());
    concepts_ = new std::vector<bench::BenchConcept>(std::move(*concepts));
    auto scorer = bench::ConceptScorer::Create(
        oracle_, concepts_, {.count = 8, .steps = 20, .guidance = 5.0f, .seed = 7});
    ASSERT_THAT(scorer.status(), IsOk());
    scorer_ = new bench::ConceptScorer(std::move(*scorer));
    // The leak is a rate over more samples (a 1-in-8 step is too coarse).
    auto leak_scorer = bench::ConceptScorer::Create(
        oracle_, concepts_, {.count = 32, .steps = 20, .guidance = 5.0f, .seed = 70});
    ASSERT_THAT(leak_scorer.status(), IsOk());
    leak_scorer_ = new bench::ConceptScorer(std::move(*leak_scorer));
  }

  struct Scores {
    bench::ConceptScore anna_v1, anna, tower;  // "a photo of <token>"
    double leak = 0;                           // "a photo of" at the head
  };

  // Teaches <anna> then <tower> with `requested` settings completed by the
  // service's defaults, scoring <anna> after each.
  static absl::StatusOr<Scores> TeachBoth(v1::TrainingSettings requested) {
    requested.set_steps(kSteps);
    STAMINA_ASSIGN_OR_RETURN(
        v1::TrainingSettings settings,
        server::EffectiveTrainingSettings(requested, server::ServiceLimits{},
                                          server::TrainingDefaults{}, 1));
    STAMINA_ASSIGN_OR_RETURN(core::DiffusionModel model,
                             core::LoadDiffusionModel(ShippedModelDir()));
    STAMINA_ASSIGN_OR_RETURN(core::AdapterConfig config, worker::AdapterConfigFor(settings));
    STAMINA_ASSIGN_OR_RETURN(core::ContinualState state,
                             core::ContinualState::Create(model.unet, config.targets));
    Scores scores;
    for (int t = 0; t < 2; ++t) {
      const bench::BenchConcept& c = (*concepts_)[t];
      worker::TrainingTask task;
      task.token = c.token;
      task.caption_templates = {"a photo of {}"};  // the demo's
      task.settings = settings;
      STAMINA_ASSIGN_OR_RETURN(core::ConceptTrainingRequest request,
                               worker::TrainingRequestFor(task, c.train_images));
      STAMINA_ASSIGN_OR_RETURN(core::ConceptTrainingResult result,
                               core::TrainConcept(model, state, request));
      STAMINA_RETURN_IF_ERROR(core::FoldAdapterArtifact(result.artifact, model, state));
      if (t == 0) {
        STAMINA_ASSIGN_OR_RETURN(scores.anna_v1, scorer_->Score(model, 0));
      }
    }
    STAMINA_ASSIGN_OR_RETURN(scores.anna, scorer_->Score(model, 0));
    STAMINA_ASSIGN_OR_RETURN(scores.tower, scorer_->Score(model, 1));
    STAMINA_ASSIGN_OR_RETURN(scores.leak, leak_scorer_->Leak(model, "a photo of", 2));
    std::printf("anna v1 %.3f (reads %.2f), v2 %.3f (reads %.2f); tower %.3f (reads %.2f); "
                "leak %.3f\n",
                scores.anna_v1.attribute, scores.anna_v1.reads, scores.anna.attribute,
                scores.anna.reads, scores.tower.attribute, scores.tower.reads, scores.leak);
    return scores;
  }

  static inline core::AttributeOracle* oracle_ = nullptr;
  static inline std::vector<bench::BenchConcept>* concepts_ = nullptr;
  static inline bench::ConceptScorer* scorer_ = nullptr;
  static inline bench::ConceptScorer* leak_scorer_ = nullptr;
};

// The oracle here is trained for 1500 steps (to keep the suite short), so
// it misreads a face attribute now and then: <anna> is judged by attribute
// scores against herself at version 1, read by the same oracle from the
// same seeds (bench:continual --family=demo reads her with the 6000-step
// oracle: bench/results/own-token).
TEST_F(OwnTokenTest, TowerDoesNotEraseAnnaAndNoTokenDrawsNeither) {
  STAMINA_ASSERT_OK_AND_ASSIGN(core::DiffusionModel base,
                               core::LoadDiffusionModel(ShippedModelDir()));
  STAMINA_ASSERT_OK_AND_ASSIGN(double base_leak, leak_scorer_->Leak(base, "a photo of", 2));
  std::printf("base model: leak %.3f\n", base_leak);

  STAMINA_ASSERT_OK_AND_ASSIGN(Scores head, TeachBoth({}));
  // Attribute scores: another identity's renders score ~0.06 against
  // <anna>'s attributes, her own renders 1.0.
  EXPECT_GE(head.anna_v1.attribute, 0.7) << "<anna> was not learned";
  EXPECT_GE(head.anna.attribute, head.anna_v1.attribute - 0.05) << "<tower> erased <anna>";
  EXPECT_GE(head.tower.attribute, 0.7) << "<tower> was not learned";
  EXPECT_LE(head.leak, base_leak + 0.1) << "\"a photo of\" draws a concept";

  // Control: the same sequence without context preservation (the papers'
  // STAMINA, the service's behaviour before) forgets <anna>.
  v1::TrainingSettings papers;
  papers.set_context_preservation(v1::CONTEXT_PRESERVATION_NONE);
  STAMINA_ASSERT_OK_AND_ASSIGN(Scores control, TeachBoth(papers));
  EXPECT_LT(control.anna.attribute, control.anna_v1.attribute - 0.2);
  EXPECT_GT(control.leak, head.leak + 0.1);
}

}  // namespace
}  // namespace stamina
