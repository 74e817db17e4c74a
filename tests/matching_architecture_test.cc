// The matching architecture: registries, the one controller for every command, feature-type
// defaults, per-image estimator stages, --device, and that the default pipeline's database is
// what it was before the controller replaced the per-method pipelines.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/core/version.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>
#include <thread>

#include "cli/options.h"
#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "colmap_ext/image_reader.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "matching/pair_matcher.h"
#include "scale/scale_estimator.h"
#include "synthetic/synthetic_scene.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

// A small scene with one 4x zoomed camera, rendered once.
const std::string& SmallZoomScene() {
  static const std::string dir = [] {
    const std::string d = test::MakeTempDir("arch_scene");
    SyntheticSceneOptions o;
    o.num_cameras = 4;
    o.num_zoomed = 1;
    o.zoom = 4.0;
    o.width = 320;
    o.height = 240;
    o.focal = 260;
    o.seed = 3;
    WriteSyntheticScene(RenderSyntheticScene(o), d);
    return d;
  }();
  return dir;
}

TEST(Registries, EveryMethodIsRegisteredByNameWithTraits) {
  const std::vector<std::string> matchers = PairMatcherNames();
  EXPECT_EQ(matchers, (std::vector<std::string>{"dualrc", "nn", "s2dnet"}));
  for (const std::string name : {"s2dnet", "dualrc"}) {
    EXPECT_TRUE(FindPairMatcher(name).traits.creates_keypoints) << name;
    EXPECT_FALSE(FindPairMatcher(name).traits.shardable) << name;
    EXPECT_FALSE(FindPairMatcher(name).traits.allows_guided) << name;
    EXPECT_TRUE(FindPairMatcher(name).traits.needs_images) << name;
  }
  EXPECT_TRUE(FindPairMatcher("nn").traits.allows_guided);
  try {
    FindPairMatcher("dense");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nn, s2dnet"), std::string::npos) << e.what();
  }
  const std::vector<std::string> estimators = ScaleEstimator::Names();
  EXPECT_NE(std::find(estimators.begin(), estimators.end(), "none"), estimators.end());
  EXPECT_TRUE(ScaleEstimator::Traits("none").trivial);
  EXPECT_TRUE(ScaleEstimator::Traits("sift_vote").votes_on_keypoint_scales);
  EXPECT_FALSE(FeatureExtractor::Traits("scfeat").keypoints_carry_scale);
  EXPECT_TRUE(FeatureExtractor::Traits("sift").keypoints_carry_scale);
}

// "none" is an estimator like the others: two stages, s = 1, a distribution that sums to 1.
TEST(ScaleEstimators, NoneIsARegisteredEstimatorWithTwoStages) {
  ScaleEstimatorOptions options;
  options.estimator = "none";
  std::unique_ptr<ScaleEstimator> none = ScaleEstimator::Create(options);
  const cv::Mat image(64, 64, CV_8UC1, cv::Scalar(128));
  const ScaleEstimate e = none->Estimate(*none->Encode(image), *none->Encode(image));
  EXPECT_DOUBLE_EQ(e.scale, 1.0);
  ASSERT_EQ(e.probs.size(), size_t(kNumScaleBins));
  double sum = 0;
  for (double p : e.probs) sum += p;
  EXPECT_DOUBLE_EQ(sum, 1.0);
}

// The per-pair stage on cached codes gives what both stages on the images give.
TEST(ScaleEstimators, CachedCodesGiveTheSameEstimateAsTheImages) {
  std::unique_ptr<ScaleEstimator> sift = ScaleEstimator::Create(ScaleEstimatorOptions());
  const std::vector<std::string> names = ListImages(SmallZoomScene() + "/images");
  const cv::Mat a = cv::imread(SmallZoomScene() + "/images/" + names.front(), cv::IMREAD_GRAYSCALE);
  const cv::Mat b = cv::imread(SmallZoomScene() + "/images/" + names.back(), cv::IMREAD_GRAYSCALE);
  const auto ca = sift->Encode(a), cb = sift->Encode(b);
  EXPECT_DOUBLE_EQ(sift->Estimate(*ca, *cb).scale, sift->EstimateImages(a, b).scale);
  // A code of another estimator is refused, not misread.
  ScaleEstimatorOptions none;
  none.estimator = "none";
  const auto foreign = ScaleEstimator::Create(none)->Encode(a);
  EXPECT_THROW(sift->Estimate(*foreign, *cb), std::invalid_argument);
}

// --device reaches every stage of the command unless a stage's own flag is given.
TEST(Cli, DeviceFlagSetsEveryStageUnlessTheStageFlagIsGiven) {
  std::vector<std::string> args = {"cmd", "--device", "cpu", "--Matching.device=auto"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  po::options_description desc;
  ExtractionOptions extraction;
  MatchingConfig config;
  AddExtractionOptions(&desc, &extraction);
  AddMatchingConfigOptions(&desc, &config);
  AddDeviceOption(&desc);
  ASSERT_TRUE(ParseCommandLine(int(argv.size()), argv.data(), "", desc));
  EXPECT_EQ(extraction.device, "cpu");
  EXPECT_EQ(config.scale.estimator.device, "cpu");
  EXPECT_EQ(config.matching.device, "auto");
  // Abbreviations are refused: a feature type's defaults must see every flag the user set.
  std::vector<std::string> short_args = {"cmd", "--Matching.max_r", "0.9"};
  std::vector<char*> short_argv;
  for (std::string& a : short_args) short_argv.push_back(a.data());
  EXPECT_ANY_THROW(ParseCommandLine(int(short_argv.size()), short_argv.data(), "", desc));
}

// A feature type's matcher defaults apply unless the flag is set.
TEST(FeatureTypeDefaults, ScfeatMatchesByMutualNearestNeighboursUnlessFlagsSayOtherwise) {
  MatchingConfig config;
  const std::vector<std::string> applied = config.ApplyFeatureTypeDefaults("scfeat", {});
  EXPECT_EQ(applied.size(), 3u);
  EXPECT_DOUBLE_EQ(config.matching.nn.max_ratio, 1.0);
  EXPECT_GE(config.matching.nn.max_distance, M_PI);
  EXPECT_EQ(config.scale.estimator.estimator, "none");
  MatchingConfig kept;
  kept.matching.nn.max_ratio = 0.9;
  kept.ApplyFeatureTypeDefaults("scfeat", {"Matching.max_ratio"});
  EXPECT_DOUBLE_EQ(kept.matching.nn.max_ratio, 0.9);
  MatchingConfig sift;
  EXPECT_TRUE(sift.ApplyFeatureTypeDefaults("sift", {}).empty());
  EXPECT_DOUBLE_EQ(sift.matching.nn.max_ratio, MatchingConfig().matching.nn.max_ratio);
}

std::string Shell(const std::string& command) {
  std::string out;
  const int rc = test::RunCommand(command, &out);
  EXPECT_EQ(rc, 0) << command << "\n" << out;
  return out;
}

// feature_extractor --Extraction.type scfeat, then a plain exhaustive_matcher: the matcher
// reads the feature type from the database and takes SCFeat's flags (it used to stop with
// "pass --image_path").
TEST(FeatureTypeDefaults, PlainExhaustiveMatcherOnAnScfeatDatabaseWorks) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string dir = test::MakeTempDir("arch_scfeat_cli");
  const std::string db = dir + "/database.db", bin = test::ScalesfmBinary();
  Shell(bin + " feature_extractor --database_path " + db + " --image_path " + SmallZoomScene() +
        "/images --Extraction.type scfeat --Extraction.max_num_features 1024 --device cpu");
  EXPECT_EQ(Database(db).ReadFeatureTypes().size(), 4u);
  const std::string log = Shell(bin + " exhaustive_matcher --database_path " + db);
  EXPECT_NE(log.find("scfeat features: matching with --Matching.max_ratio 1"), std::string::npos)
      << log;
  EXPECT_NE(log.find("--ScaleMatching.estimator none"), std::string::npos) << log;
  Database database(db);
  EXPECT_EQ(database.ReadMatchedPairIds().size(), 6u);
  size_t verified = 0;
  for (const auto& [id, n] : database.ReadTwoViewGeometryNumInliers()) verified += n > 0;
  EXPECT_GT(verified, 0u);
}

// S2DNet with the default sift_vote on SCFeat keypoints (which carry no scale) gets real scale
// estimates from SIFT on the images; it used to vote with the keypoints' unit scales, s = 1.
TEST(ScaleSource, S2DNetOnAnScfeatDatabaseGetsRealScaleEstimates) {
  const std::string db = test::MakeTempDir("arch_s2dnet_scfeat") + "/database.db";
  ExtractionOptions extraction;
  extraction.type = "scfeat";
  extraction.device = "cpu";
  extraction.max_num_features = 512;
  extraction.num_threads = 1;
  RunFeatureExtraction(db, SmallZoomScene() + "/images", ImageReaderOptions(), extraction);
  MatchingConfig config;
  config.image_path = SmallZoomScene() + "/images";
  config.matching.type = "s2dnet";
  config.matching.device = "cpu";
  config.matching.s2dnet.max_image_size = 320;
  ImagePairs pairs;
  for (image_t a = 1; a <= 4; ++a) {
    for (image_t b = a + 1; b <= 4; ++b) pairs.emplace_back(a, b);
  }
  RunRawMatching(db, pairs, config);
  Database database(db);
  double max_log2 = 0;
  for (const auto& [a, b] : pairs) {
    const auto s = database.ReadPairScale(a, b, "sift_vote");
    ASSERT_TRUE(s.has_value());
    max_log2 = std::max(max_log2, std::abs(std::log2(s->scale)));
  }
  EXPECT_GE(max_log2, 1.0) << "every estimate near s = 1: the zoomed view's 4x was not seen";
}

// automatic_reconstructor honours --Matching.type (it used to run nn matching whatever the
// type) and takes the --Matching.s2dnet_* flags.
TEST(Controller, AutomaticReconstructorRunsTheMatcherItIsGiven) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string work = test::MakeTempDir("arch_auto_s2dnet");
  const std::string log =
      Shell(test::ScalesfmBinary() + " automatic_reconstructor --image_path " + SmallZoomScene() +
            "/images --workspace_path " + work + " --ImageReader.fixed_intrinsics_path " +
            SmallZoomScene() +
            "/gt --Matching.type s2dnet --Matching.s2dnet_max_image_size 320 --Extraction.levels 1 "
            "--Extraction.max_num_features 1024 --device cpu");
  EXPECT_NE(log.find("--Matching.type s2dnet"), std::string::npos) << log;
  EXPECT_NE(log.find("keypoints added to the images' lists"), std::string::npos) << log;
  Database db(work + "/database.db");
  size_t appended = 0;
  for (const Image& image : db.ReadAllImages()) {
    const auto detected = db.ReadNumDetectedKeypoints(image.image_id);
    if (detected) appended += db.ReadKeypoints(image.image_id).size() - *detected;
  }
  EXPECT_GT(appended, 0u) << "S2DNet appends the points it finds; nn matching does not";
}

// The default pipeline (feature_extractor + exhaustive_matcher, no flags) on the demo scene
// gives the same database, table by table, as before the matching controller: the digests in
// tests/data/default_pipeline_digests.txt were recorded with the last build of the per-method
// pipelines (main at 2f9c3a5). SIFT extraction depends on OpenCV's build and the CPU's vector
// units, so the check runs where the digests were recorded (same OpenCV version and CPU model)
// and says why it skips elsewhere; verification runs one process per core, so the core count
// must match too.
TEST(Controller, DefaultPipelineDatabaseIsUnchangedOnTheDemoScene) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  std::ifstream golden(std::string(SCALESFM_SOURCE_DIR) +
                       "/tests/data/default_pipeline_digests.txt");
  ASSERT_TRUE(golden.good());
  std::map<std::string, std::string> recorded;
  std::string line;
  while (std::getline(golden, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t eq = line.find('=');
    recorded[line.substr(0, eq)] = line.substr(eq + 1);
  }
  std::string cpu = Shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'");
  cpu.erase(cpu.find_last_not_of("\n") + 1);
  const std::string opencv = CV_VERSION;
  const std::string cores = std::to_string(std::thread::hardware_concurrency());
  // COLMAP verifies: its version changes the geometries (3.8 when the file names none).
  const std::string colmap = ColmapRunner().Dialect().version().ToString();
  const std::string recorded_colmap = recorded.count("colmap") ? recorded["colmap"] : "3.8.0";
  if (cpu != recorded["cpu"] || opencv != recorded["opencv"] || cores != recorded["cores"] ||
      colmap != recorded_colmap) {
    GTEST_SKIP() << "digests recorded on '" << recorded["cpu"] << "' (" << recorded["cores"]
                 << " cores) with OpenCV " << recorded["opencv"] << " and COLMAP "
                 << recorded_colmap << "; this is '" << cpu << "' (" << cores
                 << " cores) with OpenCV " << opencv << " and COLMAP " << colmap;
  }
  const std::string dir = test::MakeTempDir("arch_default_pipeline");
  const std::string db = dir + "/database.db", bin = test::ScalesfmBinary();
  Shell(bin + " make_synthetic_scene --output_path " + dir + "/scene");
  Shell(bin + " feature_extractor --database_path " + db + " --image_path " + dir +
        "/scene/images");
  Shell(bin + " exhaustive_matcher --database_path " + db + " --image_path " + dir +
        "/scene/images");
  for (const char* table :
       {"keypoints", "descriptors", "matches", "two_view_geometries", "scalesfm_pair_scales",
        "scalesfm_guided_pairs", "scalesfm_feature_levels"}) {
    std::string digest = Shell("sqlite3 " + db + " 'select * from " + table +
                               " order by 1,2' | md5sum | cut -c1-16");
    digest.erase(digest.find_last_not_of("\n") + 1);
    EXPECT_EQ(digest, recorded[table]) << table;
  }
}

}  // namespace
}  // namespace scalesfm
