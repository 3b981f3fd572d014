// File: bench/workspace_path.h
//
// `bazel run` starts binaries inside their runfiles tree; a relative path
// on the command line (--out=results, --model=models/stamina-tiny-v1) means
// the user's workspace, which Bazel names in BUILD_WORKSPACE_DIRECTORY.
// Thread-safe (reads the environment).
#ifndef STAMINA_BENCH_WORKSPACE_PATH_H_
#define STAMINA_BENCH_WORKSPACE_PATH_H_

#include <cstdlib>
#include <string>

namespace stamina::bench {

inline std::string WorkspacePath(const std::string& path) {
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  if (path.empty() || path[0] == '/' || workspace == nullptr) return path;
  return std::string(workspace) + "/" + path;
}

}  // namespace stamina::bench

#endif  // STAMINA_BENCH_WORKSPACE_PATH_H_
