#include "common/process.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/flags/parse.h"

namespace stamina {
namespace {

int stop_pipe[2] = {-1, -1};

extern "C" void OnStopSignal(int signal_number) {
  const char byte = static_cast<char>(signal_number);
  (void)!write(stop_pipe[1], &byte, 1);
}

}  // namespace

bool CatchStopSignals() {
  if (pipe(stop_pipe) != 0) return false;
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  return sigaction(SIGTERM, &action, nullptr) == 0 &&
         sigaction(SIGINT, &action, nullptr) == 0;
}

bool StartDaemon(int argc, char** argv,
                 const std::function<void(const std::string&)>& log) {
  absl::ParseCommandLine(argc, argv);
  if (CatchStopSignals()) return true;
  log("cannot install the SIGTERM/SIGINT handler");
  return false;
}

int AwaitStopSignal() {
  char byte = 0;
  while (read(stop_pipe[0], &byte, 1) != 1) {
    if (errno != EINTR) return 0;
  }
  return byte;
}

std::string WorkspacePath(const std::string& path) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (path.empty() || path[0] == '/' || workspace == nullptr) return path;
  return std::string(workspace) + "/" + path;
}

std::string FlagOrEnvironment(const std::string& flag_value, const char* name) {
  if (!flag_value.empty()) return flag_value;
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace stamina
