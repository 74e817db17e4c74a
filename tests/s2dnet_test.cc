// S2DNet: network shapes, the correspondence-map argmax on shifted maps and images, the cyclic
// check, keypoint snapping and deduplication, shared keypoint ids across partners (tracks), one
// training step, and clear errors for bad weights.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "colmap_ext/database.h"
#include "matching/keypoint_snapper.h"
#include "matching/matching_controller.h"
#include "matching/s2d_correspondence.h"
#include "matching/s2dnet_matcher.h"
#include "matching/s2dnet_model.h"
#include "tests/test_util.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {
namespace F = torch::nn::functional;

// Hand-made dense maps of a window of a smooth random field: level 1 is the field, levels 2
// and 3 its 4x4 and 16x16 averages, so a shifted window gives shifted maps.
// `coarse_weight` scales levels 2 and 3.
DenseMaps FieldMaps(const torch::Tensor& field, int x0, int y0, int w, int h,
                    double coarse_weight = 1) {
  DenseMaps maps;
  const torch::Tensor full = field.slice(2, y0, y0 + h).slice(3, x0, x0 + w).contiguous();
  maps.levels = {full, F::avg_pool2d(full, F::AvgPool2dFuncOptions(4)) * coarse_weight,
                 F::avg_pool2d(full, F::AvgPool2dFuncOptions(16)) * coarse_weight};
  maps.width = w;
  maps.height = h;
  return maps;
}

torch::Tensor SmoothField(int d, int h, int w) {
  torch::manual_seed(3);
  torch::Tensor noise = torch::randn({1, d, h, w});
  // Smooth with a 7x7 box twice, then normalise per pixel.
  for (int i = 0; i < 2; ++i) {
    noise = F::avg_pool2d(noise, F::AvgPool2dFuncOptions(7).stride(1).padding(3));
  }
  return F::normalize(noise, F::NormalizeFuncOptions().dim(1)) * 4;
}

TEST(S2DNetModel, CompactShapesFollowFigure3) {
  torch::manual_seed(0);
  S2DNet model(S2DNetConfig::Compact());
  model->eval();
  const std::vector<torch::Tensor> maps = model->forward(torch::rand({2, 1, 64, 96}));
  ASSERT_EQ(maps.size(), 3u);
  const int d = S2DNetConfig::Compact().descriptor_dim;
  EXPECT_EQ(maps[0].sizes(), torch::IntArrayRef({2, d, 64, 96}));  // conv1_2: full resolution
  EXPECT_EQ(maps[1].sizes(), torch::IntArrayRef({2, d, 16, 24}));  // conv3_3: 1/4
  EXPECT_EQ(maps[2].sizes(), torch::IntArrayRef({2, d, 4, 6}));    // conv5_3: 1/16
}

TEST(S2DNetModel, PaperConfigHasTheOfficialNamesAndWidths) {
  S2DNet model(S2DNetConfig::Paper());
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : model->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  EXPECT_EQ(shapes.at("encoder.0.weight"), (std::vector<int64_t>{64, 3, 3, 3}));      // conv1_1
  EXPECT_EQ(shapes.at("encoder.28.weight"), (std::vector<int64_t>{512, 512, 3, 3}));  // conv5_3
  EXPECT_EQ(shapes.at("adaptation_layers.adap_layer_0.0.weight"),
            (std::vector<int64_t>{64, 64, 1, 1}));
  EXPECT_EQ(shapes.at("adaptation_layers.adap_layer_1.0.weight"),
            (std::vector<int64_t>{64, 256, 1, 1}));
  EXPECT_EQ(shapes.at("adaptation_layers.adap_layer_2.2.weight"),
            (std::vector<int64_t>{128, 64, 5, 5}));
  EXPECT_EQ(shapes.at("adaptation_layers.adap_layer_2.3.weight"), (std::vector<int64_t>{128}));
  EXPECT_EQ(shapes.size(), 13u * 2 + 3u * 6);  // 13 convs; per level 2 convs + BN weight/bias
}

TEST(S2DCorrespondence, ArgmaxRecoversAShiftToOnePixel) {
  const torch::Tensor field = SmoothField(16, 160, 200);
  const int dx = 13, dy = 7;  // B's window starts (dx, dy) further: p_B = p_A - (dx, dy)
  const DenseMaps a = FieldMaps(field, 0, 0, 176, 144);
  const DenseMaps b = FieldMaps(field, dx, dy, 176, 144);
  std::vector<float> xy;
  for (int y = 30; y < 130; y += 17) {
    for (int x = 30; x < 160; x += 19) xy.insert(xy.end(), {float(x), float(y)});
  }
  const int64_t n = static_cast<int64_t>(xy.size() / 2);
  const torch::Tensor points = torch::from_blob(xy.data(), {n, 2}, torch::kFloat32).clone();
  SparseToDenseOptions options;
  options.confidence_threshold = 0;
  options.chunk_size = 7;  // several chunks
  const Correspondences c = FindCorrespondences(SampleSparseDescriptors(a, points), b, options);
  const torch::Tensor expected = points - torch::tensor({float(dx), float(dy)});
  const torch::Tensor error = std::get<0>((c.points - expected).abs().max(1));
  EXPECT_LE(error.max().item<float>(), 1.0f);
  // The full-resolution map of eq. 2 peaks at the same place.
  const torch::Tensor full = CorrespondenceMaps(SampleSparseDescriptors(a, points), b);
  const torch::Tensor arg = full.view({n, -1}).argmax(1);
  const torch::Tensor fx = torch::remainder(arg, b.padded_width()).to(torch::kFloat32);
  const torch::Tensor fy = torch::div(arg, b.padded_width(), "floor").to(torch::kFloat32);
  EXPECT_LE((torch::stack({fx, fy}, 1) - expected).abs().max().item<float>(), 1.0f);
}

// B's maps resample the field at a fractional shift, so the true match lies between pixels: the
// parabola-refined peak must land closer to it than the paper's integer argmax. The pooled
// levels 2 and 3 are damped: their 4 and 16 px cells fall at another phase in A and B, which
// biases the summed map's peak by a fraction of a pixel and would hide what is under test.
TEST(S2DCorrespondence, SubpixelPeakRecoversAFractionalShift) {
  const torch::Tensor field = SmoothField(16, 160, 200);
  const float dx = 13.4f, dy = 7.3f;
  const int w = 176, h = 144;
  const torch::Tensor gx = ((torch::arange(w, torch::kFloat32) + dx + 0.5f) / 200 * 2 - 1);
  const torch::Tensor gy = ((torch::arange(h, torch::kFloat32) + dy + 0.5f) / 160 * 2 - 1);
  const torch::Tensor grid =
      torch::stack({gx.view({1, w}).expand({h, w}), gy.view({h, 1}).expand({h, w})}, 2)
          .unsqueeze(0);
  const torch::Tensor shifted =
      F::grid_sample(field, grid, F::GridSampleFuncOptions().align_corners(false));
  const DenseMaps a = FieldMaps(field, 0, 0, w, h, 0.1);
  const DenseMaps b = FieldMaps(shifted, 0, 0, w, h, 0.1);
  std::vector<float> xy;
  for (int y = 30; y < 120; y += 17) {
    for (int x = 30; x < 150; x += 19) xy.insert(xy.end(), {float(x), float(y)});
  }
  const int64_t n = static_cast<int64_t>(xy.size() / 2);
  const torch::Tensor points = torch::from_blob(xy.data(), {n, 2}, torch::kFloat32).clone();
  const torch::Tensor expected = points - torch::tensor({dx, dy});
  SparseToDenseOptions options;
  options.confidence_threshold = 0;
  auto mean_error = [&](bool subpixel) {
    options.subpixel = subpixel;
    const Correspondences c = FindCorrespondences(SampleSparseDescriptors(a, points), b, options);
    return (c.points - expected).norm(2, 1).mean().item<float>();
  };
  const float integer_error = mean_error(false), subpixel_error = mean_error(true);
  EXPECT_GT(integer_error, 0.3f);  // the integer grid cannot do better than about 0.5 px here
  EXPECT_LT(subpixel_error, 0.3f);
  EXPECT_LT(subpixel_error, 0.6f * integer_error) << "integer argmax " << integer_error;
}

TEST(S2DCorrespondence, CyclicCheckRejectsAPlantedWrongMatch) {
  const torch::Tensor field = SmoothField(16, 160, 200);
  const DenseMaps a = FieldMaps(field, 0, 0, 176, 144);
  const DenseMaps b = FieldMaps(field, 16, 0, 176, 144);
  const torch::Tensor sources = torch::tensor({{60.f, 50.f}, {100.f, 80.f}, {120.f, 40.f}});
  Correspondences forward;
  forward.points = sources - torch::tensor({16.f, 0.f});
  forward.points[1] = torch::tensor({30.f, 110.f});  // planted: far from the true (84, 80)
  forward.confidence = torch::ones({3});
  forward.valid = torch::ones({3}, torch::kBool);
  SparseToDenseOptions options;
  const torch::Tensor keep = CyclicCheck(sources, forward, a, b, options, 2.0);
  EXPECT_TRUE(keep[0].item<bool>());
  EXPECT_FALSE(keep[1].item<bool>());
  EXPECT_TRUE(keep[2].item<bool>());
}

TEST(KeypointSnapper, SnapsWithinTheRadiusAndDeduplicatesNewPoints) {
  Keypoints existing(2);
  existing[0].x = 10, existing[0].y = 10;
  existing[1].x = 50, existing[1].y = 50;
  KeypointSnapper snapper(existing, 2.0);
  auto at = [](float x, float y) {
    Keypoint k;
    k.x = x;
    k.y = y;
    return k;
  };
  EXPECT_EQ(snapper.SnapOrAppend(at(11.0f, 10.5f)), 0u);  // existing keypoint
  EXPECT_EQ(snapper.SnapOrAppend(at(51.9f, 50.0f)), 1u);  // 1.9 px: still within
  EXPECT_EQ(snapper.SnapOrAppend(at(30.0f, 30.0f)), 2u);  // new
  EXPECT_EQ(snapper.SnapOrAppend(at(30.5f, 29.0f)), 2u);  // the same new point again
  EXPECT_EQ(snapper.SnapOrAppend(at(52.5f, 50.0f)), 3u);  // 2.5 px from #1: new
  EXPECT_EQ(snapper.SnapOrAppend(at(31.0f, 30.0f)), 2u);  // nearest of #2 and nothing else
  EXPECT_EQ(snapper.num_appended(), 2u);
  ASSERT_EQ(snapper.keypoints().size(), 4u);
  EXPECT_FLOAT_EQ(snapper.keypoints()[2].x, 30.0f);
  EXPECT_THROW(KeypointSnapper({}, 0.0), Error);
}

TEST(S2DNetTraining, OneStepLowersTheLoss) {
  torch::manual_seed(1);
  S2DNet model(S2DNetConfig::Compact());
  model->train();
  const cv::Mat big = test::NoiseTexture(160, 128, 5);
  const cv::Mat a = big(cv::Rect(0, 0, 128, 96)).clone();
  const cv::Mat b = big(cv::Rect(8, 4, 128, 96)).clone();
  const torch::Tensor input =
      torch::cat({S2DNetInput(a, model->config()), S2DNetInput(b, model->config())});
  const torch::Tensor points = torch::tensor({{40.f, 30.f}, {70.f, 50.f}, {100.f, 60.f}});
  const torch::Tensor targets = points - torch::tensor({8.f, 4.f});
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto loss_of = [&]() {
    const std::vector<torch::Tensor> levels = model->forward(input);
    DenseMaps ma, mb;
    for (const torch::Tensor& l : levels) {
      ma.levels.push_back(l.slice(0, 0, 1));
      mb.levels.push_back(l.slice(0, 1, 2));
    }
    ma.width = mb.width = 128;
    ma.height = mb.height = 96;
    return CorrespondenceLoss(SampleSparseDescriptors(ma, points), mb, targets);
  };
  const torch::Tensor before = loss_of();
  optimizer.zero_grad();
  before.backward();
  optimizer.step();
  const torch::Tensor after = loss_of();
  EXPECT_LT(after.item<float>(), before.item<float>());
}

TEST(S2DNetMatcher, OneImageMatchedAgainstTwoPartnersSharesKeypointIds) {
  const std::string weights = DefaultWeights("s2dnet_compact.pt");
  ASSERT_TRUE(fs::exists(weights)) << weights << " is part of the repository";
  const std::string dir = test::MakeTempDir("s2dnet_tracks");
  fs::create_directories(dir + "/images");
  // Three overlapping crops of one texture, 16 px apart.
  const cv::Mat big = test::NoiseTexture(288, 160, 11);
  for (int i = 0; i < 3; ++i) {
    cv::imwrite(dir + "/images/" + std::to_string(i) + ".png", big(cv::Rect(16 * i, 0, 192, 160)));
  }
  const std::string db_path = dir + "/database.db";
  std::vector<image_t> ids;
  {
    Database db(db_path);
    const camera_t cam = db.WriteCamera(MakeDefaultCamera("PINHOLE", 192, 160, 200, false));
    for (int i = 0; i < 3; ++i) {
      const image_t id = db.WriteImage({kInvalidImageId, std::to_string(i) + ".png", cam});
      ids.push_back(id);
      // Detector keypoints on one scene grid for images 0 and 2 (so both find the same points
      // in image 1) and 5 px off it for image 1 (so those points are new there).
      Keypoints k;
      for (int y = 24; y < 140; y += 12) {
        for (int sx = 8; sx < 288; sx += 12) {
          const float x = static_cast<float>(sx + (i == 1 ? 5 : 0) - 16 * i);
          if (x < 12 || x > 180) continue;
          Keypoint kp;
          kp.x = x + 0.5f;
          kp.y = y + 0.5f;
          k.push_back(kp);
        }
      }
      db.WriteKeypoints(id, k);
      db.WriteDescriptors(id, DescriptorsU8::Zero(static_cast<Eigen::Index>(k.size()), 128));
    }
  }
  MatchingConfig config;
  config.matching.type = "s2dnet";
  config.matching.device = "cpu";
  config.image_path = dir + "/images";
  config.matching.s2dnet.search.confidence_threshold = 0;
  config.scale.estimator.estimator = "none";
  const ImagePairs pairs = {{ids[0], ids[1]}, {ids[0], ids[2]}, {ids[1], ids[2]}};
  const MatchingSummary summary = RunRawMatching(db_path, pairs, config);
  EXPECT_EQ(summary.num_matched, 3u);

  Database db(db_path);
  const size_t detected = db.ReadNumDetectedKeypoints(ids[1]).value_or(0);
  EXPECT_GT(detected, 0u);
  const Keypoints k1 = db.ReadKeypoints(ids[1]);
  EXPECT_GT(k1.size(), detected);  // points found in image 1 were appended
  EXPECT_EQ(static_cast<size_t>(db.ReadDescriptors(ids[1]).rows()), k1.size());
  // Keypoints of image 1 matched from image 0 and from image 2: the same ids.
  std::set<point2D_t> from0, from2;
  for (const Match& m : db.ReadMatches(ids[0], ids[1])) from0.insert(m.idx2);
  for (const Match& m : db.ReadMatches(ids[2], ids[1])) from2.insert(m.idx2);
  size_t shared = 0, shared_appended = 0;
  for (point2D_t p : from0) {
    if (!from2.count(p)) continue;
    ++shared;
    if (p >= detected) ++shared_appended;
  }
  EXPECT_GT(shared_appended, 10u) << "shared " << shared;
  // One match per keypoint in every pair.
  for (const auto& [a, b] : pairs) {
    std::set<point2D_t> s1, s2;
    const Matches m = db.ReadMatches(a, b);
    for (const Match& x : m) {
      EXPECT_TRUE(s1.insert(x.idx1).second);
      EXPECT_TRUE(s2.insert(x.idx2).second);
    }
  }
  // A re-run resumes: nothing left to match, nothing appended.
  const MatchingSummary again = RunRawMatching(db_path, pairs, config);
  EXPECT_EQ(again.num_matched, 0u);
  EXPECT_EQ(again.num_already_done, 3u);
  EXPECT_EQ(Database(db_path).ReadKeypoints(ids[1]).size(), k1.size());
}

TEST(S2DNetWeights, WrongWeightsAreClearErrors) {
  const std::string dir = test::MakeTempDir("s2dnet_weights");
  try {
    LoadS2DNet(dir + "/missing.pt");
    FAIL() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pt"), std::string::npos) << e.what();
  }
  // SCFeat-like sidecar: another architecture.
  {
    S2DNet model(S2DNetConfig::Compact());
    SaveWeights(*model, dir + "/other.pt", {{"architecture", "scfeat"}, {"config", "compact"}});
  }
  try {
    LoadS2DNet(dir + "/other.pt");
    FAIL() << "no error for another architecture";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not S2DNet"), std::string::npos) << e.what();
  }
  // Compact tensors under a paper sidecar: a mis-shaped tensor, named.
  {
    S2DNet model(S2DNetConfig::Compact());
    SaveWeights(*model, dir + "/shape.pt", {{"architecture", "s2dnet"}, {"config", "paper"}});
  }
  try {
    LoadS2DNet(dir + "/shape.pt");
    FAIL() << "no error for mis-shaped tensors";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("encoder.0.weight"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scalesfm
