//===- SafeTensorsTest.cpp - safetensors I/O and checkpoints --------------===//
//
// Round trips of every dtype, a byte-exact file produced by the Python library, every malformed-file error
// (each must name the file and the tensor or field), the atomicity of writes, sharded checkpoints, and the
// exchange with the Python `safetensors` peer driven by tests/reference/test_safetensors_config_peer.py.
//
//===----------------------------------------------------------------------===//

#include "checkpoint/SafeTensors.h"
#include "support/Files.h"

#include "align/rt/Error.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace align::rt;

namespace {

// Directory helpers come from support/Files.h (POSIX): std::filesystem crashes in binaries linked with libtorch.
bool exists(const std::string &path) { return pathExists(path); }

std::vector<std::string> treeEntries; // nftw's callback takes no context argument
int collectEntry(const char *path, const struct stat *, int, struct FTW *) {
  treeEntries.push_back(path);
  return 0;
}
std::vector<std::string> listTree(const std::string &root) {
  treeEntries.clear();
  ::nftw(root.c_str(), collectEntry, 16, FTW_PHYS);
  return treeEntries;
}


/// A fresh directory per test under ::testing::TempDir(), removed afterwards.
class SafeTensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir = ::testing::TempDir() + "align-safetensors-" + info->name() + "-" + std::to_string(::getpid());
    removeTree(dir);
    makeDirectories(dir);
  }
  void TearDown() override {
    ::chmod(file("readonly").c_str(), 0700);
    removeTree(dir);
  }
  std::string file(const std::string &name) const { return dir + "/" + name; }

  /// Names in the directory that look like leftover temporary files.
  std::vector<std::string> tempFiles() const {
    std::vector<std::string> found;
    for (const std::string &entry : listTree(dir))
      if (entry.substr(entry.find_last_of('/') + 1).find(".tmp-") != std::string::npos)
        found.push_back(entry);
    return found;
  }

  std::string dir;
};

std::string readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

/// A safetensors file from a header text and data bytes, for crafting malformed files.
std::string rawFile(const std::string &header, const std::string &data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  return bytes + header + data;
}

/// Runs `action`, which must throw align::rt::Error whose message contains every one of `parts`.
template <typename Action> void expectError(Action action, const std::vector<std::string> &parts) {
  try {
    action();
    ADD_FAILURE() << "expected an align::rt::Error mentioning '" << parts.front() << "'";
  } catch (const Error &e) {
    for (const std::string &part : parts)
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos)
          << "message \"" << e.what() << "\" lacks \"" << part << "\"";
  }
}

/// One tensor of every supported dtype with values at the edges of each type's range. The Python side of
/// the peer test (tests/reference/test_safetensors_config_peer.py) builds the same dictionary.
std::map<std::string, torch::Tensor> peerTensors() {
  using torch::tensor;
  std::map<std::string, torch::Tensor> t;
  t["f32"] = torch::arange(6, torch::kFloat32).reshape({2, 3}) * 0.5 - 1;
  t["f16"] = tensor({1.5, -2.0, 0.25, 1024.0}).to(torch::kHalf);
  t["bf16"] = tensor({1.0, -1.0, 0.5, 256.0}).to(torch::kBFloat16).reshape({2, 2});
  t["f64"] = tensor({1.0 / 3.0, -2.5, 1e300}, torch::kFloat64);
  t["i64"] = tensor({std::numeric_limits<int64_t>::min(), int64_t(1) << 40}, torch::kInt64);
  t["i32"] = tensor({-7, 8, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min()}, torch::kInt32)
                 .reshape({2, 2});
  t["i16"] = tensor({-32768, 0, 32767}, torch::kInt16);
  t["i8"] = tensor({-128, 127}, torch::kInt8);
  t["u8"] = tensor({0, 128, 255}, torch::kUInt8);
  t["bool"] = tensor({true, false, false, true}, torch::kBool);
  t["scalar"] = tensor(3.25, torch::kFloat32);
  t["empty"] = torch::zeros({0, 4}, torch::kFloat32);
  return t;
}

void expectSameTensors(const std::map<std::string, torch::Tensor> &actual,
                       const std::map<std::string, torch::Tensor> &expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (const auto &[name, want] : expected) {
    auto found = actual.find(name);
    ASSERT_NE(found, actual.end()) << name;
    const torch::Tensor &got = found->second;
    EXPECT_EQ(got.scalar_type(), want.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), want.sizes()) << name;
    EXPECT_TRUE(got.device().is_cpu()) << name;
    EXPECT_TRUE(got.is_contiguous()) << name;
    EXPECT_TRUE(torch::equal(got, want.to(torch::kCPU).contiguous())) << name;
  }
}

} // namespace

TEST_F(SafeTensorsTest, RoundTripsEveryDtypeEmptyAndZeroDimTensors) {
  std::map<std::string, torch::Tensor> tensors = peerTensors();
  tensors["empty_middle"] = torch::zeros({2, 0, 3}, torch::kInt64);
  tensors["scalar_bool"] = torch::tensor(true);
  tensors["scalar_i8"] = torch::tensor(-5, torch::kInt8);
  writeSafetensors(file("all.safetensors"), tensors);
  std::map<std::string, torch::Tensor> read = readSafetensors(file("all.safetensors"));
  expectSameTensors(read, tensors);
  EXPECT_EQ(read["scalar"].dim(), 0);
  EXPECT_EQ(read["scalar"].item<float>(), 3.25f);
  // Each tensor owns its storage: no two share memory and the sizes are exact.
  EXPECT_EQ(read["f64"].storage().nbytes(), 3u * 8u);
  EXPECT_NE(read["f32"].data_ptr(), read["f64"].data_ptr());
  EXPECT_TRUE(tempFiles().empty());
}

TEST_F(SafeTensorsTest, EmptyFileAndMetadataRoundTrip) {
  writeSafetensors(file("none.safetensors"), {});
  EXPECT_EQ(readBytes(file("none.safetensors")), rawFile("{}      ", ""));
  EXPECT_TRUE(readSafetensors(file("none.safetensors")).empty());
  EXPECT_TRUE(readSafetensorsMetadata(file("none.safetensors")).empty());

  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"step", "12"}, {"quote\"d", "ünï\ncode"}};
  writeSafetensors(file("meta.safetensors"), {{"w", torch::ones({2})}}, metadata);
  EXPECT_EQ(readSafetensorsMetadata(file("meta.safetensors")), metadata);
}

TEST_F(SafeTensorsTest, MovesNonContiguousTensorsToContiguousLayout) {
  torch::Tensor base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  torch::Tensor transposed = base.t();
  torch::Tensor sliced = base.slice(1, 1, 3);
  ASSERT_FALSE(transposed.is_contiguous());
  writeSafetensors(file("views.safetensors"), {{"t", transposed}, {"s", sliced}});
  auto read = readSafetensors(file("views.safetensors"));
  EXPECT_TRUE(torch::equal(read["t"], transposed));
  EXPECT_TRUE(torch::equal(read["s"], sliced));
}

TEST_F(SafeTensorsTest, MovesGpuTensorsToCpu) {
  if (!torch::cuda::is_available())
    GTEST_SKIP() << "no CUDA device";
  torch::Tensor onGpu = torch::arange(10, torch::TensorOptions().dtype(torch::kBFloat16).device(torch::kCUDA));
  writeSafetensors(file("gpu.safetensors"), {{"g", onGpu}});
  torch::Tensor read = readSafetensors(file("gpu.safetensors"))["g"];
  EXPECT_TRUE(read.device().is_cpu());
  EXPECT_TRUE(torch::equal(read, onGpu.cpu()));
}

// The bytes `safetensors.torch.save` produces for these tensors (safetensors 0.8): tensors ordered by
// descending dtype rank then name, offsets from the end of the space-padded header.
TEST_F(SafeTensorsTest, MatchesPythonLibraryByteForByte) {
  std::map<std::string, torch::Tensor> tensors = {{"weight", torch::tensor({1.f, 2.f, 3.f, 4.f}).reshape({2, 2})},
                                                  {"bias", torch::tensor({0.5, -2.0}).to(torch::kHalf)},
                                                  {"step", torch::tensor(int64_t(7))},
                                                  {"mask", torch::tensor({true, false, true})}};
  writeSafetensors(file("exact.safetensors"), tensors, {{"format", "pt"}});
  std::string header = R"({"__metadata__":{"format":"pt"},)"
                       R"("step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                       R"("weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},)"
                       R"("bias":{"dtype":"F16","shape":[2],"data_offsets":[24,28]},)"
                       R"("mask":{"dtype":"BOOL","shape":[3],"data_offsets":[28,31]}}       )";
  ASSERT_EQ(header.size(), 272u);
  const unsigned char data[] = {0x07, 0, 0,    0,    0, 0, 0,    0,    0,    0,    0x80, 0x3f, 0, 0, 0, 0x40,
                                0,    0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0x00, 0x38, 0x00, 0xc0, 1, 0, 1};
  std::string expected = rawFile(header, std::string(reinterpret_cast<const char *>(data), sizeof data));
  EXPECT_EQ(expected.size(), 311u);
  EXPECT_EQ(readBytes(file("exact.safetensors")), expected);
}

TEST_F(SafeTensorsTest, TruncatedFileNamesTheTensor) {
  writeSafetensors(file("model.safetensors"),
                   {{"lm_head.weight", torch::ones({4, 4})}, {"embed", torch::ones({2}, torch::kInt64)}});
  std::string bytes = readBytes(file("model.safetensors"));
  writeBytes(file("model.safetensors"), bytes.substr(0, bytes.size() - 1));
  // I64 sorts first, so the F32 tensor is the one that runs past the end.
  expectError([&] { readSafetensors(file("model.safetensors")); },
              {file("model.safetensors"), "truncated", "'lm_head.weight'",
               "ends at byte " + std::to_string(bytes.size()), "has " + std::to_string(bytes.size() - 1)});
  writeBytes(file("tiny.safetensors"), "abc");
  expectError([&] { readSafetensors(file("tiny.safetensors")); }, {file("tiny.safetensors"), "header length"});
}

TEST_F(SafeTensorsTest, CorruptHeaderLength) {
  writeSafetensors(file("h.safetensors"), {{"w", torch::ones({3})}});
  std::string bytes = readBytes(file("h.safetensors"));
  std::string tooLong = bytes;
  tooLong[5] = '\x01'; // 2^40 + n
  writeBytes(file("h.safetensors"), tooLong);
  expectError([&] { readSafetensors(file("h.safetensors")); }, {file("h.safetensors"), "header length", "exceeds"});
  // A length that ends the header just before the JSON's closing brace (past any padding).
  std::string tooShort = rawFile(bytes.substr(8, bytes.rfind('}') - 8), "");
  tooShort.resize(bytes.size());
  writeBytes(file("h.safetensors"), tooShort);
  expectError([&] { readSafetensors(file("h.safetensors")); }, {file("h.safetensors"), "header", "JSON"});
}

TEST_F(SafeTensorsTest, MalformedHeadersNameFileTensorAndField) {
  struct Case {
    std::string header, data;
    std::vector<std::string> parts;
  };
  std::string eight(8, '\0');
  std::vector<Case> cases = {
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       std::string(12, '\0'),
       {"'b'", "overlaps", "'a'"}},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight, {"'a'", "hole"}},
      {R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight, {"'a'", "bytes after the last tensor"}},
      {R"({"a":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}})", eight, {"'a'", "unsupported dtype", "F8_E4M3"}},
      {R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight, {"'a'", "negative"}},
      {R"({"a":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", eight, {"'a'", "shape"}},
      {R"({"a":{"shape":[2],"data_offsets":[0,8]}})", eight, {"'a'", "missing field 'dtype'"}},
      {R"({"a":{"dtype":"F32","data_offsets":[0,8]}})", eight, {"'a'", "missing field 'shape'"}},
      {R"({"a":{"dtype":"F32","shape":[2]}})", eight, {"'a'", "missing field 'data_offsets'"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", eight, {"'a'", "out of order"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", eight, {"'a'", "data_offsets"}},
      {R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight, {"'a'", "need 12"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}})", eight, {"truncated", "'a'", "ends at byte"}},
      {R"({"a":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})", "\x02", {"'a'", "BOOL", "0 or 1"}},
      {R"({"__metadata__":{"step":3}})", "", {"__metadata__", "'step'"}},
      {R"({"a":[1,2]})", "", {"'a'", "must be an object"}},
      {R"([1,2])", "", {"header must be a JSON object"}},
      {R"({"a":)", "", {"header is not valid JSON"}},
  };
  int index = 0;
  for (const Case &c : cases) {
    std::string path = file("bad" + std::to_string(index++) + ".safetensors");
    writeBytes(path, rawFile(c.header, c.data));
    std::vector<std::string> parts = c.parts;
    parts.push_back(path);
    SCOPED_TRACE(c.header);
    expectError([&] { readSafetensors(path); }, parts);
  }
  expectError([&] { readSafetensors(file("absent.safetensors")); }, {file("absent.safetensors"), "cannot open"});
  expectError([&] { readSafetensors(dir); }, {dir, "not a regular file"});
}

TEST_F(SafeTensorsTest, FailedWriteLeavesExistingFileAndNoTempFile) {
  std::string path = file("model.safetensors");
  writeSafetensors(path, {{"keep", torch::ones({2})}});
  std::string before = readBytes(path);

  expectError(
      [&] {
        writeSafetensors(path, {{"a", torch::ones({2})}, {"undefined_w", torch::Tensor()}});
      },
      {path, "'undefined_w'", "undefined"});
  expectError(
      [&] {
        writeSafetensors(path, {{"c", torch::ones({2}, torch::kComplexFloat)}});
      },
      {path, "'c'", "unsupported dtype"});
  expectError([&] { writeSafetensors(path, {{"__metadata__", torch::ones({2})}}); }, {path, "'__metadata__'"});
  EXPECT_EQ(readBytes(path), before);
  EXPECT_TRUE(tempFiles().empty());

  // The rename fails when the target is a directory: the bytes were written, so cleanup must remove them.
  makeDirectories(file("occupied.safetensors/inside"));
  expectError(
      [&] {
        writeSafetensors(file("occupied.safetensors"), {{"w", torch::ones({2})}});
      },
      {file("occupied.safetensors"), "rename"});
  EXPECT_TRUE(isDirectory(file("occupied.safetensors/inside")));
  EXPECT_TRUE(tempFiles().empty());

  expectError(
      [&] {
        writeSafetensors(file("missing/dir/x.safetensors"), {{"w", torch::ones({2})}});
      },
      {file("missing/dir/x.safetensors"), "cannot create temporary file"});

  // Permission bits do not stop root, so the read-only directory case runs only for other users.
  if (::geteuid() != 0) {
    makeDirectories(file("readonly"));
    writeSafetensors(file("readonly/model.safetensors"), {{"keep", torch::ones({2})}});
    ::chmod(file("readonly").c_str(), 0500);
    expectError(
        [&] {
          writeSafetensors(file("readonly/model.safetensors"), {{"w", torch::zeros({5})}});
        },
        {file("readonly/model.safetensors"), "cannot create temporary file"});
    ::chmod(file("readonly").c_str(), 0700);
    EXPECT_EQ(readBytes(file("readonly/model.safetensors")), before);
  }
  EXPECT_TRUE(tempFiles().empty());
}

TEST_F(SafeTensorsTest, AtomicWriteRemovesTempFileWhenProducerThrows) {
  std::string path = file("data.bin");
  writeFileAtomically(path, std::string("old"));
  expectError(
      [&] {
        writeFileAtomically(path, [](const ByteSink &write) {
          write("partial", 7);
          throw Error("producer gave up");
        });
      },
      {"producer gave up"});
  EXPECT_EQ(readBytes(path), "old");
  EXPECT_TRUE(tempFiles().empty());
  writeFileAtomically(path, std::string("new contents"));
  EXPECT_EQ(readBytes(path), "new contents");
}

TEST_F(SafeTensorsTest, ReadsSingleFileAndShardedCheckpoints) {
  makeDirectories(file("single"));
  writeSafetensors(file("single/model.safetensors"), {{"a", torch::ones({2})}});
  expectSameTensors(readCheckpointTensors(file("single")), {{"a", torch::ones({2})}});

  makeDirectories(file("sharded"));
  writeSafetensors(file("sharded/model-00001-of-00002.safetensors"),
                   {{"a", torch::ones({2})}, {"stray", torch::zeros({1})}});
  writeSafetensors(file("sharded/model-00002-of-00002.safetensors"), {{"b", torch::arange(3)}});
  writeBytes(file("sharded/model.safetensors.index.json"),
             R"({"metadata":{"total_size":40},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
             R"("b":"model-00002-of-00002.safetensors"}})");
  expectSameTensors(readCheckpointTensors(file("sharded")), {{"a", torch::ones({2})}, {"b", torch::arange(3)}});

  std::string index = file("sharded/model.safetensors.index.json");
  writeBytes(index, R"({"weight_map":{"a":"model-00001-of-00002.safetensors","c":"model-00003.safetensors"}})");
  expectError([&] { readCheckpointTensors(file("sharded")); }, {index, "'model-00003.safetensors'", "'c'", "missing"});
  writeBytes(index,
             R"({"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors"}})");
  expectError([&] { readCheckpointTensors(file("sharded")); },
              {"model-00001-of-00002.safetensors", "'b'", "absent", index});
  writeBytes(index, R"({"weight_map":{"a":"../single/model.safetensors"}})");
  expectError([&] { readCheckpointTensors(file("sharded")); }, {index, "'a'", "not a file name"});
  writeBytes(index, R"({"weights":{}})");
  expectError([&] { readCheckpointTensors(file("sharded")); }, {index, "'weight_map'"});
  writeBytes(index, R"({"weight_map":{"a":3}})");
  expectError([&] { readCheckpointTensors(file("sharded")); }, {index, "'a'"});
  writeBytes(index, "{");
  expectError([&] { readCheckpointTensors(file("sharded")); }, {index, "JSON"});

  makeDirectories(file("empty"));
  expectError([&] { readCheckpointTensors(file("empty")); }, {file("empty"), "model.safetensors"});
}

// Exchange with the Python peer (tests/reference/test_safetensors_config_peer.py), which sets ALIGN_PEER_DIR.
TEST(SafeTensorsPeer, WritesFileForPython) {
  const char *peerDir = std::getenv("ALIGN_PEER_DIR");
  if (!peerDir)
    GTEST_SKIP() << "ALIGN_PEER_DIR is not set (tests/reference/test_safetensors_config_peer.py sets it)";
  writeSafetensors(std::string(peerDir) + "/peer.safetensors", peerTensors(), {{"format", "pt"}});
}

TEST(SafeTensorsPeer, ReadsFileFromPython) {
  const char *peerDir = std::getenv("ALIGN_PEER_DIR");
  std::string path = peerDir ? std::string(peerDir) + "/py.safetensors" : "";
  if (!peerDir || !exists(path))
    GTEST_SKIP() << "no py.safetensors from the Python peer";
  expectSameTensors(readSafetensors(path), peerTensors());
  EXPECT_EQ(readSafetensorsMetadata(path), (std::map<std::string, std::string>{{"format", "pt"}}));
}
