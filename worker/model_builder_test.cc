#include "worker/model_builder.h"

#include <string>
#include <vector>

#include "common/testing/status_matchers.h"
#include "core/adapters/adapter_artifact.h"
#include "core/pipelines/tiny_model_for_test.h"
#include "core/testing/tiny_flow.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace stamina::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Folding a lineage one artifact at a time (each read once, in order, just
// before its fold) gives exactly the weights the trainer's own folds gave,
// with the continual state covering each layer from the base model.
TEST(FoldLineageTest, FoldsOneArtifactAtATimeToTheTrainersWeights) {
  STAMINA_ASSERT_OK_AND_ASSIGN(
      core::TinyFlowResult flow,
      core::RunTinyFlow({.device = torch::kCPU, .compute_dtype = torch::kFloat32}, 2));
  std::vector<std::string> serialized;
  for (const core::AdapterArtifact& artifact : flow.artifacts) {
    STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes, core::SerializeAdapterArtifact(artifact));
    serialized.push_back(std::move(bytes));
  }
  STAMINA_ASSERT_OK_AND_ASSIGN(core::DiffusionModel base, core::TinyModelForTest(4));
  std::vector<size_t> reads;
  STAMINA_ASSERT_OK_AND_ASSIGN(
      FoldedModel folded,
      FoldLineage(
          std::move(base), serialized.size(),
          [&](size_t i) -> absl::StatusOr<std::string> {
            reads.push_back(i);
            return serialized[i];
          },
          {}));
  EXPECT_THAT(reads, ElementsAre(0, 1));
  EXPECT_THAT(folded.tokens, ElementsAre("<c0>", "<c1>"));
  EXPECT_EQ(folded.state.concepts_folded(), 2);
  ASSERT_FALSE(flow.folded_weights.empty());
  int compared = 0;
  for (const auto& item : folded.model.unet->named_parameters()) {
    const auto expected = flow.folded_weights.find(item.key());
    if (expected == flow.folded_weights.end()) continue;
    EXPECT_TRUE(torch::equal(item.value().detach(), expected->second)) << item.key();
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(flow.folded_weights.size()));
}

TEST(FoldLineageTest, NamesTheAdapterThatCannotBeReadOrParsed) {
  STAMINA_ASSERT_OK_AND_ASSIGN(core::DiffusionModel base, core::TinyModelForTest(4));
  EXPECT_THAT(FoldLineage(std::move(base), 2,
                          [](size_t i) -> absl::StatusOr<std::string> {
                            if (i == 0) return std::string("not an artifact");
                            return absl::NotFoundError("gone");
                          },
                          {}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("lineage adapter 1")));
  STAMINA_ASSERT_OK_AND_ASSIGN(core::DiffusionModel again, core::TinyModelForTest(4));
  EXPECT_THAT(FoldLineage(std::move(again), 1,
                          [](size_t) -> absl::StatusOr<std::string> {
                            return absl::NotFoundError("blob gone");
                          },
                          {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("lineage adapter 1: blob gone")));
}

}  // namespace
}  // namespace stamina::worker
