// File: core/io/safetensors_header.h
//
// The safetensors header: the dtype table, per-tensor info, and the strict
// parser and writer of the JSON header (format of huggingface/safetensors:
// 8-byte little-endian length N, N bytes of JSON, then the byte buffer).
// Parsing never throws and never trusts the input: every malformed header is
// DATA_LOSS with a message naming the offending entry. Reading and writing
// whole files is core/io/safetensors.h.
// Thread-safe: no shared state.
#ifndef STAMINA_CORE_IO_SAFETENSORS_HEADER_H_
#define STAMINA_CORE_IO_SAFETENSORS_HEADER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "torch/torch.h"

namespace stamina::core {

// The safetensors dtypes LibTorch 1.13 can hold.
enum class SafetensorsDtype {
  kF64,
  kF32,
  kF16,
  kBF16,
  kI64,
  kI32,
  kI16,
  kI8,
  kU8,
  kBool,
};

// "F32", "BF16", "BOOL", ...: the header spelling.
absl::string_view SafetensorsDtypeName(SafetensorsDtype dtype);
// The dtype spelled `name`, or nullopt (names are case-sensitive).
std::optional<SafetensorsDtype> ParseSafetensorsDtype(absl::string_view name);
// Bytes per element.
int64_t SafetensorsDtypeSize(SafetensorsDtype dtype);
torch::ScalarType ToScalarType(SafetensorsDtype dtype);
// INVALID_ARGUMENT for LibTorch types safetensors cannot hold (complex,
// quantized).
absl::StatusOr<SafetensorsDtype> FromScalarType(torch::ScalarType type);

// Where one tensor lives. Offsets are relative to the start of the byte
// buffer (after the header), as in the file; end - begin is the byte size.
struct SafetensorsTensorInfo {
  SafetensorsDtype dtype = SafetensorsDtype::kF32;
  std::vector<int64_t> shape;
  uint64_t data_begin = 0;
  uint64_t data_end = 0;
};

// A parsed, validated header. The tensors tile the byte buffer exactly:
// no gaps, no overlaps, each sized shape x dtype.
struct SafetensorsHeader {
  std::map<std::string, std::string> metadata;
  std::map<std::string, SafetensorsTensorInfo> tensors;
  // File offset of the byte buffer: 8 + N.
  uint64_t data_offset = 0;
  // Size of the byte buffer.
  uint64_t data_size = 0;
};

// Headers larger than this are rejected (the reference reader's limit).
inline constexpr uint64_t kMaxSafetensorsHeaderSize = uint64_t{100} << 20;

// Decodes the 8-byte length prefix of a file of `total_size` bytes whose
// first bytes are `prefix` (at least 8 of them) and checks that the header
// fits in the file. DATA_LOSS otherwise.
absl::StatusOr<uint64_t> DecodeSafetensorsHeaderLength(absl::string_view prefix,
                                                       uint64_t total_size);

// Parses and validates the JSON header `json` that is followed by a byte
// buffer of `data_size` bytes. DATA_LOSS on anything malformed: invalid
// JSON, duplicate keys, wrong types, unknown dtypes, negative or overflowing
// shapes, offsets out of range, overlapping, leaving gaps or not matching
// shape x dtype.
absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view json,
                                                         uint64_t data_size);

// Serializes the length prefix and the JSON header for `tensors` (name and
// info, infos already laid out), padded with spaces to a multiple of 8 bytes
// as the reference writer does. INVALID_ARGUMENT for names or metadata that
// are not valid UTF-8 and for the reserved name "__metadata__".
absl::StatusOr<std::string> SerializeSafetensorsHeader(
    const std::vector<std::pair<std::string, SafetensorsTensorInfo>>& tensors,
    const std::map<std::string, std::string>& metadata);

}  // namespace stamina::core

#endif  // STAMINA_CORE_IO_SAFETENSORS_HEADER_H_
