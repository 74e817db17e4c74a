#include "eval_common/pose_metrics.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>

#include "tests/test_util.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

constexpr double kDeg = 180.0 / M_PI;

// A camera with world-to-camera rotation R and centre C (t = -R C).
ModelImage MakeImage(image_t id, const std::string& name, const Eigen::Matrix3d& R,
                     const Eigen::Vector3d& center) {
  ModelImage image;
  image.image_id = id;
  image.name = name;
  image.camera_id = 1;
  image.q = Eigen::Quaterniond(R);
  image.t = -R * center;
  return image;
}

Reconstruction MakeModel(const std::vector<ModelImage>& images) {
  Reconstruction model;
  model.cameras[1] = MakeDefaultCamera("PINHOLE", 640, 480, 500, false);
  model.cameras[1].camera_id = 1;
  for (const ModelImage& image : images) model.images[image.image_id] = image;
  return model;
}

Eigen::Matrix3d Rotation(double degrees, const Eigen::Vector3d& axis) {
  return Eigen::AngleAxisd(degrees / kDeg, axis.normalized()).toRotationMatrix();
}

TEST(PoseMetrics, GtAgainstItselfIsPerfect) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  const PoseAccuracy a = EvaluatePoses(gt, gt);
  EXPECT_DOUBLE_EQ(a.maa5, 1.0);
  EXPECT_DOUBLE_EQ(a.maa10, 1.0);
  EXPECT_EQ(a.num_registered, 8u);
  EXPECT_EQ(a.num_pairs, 28u);
  EXPECT_NEAR(a.median_rotation_deg, 0.0, 1e-5);
  EXPECT_NEAR(a.median_center_error, 0.0, 1e-9);
}

TEST(PoseMetrics, SimilarityTransformedEstimateIsPerfect) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  Reconstruction est = gt;
  // x' = s Q x + c: camera rotation R' = R Q^T, centre C' = s Q C + c.
  const Eigen::Matrix3d Q = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).matrix();
  const double s = 3.5;
  const Eigen::Vector3d c(4, -2, 1);
  for (auto& [id, image] : est.images) {
    const Eigen::Vector3d center = s * Q * image.Center() + c;
    const Eigen::Matrix3d R = image.R() * Q.transpose();
    image.q = Eigen::Quaterniond(R);
    image.t = -R * center;
  }
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_NEAR(a.maa10, 1.0, 1e-12);
  EXPECT_NEAR(a.median_center_error, 0.0, 1e-6);
}

TEST(PoseMetrics, OneImageRotatedBy20DegreesFailsExactlyItsPairs) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  Reconstruction est = gt;
  ModelImage& image = est.images.begin()->second;
  const Eigen::Vector3d center = image.Center();
  const Eigen::Matrix3d Rz =
      Eigen::AngleAxisd(20.0 * M_PI / 180.0, Eigen::Vector3d::UnitZ()).matrix();
  const Eigen::Matrix3d R = Rz * image.R();
  image.q = Eigen::Quaterniond(R);
  image.t = -R * center;
  const std::vector<PairPoseError> errors = ComputeRelativePoseErrors(gt, est);
  for (const auto& e : errors) {
    if (e.name1 == image.name || e.name2 == image.name) {
      EXPECT_NEAR(e.rotation_deg, 20.0, 1e-6);
    } else {
      EXPECT_LT(e.error_deg, 1e-4);
    }
  }
  // 8 images: 28 pairs, 7 contain the rotated image (error 20 deg > every threshold).
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_DOUBLE_EQ(a.maa10, 21.0 / 28.0);
  EXPECT_DOUBLE_EQ(a.maa5, 21.0 / 28.0);
}

TEST(PoseMetrics, UnregisteredImageFailsEveryPairItIsIn) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  Reconstruction est = gt;
  est.images.erase(est.images.begin());
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_EQ(a.num_registered, 7u);
  EXPECT_DOUBLE_EQ(a.maa10, 21.0 / 28.0);
}

TEST(PoseMetrics, EmptyEstimateIsZeroNotACrash) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  const PoseAccuracy a = EvaluatePoses(gt, Reconstruction());
  EXPECT_EQ(a.num_registered, 0u);
  EXPECT_DOUBLE_EQ(a.maa10, 0.0);
}

TEST(PoseMetrics, MaaAveragesThresholds) {
  std::vector<PairPoseError> errors(2);
  errors[0].error_deg = 0.5;  // below every threshold
  errors[1].error_deg = 4.5;  // below thresholds 5..10 only
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy(errors, 10), (4 * 0.5 + 6 * 1.0) / 10);
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy(errors, 5), (4 * 0.5 + 1.0) / 5);
}

PoseMetricOptions Signed() {
  PoseMetricOptions o;
  o.translation_angle = "signed";
  return o;
}

PoseMetricOptions Strict() {
  PoseMetricOptions o;
  o.thresholds = "strict";
  return o;
}

TEST(PoseMetrics, ReversedBaselineIsFoldedToZeroAsInImc) {
  // GT: b one unit to the right of a, same orientation: x_b = x_a + (-1, 0, 0), so the GT
  // relative translation is (-1, 0, 0). The estimate puts b to the left, 0.001 up: (1, 0.001, 0)
  // (b's centre (-1, -0.001, 0)). cos = -1 / sqrt(1 + 1e-6); IMC's evaluate_R_t folds it with
  // |cos|: atan(0.001) = 0.0573 deg; the signed angle is 180 - 0.0573 deg.
  const Eigen::Matrix3d I = Eigen::Matrix3d::Identity();
  const Reconstruction gt =
      MakeModel({MakeImage(1, "a", I, {0, 0, 0}), MakeImage(2, "b", I, {1, 0, 0})});
  const Reconstruction est =
      MakeModel({MakeImage(1, "a", I, {0, 0, 0}), MakeImage(2, "b", I, {-1, -0.001, 0})});
  const double folded = std::atan(0.001) * kDeg;
  const PairPoseError e = ComputeRelativePoseErrors(gt, est).at(0);
  EXPECT_NEAR(e.rotation_deg, 0.0, 1e-6);
  EXPECT_NEAR(e.translation_deg, folded, 1e-9);
  EXPECT_NEAR(e.error_deg, folded, 1e-9);
  EXPECT_DOUBLE_EQ(EvaluatePoses(gt, est).maa10, 1.0);  // 0.057 deg is within 1..10 deg
  EXPECT_NEAR(ComputeRelativePoseErrors(gt, est, Signed()).at(0).translation_deg, 180.0 - folded,
              1e-9);
  EXPECT_DOUBLE_EQ(EvaluatePoses(gt, est, Signed()).maa10, 0.0);
}

TEST(PoseMetrics, IdenticalPosesAreAFailNotAPass) {
  // GT: two cameras 2 units apart. Estimate: both at one pose (rotated, off the origin, so that
  // R R^T = I only up to rounding and the relative translation is ~1e-16, not exactly 0).
  // IMC's evaluate_R_t divides t by (|t| + 1e-15): the cosine is 0, err_t = arccos(0) = 90 deg,
  // a fail at every threshold. The signed convention scores 180 deg.
  const Eigen::Matrix3d R = Rotation(17, {1, 2, 3});
  const Reconstruction gt =
      MakeModel({MakeImage(1, "a", R, {0.3, -0.2, 2.5}), MakeImage(2, "b", R, {2.3, -0.2, 2.5})});
  const Reconstruction est =
      MakeModel({MakeImage(1, "a", R, {0.3, -0.2, 2.5}), MakeImage(2, "b", R, {0.3, -0.2, 2.5})});
  const PairPoseError e = ComputeRelativePoseErrors(gt, est).at(0);
  EXPECT_NEAR(e.rotation_deg, 0.0, 1e-5);
  EXPECT_EQ(e.translation_deg, 90.0);
  EXPECT_EQ(e.error_deg, 90.0);
  EXPECT_DOUBLE_EQ(EvaluatePoses(gt, est).maa10, 0.0);
  EXPECT_EQ(ComputeRelativePoseErrors(gt, est, Signed()).at(0).translation_deg, 180.0);
  EXPECT_DOUBLE_EQ(EvaluatePoses(gt, est, Signed()).maa10, 0.0);
  // A GT pair with no baseline fails whatever the estimate.
  EXPECT_EQ(ComputeRelativePoseErrors(est, gt).at(0).error_deg, 90.0);
}

TEST(PoseMetrics, AnErrorOfExactly10DegreesCountsAtThreshold10AsNpHistogram) {
  // IMC: np.histogram(errors, bins=arange(11)) has bins [0,1), ..., [8,9) and a closed [9,10];
  // cumulated, threshold t counts errors < t for t = 1..9 and errors <= 10 at t = 10.
  PairPoseError e;
  e.error_deg = 10.0;
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 10), 1.0 / 10);  // threshold 10 only
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 5), 0.0);
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 10, Strict()), 0.0);
  e.error_deg = 5.0;  // [5,6): counts at 6..10; not at 5, also not in mAA@5
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 10), 5.0 / 10);
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 5), 0.0);
  e.error_deg = 1.0;  // [1,2): thresholds 2..10
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 10), 9.0 / 10);
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 5), 4.0 / 5);
  e.error_deg = std::nextafter(10.0, 11.0);  // beyond the last bin
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({e}, 10), 0.0);
  EXPECT_FALSE(WithinThreshold(std::numeric_limits<double>::infinity(), 10, PoseMetricOptions()));
}

TEST(PoseMetrics, MissingImagesFailTheirPairsAtEveryThreshold) {
  // 4 GT images, 6 pairs; the estimate is the GT without d: the 3 pairs with d fail (IMC's
  // compute_stereo_metrics_from_colmap leaves them at inf), the other 3 are exact.
  const Reconstruction gt = MakeModel({MakeImage(1, "a", Rotation(0, {0, 0, 1}), {0, 0, 0}),
                                       MakeImage(2, "b", Rotation(10, {0, 1, 0}), {1, 0, 0}),
                                       MakeImage(3, "c", Rotation(20, {0, 1, 0}), {2, 0.5, 0}),
                                       MakeImage(4, "d", Rotation(30, {0, 1, 0}), {3, 0, 1})});
  Reconstruction est = gt;
  est.images.erase(4);
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_EQ(a.num_registered, 3u);
  EXPECT_EQ(a.num_pairs, 6u);
  EXPECT_DOUBLE_EQ(a.maa10, 3.0 / 6);
  EXPECT_DOUBLE_EQ(a.maa5, 3.0 / 6);
  size_t failed = 0;
  for (const PairPoseError& e : a.errors) failed += std::isinf(e.error_deg);
  EXPECT_EQ(failed, 3u);
}

// COLMAP's binary model format, so that a pose can be NaN (the text reader rejects "nan").
void WriteBinaryModel(const Reconstruction& model, const std::string& dir) {
  fs::create_directories(dir);
  auto put = [](std::ofstream& out, auto value) {
    out.write(reinterpret_cast<const char*>(&value), sizeof(value));
  };
  std::ofstream cameras(dir + "/cameras.bin", std::ios::binary);
  put(cameras, uint64_t(model.cameras.size()));
  for (const auto& [id, c] : model.cameras) {
    put(cameras, uint32_t(id));
    put(cameras, int32_t(c.model_id));
    put(cameras, uint64_t(c.width));
    put(cameras, uint64_t(c.height));
    for (double p : c.params) put(cameras, p);
  }
  std::ofstream images(dir + "/images.bin", std::ios::binary);
  put(images, uint64_t(model.images.size()));
  for (const auto& [id, im] : model.images) {
    put(images, uint32_t(id));
    for (double v : {im.q.w(), im.q.x(), im.q.y(), im.q.z(), im.t.x(), im.t.y(), im.t.z()}) {
      put(images, v);
    }
    put(images, uint32_t(im.camera_id));
    images.write(im.name.c_str(), im.name.size() + 1);
    put(images, uint64_t(0));  // no 2D points
  }
  std::ofstream points(dir + "/points3D.bin", std::ios::binary);
  put(points, uint64_t(0));
}

TEST(PoseMetrics, BestModelHasTheMostImagesAndFinitePosesAsGetBestColmapIndex) {
  // sparse/0: 2 images; sparse/1: 3 images; sparse/2: 4 images, one pose NaN. IMC's
  // get_best_colmap_index skips 2 (is_colmap_img_valid) and takes the most images: 1.
  const Reconstruction gt = MakeModel({MakeImage(1, "a", Rotation(0, {0, 0, 1}), {0, 0, 0}),
                                       MakeImage(2, "b", Rotation(10, {0, 1, 0}), {1, 0, 0}),
                                       MakeImage(3, "c", Rotation(20, {0, 1, 0}), {2, 0.5, 0}),
                                       MakeImage(4, "d", Rotation(30, {0, 1, 0}), {3, 0, 1})});
  const std::string sparse = test::MakeTempDir("best_model") + "/sparse";
  Reconstruction two = gt, three = gt, four = gt;
  two.images.erase(3);
  two.images.erase(4);
  three.images.erase(4);
  four.images[4].t.x() = std::numeric_limits<double>::quiet_NaN();
  WriteBinaryModel(two, sparse + "/0");
  WriteBinaryModel(three, sparse + "/1");
  WriteBinaryModel(four, sparse + "/2");
  EXPECT_FALSE(HasFinitePoses(Reconstruction::Read(sparse + "/2")));
  EXPECT_EQ(BestModelPath(sparse), sparse + "/1");
  EXPECT_EQ(BestModelPath(sparse + "/none"), "");

  // evaluate_model on the folder scores sparse/1: 3 of 4 GT images, 3 of 6 pairs exact.
  const std::string gt_dir = test::MakeTempDir("best_model_gt");
  WriteBinaryModel(gt, gt_dir);
  std::string log;
  ASSERT_EQ(test::RunCommand(test::ScalesfmBinary() + " evaluate_model --model_path " + sparse +
                                 " --gt_path " + gt_dir,
                             &log),
            0)
      << log;
  EXPECT_NE(log.find("Registered GT images: 3 / 4"), std::string::npos) << log;
  EXPECT_NE(log.find("mAA@5: 0.5000  mAA@10: 0.5000  (6 pairs)"), std::string::npos) << log;
}

// The hand-built models of the independent check (scripts/check_imc_metrics.py): 6 cameras on an
// arc looking at the origin.
Reconstruction CheckGt() {
  std::vector<ModelImage> images;
  for (int k = 0; k < 6; ++k) {
    const double a = (-40 + 16 * k) / kDeg;
    const Eigen::Vector3d center(6 * std::sin(a), 0.3 * k - 0.8, -6 * std::cos(a));
    const Eigen::Vector3d z = -center.normalized();
    const Eigen::Vector3d x = Eigen::Vector3d::UnitY().cross(z).normalized();
    Eigen::Matrix3d R;
    R.row(0) = x;
    R.row(1) = z.cross(x);
    R.row(2) = z;
    images.push_back(MakeImage(k + 1, "im" + std::to_string(k) + ".jpg", R, center));
  }
  return MakeModel(images);
}

void WriteTextModel(const Reconstruction& model, const std::string& dir) {
  fs::create_directories(dir);
  std::ofstream cameras(dir + "/cameras.txt");
  for (const auto& [id, c] : model.cameras) {
    cameras << id << " PINHOLE " << c.width << " " << c.height << " " << c.params[0] << " "
            << c.params[1] << " " << c.params[2] << " " << c.params[3] << "\n";
  }
  std::ofstream images(dir + "/images.txt");
  images.precision(17);
  for (const auto& [id, im] : model.images) {
    images << id << " " << im.q.w() << " " << im.q.x() << " " << im.q.y() << " " << im.q.z() << " "
           << im.t.x() << " " << im.t.y() << " " << im.t.z() << " " << im.camera_id << " "
           << im.name << "\n\n";
  }
  std::ofstream(dir + "/points3D.txt") << "";
}

// The four estimates: a perturbed copy (image k turned by 1.3 k deg, centre moved by 0.04 k), a
// reversed baseline (every centre mirrored through the origin, rotations kept), identical poses
// (every image at image 0's pose) and a Sim(3) copy (x' = 2.5 Q x + c).
std::vector<std::pair<std::string, Reconstruction>> CheckEstimates(const Reconstruction& gt) {
  Reconstruction perturbed = gt, reversed = gt, identical = gt, similar = gt;
  const Eigen::Matrix3d Q = Rotation(40, {1, -2, 0.5});
  const Eigen::Vector3d c(3, 1, -2);
  for (auto& [id, image] : perturbed.images) {
    const double k = id - 1;
    image = MakeImage(id, image.name, Rotation(1.3 * k, {0.2, 1, 0.1}) * image.R(),
                      image.Center() + 0.04 * k * Eigen::Vector3d(1, -1, 0.5));
  }
  for (auto& [id, image] : reversed.images) {
    image = MakeImage(id, image.name, image.R(), -image.Center());
  }
  for (auto& [id, image] : identical.images) {
    const std::string name = image.name;
    image = gt.images.at(1);
    image.image_id = id;
    image.name = name;
  }
  for (auto& [id, image] : similar.images) {
    image = MakeImage(id, image.name, image.R() * Q.transpose(), 2.5 * Q * image.Center() + c);
  }
  return {{"perturbed", perturbed},
          {"reversed", reversed},
          {"identical", identical},
          {"sim3", similar}};
}

bool HaveNumpy() { return test::RunCommand("/usr/bin/python3 -c 'import numpy'") == 0; }

TEST(PoseMetrics, EvaluateModelAgreesWithTheIndependentNumpyCheck) {
  if (!HaveNumpy()) GTEST_SKIP() << "python3 with numpy is not installed";
  const std::string dir = test::MakeTempDir("imc_check");
  const Reconstruction gt = CheckGt();
  WriteTextModel(gt, dir + "/gt");
  const std::string script = std::string(SCALESFM_SOURCE_DIR) + "/scripts/check_imc_metrics.py";
  const std::regex numpy_line("pairs (\\d+)  mAA@5 ([0-9.]+)  mAA@10 ([0-9.]+)");
  const std::regex cli_line("mAA@5: ([0-9.]+)  mAA@10: ([0-9.]+)");
  for (const auto& [name, estimate] : CheckEstimates(gt)) {
    SCOPED_TRACE(name);
    WriteTextModel(estimate, dir + "/" + name);
    std::string numpy_out, cli_out;
    ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + script + " " + dir + "/gt " + dir + "/" + name,
                               &numpy_out),
              0)
        << numpy_out;
    ASSERT_EQ(test::RunCommand(test::ScalesfmBinary() + " evaluate_model --model_path " + dir +
                                   "/" + name + " --gt_path " + dir + "/gt",
                               &cli_out),
              0)
        << cli_out;
    std::smatch n, c;
    ASSERT_TRUE(std::regex_search(numpy_out, n, numpy_line)) << numpy_out;
    ASSERT_TRUE(std::regex_search(cli_out, c, cli_line)) << cli_out;
    EXPECT_EQ(n[1], "15");
    const PoseAccuracy in_process = EvaluatePoses(gt, Reconstruction::Read(dir + "/" + name));
    EXPECT_NEAR(std::stod(c[1]), std::stod(n[2]), 1e-3) << numpy_out << cli_out;
    EXPECT_NEAR(std::stod(c[2]), std::stod(n[3]), 1e-3) << numpy_out << cli_out;
    EXPECT_NEAR(in_process.maa5, std::stod(n[2]), 1e-3);
    EXPECT_NEAR(in_process.maa10, std::stod(n[3]), 1e-3);
    std::cout << name << ": numpy " << n[0] << "; evaluate_model " << c[0] << "\n";
  }
}

}  // namespace
}  // namespace scalesfm
