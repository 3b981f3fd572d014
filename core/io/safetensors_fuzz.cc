// libFuzzer target for the safetensors reader (not run in CI; tagged
// manual): the fuzz input is a whole file held in memory, as an uploaded
// adapter or a checkpoint blob is. The documented contract
// (core/io/safetensors{,_header}.h):
//   - the header parser answers OK or DATA_LOSS, never anything else;
//   - an OK header tiles the byte buffer exactly and sits at 8 + N;
//   - ParseSafetensors answers OK, DATA_LOSS or RESOURCE_EXHAUSTED, and when
//     the header was OK, every tensor has the header's dtype and shape and
//     holds exactly the file's bytes;
//   - what was read serializes and parses back to the same tensors.
// Any violation traps, so libFuzzer records the input as a crash.
//
// Built and run by tools/fuzz.sh (clang++, no Bazel); seeds in
// testdata/fuzz/safetensors_fuzz/.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_header.h"

namespace {

using ::stamina::core::Safetensors;
using ::stamina::core::SafetensorsHeader;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// The header alone, exactly as ParseSafetensors and ReadSafetensorsHeader
// split a file: 8-byte length, N bytes of JSON, the rest is the buffer.
absl::StatusOr<SafetensorsHeader> ParseHeaderOf(absl::string_view file) {
  const absl::StatusOr<uint64_t> length =
      stamina::core::DecodeSafetensorsHeaderLength(file, file.size());
  if (!length.ok()) return length.status();
  Check(*length <= file.size() - 8);
  return stamina::core::ParseSafetensorsHeader(file.substr(8, *length),
                                               file.size() - 8 - *length);
}

void CheckTiling(const SafetensorsHeader& header, uint64_t file_size) {
  Check(header.data_offset + header.data_size == file_size);
  uint64_t covered = 0;
  for (const auto& [name, info] : header.tensors) {
    Check(info.data_begin <= info.data_end);
    Check(info.data_end <= header.data_size);
    uint64_t numel = 1;
    for (const int64_t dim : info.shape) {
      Check(dim >= 0);
      numel *= static_cast<uint64_t>(dim);
    }
    Check(info.data_end - info.data_begin ==
          numel * static_cast<uint64_t>(
                      stamina::core::SafetensorsDtypeSize(info.dtype)));
    covered += info.data_end - info.data_begin;
  }
  Check(covered == header.data_size);
}

// Each tensor is the header's dtype and shape and holds the file's bytes.
void CheckTensors(const Safetensors& file, absl::string_view bytes) {
  Check(file.tensors.size() == file.header.tensors.size());
  for (const auto& [name, info] : file.header.tensors) {
    const auto it = file.tensors.find(name);
    Check(it != file.tensors.end());
    const torch::Tensor& tensor = it->second;
    Check(tensor.scalar_type() == stamina::core::ToScalarType(info.dtype));
    Check(tensor.sizes().vec() == info.shape);
    Check(tensor.is_contiguous());
    const uint64_t size = info.data_end - info.data_begin;
    Check(static_cast<uint64_t>(tensor.nbytes()) == size);
    if (size > 0) {
      Check(std::memcmp(tensor.data_ptr(),
                        bytes.data() + file.header.data_offset + info.data_begin,
                        size) == 0);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);

  const absl::StatusOr<SafetensorsHeader> header = ParseHeaderOf(bytes);
  if (!header.ok()) {
    Check(header.status().code() == absl::StatusCode::kDataLoss);
  } else {
    CheckTiling(*header, size);
  }

  const absl::StatusOr<Safetensors> file = stamina::core::ParseSafetensors(bytes);
  if (!file.ok()) {
    const absl::StatusCode code = file.status().code();
    Check(code == absl::StatusCode::kDataLoss ||
          code == absl::StatusCode::kResourceExhausted);
    // Past a good header, the only bad content is a BOOL byte other than
    // 0/1; the rest is memory.
    if (header.ok() && code == absl::StatusCode::kDataLoss) {
      bool has_bool = false;
      for (const auto& [name, info] : header->tensors) {
        has_bool |= info.dtype == stamina::core::SafetensorsDtype::kBool;
      }
      Check(has_bool);
    }
    return 0;
  }
  Check(header.ok());
  CheckTensors(*file, bytes);

  // Round trip: the writer's layout may differ from the input's, the
  // tensors may not.
  const absl::StatusOr<std::string> again =
      stamina::core::SerializeSafetensors(file->tensors, file->header.metadata);
  Check(again.ok());
  const absl::StatusOr<Safetensors> reread =
      stamina::core::ParseSafetensors(*again);
  Check(reread.ok());
  Check(reread->header.metadata == file->header.metadata);
  CheckTensors(*reread, *again);
  Check(reread->tensors.size() == file->tensors.size());
  for (const auto& [name, tensor] : file->tensors) {
    const torch::Tensor& other = reread->tensors.at(name);
    Check(other.nbytes() == tensor.nbytes());
    if (tensor.nbytes() > 0) {
      Check(std::memcmp(other.data_ptr(), tensor.data_ptr(), tensor.nbytes()) ==
            0);
    }
  }
  return 0;
}
