// End to end on the synthetic scene: extraction, matching, COLMAP verification and mapping must
// recover the GT poses; the database must be usable by stock `colmap mapper`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "colmap_ext/database.h"
#include "eval_common/pose_metrics.h"
#include "feature/extraction_pipeline.h"
#include "pipeline/mapper_restarts.h"
#include "pipeline/reconstruction_pipeline.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

// The synthetic scene with GT intrinsics fixed, in a fresh workspace.
AutomaticReconstructionOptions SyntheticSceneOptions(const std::string& tag) {
  const std::string scene = test::SyntheticSceneDir();
  AutomaticReconstructionOptions options;
  options.image_path = scene + "/images";
  options.workspace_path = test::MakeTempDir(tag);
  options.fixed_intrinsics_path = scene + "/gt";
  options.extraction.max_num_features = 4000;
  return options;
}

TEST(Pipeline, SyntheticSceneReconstructsWithTheRightPoses) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string scene = test::SyntheticSceneDir();
  AutomaticReconstructionOptions options = SyntheticSceneOptions("pipeline");
  const AutomaticReconstructionResult result = RunAutomaticReconstruction(options, ColmapRunner());
  EXPECT_EQ(result.extraction.num_extracted, 8u);
  EXPECT_TRUE(result.extraction.failed.empty());
  ASSERT_FALSE(result.mapper.model_path.empty());
  const Reconstruction gt = Reconstruction::Read(scene + "/gt");
  const Reconstruction model = Reconstruction::Read(result.mapper.model_path);
  const PoseAccuracy accuracy = EvaluatePoses(gt, model);
  EXPECT_EQ(accuracy.num_registered, 8u);
  EXPECT_GE(accuracy.maa10, 0.95);
  EXPECT_LT(accuracy.median_rotation_deg, 0.5);
  EXPECT_LT(accuracy.median_translation_deg, 1.0);
  EXPECT_LT(model.ComputeStats().mean_reprojection_error, 1.0);

  // Re-running resumes: nothing is extracted or matched again.
  const AutomaticReconstructionResult again = RunAutomaticReconstruction(options, ColmapRunner());
  EXPECT_EQ(again.extraction.num_extracted, 0u);
  EXPECT_EQ(again.extraction.num_already_done, 8u);
  EXPECT_EQ(again.matching.num_matched, 0u);
  EXPECT_EQ(again.matching.num_already_done, 28u);
  EXPECT_EQ(again.mapper.stats.num_images, 8u);

  // Stock colmap mapper works on our database directly.
  const std::string out = options.workspace_path + "/stock_sparse";
  std::filesystem::create_directories(out);
  ColmapRunner().Run("mapper", {"--database_path", options.workspace_path + "/database.db",
                                "--image_path", options.image_path, "--output_path", out});
  const auto models = ListModels(out);
  ASSERT_FALSE(models.empty());
  EXPECT_EQ(Reconstruction::Read(models.front()).images.size(), 8u);
}

// COLMAP 3.8 drops every model of a small scene when one image has a verified pair but does
// not register (DESIGN_NOTES, "A COLMAP 3.8 mapper rule"). The last camera keeps one verified
// pair, with random correspondences: stock COLMAP then returns no model, and scalesfm's mapper
// maps again keeping small models, which gives the other seven cameras at their GT poses.
TEST(Pipeline, AnImageThatCannotRegisterNoLongerCostsTheWholeModel) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string scene = test::SyntheticSceneDir();
  AutomaticReconstructionOptions options = SyntheticSceneOptions("small_model");
  options.mapper.max_init_pairs = 0;
  RunAutomaticReconstruction(options, ColmapRunner());
  const std::string db_path = options.workspace_path + "/database.db";
  {
    Database db(db_path);
    const image_t last = 8, partner = 7;
    for (image_t other = 1; other < partner; ++other) {
      db.Execute("DELETE FROM two_view_geometries WHERE pair_id = " +
                 std::to_string(ImagePairToPairId(other, last)));
    }
    std::mt19937 rng(5);
    std::uniform_int_distribution<point2D_t> pick1(0, db.ReadKeypoints(partner).size() - 1);
    std::uniform_int_distribution<point2D_t> pick2(0, db.ReadKeypoints(last).size() - 1);
    Matches random;
    for (point2D_t k = 0; k < 30; ++k) random.push_back({pick1(rng), pick2(rng)});
    db.UpdateTwoViewGeometryInliers(partner, last, random);
  }
  // Few initial-pair trials: COLMAP otherwise rebuilds and drops the model up to 200 times.
  std::vector<std::string> args = FixedIntrinsicsMapperArgs();
  args.insert(args.end(), {"--Mapper.init_num_trials", "3"});
  const std::string log = options.workspace_path + "/mapper.log";
  MapperOptions off;
  off.max_init_pairs = 0;
  const MapperResult stock = RunMapper(db_path, options.image_path, options.workspace_path + "/off",
                                       args, off, ColmapRunner(), log);
  // COLMAP 3.8's rule drops the model; COLMAP 4.x keeps models that leave an image out.
  if (!ColmapRunner().Dialect().IsColmap4()) {
    EXPECT_EQ(stock.stats.num_images, 0u);
  }
  const size_t stock_log_size = fs::file_size(log);
  const MapperResult ours = RunMapper(db_path, options.image_path, options.workspace_path + "/on",
                                      args, MapperOptions(), ColmapRunner(), log);
  ASSERT_FALSE(ours.model_path.empty());
  // 8 registrable images: the first run already keeps small models, so no run drops them and
  // none maps again for it: one command without a fixed initial pair (restarts have one).
  std::ifstream in(log);
  in.seekg(static_cast<std::streamoff>(stock_log_size));
  std::vector<std::string> runs;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("$ colmap mapper", 0) == 0 && line.find("init_image_id1") == std::string::npos) {
      runs.push_back(line);
    }
  }
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_NE(runs[0].find("--Mapper.min_model_size 3"), std::string::npos) << runs[0];
  EXPECT_NE(runs[0].find("--Mapper.ba_local_max_num_iterations 10"), std::string::npos) << runs[0];
  // With the user's own initial pair, scalesfm's policy (floor, small-model run, restarts) is off:
  // one run with the user's arguments, as colmap.
  std::vector<std::string> own_pair = args;
  own_pair.insert(own_pair.end(), {"--Mapper.init_image_id1", "1", "--Mapper.init_image_id2", "2"});
  const size_t ours_log_size = fs::file_size(log);
  RunMapper(db_path, options.image_path, options.workspace_path + "/own_pair", own_pair,
            MapperOptions(), ColmapRunner(), log);
  std::ifstream own_in(log);
  own_in.seekg(static_cast<std::streamoff>(ours_log_size));
  std::vector<std::string> own_runs;
  for (std::string line; std::getline(own_in, line);) {
    if (line.rfind("$ colmap mapper", 0) == 0) own_runs.push_back(line);
  }
  ASSERT_EQ(own_runs.size(), 1u);
  EXPECT_EQ(own_runs[0].find("min_model_size"), std::string::npos) << own_runs[0];
  EXPECT_EQ(own_runs[0].find("ba_local_max_num_iterations"), std::string::npos) << own_runs[0];
  const Reconstruction model = Reconstruction::Read(ours.model_path);
  EXPECT_EQ(model.images.size(), 7u);
  EXPECT_EQ(model.images.count(8), 0u);
  const PoseAccuracy accuracy = EvaluatePoses(Reconstruction::Read(scene + "/gt"), model);
  EXPECT_LT(accuracy.median_rotation_deg, 0.5);
}

// Images get database ids in listing order whichever extraction thread finishes first (as COLMAP
// numbers images in reading order), so two runs give the same database. A large first image and
// a tiny second one used to swap: the tiny one was written first.
TEST(Extraction, ImageIdsFollowTheListingOrderWithParallelWorkers) {
  const std::string dir = test::MakeTempDir("extraction_order");
  fs::create_directories(dir + "/images");
  std::mt19937 rng(5);
  for (const auto& [name, side] : std::vector<std::pair<std::string, int>>{
           {"a_large.png", 1600}, {"b_tiny.png", 64}, {"c_tiny.png", 64}}) {
    cv::Mat image(side, side, CV_8UC1);
    cv::randu(image, 0, 255);
    cv::GaussianBlur(image, image, cv::Size(5, 5), 1.5);
    cv::imwrite(dir + "/images/" + name, image);
  }
  ExtractionOptions extraction;
  extraction.num_threads = 2;
  extraction.levels = "1";
  RunFeatureExtraction(dir + "/database.db", dir + "/images", ImageReaderOptions(), extraction);
  Database db(dir + "/database.db");
  EXPECT_EQ(db.ReadImageWithName("a_large.png")->image_id, 1u);
  EXPECT_EQ(db.ReadImageWithName("b_tiny.png")->image_id, 2u);
  EXPECT_EQ(db.ReadImageWithName("c_tiny.png")->image_id, 3u);
}

}  // namespace
}  // namespace scalesfm
