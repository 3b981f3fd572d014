// `stamina export`: ExportModel's files written under --out.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "cli/command_groups.h"
#include "cli/format.h"
#include "cli/progress_bar.h"
#include "common/status_macros.h"

namespace stamina::cli {
namespace {

// A path the server sent, checked before anything is written: relative,
// '/'-separated, no empty, "." or ".." parts (a server must not write
// outside --out).
absl::Status CheckExportPath(const std::string& path) {
  if (path.empty() || path.size() > 512 || path.front() == '/') {
    return absl::DataLossError(absl::StrCat("export: unsafe file path \"", path, "\""));
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == ".." ||
        part.find('\0') != absl::string_view::npos || part.find('\\') != absl::string_view::npos) {
      return absl::DataLossError(absl::StrCat("export: unsafe file path \"", path, "\""));
    }
  }
  return absl::OkStatus();
}

// Writes pieces in order into their files.
class ExportWriter {
 public:
  explicit ExportWriter(std::string dir) : dir_(std::move(dir)) {}

  absl::Status Write(const v1::ExportFileChunk& chunk) {
    STAMINA_RETURN_IF_ERROR(CheckExportPath(chunk.path()));
    if (chunk.path() != path_) {
      STAMINA_RETURN_IF_ERROR(Close());
      if (chunk.offset() != 0) {
        return absl::DataLossError(absl::StrCat("export: ", chunk.path(), " starts at ",
                                                chunk.offset()));
      }
      path_ = chunk.path();
      const std::filesystem::path target = std::filesystem::path(dir_) / path_;
      std::error_code error;
      std::filesystem::create_directories(target.parent_path(), error);
      out_.open(target, std::ios::binary | std::ios::trunc);
      if (error || !out_) {
        return absl::PermissionDeniedError(absl::StrCat("cannot write ", target.string()));
      }
      written_ = 0;
      files_.push_back(path_);
    }
    if (chunk.offset() != written_) {
      return absl::DataLossError(absl::StrCat("export: ", path_, " skips from ", written_,
                                              " to ", chunk.offset()));
    }
    out_.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    written_ += static_cast<int64_t>(chunk.data().size());
    total_ += static_cast<int64_t>(chunk.data().size());
    expected_ = chunk.file_bytes();
    return absl::OkStatus();
  }

  absl::Status Close() {
    if (path_.empty()) return absl::OkStatus();
    out_.close();
    if (!out_) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path_));
    if (written_ != expected_) {
      return absl::DataLossError(absl::StrCat("export: ", path_, " ended at ", written_,
                                              " of ", expected_, " bytes"));
    }
    path_.clear();
    return absl::OkStatus();
  }

  const std::vector<std::string>& files() const { return files_; }
  int64_t total_bytes() const { return total_; }

 private:
  const std::string dir_;
  std::string path_;
  std::ofstream out_;
  int64_t written_ = 0;
  int64_t expected_ = 0;
  int64_t total_ = 0;
  std::vector<std::string> files_;
};

}  // namespace

absl::StatusOr<int> Export(Session& session, const Operands& operands) {
  const CommandFlags& flags = session.flags();
  v1::ExportModelRequest request;
  request.set_model(ModelName(operands[0]));
  if (flags.version > 0) {
    request.set_version(ChildName(operands[0], "versions", absl::StrCat(flags.version)));
  }
  if (flags.format == "diffusers") {
    request.set_format(v1::EXPORT_FORMAT_DIFFUSERS);
  } else if (flags.format == "adapters") {
    request.set_format(v1::EXPORT_FORMAT_ADAPTERS);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--format: \"", flags.format, "\" is not diffusers or adapters"));
  }
  request.set_half_precision(flags.half);
  ProgressBar bar(session.err(), {.tty = session.options().progress_tty,
                                  .min_interval = session.options().progress_interval,
                                  .clock = session.options().clock});
  ExportWriter writer(flags.out_dir);
  auto context = session.NewContext(/*deadline=*/false);
  auto reader = session.sampler().ExportModel(context.get(), request);
  v1::ExportModelResponse response;
  std::string version;
  absl::Status local;
  while (local.ok() && reader->Read(&response)) {
    if (!response.version().empty()) version = response.version();
    local = writer.Write(response.chunk());
    const v1::ExportFileChunk& chunk = response.chunk();
    bar.Update(chunk.file_bytes() > 0
                   ? static_cast<double>(chunk.offset() + chunk.data().size()) /
                         chunk.file_bytes()
                   : 1.0,
               absl::StrFormat("%s, %.1f MB", chunk.path(), writer.total_bytes() / 1e6));
  }
  if (!local.ok()) context->TryCancel();
  const absl::Status status = FromGrpc(reader->Finish());
  if (local.ok()) local = writer.Close();
  if (!writer.files().empty()) {
    bar.Finish(local.ok() && status.ok() ? 1.0 : -1.0,
               absl::StrFormat("%d files, %.1f MB", writer.files().size(),
                               writer.total_bytes() / 1e6));
  }
  STAMINA_RETURN_IF_ERROR(local);
  STAMINA_RETURN_IF_ERROR(status);
  session.out() << "exported " << (version.empty() ? "the base model" : version) << " to "
                << flags.out_dir << " (" << writer.files().size() << " files)\n";
  return kExitOk;
}

}  // namespace stamina::cli
