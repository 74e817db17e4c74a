// The scale-aware matcher end to end on a pair with a known 4x zoom, the side tables, resume,
// and sharding + merging.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "colmap_ext/database.h"
#include "colmap_ext/database_merge.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "matching/pair_scale_source.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

// One matcher command's configuration from its matching and scale sections.
MatchingConfig With(const MatchingOptions& matching, const ScaleMatchingOptions& scale) {
  MatchingConfig c;
  c.matching = matching;
  c.scale = scale;
  return c;
}

constexpr int kZoom = 4;

// A 2400x1800 texture with structure at every scale (blurred noise of several widths plus
// random discs). A: all of it at 1/kZoom size (area). B: its centre at full resolution, the same
// size, i.e. A zoomed kZoom times. In COLMAP coordinates x_B = kZoom * (x_A - offset).
struct ZoomPair {
  std::string image_dir;
  cv::Point2d offset;
};

const ZoomPair& MakeZoomPair() {
  static const ZoomPair pair = [] {
    std::mt19937 rng(7);
    cv::Mat texture(1800, 2400, CV_32F, cv::Scalar(0));
    for (double sigma : {1.5, 4.0, 12.0, 36.0}) {
      cv::Mat noise(texture.size(), CV_32F);
      cv::randn(noise, 0, 1);
      cv::GaussianBlur(noise, noise, cv::Size(), sigma);
      cv::normalize(noise, noise, -1, 1, cv::NORM_MINMAX);
      texture += noise;
    }
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 3000; ++i) {
      const double r = 2 + 40 * std::pow(u(rng), 3);
      cv::circle(texture, cv::Point(int(u(rng) * 2400), int(u(rng) * 1800)), int(r),
                 cv::Scalar(u(rng) * 4 - 2), cv::FILLED, cv::LINE_AA);
    }
    cv::Mat texture8;
    cv::normalize(texture, texture, 0, 255, cv::NORM_MINMAX);
    texture.convertTo(texture8, CV_8U);
    cv::Mat a, b;
    const cv::Size size(texture8.cols / kZoom, texture8.rows / kZoom);
    const cv::Point corner((texture8.cols - size.width) / 2, (texture8.rows - size.height) / 2);
    cv::resize(texture8, a, size, 0, 0, cv::INTER_AREA);
    b = texture8(cv::Rect(corner, size)).clone();
    ZoomPair p;
    p.image_dir = test::MakeTempDir("zoom_pair") + "/images";
    fs::create_directories(p.image_dir);
    cv::imwrite(p.image_dir + "/a.png", a);
    cv::imwrite(p.image_dir + "/b.png", b);
    p.offset = cv::Point2d(double(corner.x) / kZoom, double(corner.y) / kZoom);
    return p;
  }();
  return pair;
}

// Fraction and number of matches (a in image 1, b in image 2) within 3 px of the GT mapping.
std::pair<double, size_t> CorrectMatches(const Database& db, const ZoomPair& pair) {
  const Keypoints ka = db.ReadKeypoints(1), kb = db.ReadKeypoints(2);
  const Matches matches = db.ReadMatches(1, 2);
  size_t correct = 0;
  for (const Match& m : matches) {
    const double ex = kZoom * (ka.at(m.idx1).x - pair.offset.x);
    const double ey = kZoom * (ka.at(m.idx1).y - pair.offset.y);
    if (std::hypot(ex - kb.at(m.idx2).x, ey - kb.at(m.idx2).y) < 3.0) ++correct;
  }
  return {matches.empty() ? 0.0 : double(correct) / matches.size(), correct};
}

std::string ExtractZoomPair(const std::string& tag, const std::string& levels) {
  const std::string db_path = test::MakeTempDir(tag) + "/database.db";
  ExtractionOptions extraction;
  extraction.levels = levels;
  extraction.max_num_features = 4096;
  extraction.num_threads = 1;  // images in name order: a.png is image 1, b.png image 2
  const ExtractionSummary s =
      RunFeatureExtraction(db_path, MakeZoomPair().image_dir, ImageReaderOptions(), extraction);
  EXPECT_EQ(s.num_extracted, 2u);
  return db_path;
}

TEST(ScaleAwareMatching, MatchesTheSdaimLevelsAndMapsIndicesToMergedKeypoints) {
  const ZoomPair& pair = MakeZoomPair();
  const std::string db_path = ExtractZoomPair("sam", "auto");
  {
    Database db(db_path);
    // Multi-level extraction wrote its side table: 8 levels per image, each mapping into the
    // merged keypoint list.
    const auto levels = db.ReadLevelFactors(1);
    ASSERT_GE(levels.size(), 6u);
    const size_t num_keypoints = db.ReadKeypoints(1).size();
    EXPECT_EQ(size_t(db.ReadDescriptors(1).rows()), num_keypoints);
    for (const auto& [level, factor] : levels) {
      const FeatureLevel l = db.ReadFeatureLevel(1, level);
      EXPECT_DOUBLE_EQ(l.factor, factor);
      for (point2D_t k : l.keypoint_index) ASSERT_LT(k, num_keypoints);
    }
  }
  const ImagePairs pairs = {{1, 2}};
  MatchingOptions matching;
  ScaleMatchingOptions plain;
  plain.estimator.estimator = "none";
  const std::string plain_db = fs::path(db_path).parent_path().string() + "/plain.db";
  fs::copy_file(db_path, plain_db);
  RunRawMatching(plain_db, pairs, With(matching, plain));

  ScaleMatchingOptions aware;  // defaults: sift_vote
  const MatchingSummary summary = RunRawMatching(db_path, pairs, With(matching, aware));
  EXPECT_EQ(summary.num_matched, 1u);

  Database db(db_path);
  const auto scale = db.ReadPairScale(1, 2, "sift_vote");
  ASSERT_TRUE(scale.has_value());
  EXPECT_NEAR(std::log2(scale->scale), 2.0, 0.35);
  EXPECT_NEAR(std::log2(db.ReadPairScale(2, 1, "sift_vote")->scale), -std::log2(scale->scale),
              1e-9);

  // The written indices point at merged keypoints that agree with the GT zoom.
  const auto [aware_ratio, aware_correct] = CorrectMatches(db, pair);
  const auto [plain_ratio, plain_correct] = CorrectMatches(Database(plain_db), pair);
  EXPECT_GE(aware_ratio, 0.5);
  EXPECT_GE(aware_correct, 50u);
  // The SDAIM levels find more correct matches than single-level (native) matching.
  EXPECT_GT(aware_correct, plain_correct);
  std::cout << "correct matches: scale-aware " << aware_correct << " (" << aware_ratio
            << "), native levels " << plain_correct << " (" << plain_ratio << ")\n";
}

TEST(ScaleAwareMatching, ReRunSkipsDonePairsAndReusesCachedScales) {
  const std::string db_path = ExtractZoomPair("sam_resume", "auto");
  const ImagePairs pairs = {{1, 2}};
  {
    Database db(db_path);
    // A cached estimate is used as is: s = 1 makes the matcher use the native levels.
    db.WritePairScale(1, 2, PairScale{"sift_vote", 1.0, 0});
  }
  const std::string plain_db = fs::path(db_path).parent_path().string() + "/plain.db";
  fs::copy_file(db_path, plain_db);
  ScaleMatchingOptions plain;
  plain.estimator.estimator = "none";
  RunRawMatching(plain_db, pairs, With(MatchingOptions(), plain));
  RunRawMatching(db_path, pairs, With(MatchingOptions(), ScaleMatchingOptions()));
  {
    Database db(db_path);
    EXPECT_DOUBLE_EQ(db.ReadPairScale(1, 2, "sift_vote")->scale, 1.0);
    // s = 1 from the cache: exactly the native-level matches.
    const Matches m = db.ReadMatches(1, 2), p = Database(plain_db).ReadMatches(1, 2);
    ASSERT_EQ(m.size(), p.size());
    for (size_t i = 0; i < m.size(); ++i) EXPECT_EQ(m[i].idx1, p[i].idx1);
  }
  const MatchingSummary again =
      RunRawMatching(db_path, pairs, With(MatchingOptions(), ScaleMatchingOptions()));
  EXPECT_EQ(again.num_matched, 0u);
  EXPECT_EQ(again.num_already_done, 1u);
}

TEST(ScaleAwareMatching, ReextractMatchesAndKeepsExistingKeypointIndices) {
  const std::string db_path = ExtractZoomPair("sam_reextract", "1");
  const Keypoints before = Database(db_path).ReadKeypoints(1);
  MatchingConfig options;
  options.scale.reextract = true;
  options.image_path = MakeZoomPair().image_dir;
  options.extraction.max_num_features = 4096;
  RunRawMatching(db_path, {{1, 2}}, options);
  Database db(db_path);
  const Keypoints after = db.ReadKeypoints(1);
  ASSERT_GE(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) ASSERT_EQ(after[i].x, before[i].x);
  EXPECT_EQ(size_t(db.ReadDescriptors(1).rows()), after.size());
  EXPECT_GE(CorrectMatches(db, MakeZoomPair()).second, 50u);
}

// SCFeat keypoints come from one resolution, so sift_vote reads the images for its scale, and
// re-extraction appends float descriptors. At the SDAIM scale the pair gets more correct matches
// than SCFeat at native resolution.
TEST(ScaleAwareMatching, ReextractWithLearnedFeaturesGrowsTheFloatDescriptors) {
  const std::string db_path = test::MakeTempDir("sam_reextract_scfeat") + "/database.db";
  ExtractionOptions extraction;
  extraction.type = "scfeat";
  extraction.levels = "1";
  extraction.device = "cpu";
  extraction.max_num_features = 2048;
  extraction.num_threads = 1;
  RunFeatureExtraction(db_path, MakeZoomPair().image_dir, ImageReaderOptions(), extraction);
  const std::string native_path = test::MakeTempDir("sam_native_scfeat") + "/database.db";
  fs::copy_file(db_path, native_path);
  MatchingOptions matching;
  matching.device = "cpu";
  matching.nn.max_ratio = 1.0;  // mutual nearest neighbours, as for learned features
  matching.nn.max_distance = M_PI;
  ScaleMatchingOptions native;
  native.estimator.estimator = "none";
  RunRawMatching(native_path, {{1, 2}}, With(matching, native));

  const Keypoints before = Database(db_path).ReadKeypoints(1);
  MatchingConfig options;
  options.matching = matching;
  options.scale.reextract = true;
  options.image_path = MakeZoomPair().image_dir;
  options.extraction = extraction;
  RunRawMatching(db_path, {{1, 2}}, options);
  Database db(db_path);
  const auto scale = db.ReadPairScale(1, 2, "sift_vote");
  ASSERT_TRUE(scale.has_value());
  EXPECT_NEAR(std::log2(scale->scale), std::log2(double(kZoom)), 0.25);
  for (image_t id : {1u, 2u}) {
    EXPECT_EQ(size_t(db.ReadFloatDescriptors(id).rows()), db.ReadKeypoints(id).size());
    EXPECT_EQ(size_t(db.ReadDescriptors(id).rows()), db.ReadKeypoints(id).size());
    EXPECT_EQ(db.ReadDescriptors(id).cols(), 0);
  }
  const Keypoints after = db.ReadKeypoints(1);
  ASSERT_GT(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) ASSERT_EQ(after[i].x, before[i].x);
  const size_t native_correct = CorrectMatches(Database(native_path), MakeZoomPair()).second;
  const size_t sdaim_correct = CorrectMatches(db, MakeZoomPair()).second;
  EXPECT_GT(sdaim_correct, native_correct + 20) << native_correct << " native";

  // A SIFT re-extraction on this learned database is refused, naming both.
  MatchingConfig wrong = options;
  wrong.extraction.type = "sift";
  try {
    RunRawMatching(native_path, {{1, 2}}, wrong);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scfeat"), std::string::npos) << e.what();
  }
}

// An image that disappears between extraction and matching: the error names it and the pair
// stays unmatched, so a re-run after restoring it resumes.
TEST(ScaleAwareMatching, MissingImageAtMatchingIsAClearErrorAndWritesNothing) {
  const std::string dir = test::MakeTempDir("sam_missing_image") + "/images";
  fs::create_directories(dir);
  for (const char* name : {"a.png", "b.png"}) {
    fs::copy_file(MakeZoomPair().image_dir + "/" + name, dir + "/" + name);
  }
  const std::string db_path = fs::path(dir).parent_path().string() + "/database.db";
  ExtractionOptions extraction;
  extraction.levels = "1";
  extraction.num_threads = 1;
  RunFeatureExtraction(db_path, dir, ImageReaderOptions(), extraction);
  fs::remove(dir + "/b.png");
  MatchingConfig options;
  options.scale.reextract = true;
  options.image_path = dir;
  try {
    RunRawMatching(db_path, {{1, 2}}, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("b.png"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(Database(db_path).ExistsMatches(1, 2));
}

TEST(ScaleAwareMatching, OptionErrorsAreClear) {
  MatchingConfig o;
  o.scale.estimator.estimator = "magic";
  EXPECT_THROW(o.Check(), Error);
  o.scale.estimator.estimator = "dscalenet";
  try {
    o.Check();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--image_path"), std::string::npos) << e.what();
  }
  // A network estimator without its weights file is an error that names the file.
  o.scale.estimator.estimator = "cvarm";
  o.scale.estimator.weights = test::MakeTempDir("sam_noweights") + "/missing.pt";
  o.image_path = MakeZoomPair().image_dir;
  const std::string db_path = ExtractZoomPair("sam_cvarm_missing", "1");
  try {
    RunRawMatching(db_path, {{1, 2}}, o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pt"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(Database(db_path).ExistsMatches(1, 2));
}

TEST(ScaleAwareMatching, SdaimWithCvarmCachesItsScale) {
  // --ScaleMatching.estimator cvarm with the shipped weights: the matcher encodes each image once,
  // estimates the pair, matches and caches the scale under "cvarm", inverted for (2, 1).
  MatchingConfig o;
  o.scale.estimator.estimator = "cvarm";
  o.scale.estimator.device = "cpu";
  o.image_path = MakeZoomPair().image_dir;
  const std::string db_path = ExtractZoomPair("sam_cvarm", "auto");
  const MatchingSummary summary = RunRawMatching(db_path, {{1, 2}}, o);
  EXPECT_EQ(summary.num_matched, 1u);
  Database db(db_path);
  const auto scale = db.ReadPairScale(1, 2, "cvarm");
  ASSERT_TRUE(scale.has_value());
  EXPECT_TRUE(std::isfinite(scale->scale) && scale->scale > 0);
  EXPECT_NEAR(std::log2(db.ReadPairScale(2, 1, "cvarm")->scale), -std::log2(scale->scale), 1e-9);
  EXPECT_TRUE(db.ExistsMatches(1, 2));
}

// sift_vote's keypoint cache holds two lists here, so most pairs need an eviction: each pair's
// two lists must stay valid while its votes are counted (reading the second list once cleared the
// cache under the first).
TEST(KeypointVoteSource, EvictionsKeepBothListsOfAPairValid) {
  const std::string dir = test::MakeTempDir("vote_cache");
  Database db(dir + "/database.db");
  const camera_t cam = db.WriteCamera(MakeDefaultCamera("PINHOLE", 100, 100, 120, false));
  std::vector<Image> images;
  for (int k = 0; k < 5; ++k) {
    const image_t id = db.WriteImage({kInvalidImageId, StringPrintf("%d.png", k), cam});
    images.push_back({id, StringPrintf("%d.png", k), cam});
    Keypoints keypoints;  // image k: 50 keypoints of scale 2^k
    for (int i = 0; i < 50; ++i) {
      keypoints.push_back(Keypoint::FromScaleOrientation(i + 0.5f, 1.5f, std::exp2(float(k)), 0));
    }
    db.WriteKeypoints(id, keypoints);
  }
  Matches identity;
  for (point2D_t i = 0; i < 50; ++i) identity.push_back({i, i});
  ScaleEstimatorOptions options;
  options.estimator = "sift_vote";
  const auto source = MakeScaleSource(options, &db, images, "", true, 2);
  for (int a = 0; a < 5; ++a) {
    for (int b = 0; b < 5; ++b) {
      if (a == b) continue;
      const ScaleEstimate e =
          source->Estimate(images[size_t(a)].image_id, images[size_t(b)].image_id,
                           [&]() -> const Matches& { return identity; });
      EXPECT_NEAR(std::log2(e.scale), b - a, 1e-6) << a << " -> " << b;
      EXPECT_EQ(e.support, 50u);
    }
  }
}

TEST(Sharding, ShardsCoverAllPairsOnceAndBadSpecsAreErrors) {
  ImagePairs pairs;
  for (image_t i = 1; i <= 7; ++i) pairs.emplace_back(i, i + 1);
  ImagePairs joined;
  for (int i = 1; i <= 3; ++i) {
    const ImagePairs s = ShardPairs(pairs, i, 3);
    joined.insert(joined.end(), s.begin(), s.end());
  }
  EXPECT_EQ(joined, pairs);
  EXPECT_EQ(ParseShard("2/4"), (std::pair<int, int>{2, 4}));
  for (const char* bad : {"0/2", "3/2", "1", "1/0", "a/b", "1/2x"}) {
    EXPECT_THROW(ParseShard(bad), Error) << bad;
  }
}

TEST(Sharding, MergingTwoShardsEqualsOneRun) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string dir = test::MakeTempDir("shards");
  const std::string base = dir + "/base.db";
  ExtractionOptions extraction;
  extraction.max_num_features = 2048;
  RunFeatureExtraction(base, test::SyntheticSceneDir() + "/images", ImageReaderOptions(),
                       extraction);
  for (const char* name : {"/full.db", "/shard1.db", "/shard2.db"}) fs::copy_file(base, dir + name);
  const ColmapRunner colmap;
  MatchingConfig config;
  RunMatching(dir + "/full.db", config, colmap);
  config.pairing.shard = "1/2";
  RunMatching(dir + "/shard1.db", config, colmap);
  config.pairing.shard = "2/2";
  RunMatching(dir + "/shard2.db", config, colmap);
  EXPECT_EQ(ClassifyMerge(dir + "/shard1.db", dir + "/shard2.db"), MergeKind::kShards);
  EXPECT_EQ(MergeDatabases(dir + "/shard1.db", dir + "/shard2.db", dir + "/merged.db", colmap),
            MergeKind::kShards);

  Database full(dir + "/full.db"), merged(dir + "/merged.db");
  const std::vector<image_pair_t> full_pairs = full.ReadMatchedPairIds();
  ASSERT_EQ(full_pairs.size(), 28u);
  EXPECT_EQ(merged.ReadMatchedPairIds().size(), full_pairs.size());
  for (image_pair_t id : full_pairs) {
    const auto [a, b] = PairIdToImagePair(id);
    const Matches m1 = full.ReadMatches(a, b), m2 = merged.ReadMatches(a, b);
    ASSERT_EQ(m1.size(), m2.size());
    for (size_t i = 0; i < m1.size(); ++i) {
      ASSERT_EQ(m1[i].idx1, m2[i].idx1);
      ASSERT_EQ(m1[i].idx2, m2[i].idx2);
    }
    EXPECT_EQ(full.ReadPairScale(a, b, "sift_vote")->scale,
              merged.ReadPairScale(a, b, "sift_vote")->scale);
  }
  // Verification ran per shard; both runs verify the same pairs.
  std::vector<image_pair_t> v1, v2;
  for (const auto& [id, n] : full.ReadTwoViewGeometryNumInliers()) v1.push_back(id);
  for (const auto& [id, n] : merged.ReadTwoViewGeometryNumInliers()) v2.push_back(id);
  std::sort(v1.begin(), v1.end());
  std::sort(v2.begin(), v2.end());
  EXPECT_EQ(v1, v2);
  // Guided matching (on by default) extended every verified pair in its shard, and the merge
  // keeps those resume records, so a re-run of the merged database extends nothing twice.
  std::vector<image_pair_t> with_inliers;
  for (const auto& [id, n] : full.ReadTwoViewGeometryNumInliers()) {
    if (n > 0) with_inliers.push_back(id);
  }
  std::vector<image_pair_t> g1 = full.ReadGuidedPairIds(), g2 = merged.ReadGuidedPairIds();
  std::sort(with_inliers.begin(), with_inliers.end());
  std::sort(g1.begin(), g1.end());
  std::sort(g2.begin(), g2.end());
  EXPECT_FALSE(with_inliers.empty());
  EXPECT_EQ(g1, with_inliers);
  EXPECT_EQ(g2, with_inliers);

  // The merged database maps like any other.
  EXPECT_THROW(MergeDatabases(dir + "/shard1.db", dir + "/shard2.db", dir + "/merged.db", colmap),
               Error);  // output exists
}

TEST(Sharding, DatabasesSharingSomeImagesAreRefused) {
  const std::string dir = test::MakeTempDir("merge_partial");
  {
    Database a(dir + "/a.db"), b(dir + "/b.db");
    const camera_t ca = a.WriteCamera(MakeDefaultCamera("PINHOLE", 10, 10, 12, false));
    const camera_t cb = b.WriteCamera(MakeDefaultCamera("PINHOLE", 10, 10, 12, false));
    a.WriteImage({kInvalidImageId, "x.jpg", ca});
    a.WriteImage({kInvalidImageId, "y.jpg", ca});
    b.WriteImage({kInvalidImageId, "x.jpg", cb});
  }
  try {
    MergeDatabases(dir + "/a.db", dir + "/b.db", dir + "/m.db", ColmapRunner());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("share 1 images but not all"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir + "/m.db"));
}

}  // namespace
}  // namespace scalesfm
