// IMC protocol pieces: co-visibility, bag sampling and counts, the bags' imported pairs, the
// registered fraction, the stereo pose error and its failure rule.
#include "eval_imc/imc_evaluation.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <tuple>

#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(ImcBags, AreDistinctSortedDeterministicAndBounded) {
  const auto bags = SampleBags(19, 5, 19, 0);
  ASSERT_EQ(bags.size(), 19u);
  std::set<std::vector<int>> distinct(bags.begin(), bags.end());
  EXPECT_EQ(distinct.size(), bags.size());
  for (const auto& bag : bags) {
    EXPECT_EQ(bag.size(), 5u);
    EXPECT_TRUE(std::is_sorted(bag.begin(), bag.end()));
    EXPECT_GE(bag.front(), 0);
    EXPECT_LT(bag.back(), 19);
  }
  EXPECT_EQ(SampleBags(19, 5, 19, 0), bags);
  EXPECT_NE(SampleBags(19, 5, 19, 1), bags);
  // Only C(6,5) = 6 distinct bags exist.
  EXPECT_EQ(SampleBags(6, 5, 100, 0).size(), 6u);
  EXPECT_TRUE(SampleBags(4, 5, 3, 0).empty());
}

TEST(ImcBags, DefaultCountsScaleTheIMCCountsToTheScene) {
  EXPECT_EQ(DefaultBagCount(100, 5), 100);
  EXPECT_EQ(DefaultBagCount(100, 10), 50);
  EXPECT_EQ(DefaultBagCount(100, 25), 25);
  EXPECT_EQ(DefaultBagCount(19, 5), 19);
  EXPECT_EQ(DefaultBagCount(19, 10), 10);
  EXPECT_EQ(DefaultBagCount(10, 10), 1);  // one distinct bag
  EXPECT_EQ(DefaultBagCount(8, 5), 8);
}

struct StereoScene {
  Camera camera;
  ModelImage a, b;
  std::vector<Eigen::Vector2d> pa, pb;
};

// Points at depth `depth` +- half of it in front of camera a, seen by both cameras (640 x 480,
// f = 500); b is turned by 0.2 rad and one unit away.
void AddStereoPoints(StereoScene* s, int num_points, double depth, double noise_px,
                     double outlier_fraction, std::mt19937* rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> n(0, std::max(noise_px, 1e-300));
  auto project = [&](const ModelImage& im, const Eigen::Vector3d& x) {
    const Eigen::Vector3d c = im.R() * x + im.t;
    return Eigen::Vector2d(500 * c.x() / c.z() + 320, 500 * c.y() / c.z() + 240);
  };
  for (int added = 0; added < num_points;) {
    const double z = depth * (1 + 0.5 * u(*rng));
    const Eigen::Vector3d x(0.5 * z * u(*rng), 0.33 * z * u(*rng), z);
    const Eigen::Vector2d p1 = project(s->a, x), p2 = project(s->b, x);
    if (p1.x() < 0 || p1.x() > 640 || p2.x() < 0 || p2.x() > 640) continue;
    const Eigen::Vector2d noise1(noise_px > 0 ? n(*rng) : 0, noise_px > 0 ? n(*rng) : 0);
    const Eigen::Vector2d noise2(noise_px > 0 ? n(*rng) : 0, noise_px > 0 ? n(*rng) : 0);
    s->pa.push_back(p1 + noise1);
    if (u(*rng) * 0.5 + 0.5 < outlier_fraction) {
      s->pb.emplace_back(320 + 300 * u(*rng), 240 + 220 * u(*rng));
    } else {
      s->pb.push_back(p2 + noise2);
    }
    ++added;
  }
}

StereoScene MakeStereoCameras() {
  StereoScene s;
  s.camera = MakeDefaultCamera("PINHOLE", 640, 480, 500, false);
  s.a.name = "a";
  s.b.name = "b";
  s.b.q = Eigen::Quaterniond(Eigen::AngleAxisd(0.2, Eigen::Vector3d(0.1, 1, 0).normalized()));
  s.b.t = Eigen::Vector3d(-1, 0.1, 0.2);
  return s;
}

StereoScene MakeStereoScene(int num_points, double noise_px, double outlier_fraction) {
  StereoScene s = MakeStereoCameras();
  std::mt19937 rng(3);
  AddStereoPoints(&s, num_points, 6, noise_px, outlier_fraction, &rng);
  return s;
}

// The defaults (IMC's rule), or another --stereo_failure.
ImcEvaluationOptions StereoOptions(const std::string& failure = "") {
  ImcEvaluationOptions o;
  if (!failure.empty()) o.stereo_failure = failure;
  return o;
}

TEST(ImcStereo, RecoversTheGtRelativePoseDespiteOutliers) {
  const StereoScene s = MakeStereoScene(300, 0.3, 0.3);
  const PairPoseError e =
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, s.b, StereoOptions());
  EXPECT_LT(e.rotation_deg, 0.5);
  EXPECT_LT(e.translation_deg, 1.5);
  EXPECT_EQ(e.error_deg, std::max(e.rotation_deg, e.translation_deg));
}

TEST(ImcStereo, TooFewMatchesFailThePair) {
  const StereoScene s = MakeStereoScene(4, 0, 0);
  const PairPoseError e =
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, s.b, StereoOptions());
  EXPECT_TRUE(std::isinf(e.error_deg));
  EXPECT_EQ(MeanAverageAccuracy({e}, 10), 0.0);
}

TEST(ImcStereo, FewPointsInFrontOfBothCamerasAreScoredNotFailed) {
  // 200 exact matches of points ~200 baselines away and 3 at ~6: every match is an inlier of
  // the essential matrix, but recoverPose counts only points closer than 50 baselines, so just
  // the 3 near ones are "in front" (and pick the right decomposition). IMC's
  // eval_essential_matrix fails a pair only below 5 inliers and scores recoverPose's pose; the
  // earlier rule failed below 5 points in front.
  StereoScene s = MakeStereoCameras();
  std::mt19937 rng(5);
  AddStereoPoints(&s, 200, 200, 0, 0, &rng);
  AddStereoPoints(&s, 3, 6, 0, 0, &rng);
  const PairPoseError imc =
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, s.b, StereoOptions());
  EXPECT_LT(imc.error_deg, 1.0);
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy({imc}, 10), 1.0);
  const PairPoseError cheirality =
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, s.b, StereoOptions("cheirality"));
  EXPECT_TRUE(std::isinf(cheirality.error_deg));
}

TEST(ImcStereo, ZeroGtTranslationIsAFailOf90Degrees) {
  // The matches come from a real pair, but the GT puts both images at one pose: IMC's
  // evaluate_R_t gives t_gt / (0 + eps) = 0, cos 0, err_t = 90 deg (the earlier code: inf).
  StereoScene s = MakeStereoScene(300, 0.3, 0.1);
  ModelImage same = s.a;
  same.name = "b";
  const PairPoseError e =
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, same, StereoOptions());
  EXPECT_EQ(e.translation_deg, 90.0);
  EXPECT_EQ(e.error_deg, 90.0);
  EXPECT_EQ(MeanAverageAccuracy({e}, 10), 0.0);
  ImcEvaluationOptions signed_angle = StereoOptions();
  signed_angle.metric.translation_angle = "signed";
  EXPECT_EQ(StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, same, signed_angle).error_deg,
            180.0);
}

TEST(ImcStereo, ReversedEstimatedBaselineIsFolded) {
  // The same pair, the GT baseline reversed (b's translation negated, so the GT relative
  // translation is reversed): folded, the estimate is still within a degree.
  StereoScene s = MakeStereoScene(300, 0.3, 0.1);
  ModelImage reversed = s.b;
  reversed.t = -s.b.t;
  const PairPoseError e =
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, reversed, StereoOptions());
  EXPECT_LT(e.translation_deg, 1.5);
  ImcEvaluationOptions signed_angle = StereoOptions();
  signed_angle.metric.translation_angle = "signed";
  EXPECT_GT(
      StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, reversed, signed_angle).translation_deg,
      178.5);
}

// Three images, PINHOLE 200 x 100: a (f 100) at the origin, b (f 50) one unit to the right, c
// (f 100) one unit up. Points at depth 10.
Reconstruction CovisibilityGt() {
  Reconstruction gt;
  Camera wide = MakeDefaultCamera("PINHOLE", 200, 100, 100, false);
  Camera narrow = MakeDefaultCamera("PINHOLE", 200, 100, 50, false);
  wide.camera_id = 1;
  narrow.camera_id = 2;
  gt.cameras[1] = wide;
  gt.cameras[2] = narrow;
  const std::vector<std::tuple<image_t, std::string, camera_t, Eigen::Vector3d>> images = {
      {1, "a", 1, {0, 0, 0}}, {2, "b", 2, {-1, 0, 0}}, {3, "c", 1, {0, -1, 0}}};
  for (const auto& [id, name, camera, t] : images) {
    ModelImage im;
    im.image_id = id;
    im.name = name;
    im.camera_id = camera;
    im.t = t;
    gt.images[id] = im;
  }
  return gt;
}

TEST(ImcCovisibility, SharedPointsAndTheSmallerBoundingBoxRatio) {
  const Reconstruction gt = CovisibilityGt();
  Reconstruction points = gt;
  auto add = [&](double x, double y, std::vector<image_t> track) {
    ModelPoint p;
    p.xyz = Eigen::Vector3d(x, y, 10);
    p.track_images = track;
    p.track_length = track.size();
    points.points.push_back(p);
  };
  // Four corners seen by a and b. In a: u = 10 x + 100, v = 10 y + 50 -> u 80..120, v 40..60,
  // a 40 x 20 box of the 200 x 100 image: 0.04. In b: u = 5 (x + 1) + 100, v = 5 y + 50 ->
  // u 95..115, v 45..55: 20 x 10, 0.01. The pair's ratio is the smaller, 0.01.
  for (double x : {-2.0, 2.0}) {
    for (double y : {-1.0, 1.0}) add(x, y, {1, 2});
  }
  // One point seen by a, b (listed twice, as a track may) and c; in c: v = 10 (y + 1) + 50.
  add(0, 0, {1, 2, 2, 3});
  const CovisibilityTable table = CovisibilityTable::Compute(gt, points);
  EXPECT_EQ(table.Get("a", "b").shared_points, 5u);
  EXPECT_DOUBLE_EQ(table.Get("a", "b").ratio, std::min(40.0 * 20 / 20000, 20.0 * 10 / 20000));
  EXPECT_EQ(table.Get("b", "a").shared_points, 5u);
  EXPECT_EQ(table.Get("a", "c").shared_points, 1u);
  EXPECT_DOUBLE_EQ(table.Get("a", "c").ratio, 0.0);  // one point: a box of no area
  EXPECT_EQ(table.Get("b", "c").shared_points, 1u);
  EXPECT_EQ(table.Get("a", "zzz").shared_points, 0u);
  // IMC's compute_image_pairs: co-visible with more than vis_th shared points.
  EXPECT_TRUE(table.Covisible("a", "b", 4));
  EXPECT_FALSE(table.Covisible("a", "b", 5));
}

TEST(ImcCovisibility, BagsImportOnlyPairsAboveVisTh) {
  // IMC's run_colmap_for_bag imports the pairs with visibility > vis_th = 100.
  CovisibilityTable table;
  table.Set("a", "b", {101, 0.5});
  table.Set("a", "c", {100, 0.5});
  table.Set("b", "c", {250, 0.5});
  const std::vector<std::string> names = {"a", "b", "c", "d"};
  const CovisibilityMatrix covisible =
      MakeCovisibilityMatrix(names, table, ImcEvaluationOptions().vis_th);
  EXPECT_TRUE(covisible[0][1]);
  EXPECT_FALSE(covisible[0][2]);  // exactly 100 is not above
  EXPECT_TRUE(covisible[2][1]);
  EXPECT_FALSE(covisible[3][0]);
  EXPECT_FALSE(covisible[1][1]);
  // Bag {a, b, c, d}: of its 6 pairs only a-b and b-c go into its database.
  const std::vector<std::pair<int, int>> imported = ImportedBagPairs({0, 1, 2, 3}, covisible);
  EXPECT_EQ(imported, (std::vector<std::pair<int, int>>{{0, 1}, {1, 2}}));
  // --vis_th -1: every pair, as before.
  EXPECT_EQ(ImportedBagPairs({0, 1, 2, 3}, MakeCovisibilityMatrix(names, table, -1)).size(), 6u);
}

TEST(ImcBags, CovisibleBagsContainOnlyCovisibleImages) {
  // 10 images: 0-4 all co-visible, 5-7 all co-visible, 8 co-visible with 0 only, 9 with none.
  // Bags of 4 are unions of co-visible triplets sharing an image: exactly the 5 subsets of
  // {0..4} of 4 images (5-7 has one triplet, 8 and 9 are in none).
  CovisibilityMatrix c(10, std::vector<bool>(10, false));
  auto link = [&](int i, int j) { c[i][j] = c[j][i] = true; };
  for (int i = 0; i < 5; ++i) {
    for (int j = i + 1; j < 5; ++j) link(i, j);
  }
  link(5, 6);
  link(5, 7);
  link(6, 7);
  link(0, 8);
  const ImcEvaluationOptions defaults;
  const auto bags = SampleImcBags(c, 4, 100, defaults);
  const std::set<std::vector<int>> expected = {
      {0, 1, 2, 3}, {0, 1, 2, 4}, {0, 1, 3, 4}, {0, 2, 3, 4}, {1, 2, 3, 4}};
  EXPECT_EQ(std::set<std::vector<int>>(bags.begin(), bags.end()), expected);
  EXPECT_EQ(bags.size(), 5u);
  // Bags of 3: the 10 triplets of {0..4} and {5, 6, 7}; every image co-visible with the other
  // two.
  const auto triplets = SampleImcBags(c, 3, 100, defaults);
  EXPECT_EQ(triplets.size(), 11u);
  for (const auto& bag : triplets) {
    for (int i : bag) {
      int partners = 0;
      for (int j : bag) partners += c[i][j];
      EXPECT_EQ(partners, 2) << i;
    }
  }
  // No 6 images are joined by co-visible triplets.
  EXPECT_TRUE(SampleImcBags(c, 6, 10, defaults).empty());
  // The uniform sampler of before draws any subset, isolated images included.
  ImcEvaluationOptions uniform;
  uniform.bag_sampling = "uniform";
  bool isolated = false;
  for (const auto& bag : SampleImcBags(c, 4, 100, uniform)) {
    isolated |= std::count(bag.begin(), bag.end(), 9) > 0;
  }
  EXPECT_TRUE(isolated);
  EXPECT_EQ(SampleImcBags(c, 4, 100, defaults), bags);  // deterministic
}

TEST(ImcBags, LargerCovisibleBagsAreConnectedThroughSharedImages) {
  // A chain of triplets {0,1,2}, {2,3,4}, {4,5,6}, ...: a bag of 7 must be 3 consecutive ones.
  CovisibilityMatrix c(11, std::vector<bool>(11, false));
  for (int s = 0; s + 2 < 11; s += 2) {
    for (int i = s; i < s + 3; ++i) {
      for (int j = i + 1; j < s + 3; ++j) c[i][j] = c[j][i] = true;
    }
  }
  const auto bags = SampleCovisibleBags(c, 7, 100, 0);
  ASSERT_EQ(bags.size(), 3u);  // starting at 0, 2 and 4
  for (const auto& bag : bags) {
    for (size_t k = 1; k < bag.size(); ++k) EXPECT_EQ(bag[k], bag[0] + static_cast<int>(k));
  }
}

TEST(ImcRegistration, BagsWithoutAModelAreLeftOutAsAvgNumCameras) {
  // Bags of 5: 5 registered, no model, 3 registered. IMC (avg_num_cameras over the bags with a
  // model) / 5: (5 + 3) / 2 / 5 = 0.8, one bag without a model; the earlier rule: (5 + 0 + 3) /
  // 3 / 5.
  ImcEvaluationOptions o;
  ImcResult r;
  SummariseRegistration({5, -1, 3}, 5, o, &r);
  EXPECT_DOUBLE_EQ(r.registered_fraction, (5.0 + 3.0) / 2 / 5);
  EXPECT_EQ(r.num_bags_without_model, 1u);
  o.registered_fraction = "all_bags";
  SummariseRegistration({5, -1, 3}, 5, o, &r);
  EXPECT_DOUBLE_EQ(r.registered_fraction, (5.0 + 0 + 3.0) / 3 / 5);
  EXPECT_EQ(r.num_bags_without_model, 1u);
  SummariseRegistration({-1, -1}, 5, ImcEvaluationOptions(), &r);
  EXPECT_DOUBLE_EQ(r.registered_fraction, 0.0);
  EXPECT_EQ(r.num_bags_without_model, 2u);
}

TEST(ImcRegistration, OneAverageOverBagSizes) {
  // IMC's average_multiview_over_bags: the plain mean over bag sizes.
  ImcResult five, ten;
  five.dataset = ten.dataset = "scene";
  five.method = ten.method = "m";
  five.num_items = 11;
  ten.num_items = 6;
  five.maa10 = 0.6;
  ten.maa10 = 0.9;
  five.maa5 = 0.4;
  ten.maa5 = 0.8;
  five.registered_fraction = 0.8;
  ten.registered_fraction = 1.0;
  five.num_bags_without_model = 2;
  const ImcResult average = AverageOverBagSizes({five, ten});
  EXPECT_EQ(average.task, "multiview");
  EXPECT_EQ(average.dataset, "scene");
  EXPECT_EQ(average.num_items, 17u);
  EXPECT_DOUBLE_EQ(average.maa10, (0.6 + 0.9) / 2);
  EXPECT_DOUBLE_EQ(average.maa5, (0.4 + 0.8) / 2);
  EXPECT_DOUBLE_EQ(average.registered_fraction, (0.8 + 1.0) / 2);
  EXPECT_EQ(average.num_bags_without_model, 2u);
}

TEST(ImcOptions, BadInputIsAClearError) {
  ImcEvaluationOptions o;
  o.output_path = "/tmp/x";
  EXPECT_THROW(o.Check(), Error);  // no dataset
  o.dataset_paths = {"/nonexistent_scalesfm_dataset"};
  try {
    o.Check();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no images/ folder"), std::string::npos) << e.what();
  }
}

TEST(ImcEvaluation, SyntheticSceneScoresHighOnBothTasks) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  ImcEvaluationOptions o;
  o.dataset_paths = {test::SyntheticSceneDir()};
  o.output_path = test::MakeTempDir("imc");
  o.methods = {"scalesfm"};
  // GT intrinsics: this checks the protocol's rows, not self-calibration. (With the default
  // free intrinsics, this 8-image scene's co-visible bags of 5, short-baseline clusters, score
  // 0.565: docs/BENCHMARKS.md, issue 31.)
  o.intrinsics = "gt";
  o.max_num_features = 2048;
  o.bag_sizes = {5, 25};
  o.bag_counts = {2, 1};
  // Every pair of this scene has a co-visibility ratio of 0.28-0.84, above the default 0.1:
  // 0.5 makes the headline a strict subset of the pairs.
  o.covisibility_th = 0.5;
  const std::vector<ImcResult> results = RunImcEvaluation(o, ColmapRunner());
  // Stereo over co-visible pairs and over all; bags of 5 and their average; 25 > 8 images is
  // skipped.
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].task, "stereo-covis0.5");
  EXPECT_EQ(results[1].task, "stereo-all");
  EXPECT_EQ(results[1].num_items, 28u);
  EXPECT_GT(results[0].num_items, 5u);
  EXPECT_LT(results[0].num_items, 28u);
  EXPECT_GE(results[1].maa10, 0.5);  // measured 0.67: pairs with little overlap fail
  EXPECT_EQ(results[2].task, "multiview-5");
  EXPECT_EQ(results[2].num_items, 2u);
  EXPECT_GE(results[2].maa10, 0.9);
  EXPECT_DOUBLE_EQ(results[2].registered_fraction, 1.0);
  EXPECT_EQ(results[2].num_bags_without_model, 0u);
  EXPECT_EQ(results[3].task, "multiview");
  EXPECT_DOUBLE_EQ(results[3].maa10, results[2].maa10);  // one bag size ran
  for (const char* f : {"imc_results.csv", "imc_results.json", "imc_results.md"}) {
    EXPECT_TRUE(std::filesystem::exists(o.output_path + "/" + f)) << f;
  }
  std::ifstream md(o.output_path + "/imc_results.md");
  std::string first_line;
  std::getline(md, first_line);
  EXPECT_EQ(first_line, FormatImcDefinitions(o));
  // The GT co-visibility came from a triangulation with the GT poses (the scene has no points).
  EXPECT_TRUE(std::filesystem::exists(
      o.output_path + "/" + std::filesystem::path(test::SyntheticSceneDir()).filename().string() +
      "/gt_triangulation/model"));
}

}  // namespace
}  // namespace scalesfm
