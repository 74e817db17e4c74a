// Fuzzing the database readers and the weights loader (issue 26).
//
// Each input is a byte string that says how to damage a small valid file: a COLMAP database
// with every table scalesfm reads (cameras, images, keypoints, descriptors, float descriptors,
// detected counts, feature types, feature levels, matches, two-view geometries, pair scales,
// guided pairs), or a weights file with its sidecar. The harness applies the damage, then runs
// what a command runs: CheckDatabaseConsistency and every Database reader, or LoadWeights.
//
// The contract checked here is the one every command relies on:
//   - a damaged input is rejected with scalesfm::Error (which the CLI prints as one `ERROR:`
//     line and exits 1); any other exception or a crash (caught by libFuzzer/ASan) is a bug;
//   - what is accepted is sound: a database that passes CheckDatabaseConsistency has every
//     match and level index inside its image's keypoints and finite keypoints, scales and
//     factors; loaded weights are finite and a changed weights file never loads unless its
//     sidecar's sha256 was updated to match. A violation throws InvariantViolation.
//
// The same entry points serve the libFuzzer targets (fuzz/*_fuzzer.cc, clang, SCALESFM_FUZZ=ON)
// and the seeded mutation test in tests/fuzz_test.cc (GCC, every CI run).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace scalesfm::fuzz {

// A broken promise of an accepted input (see above). Not a scalesfm::Error on purpose.
class InvariantViolation : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

enum class Outcome { kAccepted, kRejected };

// Owns a private folder with the pristine seed files; each run works on a fresh copy.
class DatabaseFuzzer {
 public:
  explicit DatabaseFuzzer(const std::string& work_dir);
  // Damages a copy of the seed database as `data` says and reads everything. kRejected when some
  // step threw scalesfm::Error (`error` gets the first message); throws anything else.
  Outcome Run(const uint8_t* data, size_t size, std::string* error = nullptr);
  const std::string& seed_path() const { return seed_path_; }

 private:
  std::string work_dir_, seed_path_, run_path_;
};

class WeightsFuzzer {
 public:
  explicit WeightsFuzzer(const std::string& work_dir);
  Outcome Run(const uint8_t* data, size_t size, std::string* error = nullptr);
  const std::string& seed_path() const { return seed_path_; }

 private:
  std::string work_dir_, seed_path_, run_path_;
  std::vector<char> seed_bytes_;
};

// A random input for the seeded mutation test: a few edit records, as libFuzzer would find.
std::vector<uint8_t> RandomDatabaseInput(std::mt19937* rng);
std::vector<uint8_t> RandomWeightsInput(std::mt19937* rng);

}  // namespace scalesfm::fuzz
