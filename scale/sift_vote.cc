#include "scale/sift_vote.h"

#include <cmath>

#include "feature/descriptor_matching.h"
#include "feature/image_io.h"
#include "feature/sift_extractor.h"

namespace scalesfm {

double RobustLog2Mode(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  const double bandwidth = 0.15, step = 0.02, lo = -8.0, hi = 8.0;
  double best_x = 0, best_density = -1;
  for (double x = lo; x <= hi; x += step) {
    double density = 0;
    for (double r : v) {
      const double z = (r - x) / bandwidth;
      if (std::abs(z) < 4) density += std::exp(-0.5 * z * z);
    }
    if (density > best_density) {
      best_density = density;
      best_x = x;
    }
  }
  double sum = 0;
  size_t n = 0;
  for (double r : v) {
    if (std::abs(r - best_x) <= 0.25) {
      sum += r;
      ++n;
    }
  }
  return n > 0 ? sum / n : best_x;
}

SiftVoteEstimator::SiftVoteEstimator(const ScaleEstimatorOptions& options) : options_(options) {}

std::shared_ptr<const ImageCode> SiftVoteEstimator::Encode(const cv::Mat& image) {
  ExtractionOptions extraction;
  extraction.max_num_features = options_.max_num_features;
  SiftExtractor sift(extraction);
  double sx, sy;
  FeatureSet f = sift.Extract(DownscaleToMaxSize(image, options_.max_image_size, &sx, &sy));
  auto code = std::make_shared<ImageFeatures>();
  code->keypoints = std::move(f.keypoints);
  code->descriptors = std::move(f.descriptors);
  code->log2_downscale = 0.5 * std::log2(sx * sy);
  return code;
}

ScaleEstimate SiftVoteEstimator::Estimate(const ImageCode& a, const ImageCode& b) {
  const ImageFeatures& f1 = CodeAs<ImageFeatures>(a);
  const ImageFeatures& f2 = CodeAs<ImageFeatures>(b);
  const torch::Device cpu(torch::kCPU);
  const Matches matches = MatchNearestNeighbors(DescriptorsToTensor(f1.descriptors, cpu),
                                                DescriptorsToTensor(f2.descriptors, cpu), {});
  // Keypoint scales are measured on the downscaled images; undo the downscaling.
  return ScaleFromMatchedKeypoints(f1.keypoints, f2.keypoints, matches,
                                   f2.log2_downscale - f1.log2_downscale);
}

ScaleEstimate ScaleFromMatchedKeypoints(const Keypoints& keypoints1, const Keypoints& keypoints2,
                                        const Matches& matches, double log2_correction) {
  std::vector<double> votes;
  votes.reserve(matches.size());
  ScaleEstimate estimate;
  estimate.probs.assign(kNumScaleBins, 0.0);
  for (const Match& m : matches) {
    const double r =
        std::log2(keypoints2[m.idx2].ComputeScale() / keypoints1[m.idx1].ComputeScale()) +
        log2_correction;
    votes.push_back(r);
    estimate.probs[NearestScaleBin(std::exp2(r))] += 1.0;
  }
  estimate.support = votes.size();
  if (votes.empty()) {
    estimate.probs.assign(kNumScaleBins, 1.0 / kNumScaleBins);
    return estimate;
  }
  for (double& p : estimate.probs) p /= votes.size();
  estimate.scale = std::exp2(RobustLog2Mode(votes));
  estimate.bin = NearestScaleBin(estimate.scale);
  return estimate;
}

}  // namespace scalesfm
