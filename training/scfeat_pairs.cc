#include "training/scfeat_pairs.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <cmath>
#include <opencv2/core/eigen.hpp>
#include <opencv2/imgproc.hpp>

#include "feature/image_io.h"
#include "util/logging.h"
#include "util/random.h"

namespace scalesfm {
namespace {

Eigen::Matrix3d Skew(const Eigen::Vector3d& v) {
  Eigen::Matrix3d m;
  m << 0, -v.z(), v.y(), v.z(), 0, -v.x(), -v.y(), v.x(), 0;
  return m;
}

// A unit vector tilted from +z by at most max_deg, in a random direction.
Eigen::Vector3d Tilted(std::mt19937* rng, double max_deg) {
  const double tilt = Uniform(rng, 0, max_deg) * M_PI / 180, phi = Uniform(rng, 0, 2 * M_PI);
  return Eigen::Vector3d(std::sin(tilt) * std::cos(phi), std::sin(tilt) * std::sin(phi),
                         std::cos(tilt));
}

// Brightness, contrast, gamma, blur and noise, independently per view.
cv::Mat Jitter(const cv::Mat& u8, std::mt19937* rng) {
  cv::Mat f;
  u8.convertTo(f, CV_32F, 1.0 / 255);
  cv::pow(f, std::exp2(Uniform(rng, -0.5, 0.5)), f);
  f = f * Uniform(rng, 0.7, 1.3) + Uniform(rng, -0.15, 0.15);
  if (Uniform(rng, 0, 1) < 0.3) cv::GaussianBlur(f, f, cv::Size(0, 0), Uniform(rng, 0.3, 1.2));
  cv::Mat noise(f.size(), CV_32F);
  cv::randn(noise, 0, Uniform(rng, 0, 0.03));  // cv::theRNG is reseeded by the caller
  f += noise;
  cv::Mat out;
  f.convertTo(out, CV_8U, 255);
  return out;
}

// A random size x size crop of `image`, resized from a side of [0.5, 1] x its short side.
cv::Mat RandomCrop(const cv::Mat& image, int size, std::mt19937* rng) {
  const int short_side = std::min(image.cols, image.rows);
  const int side = std::max(8, static_cast<int>(short_side * Uniform(rng, 0.5, 1.0)));
  const int x = std::uniform_int_distribution<int>(0, image.cols - side)(*rng);
  const int y = std::uniform_int_distribution<int>(0, image.rows - side)(*rng);
  cv::Mat out;
  cv::resize(image(cv::Rect(x, y, side, side)), out, cv::Size(size, size), 0, 0,
             side > size ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

}  // namespace

Eigen::Matrix3d FundamentalFromPose(const Eigen::Matrix3d& K1, const Eigen::Matrix3d& K2,
                                    const Eigen::Matrix3d& R, const Eigen::Vector3d& t) {
  return K2.inverse().transpose() * Skew(t) * R * K1.inverse();
}

Eigen::Matrix3d PlaneHomography(const Eigen::Matrix3d& K1, const Eigen::Matrix3d& K2,
                                const Eigen::Matrix3d& R, const Eigen::Vector3d& t,
                                const Eigen::Vector3d& n, double d) {
  return K2 * (R + t * n.transpose() / d) * K1.inverse();
}

PosedPlanePairGenerator::PosedPlanePairGenerator(const std::vector<std::string>& image_paths,
                                                 const PosedPlanePairOptions& options)
    : options_(options) {
  for (const std::string& path : image_paths) {
    std::string error;
    cv::Mat gray = ReadImageGray(path, &error);
    if (gray.empty()) {
      LogWarning("skipping training image " + path + ": " + error);
      continue;
    }
    if (std::min(gray.cols, gray.rows) < 32) continue;
    images_.push_back(gray);
  }
  if (images_.size() < 2) throw Error("need at least two readable training images");
}

PosedPlanePair PosedPlanePairGenerator::Sample(std::mt19937* rng) const {
  const PosedPlanePairOptions& o = options_;
  const int size = o.size;
  std::uniform_int_distribution<size_t> pick(0, images_.size() - 1);
  const cv::Mat texture = RandomCrop(images_[pick(*rng)], size, rng);
  const cv::Mat distractor = RandomCrop(images_[pick(*rng)], size, rng);
  cv::theRNG().state = (*rng)();

  const double c = (size - 1) / 2.0;
  PosedPlanePair pair;
  for (int attempt = 0;; ++attempt) {
    const double f1 = size * Uniform(rng, o.min_focal, o.max_focal);
    const double f2 = f1 * std::exp2(Uniform(rng, -o.max_log2_zoom, o.max_log2_zoom));
    pair.K1 << f1, 0, c, 0, f1, c, 0, 0, 1;
    pair.K2 << f2, 0, c, 0, f2, c, 0, 0, 1;
    // Plane n^T X = d (camera 1 frame); the optical axis meets it at depth d / n_z.
    pair.n = Tilted(rng, o.max_tilt_deg);
    pair.d = 1.0;
    const double depth = pair.d / pair.n.z();
    const Eigen::Vector3d target(Uniform(rng, -0.1, 0.1) * depth, Uniform(rng, -0.1, 0.1) * depth,
                                 depth);
    // Camera 2: centre moved by up to max_baseline * depth, looking at `target`, with roll.
    const Eigen::Vector3d center =
        Eigen::Vector3d(Uniform(rng, -1, 1), Uniform(rng, -1, 1), Uniform(rng, -0.5, 0.5))
            .normalized() *
        Uniform(rng, 0, o.max_baseline * depth);
    const Eigen::Vector3d z = (target - center).normalized();
    const Eigen::Vector3d x = Eigen::Vector3d::UnitY().cross(z).normalized();
    const Eigen::Vector3d y = z.cross(x);
    Eigen::Matrix3d look;  // rows: camera 2's axes in camera 1's frame
    look.row(0) = x.transpose();
    look.row(1) = y.transpose();
    look.row(2) = z.transpose();
    const double roll = Uniform(rng, -o.max_roll_deg, o.max_roll_deg) * M_PI / 180;
    pair.R = Eigen::AngleAxisd(roll, Eigen::Vector3d::UnitZ()).toRotationMatrix() * look;
    pair.t = -pair.R * center;
    pair.H = PlaneHomography(pair.K1, pair.K2, pair.R, pair.t, pair.n, pair.d);
    pair.F = FundamentalFromPose(pair.K1, pair.K2, pair.R, pair.t);
    // Overlap: B's pixels whose preimage on the plane lies inside A, in front of both cameras.
    const Eigen::Matrix3d Hinv = pair.H.inverse();
    int inside = 0, total = 0;
    for (int v = 4; v < size; v += 8) {
      for (int u = 4; u < size; u += 8) {
        ++total;
        const Eigen::Vector3d p = Hinv * Eigen::Vector3d(u, v, 1);
        if (p.z() <= 0) continue;
        const double pu = p.x() / p.z(), pv = p.y() / p.z();
        // Depth in camera 1 of the plane point seen at (pu, pv) must be positive.
        const Eigen::Vector3d ray = pair.K1.inverse() * Eigen::Vector3d(pu, pv, 1);
        if (pair.n.dot(ray) <= 0) continue;
        inside += pu >= 0 && pv >= 0 && pu <= size - 1 && pv <= size - 1;
      }
    }
    pair.overlap = double(inside) / total;
    if (pair.overlap >= o.min_overlap) break;
    if (attempt > 200) throw Error("could not draw a posed plane pair with enough overlap");
  }
  cv::Mat H;
  cv::eigen2cv(pair.H, H);
  cv::Mat warped, mask;
  cv::warpPerspective(texture, warped, H, cv::Size(size, size), cv::INTER_LINEAR,
                      cv::BORDER_CONSTANT, 0);
  cv::warpPerspective(cv::Mat(texture.size(), CV_8U, cv::Scalar(255)), mask, H,
                      cv::Size(size, size), cv::INTER_NEAREST, cv::BORDER_CONSTANT, 0);
  cv::Mat b = distractor.clone();
  warped.copyTo(b, mask);
  pair.a = Jitter(texture, rng);
  pair.b = Jitter(b, rng);
  return pair;
}

}  // namespace scalesfm
