#include "cli/commands.h"

#include <algorithm>
#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command_groups.h"

namespace stamina::cli {
namespace {

struct Command {
  const char* words;     // "models create"
  const char* operands;  // for usage: "<id>"
  const char* flags;     // for usage: "[--base=...]"
  size_t min_operands;
  size_t max_operands;  // kMany = unbounded
  absl::StatusOr<int> (*run)(Session&, const Operands&);
};

constexpr size_t kMany = static_cast<size_t>(-1);

const Command kCommands[] = {
    {"models create", "<model-id>",
     "[--base=baseModels/...] [--display_name=...] [--webhook_url=URL]", 1, 1, &ModelsCreate},
    {"models list", "", "", 0, 0, &ModelsList},
    {"models get", "<model>", "", 1, 1, &ModelsGet},
    {"models delete", "<model>", "", 1, 1, &ModelsDelete},
    {"models rollback", "<model> <version-number>", "", 2, 2, &ModelsRollback},
    {"models fork", "<model> <version-number> <new-model-id>", "[--display_name=...]", 3, 3,
     &ModelsFork},
    {"versions", "<model>", "", 1, 1, &Versions},
    {"lineage", "<model> [version-number]", "", 1, 2, &Lineage},
    {"concepts create", "<model> <concept-id> <token>", "[--caption=...]", 3, 3, &ConceptsCreate},
    {"concepts list", "<model>", "", 1, 1, &ConceptsList},
    {"concepts delete", "<model> <concept>", "[--force]", 2, 2, &ConceptsDelete},
    {"concepts erase", "<model> <concept>", "[--mode=replay|drop] [--request_id=...] [--no_wait]",
     2, 2, &ConceptsErase},
    {"erasures", "<model>", "", 1, 1, &Erasures},
    {"upload", "<model> <concept> <dir-or-file>...", "[--skip_invalid]", 3, kMany, &Upload},
    {"train", "<model> <concept>",
     "[--steps=N] [--method=stamina|clora|lora] [--context=none|project|penalize] "
     "[--token_initializer=WORD] [--augment=flip,shift|flip|shift|none] "
     "[--settings='<TrainingSettings text>'] [--seed=S] [--request_id=...] [--no_wait] "
     "[--webhook_url=URL]",
     2, 2, &Train},
    {"jobs list", "<model|->", "", 1, 1, &JobsList},
    {"jobs get", "<model> <job>", "", 2, 2, &JobsGet},
    {"jobs cancel", "<model> <job>", "", 2, 2, &JobsCancel},
    {"jobs retry", "<model> <job>", "", 2, 2, &JobsRetry},
    {"jobs watch", "<model> <job>", "", 2, 2, &JobsWatch},
    {"webhooks secret", "", "[--rotate]", 0, 0, &WebhooksSecret},
    {"capabilities", "", "", 0, 0, &Capabilities},
    {"sample", "<model>",
     "--prompt=... [--version=N] [--count=N] [--steps=N] [--guidance=G] "
     "[--seed=S] [--sampler=ddim|pndm|euler] "
     "[--out=DIR]",
     1, 1, &Sample},
    {"compare", "<model> <version-a|head> <version-b>",
     "[--prompt=...] [--count=N] [--steps=N] [--seed=S] [--out=DIR]", 3, 3, &Compare},
    {"export", "<model>", "--out=DIR [--version=N] [--format=diffusers|adapters] [--half]", 1, 1,
     &Export},
    // Operators, against staminad's internal listener with an admin token.
    {"admin tenants create", "<tenant-id>", "[--display_name=...]", 1, 1, &AdminTenantsCreate},
    {"admin tenants list", "", "", 0, 0, &AdminTenantsList},
    {"admin tenants erasure-policy", "<tenant-id> <replay|drop-only>", "", 2, 2,
     &AdminTenantsErasurePolicy},
    {"admin keys create", "<tenant-id>", "[--label=...] [--ttl_hours=N]", 1, 1, &AdminKeysCreate},
    {"admin keys list", "<tenant-id>", "", 1, 1, &AdminKeysList},
    {"admin keys revoke", "<tenant-id> <key-id>", "", 2, 2, &AdminKeysRevoke},
    {"admin backup", "", "[--keep=N]", 0, 0, &AdminBackup},
};

std::string CommandUsage(const Command& command) {
  std::string line = absl::StrCat("stamina ", command.words);
  if (*command.operands != '\0') absl::StrAppend(&line, " ", command.operands);
  if (*command.flags != '\0') absl::StrAppend(&line, " ", command.flags);
  return line;
}

// The command whose words start `words`, and how many words it used.
const Command* Find(const std::vector<std::string>& words, size_t* used) {
  for (const Command& command : kCommands) {
    const std::vector<std::string> name = absl::StrSplit(command.words, ' ');
    if (words.size() >= name.size() &&
        std::equal(name.begin(), name.end(), words.begin())) {
      *used = name.size();
      return &command;
    }
  }
  return nullptr;
}

absl::StatusOr<int> Dispatch(Session& session,
                             const std::vector<std::string>& words) {
  size_t used = 0;
  const Command* command = Find(words, &used);
  if (command == nullptr) {
    return absl::InvalidArgumentError(
        words.empty() ? "no command; `stamina help` lists them"
                      : absl::StrCat("unknown command \"", words[0],
                                     words.size() > 1 ? " " + words[1] : "",
                                     "\"; `stamina help` lists them"));
  }
  const Operands operands(words.begin() + static_cast<std::ptrdiff_t>(used),
                          words.end());
  if (operands.size() < command->min_operands ||
      operands.size() > command->max_operands) {
    return absl::InvalidArgumentError(
        absl::StrCat("usage: ", CommandUsage(*command)));
  }
  return command->run(session, operands);
}

}  // namespace

int ExitCodeFor(const absl::Status& status) {
  return status.ok() ? 0 : kExitStatusBase + static_cast<int>(status.code());
}

std::string Usage() {
  std::string text =
      "usage: stamina [--server=host:port] [--api_key=KEY or env "
      "STAMINA_API_KEY] "
      "<command> ...\n(admin commands: --server=<internal listener> and "
      "--admin_token_file=FILE or env STAMINA_ADMIN_TOKEN)\ncommands:\n";
  for (const Command& command : kCommands)
    absl::StrAppend(&text, "  ", CommandUsage(command), "\n");
  return text;
}

int RunCommand(Session& session, const std::vector<std::string>& words) {
  if (!words.empty() && words[0] == "help") {
    session.out() << Usage();
    return 0;
  }
  absl::StatusOr<int> result = Dispatch(session, words);
  if (!result.ok()) {
    session.err() << "stamina: "
                  << absl::StatusCodeToString(result.status().code()) << ": "
                  << result.status().message() << '\n';
    return ExitCodeFor(result.status());
  }
  return *result;
}

}  // namespace stamina::cli
