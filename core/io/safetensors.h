// File: core/io/safetensors.h
//
// Reading and writing whole safetensors files (huggingface/safetensors format;
// the header itself is core/io/safetensors_header.h). Readers return owned,
// contiguous CPU tensors and validate everything first: a malformed file is
// DATA_LOSS with a precise message, never a crash. Writers are atomic (temp
// file, fsync, rename, fsync of the directory), so a reader sees the old file
// or the complete new one.
//
//   STAMINA_ASSIGN_OR_RETURN(Safetensors file, ReadSafetensors(path));
//   STAMINA_RETURN_IF_ERROR(
//       WriteSafetensors(out_path, file.tensors, {{"format", "pt"}}));
//
// Assumes a little-endian host (checked at compile time).
// Thread-safe: no shared state; concurrent writers to one path leave one
// complete file (last rename wins).
#ifndef STAMINA_CORE_IO_SAFETENSORS_H_
#define STAMINA_CORE_IO_SAFETENSORS_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/io/safetensors_header.h"
#include "torch/torch.h"

namespace stamina::core {

// A whole file: the header (metadata, per-tensor info) and the tensors by
// name, each an owned contiguous CPU tensor of the stored dtype and shape.
struct Safetensors {
  SafetensorsHeader header;
  std::map<std::string, torch::Tensor> tensors;
};

// Reads the file at `path`. NOT_FOUND etc. (from errno) when it cannot be
// opened; DATA_LOSS when it is malformed; RESOURCE_EXHAUSTED when the tensors
// do not fit in memory.
absl::StatusOr<Safetensors> ReadSafetensors(const std::string& path);

// As ReadSafetensors, from the bytes of a file held in memory (blobs).
absl::StatusOr<Safetensors> ParseSafetensors(absl::string_view bytes);

// Reads only the length prefix and the header of the file at `path` (for
// config detection): tensor data is not read, though the header is checked
// against the file size.
absl::StatusOr<SafetensorsHeader> ReadSafetensorsHeader(
    const std::string& path);

// Serializes `tensors` (any device, any layout; copied to contiguous CPU) and
// `metadata` into the bytes of a safetensors file. Tensors are laid out by
// descending element size, then name, as the reference writer does, so every
// tensor is aligned to its element size. INVALID_ARGUMENT for a dtype
// safetensors cannot hold, the name "__metadata__", or non-UTF-8 strings.
absl::StatusOr<std::string> SerializeSafetensors(
    const std::map<std::string, torch::Tensor>& tensors,
    const std::map<std::string, std::string>& metadata);

// Writes SerializeSafetensors(tensors, metadata) to `path` atomically.
absl::Status WriteSafetensors(
    const std::string& path,
    const std::map<std::string, torch::Tensor>& tensors,
    const std::map<std::string, std::string>& metadata);

}  // namespace stamina::core

#endif  // STAMINA_CORE_IO_SAFETENSORS_H_
