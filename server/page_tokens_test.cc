#include "server/page_tokens.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "stamina/v1/training_service.pb.h"

namespace stamina::server {
namespace {

using ::testing::HasSubstr;

v1::ListJobsRequest Jobs(const std::string& parent, int page_size) {
  v1::ListJobsRequest request;
  request.set_parent(parent);
  request.set_page_size(page_size);
  request.add_states(v1::JOB_STATE_QUEUED);
  return request;
}

TEST(PageTokensTest, FirstPageHasNoCursorAndLastPageNoToken) {
  EXPECT_EQ(PageCursorOf(Jobs("models/m", 2), "acme").value(), "");
  EXPECT_EQ(NextPageToken(Jobs("models/m", 2), "acme", ""), "");
}

TEST(PageTokensTest, ATokenContinuesOnlyTheCallThatReturnedIt) {
  v1::ListJobsRequest first = Jobs("models/m", 2);
  const std::string token = NextPageToken(first, "acme", "41");
  v1::ListJobsRequest next = first;
  next.set_page_token(token);
  EXPECT_EQ(PageCursorOf(next, "acme").value(), "41");

  auto refused = [&](v1::ListJobsRequest request, const std::string& scope) {
    request.set_page_token(token);
    absl::StatusOr<std::string> cursor = PageCursorOf(request, scope);
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(cursor.status().message(), HasSubstr("page_token"));
  };
  refused(Jobs("models/m", 3), "acme");  // another page size
  refused(Jobs("models/x", 2), "acme");  // another parent
  v1::ListJobsRequest other_filter = first;
  other_filter.add_states(v1::JOB_STATE_RUNNING);
  refused(other_filter, "acme");  // another filter
  refused(first, "globex");       // another tenant
  v1::ListJobsRequest forged = first;
  forged.set_page_token("41");
  EXPECT_FALSE(PageCursorOf(forged, "acme").ok());  // a bare cursor
  forged.set_page_token(".");
  EXPECT_FALSE(PageCursorOf(forged, "acme").ok());
}

}  // namespace
}  // namespace stamina::server
