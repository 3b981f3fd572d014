#include "core/io/safetensors.h"

#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/testing/status_matchers.h"
#include "core/io/safetensors_header.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "torch/torch.h"

namespace stamina::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Length prefix + `json` + `data`, without padding.
std::string MakeFile(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[i] = static_cast<char>(n & 0xFF);
  return out + json + data;
}

std::map<std::string, torch::Tensor> AllDtypes() {
  torch::manual_seed(1);
  std::map<std::string, torch::Tensor> tensors;
  tensors["f64"] = torch::randn({2, 3}, torch::kFloat64);
  tensors["f32"] = torch::randn({4}, torch::kFloat32);
  tensors["f16"] = torch::randn({3, 1}, torch::kFloat16);
  tensors["bf16"] = torch::randn({5}, torch::kBFloat16);
  tensors["i64"] = torch::arange(-3, 3, torch::kInt64);
  tensors["i32"] = torch::arange(-2, 5, torch::kInt32).reshape({7, 1});
  tensors["i16"] = torch::arange(-4, 4, torch::kInt16);
  tensors["i8"] = torch::arange(-5, 5, torch::kInt8);
  tensors["u8"] = torch::arange(0, 9, torch::kUInt8).reshape({3, 3});
  tensors["bool"] = torch::tensor({true, false, true});
  tensors["scalar"] = torch::tensor(2.5, torch::kFloat32);
  tensors["empty"] = torch::zeros({0, 4}, torch::kFloat32);
  // Non-contiguous input is written contiguously.
  tensors["transposed"] = torch::randn({3, 2}).t();
  return tensors;
}

void ExpectSameTensors(const std::map<std::string, torch::Tensor>& got,
                       const std::map<std::string, torch::Tensor>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [name, tensor] : want) {
    SCOPED_TRACE(name);
    ASSERT_EQ(got.count(name), 1u);
    const torch::Tensor& read = got.at(name);
    EXPECT_EQ(read.scalar_type(), tensor.scalar_type());
    EXPECT_EQ(read.sizes(), tensor.sizes());
    EXPECT_TRUE(read.is_contiguous());
    EXPECT_TRUE(torch::equal(read, tensor));
  }
}

TEST(SafetensorsTest, RoundTripsEveryDtypeThroughFile) {
  const std::string path = TempPath("all_dtypes.safetensors");
  const std::map<std::string, torch::Tensor> tensors = AllDtypes();
  const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                       {"parent", "v7"}};
  STAMINA_ASSERT_OK(WriteSafetensors(path, tensors, metadata));

  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors file, ReadSafetensors(path));
  EXPECT_EQ(file.header.metadata, metadata);
  ExpectSameTensors(file.tensors, tensors);
  EXPECT_EQ(file.header.tensors.at("bf16").dtype, SafetensorsDtype::kBF16);
  EXPECT_THAT(file.header.tensors.at("i32").shape, ElementsAre(7, 1));

  // Layout: padded header, tensors aligned to their element size.
  EXPECT_EQ(file.header.data_offset % 8, 0u);
  for (const auto& [name, info] : file.header.tensors) {
    EXPECT_EQ(info.data_begin % SafetensorsDtypeSize(info.dtype), 0u) << name;
  }

  STAMINA_ASSERT_OK_AND_ASSIGN(SafetensorsHeader header,
                               ReadSafetensorsHeader(path));
  EXPECT_EQ(header.tensors.size(), tensors.size());
  EXPECT_EQ(header.data_offset + header.data_size, ReadFile(path).size());
}

TEST(SafetensorsTest, SerializeAndParseInMemoryMatchTheFile) {
  const std::string path = TempPath("in_memory.safetensors");
  const std::map<std::string, torch::Tensor> tensors = AllDtypes();
  STAMINA_ASSERT_OK(WriteSafetensors(path, tensors, {}));
  STAMINA_ASSERT_OK_AND_ASSIGN(std::string bytes,
                               SerializeSafetensors(tensors, {}));
  EXPECT_EQ(bytes, ReadFile(path));
  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors file, ParseSafetensors(bytes));
  ExpectSameTensors(file.tensors, tensors);
  EXPECT_TRUE(file.header.metadata.empty());
}

TEST(SafetensorsTest, ReadsHandWrittenFile) {
  // Two little-endian floats 1.0 and -2.0, then an int16 7.
  const std::string data("\x00\x00\x80\x3f\x00\x00\x00\xc0\x07\x00", 10);
  const std::string bytes =
      MakeFile(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("y":{"dtype":"I16","shape":[1,1],"data_offsets":[8,10]}})",
               data);
  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors file, ParseSafetensors(bytes));
  EXPECT_TRUE(torch::equal(file.tensors.at("x"), torch::tensor({1.0f, -2.0f})));
  EXPECT_EQ(file.tensors.at("y").item<int16_t>(), 7);
}

TEST(SafetensorsTest, FileErrorsAreDataLoss) {
  const std::string json =
      R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string valid = MakeFile(json, std::string(8, '\0'));
  struct Case {
    std::string bytes;
    const char* message;
  };
  const Case cases[] = {
      {"", "truncated: 0 bytes"},
      {"\x01\x02", "truncated"},
      {valid.substr(0, 20), "header length"},
      {valid.substr(0, valid.size() - 1), "beyond the 7-byte buffer"},
      {valid + "x", "tensors cover 8 bytes of the 9-byte buffer"},
      {MakeFile("not json", ""), "does not start with '{'"},
      {MakeFile(R"({"b":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})",
                "\x02"),
       "BOOL tensor \"b\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_THAT(ParseSafetensors(c.bytes),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(c.message)));
    const std::string path = TempPath("bad.safetensors");
    WriteFile(path, c.bytes);
    EXPECT_THAT(
        ReadSafetensors(path),
        StatusIs(absl::StatusCode::kDataLoss,
                 testing::AllOf(HasSubstr(c.message), HasSubstr(path))));
  }
}

TEST(SafetensorsTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadSafetensors(TempPath("nope.safetensors")),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ReadSafetensorsHeader(TempPath("nope.safetensors")),
              StatusCodeIs(absl::StatusCode::kNotFound));
}

TEST(SafetensorsTest, WriteIsAtomicAndLeavesNoTempFile) {
  const std::string dir = TempPath("atomic");
  mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/w.safetensors";
  STAMINA_ASSERT_OK(WriteSafetensors(path, {{"a", torch::ones({2})}}, {}));
  STAMINA_ASSERT_OK(WriteSafetensors(path, {{"b", torch::zeros({3})}}, {}));
  STAMINA_ASSERT_OK_AND_ASSIGN(Safetensors file, ReadSafetensors(path));
  EXPECT_EQ(file.tensors.count("a"), 0u);
  EXPECT_EQ(file.tensors.count("b"), 1u);

  // A failed write (bad dtype) leaves the previous file untouched.
  EXPECT_THAT(WriteSafetensors(
                  path, {{"c", torch::ones({2}, torch::kComplexFloat)}}, {}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  STAMINA_ASSERT_OK_AND_ASSIGN(file, ReadSafetensors(path));
  EXPECT_EQ(file.tensors.count("b"), 1u);

  EXPECT_THAT(WriteSafetensors(dir + "/missing_dir/x.safetensors",
                               {{"a", torch::ones({2})}}, {}),
              StatusCodeIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(WriteSafetensors(TempPath("r.safetensors"),
                               {{"__metadata__", torch::ones({1})}}, {}),
              StatusCodeIs(absl::StatusCode::kInvalidArgument));
  // Only the one file remains in the directory (no *.tmp.*).
  EXPECT_EQ(std::system(("test $(ls " + dir + " | wc -l) -eq 1").c_str()), 0);
}

// The tensors and header of an OK result must agree.
void ExpectConsistent(const Safetensors& file, uint64_t size) {
  EXPECT_EQ(file.header.data_offset + file.header.data_size, size);
  ASSERT_EQ(file.tensors.size(), file.header.tensors.size());
  for (const auto& [name, info] : file.header.tensors) {
    const torch::Tensor& t = file.tensors.at(name);
    EXPECT_EQ(t.scalar_type(), ToScalarType(info.dtype));
    EXPECT_EQ(t.sizes().vec(), info.shape);
    EXPECT_EQ(t.nbytes(), info.data_end - info.data_begin);
  }
}

TEST(SafetensorsFuzzTest, TruncationsAndBitFlipsNeverCrash) {
  std::map<std::string, torch::Tensor> tensors;
  tensors["w"] = torch::randn({3, 2});
  tensors["b"] = torch::randn({2}, torch::kFloat16);
  tensors["ids"] = torch::arange(4, torch::kInt64);
  tensors["mask"] = torch::tensor({true, false});
  STAMINA_ASSERT_OK_AND_ASSIGN(
      const std::string valid,
      SerializeSafetensors(tensors, {{"format", "pt"}}));

  // Every proper prefix is rejected.
  for (size_t n = 0; n < valid.size(); ++n) {
    EXPECT_THAT(ParseSafetensors(valid.substr(0, n)),
                StatusCodeIs(absl::StatusCode::kDataLoss))
        << "prefix " << n;
  }
  // Every single-bit flip is rejected as DATA_LOSS or yields a consistent
  // file (flips in tensor data or in a dtype letter that stays valid).
  int accepted = 0;
  for (size_t pos = 0; pos < valid.size(); ++pos) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bytes = valid;
      bytes[pos] = static_cast<char>(bytes[pos] ^ (1 << bit));
      absl::StatusOr<Safetensors> file = ParseSafetensors(bytes);
      if (file.ok()) {
        ++accepted;
        ExpectConsistent(*file, bytes.size());
      } else {
        EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss)
            << file.status();
      }
    }
  }
  EXPECT_GT(accepted, 0);  // data-region flips are valid files
  // Random multi-byte corruption, through the file path as well.
  std::mt19937 rng(7);
  const std::string path = TempPath("fuzz.safetensors");
  for (int round = 0; round < 300; ++round) {
    std::string bytes = valid;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
    }
    if (round % 3 == 0) bytes.resize(rng() % (bytes.size() + 1));
    WriteFile(path, bytes);
    for (const absl::StatusOr<Safetensors>& file :
         {ParseSafetensors(bytes), ReadSafetensors(path)}) {
      if (file.ok()) {
        ExpectConsistent(*file, bytes.size());
      } else {
        EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss)
            << file.status();
      }
    }
  }
}

}  // namespace
}  // namespace stamina::core
