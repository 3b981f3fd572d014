// Erasure commands: `concepts erase` (EraseConcept, then the replay jobs
// followed one after another) and `erasures` (ListErasures).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "common/status_macros.h"

namespace stamina::cli {
namespace {

std::string ModeName(v1::ErasureMode mode) {
  return mode == v1::ERASURE_MODE_DROP ? "drop" : "replay";
}

std::string StateName(v1::ErasureState state) {
  switch (state) {
    case v1::ERASURE_STATE_REPLAYING:
      return "REPLAYING";
    case v1::ERASURE_STATE_SUCCEEDED:
      return "SUCCEEDED";
    case v1::ERASURE_STATE_INCOMPLETE:
      return "INCOMPLETE";
    default:
      return "?";
  }
}

// "2, 3" from the erased versions' names.
std::string VersionNumbers(const v1::Erasure& erasure) {
  std::vector<std::string> numbers;
  for (const v1::ErasedVersion& v : erasure.erased_versions()) {
    numbers.push_back(v.version().substr(v.version().rfind('/') + 1));
  }
  return absl::StrJoin(numbers, ", ");
}

// "0.2143 -> 0.0112", "0.2143 -> ?" until measured, "-" without a proof.
std::string ProofText(const v1::Erasure& erasure) {
  if (!erasure.has_proof()) return "-";
  const v1::ErasureProof& proof = erasure.proof();
  return absl::StrFormat(
      "%.4f -> %s", proof.drift_before(),
      proof.version().empty() ? std::string("?") : absl::StrFormat("%.4f", proof.drift_after()));
}

}  // namespace

absl::StatusOr<int> ConceptsErase(Session& session, const Operands& operands) {
  const CommandFlags& flags = session.flags();
  v1::EraseConceptRequest request;
  request.set_name(ChildName(operands[0], "concepts", operands[1]));
  if (flags.mode == "drop") {
    request.set_mode(v1::ERASURE_MODE_DROP);
  } else if (flags.mode == "replay") {
    request.set_mode(v1::ERASURE_MODE_REPLAY);
  } else if (!flags.mode.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--mode: \"", flags.mode, "\" is not replay or drop"));
  }
  request.set_request_id(flags.request_id);
  v1::EraseConceptResponse response;
  STAMINA_RETURN_IF_ERROR(
      FromGrpc(session.concepts().EraseConcept(session.NewContext().get(), request, &response)));
  const v1::Erasure& erasure = response.erasure();
  session.out() << "erased " << erasure.token() << " (" << erasure.concept() << ") as "
                << erasure.name() << "\n  versions removed: " << VersionNumbers(erasure)
                << "\n  restarts from: "
                << (erasure.restart_version().empty() ? "(base model)" : erasure.restart_version())
                << '\n';
  PrintErasure(session.out(), response.erased());
  if (erasure.replay_jobs().empty()) return kExitOk;
  session.out() << "replaying " << erasure.replay_jobs_size()
                << " later concept(s): " << absl::StrJoin(erasure.replay_jobs(), ", ") << '\n';
  if (flags.no_wait) return kExitOk;
  for (const std::string& job : erasure.replay_jobs()) {
    STAMINA_ASSIGN_OR_RETURN(int exit, WatchJob(session, job));
    if (exit != kExitOk) return exit;
  }
  return kExitOk;
}

absl::StatusOr<int> Erasures(Session& session, const Operands& operands) {
  v1::ListErasuresRequest request;
  request.set_parent(ModelName(operands[0]));
  std::vector<v1::Erasure> erasures;
  do {
    v1::ListErasuresResponse response;
    STAMINA_RETURN_IF_ERROR(
        FromGrpc(session.concepts().ListErasures(session.NewContext().get(), request, &response)));
    erasures.insert(erasures.end(), response.erasures().begin(), response.erasures().end());
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  std::vector<std::vector<std::string>> rows;
  for (const v1::Erasure& e : erasures) {
    rows.push_back({e.name().substr(e.name().rfind('/') + 1), e.token(), ModeName(e.mode()),
                    StateName(e.state()), VersionNumbers(e),
                    absl::StrCat(e.replays_succeeded(), "/", e.replay_jobs_size()), ProofText(e),
                    e.requested_by(), FormatTimestamp(e.create_time())});
  }
  PrintTable(session.out(),
             {"erasure", "token", "mode", "state", "versions removed", "replayed",
              "drift from base before -> after", "requested by", "created"},
             rows);
  return kExitOk;
}

}  // namespace stamina::cli
