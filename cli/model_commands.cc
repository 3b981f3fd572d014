// ModelService commands: models create/list/get/delete/rollback, versions,
// lineage.
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "common/status_macros.h"

namespace stamina::cli {
namespace {

void PrintModel(std::ostream& out, const v1::Model& model) {
  PrintTable(
      out, {"field", "value"},
      {{"name", model.name()},
       {"display_name", model.display_name().empty() ? "-" : model.display_name()},
       {"base_model", model.base_model()},
       {"base_model_digest", model.base_model_digest()},
       {"forked_from", model.forked_from().empty() ? "-" : model.forked_from()},
       {"head_version", model.head_version().empty() ? "(base model)" : model.head_version()},
       {"version_count", absl::StrCat(model.version_count())},
       {"concept_count", absl::StrCat(model.concept_count())},
       {"create_time", FormatTimestamp(model.create_time())},
       {"update_time", FormatTimestamp(model.update_time())},
       {"blocking_job", model.blocking_job().empty()
                            ? "-"
                            : absl::StrCat(model.blocking_job(),
                                           " (FAILED: later jobs wait until it is "
                                           "retried or cancelled)")}});
}

void PrintNames(std::ostream& out, absl::string_view what,
                const google::protobuf::RepeatedPtrField<std::string>& names) {
  out << what << ": " << names.size();
  if (!names.empty()) out << " (" << absl::StrJoin(names, ", ") << ")";
  out << '\n';
}

// The default base model: the first one the server offers.
absl::StatusOr<std::string> DefaultBaseModel(Session& session) {
  v1::Capabilities capabilities;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.sampler().GetCapabilities(
      session.NewContext().get(), {}, &capabilities)));
  if (capabilities.base_models().empty()) {
    return absl::FailedPreconditionError(
        "the server offers no base model; pass --base");
  }
  return capabilities.base_models(0).name();
}

std::string VersionName(absl::string_view model, absl::string_view version) {
  return ChildName(model, "versions", version);
}

}  // namespace

void PrintErasure(std::ostream& out, const v1::ErasureReport& report) {
  PrintNames(out, "erased models", report.models());
  PrintNames(out, "erased concepts", report.concepts());
  PrintNames(out, "erased versions", report.versions());
  PrintNames(out, "erased jobs", report.jobs());
  out << "image references removed: " << report.image_references() << '\n';
  out << "blobs deleted: " << report.deleted_blob_digests_size() << '\n';
  out << "bytes freed: " << report.freed_bytes() << '\n';
}

absl::StatusOr<int> ModelsCreate(Session& session, const Operands& operands) {
  v1::CreateModelRequest request;
  request.set_model_id(operands[0]);
  std::string base = session.flags().base_model;
  if (base.empty()) {
    STAMINA_ASSIGN_OR_RETURN(base, DefaultBaseModel(session));
  } else if (!absl::StartsWith(base, "baseModels/")) {
    base = absl::StrCat("baseModels/", base);
  }
  request.mutable_model()->set_base_model(base);
  request.mutable_model()->set_display_name(session.flags().display_name);
  request.mutable_model()->set_webhook_url(session.flags().webhook_url);
  v1::Model model;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.models().CreateModel(
      session.NewContext().get(), request, &model)));
  session.out() << "created " << model.name() << " on " << model.base_model()
                << '\n';
  PrintModel(session.out(), model);
  return kExitOk;
}

absl::StatusOr<int> ModelsList(Session& session, const Operands&) {
  std::vector<std::vector<std::string>> rows;
  v1::ListModelsRequest request;
  do {
    v1::ListModelsResponse response;
    STAMINA_RETURN_IF_ERROR(FromGrpc(session.models().ListModels(
        session.NewContext().get(), request, &response)));
    for (const v1::Model& model : response.models()) {
      rows.push_back(
          {model.name(), model.base_model(),
           model.head_version().empty() ? "-"
                                        : LastSegment(model.head_version()),
           absl::StrCat(model.version_count()),
           absl::StrCat(model.concept_count()), model.display_name()});
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  PrintTable(session.out(),
             {"NAME", "BASE", "HEAD", "VERSIONS", "CONCEPTS", "DISPLAY NAME"},
             rows);
  return kExitOk;
}

absl::StatusOr<int> ModelsGet(Session& session, const Operands& operands) {
  v1::GetModelRequest request;
  request.set_name(ModelName(operands[0]));
  v1::Model model;
  STAMINA_RETURN_IF_ERROR(FromGrpc(
      session.models().GetModel(session.NewContext().get(), request, &model)));
  PrintModel(session.out(), model);
  return kExitOk;
}

absl::StatusOr<int> ModelsDelete(Session& session, const Operands& operands) {
  v1::DeleteModelRequest request;
  request.set_name(ModelName(operands[0]));
  v1::DeleteModelResponse response;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.models().DeleteModel(
      session.NewContext().get(), request, &response)));
  session.out() << "deleted " << request.name() << '\n';
  PrintErasure(session.out(), response.erased());
  return kExitOk;
}

absl::StatusOr<int> ModelsRollback(Session& session, const Operands& operands) {
  v1::RollbackModelRequest request;
  request.set_name(ModelName(operands[0]));
  request.set_version(VersionName(operands[0], operands[1]));
  v1::Model model;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.models().RollbackModel(
      session.NewContext().get(), request, &model)));
  session.out() << "head of " << model.name() << " is now "
                << model.head_version() << '\n';
  return kExitOk;
}

// A new model starting at a version of another, sharing its artifacts.
absl::StatusOr<int> ModelsFork(Session& session, const Operands& operands) {
  v1::ForkModelRequest request;
  request.set_source_version(VersionName(operands[0], operands[1]));
  request.set_model_id(operands[2]);
  request.mutable_model()->set_display_name(session.flags().display_name);
  request.set_request_id(session.flags().request_id);
  v1::Model model;
  STAMINA_RETURN_IF_ERROR(
      FromGrpc(session.models().ForkModel(session.NewContext().get(), request, &model)));
  session.out() << "created " << model.name() << " from " << model.forked_from() << " ("
                << model.version_count() << " versions, head " << model.head_version() << ")\n";
  return kExitOk;
}

absl::StatusOr<int> Versions(Session& session, const Operands& operands) {
  std::vector<std::vector<std::string>> rows;
  v1::ListVersionsRequest request;
  request.set_parent(ModelName(operands[0]));
  do {
    v1::ListVersionsResponse response;
    STAMINA_RETURN_IF_ERROR(FromGrpc(session.models().ListVersions(
        session.NewContext().get(), request, &response)));
    for (const v1::ModelVersion& version : response.versions()) {
      rows.push_back({LastSegment(version.name()),
                      version.parent_version().empty()
                          ? "base"
                          : LastSegment(version.parent_version()),
                      version.token(), absl::StrCat(version.concept_count()),
                      MethodName(version.settings().method()),
                      absl::StrCat(version.settings().steps()),
                      absl::StrFormat("%.4f", version.metrics().final_loss()),
                      FormatTimestamp(version.create_time())});
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  PrintTable(session.out(),
             {"VERSION", "PARENT", "TOKEN", "CONCEPTS", "METHOD", "STEPS",
              "LOSS", "CREATED"},
             rows);
  return kExitOk;
}

namespace {

// The forgetting metric: each concept's latest measured drift along the
// lineage (TrainingMetrics.concept_drift), in lineage order.
void PrintForgetting(std::ostream& out, const v1::Lineage& lineage) {
  struct Latest {
    std::string learned;
    std::string drift = "-";
    std::string measured_at = "not measured yet";
  };
  std::vector<std::string> order;
  std::map<std::string, Latest> latest;  // by concept name
  bool any = false;
  for (const v1::LineageEntry& entry : lineage.entries()) {
    if (latest.emplace(entry.concept(), Latest{.learned = LastSegment(entry.version())}).second) {
      order.push_back(entry.concept());
    }
    for (const v1::ConceptDrift& drift : entry.metrics().concept_drift()) {
      Latest& concept_latest = latest[drift.concept()];
      concept_latest.drift = absl::StrFormat("%.3f", drift.drift());
      concept_latest.measured_at = LastSegment(entry.version());
      any = true;
    }
  }
  if (!any) return;
  out << "forgetting: RMS pixel drift of each concept's samples since the version that "
         "learned it (0 = drawn the same; another subject ~0.15-0.35)\n";
  std::vector<std::vector<std::string>> rows;
  std::map<std::string, std::string> tokens;
  for (const v1::LineageEntry& entry : lineage.entries()) tokens[entry.concept()] = entry.token();
  for (const std::string& concept_name : order) {
    const Latest& l = latest[concept_name];
    rows.push_back({tokens[concept_name], l.learned, l.drift, l.measured_at});
  }
  PrintTable(out, {"TOKEN", "LEARNED AT", "DRIFT", "MEASURED AT"}, rows);
}

}  // namespace

absl::StatusOr<int> Lineage(Session& session, const Operands& operands) {
  v1::GetLineageRequest request;
  request.set_name(operands.size() > 1 ? VersionName(operands[0], operands[1])
                                       : ModelName(operands[0]));
  v1::Lineage lineage;
  STAMINA_RETURN_IF_ERROR(FromGrpc(session.models().GetLineage(
      session.NewContext().get(), request, &lineage)));
  session.out() << "lineage of " << lineage.version() << " on "
                << lineage.base_model() << " ("
                << Prefix(lineage.base_model_digest(), 12) << ")\n";
  std::vector<std::vector<std::string>> rows;
  for (const v1::LineageEntry& entry : lineage.entries()) {
    rows.push_back({absl::StrCat(entry.position()), LastSegment(entry.version()), entry.token(),
                    absl::StrCat(entry.image_digests_size()), Prefix(entry.adapter_digest(), 12),
                    absl::StrCat(entry.settings().steps()),
                    absl::StrFormat("%.4f", entry.metrics().final_loss()),
                    entry.replay_of().empty() ? "" : LastSegment(entry.replay_of())});
  }
  PrintTable(session.out(),
             {"POS", "VERSION", "TOKEN", "IMAGES", "ADAPTER", "STEPS", "LOSS", "REPLAY OF"}, rows);
  PrintForgetting(session.out(), lineage);
  for (const v1::Erasure& erasure : lineage.erasures()) {
    session.out() << "erased " << erasure.token() << " by " << LastSegment(erasure.requested_by())
                  << " at " << FormatTimestamp(erasure.create_time()) << " ("
                  << erasure.erased_versions_size() << " version(s) removed, "
                  << erasure.replays_succeeded() << "/" << erasure.replay_jobs_size()
                  << " replayed): " << erasure.name() << '\n';
  }
  return kExitOk;
}

}  // namespace stamina::cli
