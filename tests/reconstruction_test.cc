#include "colmap_ext/reconstruction.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(Reconstruction, ReadsTextModelAndComputesStats) {
  const std::string dir = test::MakeTempDir("model");
  std::ofstream(dir + "/cameras.txt") << "# c\n1 PINHOLE 100 80 90 91 50 40\n";
  std::ofstream(dir + "/images.txt") << "# i\n1 1 0 0 0 0 0 0 1 a.png\n10 20 1 30 40 -1\n"
                                     << "2 1 0 0 0 1 0 0 1 b.png\n10 20 1\n";
  std::ofstream(dir + "/points3D.txt") << "1 0 0 5 255 0 0 0.5 1 0 2 0\n";
  const Reconstruction rec = Reconstruction::Read(dir);
  EXPECT_EQ(rec.cameras.at(1).FocalY(), 91);
  ASSERT_EQ(rec.images.size(), 2u);
  EXPECT_EQ(rec.images.at(1).num_points2D, 2u);
  EXPECT_EQ(rec.images.at(1).num_points3D, 1u);
  EXPECT_NEAR(rec.images.at(2).Center().x(), -1.0, 1e-12);
  const ReconstructionStats s = rec.ComputeStats();
  EXPECT_EQ(s.num_images, 2u);
  EXPECT_EQ(s.num_points, 1u);
  EXPECT_EQ(s.num_observations, 2u);
  EXPECT_DOUBLE_EQ(s.mean_track_length, 2.0);
  EXPECT_DOUBLE_EQ(s.mean_reprojection_error, 0.5);
}

TEST(Reconstruction, ReadsSyntheticGt) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  EXPECT_EQ(gt.images.size(), 8u);
  EXPECT_EQ(gt.cameras.size(), 8u);
  EXPECT_TRUE(gt.points.empty());
}

TEST(Reconstruction, MissingOrTruncatedFilesAreClearErrors) {
  const std::string dir = test::MakeTempDir("model");
  EXPECT_THROW(Reconstruction::Read(dir + "/nope"), Error);
  EXPECT_THROW(Reconstruction::Read(dir), Error);
  std::ofstream(dir + "/cameras.bin", std::ios::binary) << "abc";
  try {
    Reconstruction::Read(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cameras.bin"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scalesfm
