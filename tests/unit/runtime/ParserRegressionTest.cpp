//===- ParserRegressionTest.cpp - Inputs the fuzzers found, and their errors ===//
//
// Each case is an input that a libFuzzer target in tests/fuzz/ found crashing, or escaping with an exception
// other than align::rt::Error, before its parser was fixed (docs/fuzzing.md lists them). The same bytes are
// in that target's seed corpus, so every fuzzing run replays them; here the message is checked: it names the
// file (and for data rows FILE:LINE) and says what is wrong.
//
//===----------------------------------------------------------------------===//

#include "aggregate/MixtureFile.h"
#include "checkpoint/SafeTensorsHeader.h"
#include "data/Direction.h"
#include "data/JsonRows.h"
#include "model/ModelConfig.h"
#include "model/UserModelFile.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace align::rt;

namespace {

/// The message of the align::rt::Error that `parse` throws ("" when it throws none; another exception
/// fails the test by escaping).
template <typename Parse> std::string errorOf(Parse parse) {
  try {
    parse();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

// A number beyond a double's range is nlohmann's out_of_range, not a parse_error: it used to escape.
TEST(ParserRegression, DataRowNumberOverflowNamesFileAndLine) {
  std::string text = "{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n\n{\"query\":4444151038251881E364848}\n";
  EXPECT_EQ(errorOf([&] { data::parseJsonRows(text, "rows.jsonl", false); }),
            "rows.jsonl:3: invalid JSON: number overflow parsing '4444151038251881E364848'");
  std::vector<data::RowError> rowErrors;
  std::vector<data::Row> rows = data::parseJsonRows(text, "rows.jsonl", false, -1, &rowErrors);
  EXPECT_EQ(rows.size(), 1u);
  ASSERT_EQ(rowErrors.size(), 1u);
  EXPECT_EQ(rowErrors[0].line, 3);
  EXPECT_EQ(errorOf([&] { data::parseJsonRows("[\n{\"w\": 1},\n{\"w\":\n -1e999}]", "rows.json", true); }),
            "rows.json:3: invalid JSON: number overflow parsing '-1e999'");
}

TEST(ParserRegression, ModelConfigNumberOverflow) {
  std::string message =
      errorOf([] { parseModelConfig(R"({"model_type": "llama", "rms_norm_eps": 1519388888888888888888e888888})", "m/config.json"); });
  EXPECT_EQ(message.rfind("m/config.json: not valid JSON: ", 0), 0u) << message;
  EXPECT_NE(message.find("number overflow parsing '1519388888888888888888e888888'"), std::string::npos) << message;
}

TEST(ParserRegression, SafeTensorsHeaderNumberOverflow) {
  std::string header = R"({"t":{"dtype":"F32","shape":[1e999],"data_offsets":[0,4]}})";
  std::string file(8, '\0');
  uint64_t length = header.size();
  std::memcpy(file.data(), &length, 8);
  file += header + "abcd";
  std::string message = errorOf([&] { parseSafeTensorsFile(file, file.size(), "w.safetensors"); });
  EXPECT_EQ(message.rfind("w.safetensors: header is not valid JSON: ", 0), 0u) << message;
  message = errorOf([] { parseSafeTensorsIndex(R"({"weight_map": {"a": 1E400}})", "d/model.safetensors.index.json"); });
  EXPECT_EQ(message.rfind("d/model.safetensors.index.json: not valid JSON: ", 0), 0u) << message;
}

// user_model.json was read with nlohmann's get<int64_t>() (1e300 is an out-of-range float conversion) and
// without checking sizes, so a zero or negative hidden_size reached LibTorch's allocation.
TEST(ParserRegression, UserModelFileSizes) {
  const std::string good = R"({"kind": "individual", "tokens": 2, "generic": true, "clusters": 5, "init": "vocab",
                               "hidden_size": 64, "users": ["u0", "u1"]})";
  UserModelFile f = parseUserModelFile(good, "p/user_model.json");
  EXPECT_EQ(f.settings.tokens, 2);
  EXPECT_EQ(f.hiddenSize, 64);
  EXPECT_EQ(f.users.size(), 2u);
  auto with = [&](const std::string &field, const std::string &value) {
    std::string text = good;
    size_t at = text.find("\"" + field + "\": ") + field.size() + 4;
    size_t end = text.find_first_of(",}", at);
    return text.replace(at, end - at, value);
  };
  EXPECT_EQ(errorOf([&] { parseUserModelFile(with("tokens", "0"), "p/user_model.json"); }),
            "p/user_model.json: field 'tokens': expected at least 1, got 0");
  EXPECT_EQ(errorOf([&] { parseUserModelFile(with("tokens", "1e300"), "p/user_model.json"); }),
            "p/user_model.json: field 'tokens': expected an integer, got 1e+300");
  EXPECT_EQ(errorOf([&] { parseUserModelFile(with("hidden_size", "-3"), "p/user_model.json"); }),
            "p/user_model.json: field 'hidden_size': expected at least 1, got -3");
  EXPECT_EQ(errorOf([&] { parseUserModelFile(with("hidden_size", "4611686018427387904"), "p/user_model.json"); }),
            "p/user_model.json: the user model's tables (users, tokens, clusters, hidden_size) exceed 2^63 elements");
  std::string users = good;
  users.replace(users.find("[\"u0\", \"u1\"]"), 12, "[\"a\", 3]");
  EXPECT_EQ(errorOf([&] { parseUserModelFile(users, "p/user_model.json"); }),
            "p/user_model.json: field 'users': [1]: expected a string, got 3");
}

// direction.json's scale and grid were read with get<int64_t>(): 1e300 was an out-of-range float conversion.
TEST(ParserRegression, DirectionFileIntegers) {
  const std::string head = R"({"objectives": ["a", "b"], "angle": [-45, 45], "render": "{weight.a}")";
  EXPECT_EQ(errorOf([&] { parseDirectionFile(head + R"(, "scale": 1e300})", "p/direction.json"); }),
            "p/direction.json: field 'scale': expected an integer, got 1e+300");
  EXPECT_EQ(errorOf([&] { parseDirectionFile(head + R"(, "scale": 100, "grid": 2.5})", "p/direction.json"); }),
            "p/direction.json: field 'grid': expected an integer, got 2.5");
  EXPECT_EQ(parseDirectionFile(head + R"(, "scale": 26})", "p/direction.json").spec.grid, 9);
}

// --direction 1e200,1e200 overflowed the norm to infinity and came back as the zero vector.
TEST(ParserRegression, DirectionArgumentScale) {
  DirectionSpec spec;
  spec.objectives = {"a", "b"};
  std::vector<double> v = parseDirectionArgument("1e200,1e200", spec);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_NEAR(v[0], std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(parseDirectionArgument("1e-200,0", spec)[0], 1.0, 1e-12);
  EXPECT_EQ(errorOf([&] { parseDirectionArgument("0,-0", spec); }), "--direction 0,-0: the zero vector is no direction");
}
