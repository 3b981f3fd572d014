// File: cli/commands.h
//
// The `stamina` command-line client as a library: RunCommand takes the
// positional words (`models create family`) and a Session (stubs over a
// channel, options, output streams), runs one command against the public
// API and returns the process exit code. main.cc only parses flags and
// calls it; tests call it against an in-process server.
//
//   Session session(channel, options, std::cout, std::cerr);
//   return RunCommand(session, {"models", "list"});
//
// Exit codes: 0 done; 3 a followed job FAILED; 4 it was CANCELLED; 5 its
// stream ended before a final state; 10 + the absl/gRPC code number for an
// error (13 INVALID_ARGUMENT, also for bad usage; 15 NOT_FOUND;
// 22 UNIMPLEMENTED; 24 UNAVAILABLE; 26 UNAUTHENTICATED). Errors are printed
// to the session's `err` as `stamina: <CODE>: <message>`.
//
// Not thread-safe (see Session).
#ifndef STAMINA_CLI_COMMANDS_H_
#define STAMINA_CLI_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/session.h"

namespace stamina::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitJobFailed = 3;
inline constexpr int kExitJobCancelled = 4;
inline constexpr int kExitJobUnfinished = 5;
inline constexpr int kExitStatusBase = 10;

// Runs the command named by the first one or two `words`; the rest are its
// operands.
int RunCommand(Session& session, const std::vector<std::string>& words);

// The process exit code for an error (kExitStatusBase + code; 0 for OK).
int ExitCodeFor(const absl::Status& status);

// The usage text listing every command.
std::string Usage();

}  // namespace stamina::cli

#endif  // STAMINA_CLI_COMMANDS_H_
