// Pins how the colmap 3.8 binary treats a database that scalesfm wrote: stock matching works on
// our features, and matches_importer verifies raw matches already present instead of
// re-matching (DESIGN.md asks for this to be pinned).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "matching/verification.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

// Plain matching: every pair at its native level, no scale estimate.
MatchingConfig Plain() {
  MatchingConfig config;
  config.scale.estimator.estimator = "none";
  return config;
}

class ColmapBehaviour : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
    dir_ = test::MakeTempDir("colmap");
    db_path_ = dir_ + "/database.db";
    ExtractionOptions options;
    options.max_num_features = 2000;
    RunFeatureExtraction(db_path_, test::SyntheticSceneDir() + "/images", ImageReaderOptions(),
                         options);
  }
  std::string dir_, db_path_;
};

TEST_F(ColmapBehaviour, StockExhaustiveMatcherWorksOnOurDatabase) {
  ColmapRunner().Run("exhaustive_matcher",
                     {"--database_path", db_path_, "--SiftMatching.use_gpu", "0"});
  Database db(db_path_);
  EXPECT_EQ(db.NumMatchesRows(), 28u);
  size_t verified = 0;
  for (const auto& [id, n] : db.ReadTwoViewGeometryNumInliers()) verified += n >= 15;
  EXPECT_GE(verified, 10u);
}

TEST_F(ColmapBehaviour, MatchesImporterVerifiesExistingRawMatchesWithoutRematching) {
  Database db(db_path_);
  const std::vector<Image> images = db.ReadAllImages();
  const image_t a = images[0].image_id, b = images[1].image_id, c = images[2].image_id;
  // Real matches for (a, b), truncated to half so re-matching would be detectable; an empty
  // match list for (a, c).
  RunRawMatching(db_path_, {{a, b}}, Plain());
  Matches ab = db.ReadMatches(a, b);
  ASSERT_GT(ab.size(), 100u);
  ab.resize(ab.size() / 2);
  db.WriteMatches(a, b, ab);
  db.WriteMatches(a, c, {});

  MatchingSummary summary;
  RunGeometricVerification(db_path_, {{a, b}, {a, c}}, VerificationOptions(), ColmapRunner(), dir_,
                           &summary);
  // Raw matches are untouched...
  const Matches after = db.ReadMatches(a, b);
  ASSERT_EQ(after.size(), ab.size());
  // ...and the verified inliers are a subset of them.
  std::set<std::pair<point2D_t, point2D_t>> raw;
  for (const Match& m : ab) raw.insert({m.idx1, m.idx2});
  const TwoViewGeometry tvg = db.ReadTwoViewGeometry(a, b);
  ASSERT_GT(tvg.inlier_matches.size(), 15u);
  for (const Match& m : tvg.inlier_matches) EXPECT_TRUE(raw.count({m.idx1, m.idx2}));
  // An empty raw match list yields an empty geometry, not a fresh matching.
  EXPECT_TRUE(db.ExistsTwoViewGeometry(a, c));
  EXPECT_TRUE(db.ReadTwoViewGeometry(a, c).inlier_matches.empty());
  EXPECT_TRUE(db.ReadMatches(a, c).empty());
}

ImagePairs AllPairs(const std::string& db_path) {
  ImagePairs pairs;
  Database db(db_path);
  const std::vector<Image> images = db.ReadAllImages();
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t j = i + 1; j < images.size(); ++j) {
      pairs.emplace_back(images[i].image_id, images[j].image_id);
    }
  }
  return pairs;
}

// Whether the two databases hold bit-identical geometries for `pairs`; counts verified pairs.
size_t ExpectSameGeometries(const std::string& path1, const std::string& path2,
                            const ImagePairs& pairs) {
  Database d1(path1), d2(path2);
  size_t verified = 0;
  for (const auto& [a, b] : pairs) {
    EXPECT_TRUE(d1.ExistsTwoViewGeometry(a, b)) << a << "-" << b;
    const TwoViewGeometry g1 = d1.ReadTwoViewGeometry(a, b), g2 = d2.ReadTwoViewGeometry(a, b);
    EXPECT_EQ(g1.config, g2.config) << a << "-" << b;
    EXPECT_EQ(g1.F, g2.F) << a << "-" << b;  // bit for bit
    EXPECT_EQ(g1.H, g2.H) << a << "-" << b;
    EXPECT_EQ(g1.inlier_matches.size(), g2.inlier_matches.size()) << a << "-" << b;
    for (size_t k = 0; k < std::min(g1.inlier_matches.size(), g2.inlier_matches.size()); ++k) {
      EXPECT_EQ(g1.inlier_matches[k].idx1, g2.inlier_matches[k].idx1);
      EXPECT_EQ(g1.inlier_matches[k].idx2, g2.inlier_matches[k].idx2);
    }
    verified += !g1.inlier_matches.empty();
  }
  return verified;
}

// COLMAP 3.8 seeds every worker thread's RANSAC generator alike and hands pairs to whichever
// thread is free, so only single-threaded verification processes (our default) give the same
// geometries on every run (DESIGN_NOTES, "COLMAP verification").
TEST_F(ColmapBehaviour, DefaultVerificationGivesTheSameGeometriesOnEveryRun) {
  const VerificationOptions verification;
  EXPECT_EQ(verification.num_threads, 1);
  const ImagePairs pairs = AllPairs(db_path_);
  RunRawMatching(db_path_, pairs, Plain());
  const std::string second = dir_ + "/second.db";
  std::filesystem::copy_file(db_path_, second);
  MatchingSummary summary;
  RunGeometricVerification(db_path_, pairs, verification, ColmapRunner(), dir_, &summary);
  RunGeometricVerification(second, pairs, verification, ColmapRunner(), dir_, &summary);
  EXPECT_GE(ExpectSameGeometries(db_path_, second, pairs), 10u);
}

// Parallel verification gives each process a contiguous slice in pair-list order, so the first
// slice is verified exactly as the first pairs of a single-process run, and every pair ends up
// in the database once. The processes' database copies are removed.
TEST_F(ColmapBehaviour, ParallelVerificationVerifiesEverySliceAndRepeatsTheFirstExactly) {
  const ImagePairs pairs = AllPairs(db_path_);
  ASSERT_EQ(pairs.size(), 28u);
  RunRawMatching(db_path_, pairs, Plain());
  const std::string parallel_dir = dir_ + "/parallel";
  std::filesystem::create_directories(parallel_dir);
  const std::string parallel = parallel_dir + "/database.db";
  std::filesystem::copy_file(db_path_, parallel);
  VerificationOptions one, three;
  one.num_processes = 1;
  three.num_processes = 3;
  EXPECT_EQ(three.ResolvedNumProcesses(pairs.size()), 3);
  EXPECT_EQ(three.ResolvedNumProcesses(2), 2);
  MatchingSummary s1, s3;
  RunGeometricVerification(db_path_, pairs, one, ColmapRunner(), dir_, &s1);
  RunGeometricVerification(parallel, pairs, three, ColmapRunner(), parallel_dir, &s3);

  const ImagePairs first_slice(pairs.begin(), pairs.begin() + pairs.size() / 3);
  EXPECT_GE(ExpectSameGeometries(db_path_, parallel, first_slice), 1u);
  Database db(parallel);
  EXPECT_EQ(db.NumTwoViewGeometries(), pairs.size());
  EXPECT_GE(s3.num_verified, 10u);
  for (const auto& entry : std::filesystem::directory_iterator(parallel_dir)) {
    EXPECT_EQ(entry.path().filename().string().rfind("scalesfm_verify_", 0), std::string::npos)
        << entry.path();
  }
  VerificationOptions zero;
  zero.num_processes = 0;
  EXPECT_THROW(zero.Check(), Error);
}

// A wrong verification flag fails before raw matching, so no matching work is done and lost.
TEST_F(ColmapBehaviour, WrongVerificationFlagsFailBeforeAnyMatching) {
  VerificationOptions no_processes, no_error;
  no_processes.num_processes = 0;
  no_error.max_error = 0;
  for (const VerificationOptions& bad : {no_processes, no_error}) {
    MatchingConfig config;
    config.verification = bad;
    EXPECT_THROW(RunMatching(db_path_, config, ColmapRunner()), Error);
  }
  EXPECT_EQ(Database(db_path_).NumMatchesRows(), 0u);
}

}  // namespace
}  // namespace scalesfm
