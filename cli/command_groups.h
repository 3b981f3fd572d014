// File: cli/command_groups.h
//
// The `stamina` command handlers, one function per command, grouped by the
// service they call (model_commands.cc, concept_commands.cc,
// job_commands.cc, sampler_commands.cc, export_commands.cc,
// admin_commands.cc). commands.cc checks the operand
// count and dispatches; a handler gets only the operands (the words after
// the command) and returns the exit code for a finished command, or the
// error to report.
//
// Not thread-safe (see Session).
#ifndef STAMINA_CLI_COMMAND_GROUPS_H_
#define STAMINA_CLI_COMMAND_GROUPS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/commands.h"
#include "cli/session.h"

namespace stamina::cli {

using Operands = std::vector<std::string>;

// model_commands.cc
void PrintErasure(std::ostream& out, const v1::ErasureReport& report);
absl::StatusOr<int> ModelsCreate(Session& session, const Operands& operands);
absl::StatusOr<int> ModelsList(Session& session, const Operands& operands);
absl::StatusOr<int> ModelsGet(Session& session, const Operands& operands);
absl::StatusOr<int> ModelsDelete(Session& session, const Operands& operands);
absl::StatusOr<int> ModelsRollback(Session& session, const Operands& operands);
absl::StatusOr<int> Versions(Session& session, const Operands& operands);
absl::StatusOr<int> Lineage(Session& session, const Operands& operands);

// concept_commands.cc
absl::StatusOr<int> ConceptsCreate(Session& session, const Operands& operands);
absl::StatusOr<int> ConceptsList(Session& session, const Operands& operands);
absl::StatusOr<int> ConceptsDelete(Session& session, const Operands& operands);
absl::StatusOr<int> ConceptsErase(Session& session, const Operands& operands);
absl::StatusOr<int> Erasures(Session& session, const Operands& operands);
absl::StatusOr<int> Compare(Session& session, const Operands& operands);
absl::StatusOr<int> Upload(Session& session, const Operands& operands);

// job_commands.cc
absl::StatusOr<int> Train(Session& session, const Operands& operands);
absl::StatusOr<int> JobsList(Session& session, const Operands& operands);
absl::StatusOr<int> JobsGet(Session& session, const Operands& operands);
absl::StatusOr<int> JobsCancel(Session& session, const Operands& operands);
absl::StatusOr<int> JobsRetry(Session& session, const Operands& operands);
absl::StatusOr<int> JobsWatch(Session& session, const Operands& operands);
// Follows a job with a progress bar until it ends; the exit code says how.
absl::StatusOr<int> WatchJob(Session& session, const std::string& job_name);

// sampler_commands.cc
absl::StatusOr<int> Capabilities(Session& session, const Operands& operands);
absl::StatusOr<int> ModelsFork(Session& session, const Operands& operands);
absl::StatusOr<int> WebhooksSecret(Session& session, const Operands& operands);
absl::StatusOr<int> Sample(Session& session, const Operands& operands);

// export_commands.cc
absl::StatusOr<int> Export(Session& session, const Operands& operands);

// admin_commands.cc (the internal AdminService, with an admin token)
absl::StatusOr<int> AdminTenantsCreate(Session& session, const Operands& operands);
absl::StatusOr<int> AdminTenantsErasurePolicy(Session& session, const Operands& operands);
absl::StatusOr<int> AdminTenantsList(Session& session, const Operands& operands);
absl::StatusOr<int> AdminKeysCreate(Session& session, const Operands& operands);
absl::StatusOr<int> AdminKeysList(Session& session, const Operands& operands);
absl::StatusOr<int> AdminKeysRevoke(Session& session, const Operands& operands);
absl::StatusOr<int> AdminBackup(Session& session, const Operands& operands);

}  // namespace stamina::cli

#endif  // STAMINA_CLI_COMMAND_GROUPS_H_
