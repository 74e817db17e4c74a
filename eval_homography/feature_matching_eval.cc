#include "eval_homography/feature_matching_eval.h"

#include <Eigen/Core>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "eval_common/homography_pairs.h"
#include "eval_common/method_presets.h"
#include "feature/descriptor_matching.h"
#include "feature/image_io.h"
#include "feature/scfeat_extractor.h"
#include "matching/dualrc_matcher.h"
#include "matching/image_level_cache.h"
#include "matching/pair_matcher.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace scalesfm {

void FeatureMatchingOptions::Check() const {
  if (homography_path.empty()) throw Error("eval_features needs --homography_path");
  if (output_path.empty()) throw Error("eval_features needs --output_path");
  for (const std::string& m : methods) ConfigureFeatureMethod(m, extraction);  // throws if unknown
  extraction.Check();
  dualrc.Check();
  if (max_num_matches < 1) throw Error("--Matching.max_num_matches must be >= 1");
}

double MmaScore(const std::array<double, 10>& mma) {
  double num = 0, den = 0;
  for (int t = 1; t <= 10; ++t) {
    num += (2 - 0.1 * t) * mma[t - 1];
    den += 2 - 0.1 * t;
  }
  return num / den;
}

namespace {

struct ImageFeatures {
  Keypoints keypoints;  // COLMAP convention, original image pixels
  torch::Tensor descriptors;
};

// `describer` (scfeat-at-sift): its descriptors at the extractor's keypoints replace the
// extractor's own.
ImageFeatures Extract(FeatureExtractor* extractor, const std::string& path, int max_image_size,
                      ScfeatExtractor* describer = nullptr) {
  auto read = [&](int channels, double* sx, double* sy) {
    std::string error;
    const cv::Mat full = ReadImage(path, channels, &error);
    if (full.empty()) throw Error("cannot read " + path + ": " + error);
    return DownscaleToMaxSize(full, max_image_size, sx, sy);
  };
  double sx = 1, sy = 1;
  const cv::Mat image = read(extractor->InputChannels(), &sx, &sy);
  FeatureSet f = extractor->Extract(image);
  if (describer != nullptr) {
    const bool same = describer->InputChannels() == extractor->InputChannels();
    double dx = 1, dy = 1;  // the same grid: only the channels differ
    f.float_descriptors = describer->DescribeAt(
        same ? image : read(describer->InputChannels(), &dx, &dy), f.keypoints);
  }
  ImageFeatures out;
  out.keypoints = std::move(f.keypoints);
  for (Keypoint& k : out.keypoints) {
    k.x *= static_cast<float>(sx);
    k.y *= static_cast<float>(sy);
  }
  if (f.float_descriptors.rows() > 0) {
    out.descriptors = DescriptorsToTensor(f.float_descriptors, torch::kCPU);
  } else {
    out.descriptors = DescriptorsToTensor(f.descriptors, torch::kCPU);
  }
  return out;
}

ScaledDenseMaps DenseMapsAtMaxSize(S2DNet& model, const std::string& path,
                                   const FeatureMatchingOptions& options,
                                   const torch::Device& device) {
  std::string error;
  const cv::Mat image = ReadImage(path, model->config().in_channels, &error);
  if (image.empty()) throw Error("cannot read " + path + ": " + error);
  const double factor =
      std::min(1.0, double(options.extraction.max_image_size) / std::max(image.cols, image.rows));
  return ComputeDenseMaps(model, image, factor, device);
}

struct DualRcPair {
  DualRcMaps a, b;
};

// Both images at max_image_size, or (sdaim) at their SDAIM levels for the GT scale s(A->B): A at
// s^0.5 and B at s^-0.5 of a common factor that keeps both within max_image_size.
DualRcPair DualRcMapsOfPair(DualRcNet& model, const ScalePairGt& pair, bool sdaim,
                            int max_image_size, const torch::Device& device) {
  auto read = [&](const std::string& path) {
    std::string error;
    const cv::Mat image = ReadImage(path, model->config().in_channels, &error);
    if (image.empty()) throw Error("cannot read " + path + ": " + error);
    return image;
  };
  const cv::Mat a = read(pair.name1), b = read(pair.name2);
  const double cap_a = double(max_image_size) / std::max(a.cols, a.rows);
  const double cap_b = double(max_image_size) / std::max(b.cols, b.rows);
  double fa = std::min(1.0, cap_a), fb = std::min(1.0, cap_b);
  if (sdaim) {
    const auto [la, lb] = SdaimPairLevels(pair.scale, cap_a, cap_b);
    fa = LevelFactor(la, cap_a);
    fb = LevelFactor(lb, cap_b);
  }
  return {ComputeDualRcMaps(model, a, fa, device), ComputeDualRcMaps(model, b, fb, device)};
}

}  // namespace

std::vector<FeatureMatchingSummary> Summarize(const std::vector<FeatureMatchingPairRow>& rows) {
  std::vector<FeatureMatchingSummary> out;
  for (const FeatureMatchingPairRow& r : rows) {
    auto it = std::find_if(out.begin(), out.end(),
                           [&](const FeatureMatchingSummary& s) { return s.method == r.method; });
    if (it == out.end()) {
      out.push_back(FeatureMatchingSummary{r.method});
      it = out.end() - 1;
    }
    it->mean_features += 0.5 * (r.features_a + r.features_b);
    it->mean_matches += r.matches;
    it->mean_extraction_seconds_per_image += 0.5 * r.extraction_seconds;
    for (int t = 0; t < 10; ++t) it->mma[t] += r.correct_fraction[t];
  }
  for (FeatureMatchingSummary& s : out) {
    const double n = static_cast<double>(
        std::count_if(rows.begin(), rows.end(),
                      [&](const FeatureMatchingPairRow& r) { return r.method == s.method; }));
    s.mean_features /= n;
    s.mean_matches /= n;
    s.mean_extraction_seconds_per_image /= n;
    for (double& m : s.mma) m /= n;
    s.mma_score = MmaScore(s.mma);
  }
  return out;
}

std::vector<FeatureMatchingSummary> RunFeatureMatchingEvaluation(
    const FeatureMatchingOptions& options) {
  options.Check();
  PrintHeading1("Feature matching accuracy on homography pairs");
  fs::create_directories(options.output_path);
  const std::vector<ScalePairGt> pairs = ReadHomographyPairs(options.homography_path);
  std::vector<FeatureMatchingPairRow> rows;
  Progress progress("run", pairs.size() * options.methods.size());
  for (const std::string& method : options.methods) {
    const FeatureMethodConfig config = ConfigureFeatureMethod(method, options.extraction);
    const bool dense = config.matching.type == "dualrc";
    // A matcher without descriptors finds A's keypoints in B (S2DNet); B is not extracted.
    const bool sparse_to_dense =
        !dense && !FindPairMatcher(config.matching.type).traits.needs_descriptors;
    std::unique_ptr<FeatureExtractor> extractor = FeatureExtractor::Create(config.extraction);
    std::unique_ptr<ScfeatExtractor> describer;
    if (config.describer) describer = std::make_unique<ScfeatExtractor>(*config.describer);
    S2DNet s2dnet{nullptr};
    const torch::Device device = ParseDevice(options.extraction.device);
    if (sparse_to_dense) {
      s2dnet = LoadS2DNet(S2DNetWeightsPath(options.s2dnet));
      s2dnet->to(device);
    }
    const S2DNetMatchOptions s2d_options =
        sparse_to_dense ? ResolveConfidence(options.s2dnet) : options.s2dnet;
    DualRcNet dualrc{nullptr};
    if (dense) {
      dualrc = LoadDualRcNet(DualRcNetWeightsPath(options.dualrc.weights));
      dualrc->to(device);
    }
    for (const ScalePairGt& pair : pairs) {
      FeatureMatchingPairRow row;
      row.pair = fs::path(pair.name1).parent_path().filename().string();
      row.method = method;
      Timer timer;
      ImageFeatures a, b;
      Matches matches;
      if (dense) {
        // Both images' matched points become their keypoints, one per match.
        const DualRcPair maps = DualRcMapsOfPair(dualrc, pair, config.sdaim_gt_scale,
                                                 options.dualrc.max_image_size, device);
        for (const DualRcPointMatch& m :
             MatchDualRc(dualrc, maps.a, maps.b, options.dualrc, options.max_num_matches)) {
          Keypoint ka, kb;
          ka.x = m.xa;
          ka.y = m.ya;
          kb.x = m.xb;
          kb.y = m.yb;
          matches.push_back({static_cast<point2D_t>(a.keypoints.size()),
                             static_cast<point2D_t>(b.keypoints.size())});
          a.keypoints.push_back(ka);
          b.keypoints.push_back(kb);
        }
        row.extraction_seconds = timer.ElapsedSeconds();
      } else if (sparse_to_dense) {
        a = Extract(extractor.get(), pair.name1, options.extraction.max_image_size,
                    describer.get());
        // Points found in B become B's keypoints, one per match.
        const ScaledDenseMaps ma = DenseMapsAtMaxSize(s2dnet, pair.name1, options, device);
        const ScaledDenseMaps mb = DenseMapsAtMaxSize(s2dnet, pair.name2, options, device);
        row.extraction_seconds = timer.ElapsedSeconds();
        for (const SparseToDenseMatch& m :
             MatchSparseToDense(a.keypoints, a.keypoints.size(), ma, mb, s2d_options)) {
          Keypoint k;
          k.x = m.x;
          k.y = m.y;
          matches.push_back({m.source, static_cast<point2D_t>(b.keypoints.size())});
          b.keypoints.push_back(k);
        }
      } else {
        a = Extract(extractor.get(), pair.name1, options.extraction.max_image_size,
                    describer.get());
        b = Extract(extractor.get(), pair.name2, options.extraction.max_image_size,
                    describer.get());
        row.extraction_seconds = timer.ElapsedSeconds();
        row.features_b = b.keypoints.size();
        matches = MatchNearestNeighbors(a.descriptors, b.descriptors, config.matching.nn);
      }
      row.features_a = dense ? 0 : a.keypoints.size();
      row.matches = matches.size();
      const Eigen::Matrix3d h =
          ReadHomography((fs::path(pair.name1).parent_path() / "H.txt").string());
      for (const Match& m : matches) {
        // H maps OpenCV-convention pixel centres of A to B.
        const Eigen::Vector3d p = h * Eigen::Vector3d(ColmapToOpenCv(a.keypoints[m.idx1].x),
                                                      ColmapToOpenCv(a.keypoints[m.idx1].y), 1);
        const double err = std::hypot(p.x() / p.z() - ColmapToOpenCv(b.keypoints[m.idx2].x),
                                      p.y() / p.z() - ColmapToOpenCv(b.keypoints[m.idx2].y));
        for (int t = 1; t <= 10; ++t) row.correct_fraction[t - 1] += err <= t;
      }
      for (double& c : row.correct_fraction) c = matches.empty() ? 0 : c / matches.size();
      rows.push_back(row);
      progress.Step(StringPrintf("%s %s: %zu/%zu features, %zu matches, MMA@3 %.3f",
                                 row.pair.c_str(), method.c_str(), row.features_a, row.features_b,
                                 row.matches, row.correct_fraction[2]));
    }
  }
  std::ofstream csv((fs::path(options.output_path) / "features.csv").string());
  csv << "pair,method,features_a,features_b,matches";
  for (int t = 1; t <= 10; ++t) csv << ",mma" << t;
  csv << ",extraction_s\n";
  for (const FeatureMatchingPairRow& r : rows) {
    csv << r.pair << "," << r.method << "," << r.features_a << "," << r.features_b << ","
        << r.matches;
    for (double c : r.correct_fraction) csv << "," << c;
    csv << "," << r.extraction_seconds << "\n";
  }
  const std::vector<FeatureMatchingSummary> summary = Summarize(rows);
  std::string md =
      "| method | features | matches | MMA@1 | MMA@2 | MMA@3 | MMA@5 | MMA@10 | MMA score "
      "(eq. 24) | extract s/image |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const FeatureMatchingSummary& s : summary) {
    md += StringPrintf("| %s | %.1f | %.1f | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f |\n",
                       s.method.c_str(), s.mean_features, s.mean_matches, s.mma[0], s.mma[1],
                       s.mma[2], s.mma[4], s.mma[9], s.mma_score,
                       s.mean_extraction_seconds_per_image);
  }
  std::ofstream((fs::path(options.output_path) / "features.md").string()) << md;
  LogInfo(StringPrintf("%zu pairs\n", pairs.size()) + md);
  return summary;
}

}  // namespace scalesfm
