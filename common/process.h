// File: common/process.h
//
// What the project's binaries share about being a process:
//   - a graceful stop on SIGTERM/SIGINT through a self-pipe: a handler, not
//     sigwait(), because LibTorch's BLAS starts threads while libraries load,
//     before main() could block the signals in them, so a blocked-signal
//     sigwait() would race with the default action (termination) on those
//     threads;
//   - WorkspacePath: `bazel run` starts a binary in its runfiles tree, so a
//     relative path on its command line (models/..., --out=results) means
//     the user's workspace, which Bazel names in BUILD_WORKSPACE_DIRECTORY;
//   - StartDaemon: the first line of every daemon's main() (staminad,
//     stamina-worker, stamina-sampler): the command line, then the handler.
// CatchStopSignals() (or StartDaemon()) once, early in main();
// AwaitStopSignal() from one thread. WorkspacePath is thread-safe.
#ifndef STAMINA_COMMON_PROCESS_H_
#define STAMINA_COMMON_PROCESS_H_

#include <functional>
#include <string>

namespace stamina {

// Installs the SIGTERM and SIGINT handler; false on failure.
bool CatchStopSignals();

// Parses the command line into the Abseil flags main.cc defines, then
// CatchStopSignals(). False, after telling `log` why, when the handler cannot
// be installed.
bool StartDaemon(int argc, char** argv,
                 const std::function<void(const std::string&)>& log);

// Blocks until a stop signal arrives; returns its number (0 on error).
int AwaitStopSignal();

// `path` made absolute against the workspace under `bazel run`; unchanged
// when absolute, empty, or outside `bazel run`.
std::string WorkspacePath(const std::string& path);

// `flag_value`, or when it is empty the environment variable `name` (empty
// when unset): secrets such as the internal token stay out of `ps`.
std::string FlagOrEnvironment(const std::string& flag_value, const char* name);

}  // namespace stamina

#endif  // STAMINA_COMMON_PROCESS_H_
