// Issue 26: the seeded-mutation form of the fuzz targets in fuzz/ (the libFuzzer form runs from
// scripts/fuzz.sh). Damaged databases and weights must give scalesfm::Error or be sound;
// anything else (another exception, an unsound acceptance, a crash) fails the test. CI runs
// 2000 inputs per target; SCALESFM_FUZZ_RUNS raises that.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <string>

#include "fuzz/fuzz_harness.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm::fuzz {
namespace {

int Runs() {
  const char* env = std::getenv("SCALESFM_FUZZ_RUNS");
  return env && *env ? std::atoi(env) : 2000;
}

std::string Hex(const std::vector<uint8_t>& input) {
  std::string hex;
  for (uint8_t b : input) hex += StringPrintf("%02x", b);
  return hex;
}

template <typename Fuzzer, typename Generator>
void FuzzSeeded(Fuzzer* fuzzer, Generator generate, int* rejected) {
  std::mt19937 rng(26);
  for (int i = 0; i < Runs(); ++i) {
    const std::vector<uint8_t> input = generate(&rng);
    try {
      std::string error;
      if (fuzzer->Run(input.data(), input.size(), &error) == Outcome::kRejected) {
        ++*rejected;
        // The CLI prints the message as one ERROR: line: it must say what is wrong, in one line.
        ASSERT_FALSE(error.empty()) << Hex(input);
        ASSERT_EQ(error.find('\n'), std::string::npos) << Hex(input) << ": " << error;
      }
    } catch (const std::exception& e) {
      FAIL() << "input " << i << " (" << Hex(input) << "): " << e.what();
    }
  }
}

TEST(Fuzz, DamagedDatabasesAreRejectedWithAnErrorOrAreSound) {
  SetQuiet(true);
  DatabaseFuzzer fuzzer(test::MakeTempDir("fuzz_database"));
  // The seed itself is sound and accepted: otherwise every input would be "rejected".
  const uint8_t untouched[] = {1};
  std::string error;
  ASSERT_EQ(fuzzer.Run(untouched, 1, &error), Outcome::kAccepted) << error;
  int rejected = 0;
  FuzzSeeded(&fuzzer, RandomDatabaseInput, &rejected);
  EXPECT_GT(rejected, Runs() / 10);  // the mutations do reach the checks
  SetQuiet(false);
}

TEST(Fuzz, DamagedWeightsAreRejectedWithAnErrorOrAreSound) {
  SetQuiet(true);
  WeightsFuzzer fuzzer(test::MakeTempDir("fuzz_weights"));
  const uint8_t untouched[] = {0};
  std::string error;
  ASSERT_EQ(fuzzer.Run(untouched, 1, &error), Outcome::kAccepted) << error;
  const uint8_t untouched_dict[] = {0x82};  // bit 7: the pickled-dict seed; 0x82 % 5 == 0
  ASSERT_EQ(fuzzer.Run(untouched_dict, 1, &error), Outcome::kAccepted) << error;
  int rejected = 0;
  FuzzSeeded(&fuzzer, RandomWeightsInput, &rejected);
  EXPECT_GT(rejected, Runs() / 10);
  SetQuiet(false);
}

}  // namespace
}  // namespace scalesfm::fuzz
