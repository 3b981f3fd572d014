// Integration: the internal AdminService over loopback (staminad's internal
// listener, port 0): tenants and keys made by an operator work on the public
// API at once, a revoked key is UNAUTHENTICATED on its very next call, only
// admin tokens get in, and every change leaves an audit line.
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/api_server.h"
#include "stamina/internal/v1/admin.grpc.pb.h"
#include "stamina/v1/model_service.grpc.pb.h"
#include "tests/loopback.h"

namespace stamina {
namespace {

namespace iv1 = ::stamina::internal::v1;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class AdminServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = FreshTestDir("admin");
    auto created = server::ApiServer::Create({.data_dir = data_dir_,
                                              .internal_listen_address = "127.0.0.1:0",
                                              .internal_tokens = TestInternalTokens(),
                                              .log = [this](const std::string& line) {
                                                absl::MutexLock lock(&mu_);
                                                log_.push_back(line);
                                              }});
    ASSERT_THAT(created, IsOk());
    server_ = std::move(*created);
    admin_ = iv1::AdminService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", server_->internal_port()), grpc::InsecureChannelCredentials()));
    api_ = ConnectApi(server_->port());
  }

  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  grpc::StatusCode ListModelsWith(const std::string& key) {
    v1::ListModelsResponse models;
    return api_.models->ListModels(WithApiKey(key).get(), {}, &models).error_code();
  }

  std::vector<std::string> Log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }

  std::string data_dir_;
  absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<server::ApiServer> server_;
  std::unique_ptr<iv1::AdminService::Stub> admin_;
  ApiStubs api_;
};

TEST_F(AdminServiceTest, KeysWorkAtOnceAndStopAtOnceWhenRevoked) {
  iv1::CreateTenantRequest tenant;
  tenant.set_tenant_id("acme");
  tenant.set_display_name("Acme Corp");
  iv1::Tenant created;
  ASSERT_TRUE(admin_->CreateTenant(As(kTestAdminToken).get(), tenant, &created).ok());
  EXPECT_EQ(created.tenant_id(), "acme");
  EXPECT_EQ(admin_->CreateTenant(As(kTestAdminToken).get(), tenant, &created).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);

  iv1::CreateApiKeyRequest create;
  create.set_tenant_id("acme");
  create.set_label("web backend");
  create.mutable_ttl()->set_seconds(3600);
  iv1::CreateApiKeyResponse web;
  ASSERT_TRUE(admin_->CreateApiKey(As(kTestAdminToken).get(), create, &web).ok());
  create.set_label("ci");
  create.clear_ttl();
  iv1::CreateApiKeyResponse ci;
  ASSERT_TRUE(admin_->CreateApiKey(As(kTestAdminToken).get(), create, &ci).ok());
  EXPECT_EQ(web.key().label(), "web backend");
  EXPECT_TRUE(web.key().has_expire_time());
  EXPECT_FALSE(ci.key().has_expire_time());
  EXPECT_EQ(ListModelsWith(web.secret()), grpc::StatusCode::OK);
  EXPECT_EQ(ListModelsWith(ci.secret()), grpc::StatusCode::OK);

  iv1::ListApiKeysRequest list;
  list.set_tenant_id("acme");
  list.set_page_size(1);
  iv1::ListApiKeysResponse first, second;
  ASSERT_TRUE(admin_->ListApiKeys(As(kTestAdminToken).get(), list, &first).ok());
  ASSERT_EQ(first.keys_size(), 1);
  EXPECT_EQ(first.keys(0).key_id(), web.key().key_id());
  list.set_page_token(first.next_page_token());
  ASSERT_TRUE(admin_->ListApiKeys(As(kTestAdminToken).get(), list, &second).ok());
  ASSERT_EQ(second.keys_size(), 1);
  EXPECT_EQ(second.keys(0).label(), "ci");
  EXPECT_TRUE(second.next_page_token().empty());
  EXPECT_THAT(first.DebugString() + second.DebugString(),
              AllOf(Not(HasSubstr(web.secret())), Not(HasSubstr(ci.secret()))));

  iv1::RevokeApiKeyRequest revoke;
  revoke.set_tenant_id("acme");
  revoke.set_key_id(web.key().key_id());
  iv1::ApiKey revoked;
  ASSERT_TRUE(admin_->RevokeApiKey(As(kTestAdminToken).get(), revoke, &revoked).ok());
  EXPECT_TRUE(revoked.has_revoke_time());
  // The very next call with the revoked key fails; the other key still works.
  EXPECT_EQ(ListModelsWith(web.secret()), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ListModelsWith(ci.secret()), grpc::StatusCode::OK);
  revoke.set_key_id("nope");
  EXPECT_EQ(admin_->RevokeApiKey(As(kTestAdminToken).get(), revoke, &revoked).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Audit lines name the admin and the key, never a secret.
  const std::vector<std::string> log = Log();
  EXPECT_THAT(log, Contains(AllOf(HasSubstr("audit: admin \"ops\""), HasSubstr("created tenant acme"))));
  EXPECT_THAT(log, Contains(HasSubstr("created API key " + web.key().key_id())));
  EXPECT_THAT(log, Contains(HasSubstr("revoked API key " + web.key().key_id())));
  for (const std::string& line : log) {
    EXPECT_THAT(line, AllOf(Not(HasSubstr(web.secret())), Not(HasSubstr(ci.secret()))));
  }
}

TEST_F(AdminServiceTest, ADropOnlyErasurePolicyRefusesReplays) {
  iv1::CreateTenantRequest tenant;
  tenant.set_tenant_id("frugal");
  iv1::Tenant created;
  ASSERT_TRUE(admin_->CreateTenant(As(kTestAdminToken).get(), tenant, &created).ok());
  EXPECT_EQ(created.erasure_policy(), iv1::ERASURE_POLICY_REPLAY);
  iv1::CreateApiKeyRequest create;
  create.set_tenant_id("frugal");
  iv1::CreateApiKeyResponse key;
  ASSERT_TRUE(admin_->CreateApiKey(As(kTestAdminToken).get(), create, &key).ok());
  v1::EraseConceptRequest erase;
  erase.set_name("models/m/concepts/anna");
  erase.set_mode(v1::ERASURE_MODE_REPLAY);
  v1::EraseConceptResponse erased;
  // Replay is allowed: the model is simply not there.
  EXPECT_EQ(
      api_.concepts->EraseConcept(WithApiKey(key.secret()).get(), erase, &erased).error_code(),
      grpc::StatusCode::NOT_FOUND);

  iv1::SetErasurePolicyRequest set;
  set.set_tenant_id("frugal");
  set.set_erasure_policy(iv1::ERASURE_POLICY_DROP_ONLY);
  iv1::Tenant updated;
  ASSERT_TRUE(admin_->SetErasurePolicy(As(kTestAdminToken).get(), set, &updated).ok());
  EXPECT_EQ(updated.erasure_policy(), iv1::ERASURE_POLICY_DROP_ONLY);
  const grpc::Status refused =
      api_.concepts->EraseConcept(WithApiKey(key.secret()).get(), erase, &erased);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("drop only"));
  set.set_erasure_policy(iv1::ERASURE_POLICY_UNSPECIFIED);
  EXPECT_EQ(admin_->SetErasurePolicy(As(kTestAdminToken).get(), set, &updated).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  set.set_tenant_id("ghost");
  set.set_erasure_policy(iv1::ERASURE_POLICY_REPLAY);
  EXPECT_EQ(admin_->SetErasurePolicy(As(kTestAdminToken).get(), set, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(Log(), Contains(HasSubstr("set tenant frugal's erasure policy to "
                                        "ERASURE_POLICY_DROP_ONLY")));
}

TEST_F(AdminServiceTest, OnlyAdminTokensOnTheInternalListener) {
  iv1::ListTenantsResponse tenants;
  EXPECT_EQ(admin_->ListTenants(As("wrong").get(), {}, &tenants).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(admin_->ListTenants(As(kTestWorkerToken).get(), {}, &tenants).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(admin_->ListTenants(As(kTestSamplerToken).get(), {}, &tenants).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(admin_->ListTenants(As(kTestAdminToken).get(), {}, &tenants).ok());
  auto on_public = iv1::AdminService::NewStub(api_.channel);
  EXPECT_EQ(on_public->ListTenants(As(kTestAdminToken).get(), {}, &tenants).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);

  iv1::CreateApiKeyRequest create;
  create.set_tenant_id("ghost");
  iv1::CreateApiKeyResponse key;
  EXPECT_EQ(admin_->CreateApiKey(As(kTestAdminToken).get(), create, &key).error_code(),
            grpc::StatusCode::NOT_FOUND);
  create.set_tenant_id("");
  grpc::Status status = admin_->CreateApiKey(As(kTestAdminToken).get(), create, &key);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("tenant_id"));
  create.set_tenant_id("ghost");
  create.mutable_ttl()->set_seconds(-1);
  status = admin_->CreateApiKey(As(kTestAdminToken).get(), create, &key);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("ttl"));
}

// An online backup, taken while the server runs, restores into a working
// registry: a staminad started on a copy of it knows the tenant.
TEST_F(AdminServiceTest, BacksUpTheRegistryOnlineAndTheBackupRestores) {
  iv1::CreateTenantRequest tenant;
  tenant.set_tenant_id("kept");
  iv1::Tenant created;
  ASSERT_TRUE(admin_->CreateTenant(As(kTestAdminToken).get(), tenant, &created).ok());

  iv1::BackupRegistryRequest request;
  request.set_keep(2);
  iv1::BackupRegistryResponse backup;
  EXPECT_EQ(admin_->BackupRegistry(As(kTestWorkerToken).get(), request, &backup).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(admin_->BackupRegistry(As(kTestAdminToken).get(), request, &backup).ok());
  EXPECT_THAT(backup.path(), HasSubstr(data_dir_ + "/backups/registry-"));
  EXPECT_GT(backup.size_bytes(), 0);
  EXPECT_TRUE(backup.has_create_time());
  request.set_keep(-1);
  grpc::Status refused = admin_->BackupRegistry(As(kTestAdminToken).get(), request, &backup);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("keep"));
  EXPECT_THAT(Log(), Contains(HasSubstr("backed up the registry to " + backup.path())));

  const std::string restored = FreshTestDir("restored");
  ASSERT_EQ(mkdir(restored.c_str(), 0755), 0);
  {
    std::ifstream from(backup.path(), std::ios::binary);
    std::ofstream to(restored + "/registry.db", std::ios::binary);
    to << from.rdbuf();
    ASSERT_TRUE(from.good() && to.good());
  }
  auto server = server::ApiServer::Create({.data_dir = restored,
                                           .internal_listen_address = "127.0.0.1:0",
                                           .internal_tokens = TestInternalTokens()});
  ASSERT_THAT(server, IsOk());
  auto admin = iv1::AdminService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", (*server)->internal_port()), grpc::InsecureChannelCredentials()));
  iv1::ListTenantsResponse tenants;
  ASSERT_TRUE(admin->ListTenants(As(kTestAdminToken).get(), {}, &tenants).ok());
  std::vector<std::string> ids;
  for (const auto& t : tenants.tenants()) ids.push_back(t.tenant_id());
  EXPECT_THAT(ids, Contains("kept"));
}

}  // namespace
}  // namespace stamina
