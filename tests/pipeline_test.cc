// End to end on the synthetic scene: extraction, matching, COLMAP verification and mapping must
// recover the GT poses; the database must be usable by stock `colmap mapper`.
#include <gtest/gtest.h>

#include <filesystem>

#include "eval_eth/pose_metrics.h"
#include "pipeline/reconstruction_pipeline.h"
#include "tests/test_util.h"

namespace scalesfm {
namespace {

TEST(Pipeline, SyntheticSceneReconstructsWithTheRightPoses) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  const std::string scene = test::SyntheticSceneDir();
  AutomaticReconstructionOptions options;
  options.image_path = scene + "/images";
  options.workspace_path = test::MakeTempDir("pipeline");
  options.fixed_intrinsics_path = scene + "/gt";
  options.extraction.max_num_features = 4000;
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

}  // namespace
}  // namespace scalesfm
