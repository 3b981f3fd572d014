#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "core/io/safetensors_header.h"
#include "core/torch_status.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian; byte swapping is not "
              "implemented");

// Closes the descriptor on scope exit.
class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ScopedFd& operator=(ScopedFd&&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting the error close() may carry for buffered writes.
  absl::Status Close(absl::string_view path) {
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("close ", path));
    }
    return absl::OkStatus();
  }

 private:
  int fd_;
};

absl::Status PreadFully(int fd, uint64_t offset, uint64_t size, char* dst,
                        absl::string_view path) {
  while (size > 0) {
    const ssize_t n = pread(fd, dst, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("read ", path));
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(
          "safetensors: ", path, " ended at byte ", offset, " while reading"));
    }
    dst += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteFully(int fd, const char* data, uint64_t size,
                        absl::string_view path) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("write ", path));
    }
    data += n;
    size -= static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

// Copies `size` bytes of the file from byte `offset` into `dst`.
using ReadBytes =
    absl::FunctionRef<absl::Status(uint64_t offset, uint64_t size, char* dst)>;

absl::StatusOr<std::map<std::string, torch::Tensor>> LoadTensors(
    const SafetensorsHeader& header, ReadBytes read) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, info] : header.tensors) {
    // Init-captures here and in PlanLayout: clang before 16 cannot capture
    // a structured binding (tools/fuzz.sh builds this file with clang 14).
    STAMINA_ASSIGN_OR_RETURN(torch::Tensor tensor, RunTorch([&info = info] {
                               return torch::empty(
                                   info.shape, torch::TensorOptions().dtype(
                                                   ToScalarType(info.dtype)));
                             }));
    const uint64_t size = info.data_end - info.data_begin;
    char* dst = static_cast<char*>(tensor.data_ptr());
    STAMINA_RETURN_IF_ERROR(
        read(header.data_offset + info.data_begin, size, dst));
    if (info.dtype == SafetensorsDtype::kBool &&
        std::any_of(dst, dst + size, [](char c) { return c != 0 && c != 1; })) {
      return absl::DataLossError(
          absl::StrCat("safetensors: BOOL tensor \"", name,
                       "\" holds a byte other than 0/1"));
    }
    tensors.emplace(name, std::move(tensor));
  }
  return tensors;
}

// The file's tensors in buffer order, contiguous on the CPU, and its header.
struct Layout {
  std::string prefix;  // length + padded JSON
  std::vector<torch::Tensor> tensors;
};

absl::StatusOr<Layout> PlanLayout(
    const std::map<std::string, torch::Tensor>& tensors,
    const std::map<std::string, std::string>& metadata) {
  struct Item {
    std::string name;
    SafetensorsDtype dtype;
    torch::Tensor tensor;
  };
  std::vector<Item> items;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor \"", name, "\" is undefined"));
    }
    STAMINA_ASSIGN_OR_RETURN(SafetensorsDtype dtype,
                             FromScalarType(tensor.scalar_type()));
    STAMINA_ASSIGN_OR_RETURN(
        torch::Tensor cpu,
        RunTorch([&tensor = tensor] {
          return tensor.detach().to(torch::kCPU).contiguous();
        }));
    items.push_back({name, dtype, std::move(cpu)});
  }
  std::stable_sort(
      items.begin(), items.end(), [](const Item& a, const Item& b) {
        return SafetensorsDtypeSize(a.dtype) > SafetensorsDtypeSize(b.dtype);
      });
  std::vector<std::pair<std::string, SafetensorsTensorInfo>> infos;
  Layout layout;
  uint64_t offset = 0;
  for (Item& item : items) {
    SafetensorsTensorInfo info;
    info.dtype = item.dtype;
    info.shape = item.tensor.sizes().vec();
    info.data_begin = offset;
    offset += item.tensor.nbytes();
    info.data_end = offset;
    infos.emplace_back(item.name, std::move(info));
    layout.tensors.push_back(std::move(item.tensor));
  }
  STAMINA_ASSIGN_OR_RETURN(layout.prefix,
                           SerializeSafetensorsHeader(infos, metadata));
  return layout;
}

absl::StatusOr<uint64_t> FileSize(int fd, absl::string_view path) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("stat ", path));
  }
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<SafetensorsHeader> ReadHeaderFromFd(int fd,
                                                   const std::string& path) {
  STAMINA_ASSIGN_OR_RETURN(uint64_t size, FileSize(fd, path));
  std::string prefix(8, '\0');
  if (size >= 8) {
    STAMINA_RETURN_IF_ERROR(PreadFully(fd, 0, 8, &prefix[0], path));
  }
  STAMINA_ASSIGN_OR_RETURN(uint64_t length,
                           DecodeSafetensorsHeaderLength(prefix, size));
  std::string text(length, '\0');
  STAMINA_RETURN_IF_ERROR(PreadFully(fd, 8, length, &text[0], path));
  return ParseSafetensorsHeader(text, size - 8 - length);
}

absl::StatusOr<ScopedFd> OpenForReading(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat("open ", path));
  return ScopedFd(fd);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteAndSync(const std::string& tmp, const Layout& layout) {
  ScopedFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("create ", tmp));
  }
  STAMINA_RETURN_IF_ERROR(
      WriteFully(fd.get(), layout.prefix.data(), layout.prefix.size(), tmp));
  for (const torch::Tensor& tensor : layout.tensors) {
    STAMINA_RETURN_IF_ERROR(
        WriteFully(fd.get(), static_cast<const char*>(tensor.data_ptr()),
                   tensor.nbytes(), tmp));
  }
  if (fsync(fd.get()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fsync ", tmp));
  }
  return fd.Close(tmp);
}

}  // namespace

absl::StatusOr<SafetensorsHeader> ReadSafetensorsHeader(
    const std::string& path) {
  STAMINA_ASSIGN_OR_RETURN(ScopedFd fd, OpenForReading(path));
  absl::StatusOr<SafetensorsHeader> header = ReadHeaderFromFd(fd.get(), path);
  if (!header.ok()) return Annotate(header.status(), path);
  return header;
}

absl::StatusOr<Safetensors> ReadSafetensors(const std::string& path) {
  STAMINA_ASSIGN_OR_RETURN(ScopedFd fd, OpenForReading(path));
  Safetensors file;
  absl::StatusOr<SafetensorsHeader> header = ReadHeaderFromFd(fd.get(), path);
  if (!header.ok()) return Annotate(header.status(), path);
  file.header = *std::move(header);
  absl::StatusOr<std::map<std::string, torch::Tensor>> tensors =
      LoadTensors(file.header, [&](uint64_t offset, uint64_t size, char* dst) {
        return PreadFully(fd.get(), offset, size, dst, path);
      });
  if (!tensors.ok()) return Annotate(tensors.status(), path);
  file.tensors = *std::move(tensors);
  return file;
}

absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view bytes) {
  Safetensors file;
  STAMINA_ASSIGN_OR_RETURN(uint64_t length,
                           DecodeSafetensorsHeaderLength(bytes, bytes.size()));
  STAMINA_ASSIGN_OR_RETURN(file.header,
                           ParseSafetensorsHeader(bytes.substr(8, length),
                                                  bytes.size() - 8 - length));
  // The header was validated against bytes.size(): every range is inside.
  STAMINA_ASSIGN_OR_RETURN(
      file.tensors,
      LoadTensors(file.header, [&](uint64_t offset, uint64_t size, char* dst) {
        if (size > 0) std::memcpy(dst, bytes.data() + offset, size);
        return absl::OkStatus();
      }));
  return file;
}

absl::StatusOr<std::string> SerializeSafetensors(
    const std::map<std::string, torch::Tensor>& tensors,
    const std::map<std::string, std::string>& metadata) {
  STAMINA_ASSIGN_OR_RETURN(Layout layout, PlanLayout(tensors, metadata));
  std::string out = std::move(layout.prefix);
  for (const torch::Tensor& tensor : layout.tensors) {
    out.append(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes());
  }
  return out;
}

absl::Status WriteSafetensors(
    const std::string& path,
    const std::map<std::string, torch::Tensor>& tensors,
    const std::map<std::string, std::string>& metadata) {
  absl::StatusOr<Layout> layout = PlanLayout(tensors, metadata);
  if (!layout.ok()) return Annotate(layout.status(), path);
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      absl::StrCat(path, ".tmp.", getpid(), ".", counter.fetch_add(1));
  absl::Status status = WriteAndSync(tmp, *layout);
  if (status.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    status = absl::ErrnoToStatus(errno, absl::StrCat("rename to ", path));
  }
  if (!status.ok()) {
    unlink(tmp.c_str());
    return status;
  }
  // Make the rename itself durable.
  const std::string dir = DirectoryOf(path);
  ScopedFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || fsync(dir_fd.get()) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fsync directory ", dir));
  }
  return absl::OkStatus();
}

}  // namespace stamina::core
