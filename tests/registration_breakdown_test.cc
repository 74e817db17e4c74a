// Where an unregistered image was lost (eval_eth/registration_breakdown.h), and the `gt` oracle
// scale (scale/gt_scale.h, --ScaleMatching.estimator gt): hand-built databases and GT models with
// one image per reason and known scales.
#include "eval_eth/registration_breakdown.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "colmap_ext/database.h"
#include "eval_common/method_presets.h"
#include "eval_eth/eth_evaluation.h"
#include "matching/matching_options.h"
#include "matching/pair_scale_source.h"
#include "scale/gt_scale.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

constexpr double kFocal = 500;

Camera Pinhole(double focal) {
  Camera c;
  c.camera_id = 1;
  c.model_id = 1;  // PINHOLE
  c.width = 640;
  c.height = 480;
  c.params = {focal, focal, 320, 240};
  return c;
}

// Image i (1-based) at x = i, looking down +z, with camera i.
ModelImage Posed(image_t id, const std::string& name) {
  ModelImage m;
  m.image_id = id;
  m.name = name;
  m.camera_id = id;
  m.t = -Eigen::Vector3d(static_cast<double>(id), 0, 0);
  return m;
}

Eigen::Vector2d ProjectGt(const Reconstruction& gt, const ModelImage& m, const Eigen::Vector3d& X) {
  const Camera& c = gt.cameras.at(m.camera_id);
  const Eigen::Vector3d x = m.R() * X + m.t;
  return Eigen::Vector2d(c.FocalX() * x.x() / x.z() + c.PrincipalX(),
                         c.FocalY() * x.y() / x.z() + c.PrincipalY());
}

TEST(RegistrationBreakdown, EachLostImageGetsItsReason) {
  // 1 and 2 register. 3 shares no point. 4 has no matches row with a covisible image; 5 has 5
  // raw matches; 6 has 30 raw matches and 10 inliers; 7 has 30 inliers on random keypoints;
  // 8 has 30 right inliers and still did not register.
  const std::vector<std::string> names = {"0000_wide.jpg",  "0001_zoom2.jpg", "0002_wide.jpg",
                                          "0003_zoom4.jpg", "0004_wide.jpg",  "0005_zoom8.jpg",
                                          "0006_wide.jpg",  "0007_zoom8.jpg"};
  Reconstruction gt, estimate;
  for (image_t id = 1; id <= names.size(); ++id) {
    Camera c = Pinhole(id == 2 ? 2 * kFocal : kFocal);
    c.camera_id = id;
    gt.cameras[id] = c;
    gt.images[id] = Posed(id, names[id - 1]);
  }
  for (image_t id : {1u, 2u}) estimate.images[id] = gt.images[id];
  for (int k = 0; k < 40; ++k) {
    ModelPoint p;
    p.xyz = Eigen::Vector3d(2 + 0.2 * (k % 8), -1 + 0.4 * (k / 8), 10);
    p.track_images = {1, 2, 4, 5, 6, 7, 8};
    p.track_length = p.track_images.size();
    gt.points.push_back(p);
  }

  const std::string db_path = test::MakeTempDir("breakdown") + "/database.db";
  {
    Database db(db_path);
    std::mt19937 rng(4);
    for (image_t id = 1; id <= names.size(); ++id) {
      db.WriteCamera(gt.cameras[id], /*use_camera_id=*/true);
      Image image;
      image.image_id = id;
      image.name = names[id - 1];
      image.camera_id = id;
      db.WriteImage(image, /*use_image_id=*/true);
      Keypoints keypoints;
      for (const ModelPoint& p : gt.points) {
        const Eigen::Vector2d x = ProjectGt(gt, gt.images[id], p.xyz);
        Keypoint kp;
        kp.x = id == 7 ? std::uniform_real_distribution<float>(0, 640)(rng) : x.x();
        kp.y = id == 7 ? std::uniform_real_distribution<float>(0, 480)(rng) : x.y();
        keypoints.push_back(kp);
      }
      db.WriteKeypoints(id, keypoints);
    }
    const auto matches = [](size_t n) {
      Matches m;
      for (point2D_t k = 0; k < n; ++k) m.push_back({k, k});
      return m;
    };
    const auto verified = [&](image_t a, image_t b, size_t raw, size_t inliers) {
      db.WriteMatches(a, b, matches(raw));
      if (inliers == 0) return;
      TwoViewGeometry tvg;
      tvg.config = static_cast<int>(TwoViewConfig::kCalibrated);
      tvg.inlier_matches = matches(inliers);
      db.WriteTwoViewGeometry(a, b, tvg);
    };
    verified(1, 2, 40, 40);
    verified(3, 1, 40, 40);  // 3 shares no GT point: its pairs do not count
    verified(5, 1, 5, 0);
    verified(6, 1, 30, 10);
    verified(7, 1, 30, 30);
    verified(8, 2, 30, 30);
  }

  const std::vector<ImageRegistration> images = AnalyseRegistration(db_path, gt, estimate);
  ASSERT_EQ(images.size(), names.size());
  const std::vector<std::string> expected = {"",
                                             "",
                                             "no covisible image",
                                             "no candidate pair",
                                             "too few raw matches",
                                             "too few inliers",
                                             "too few inliers agreeing with GT",
                                             "not registered despite inliers"};
  for (size_t i = 0; i < images.size(); ++i) {
    EXPECT_EQ(images[i].name, names[i]);
    EXPECT_EQ(images[i].lost_at, expected[i]) << names[i];
    EXPECT_EQ(images[i].registered, i < 2) << names[i];
  }
  EXPECT_EQ(images[1].view, "zoom2");
  EXPECT_EQ(images[0].best_gt_inliers, 40u);
  EXPECT_EQ(images[6].best_inliers, 30u);
  EXPECT_LT(images[6].best_gt_inliers, 15u);
  EXPECT_EQ(images[7].best_gt_inliers, 30u);
  EXPECT_EQ(images[2].covisible_partners, 0u);
  EXPECT_EQ(images[3].covisible_partners, 6u);

  const auto lost = CountLost(images);
  EXPECT_EQ(lost.at("wide").at("no covisible image"), 1u);
  EXPECT_EQ(lost.at("zoom8").size(), 2u);
  EXPECT_EQ(lost.count("zoom2"), 0u);

  EthResult r;
  r.dataset = "d";
  r.method = "m";
  r.lost_by_view = lost;
  const std::string table = FormatLostTable({r});
  EXPECT_NE(table.find("| m | zoom8 | 2 | 0 | 0 | 0 | 1 | 0 | 1 |"), std::string::npos) << table;
}

TEST(GtScaleOracle, ScaleOfAPairIsTheGtMagnification) {
  // Two images at the same pose, the second with 4x the focal length: s(A->B) = 4 exactly.
  Reconstruction gt;
  for (image_t id : {1u, 2u, 3u}) {
    Camera c = Pinhole(id == 2 ? 4 * kFocal : kFocal);
    c.camera_id = id;
    gt.cameras[id] = c;
    ModelImage m = Posed(1, "im" + std::to_string(id) + ".jpg");
    m.image_id = id;
    m.camera_id = id;
    gt.images[id] = m;
  }
  for (int k = 0; k < 30; ++k) {
    ModelPoint p;
    p.xyz = Eigen::Vector3d(1 + 0.03 * (k % 6), -0.1 + 0.04 * (k / 6), 10 + 0.1 * k);
    p.track_images = k < 25 ? std::vector<image_t>{1, 2} : std::vector<image_t>{1, 2, 3};
    p.track_length = p.track_images.size();
    gt.points.push_back(p);
  }
  size_t support = 0;
  EXPECT_NEAR(GtPairScale(gt, gt.images[1], gt.images[2], 10, &support), 4.0, 1e-9);
  EXPECT_EQ(support, 30u);
  EXPECT_NEAR(GtPairScale(gt, gt.images[2], gt.images[1], 10, &support), 0.25, 1e-9);
  // Image 3 shares 5 points with 1: too few.
  EXPECT_EQ(GtPairScale(gt, gt.images[1], gt.images[3], 10, &support), 0.0);
  EXPECT_EQ(support, 5u);

  // The same through the matcher's scale source (--ScaleMatching.estimator gt).
  const std::string dir = test::MakeTempDir("gt_oracle");
  std::ofstream(dir + "/cameras.txt") << "1 PINHOLE 640 480 500 500 320 240\n"
                                      << "2 PINHOLE 640 480 2000 2000 320 240\n";
  std::ofstream images(dir + "/images.txt");
  images << "1 1 0 0 0 -1 0 0 1 im1.jpg\n\n2 1 0 0 0 -1 0 0 2 im2.jpg\n\n";
  images.close();
  std::ofstream points(dir + "/points3D.txt");
  for (size_t k = 0; k < gt.points.size(); ++k) {
    const Eigen::Vector3d& X = gt.points[k].xyz;
    points << k + 1 << " " << X.x() << " " << X.y() << " " << X.z() << " 0 0 0 0.1 1 " << k << " 2 "
           << k << "\n";
  }
  points.close();
  ScaleEstimatorOptions o;
  o.estimator = "gt";
  ScaleMatchingOptions matching;
  matching.estimator = o;
  EXPECT_THROW(matching.Check(), Error) << "gt without --ScaleMatching.gt_path";
  o.gt_path = dir;
  matching.estimator = o;
  EXPECT_NO_THROW(matching.Check());
  std::vector<Image> db_images(2);
  db_images[0].image_id = 7;
  db_images[0].name = "im1.jpg";
  db_images[1].image_id = 9;
  db_images[1].name = "im2.jpg";
  const auto source = MakeScaleSource(o, nullptr, db_images, "", true, 4);
  const Matches none;
  const ScaleEstimate e = source->Estimate(7, 9, [&]() -> const Matches& { return none; });
  EXPECT_NEAR(e.scale, 4.0, 1e-6);
  EXPECT_EQ(e.bin, NearestScaleBin(4.0));
  EXPECT_EQ(e.support, 30u);
  // An image the GT does not know is an error, not s = 1.
  db_images[1].name = "other.jpg";
  EXPECT_THROW(MakeScaleSource(o, nullptr, db_images, "", true, 4), Error);
  // eval_eth offers the oracle as a method.
  MethodConfig config;
  ASSERT_TRUE(ConfigureScalesfmMethod("scalesfm-gt", &config));
  EXPECT_EQ(config.scale.estimator.estimator, "gt");
}

}  // namespace
}  // namespace scalesfm
