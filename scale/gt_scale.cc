#include "scale/gt_scale.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "util/logging.h"

namespace scalesfm {

double ScaleFromCorrespondences(const std::vector<Eigen::Vector2d>& a,
                                const std::vector<Eigen::Vector2d>& b, int num_samples,
                                unsigned seed) {
  if (a.size() < 2 || a.size() != b.size()) return 0;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, a.size() - 1);
  double sum = 0;
  int n = 0;
  for (int attempt = 0; attempt < 50 * num_samples && n < num_samples; ++attempt) {
    const size_t i = pick(rng), j = pick(rng);
    const double da = (a[i] - a[j]).norm(), db = (b[i] - b[j]).norm();
    if (i == j || da < 5.0 || db < 1e-9) continue;
    sum += std::log(db / da);
    ++n;
  }
  return n > 0 ? std::exp(sum / n) : 0;
}

void CommonProjections(const Reconstruction& gt, const ModelImage& a, const ModelImage& b,
                       std::vector<Eigen::Vector2d>* in_a, std::vector<Eigen::Vector2d>* in_b) {
  const Camera& ca = gt.cameras.at(a.camera_id);
  const Camera& cb = gt.cameras.at(b.camera_id);
  in_a->clear();
  in_b->clear();
  for (const ModelPoint& p : gt.points) {
    const auto& track = p.track_images;
    if (std::find(track.begin(), track.end(), a.image_id) == track.end() ||
        std::find(track.begin(), track.end(), b.image_id) == track.end()) {
      continue;
    }
    Eigen::Vector2d xa, xb;
    if (!ProjectWorldPoint(ca, a.q, a.t, p.xyz, &xa) ||
        !ProjectWorldPoint(cb, b.q, b.t, p.xyz, &xb)) {
      continue;
    }
    in_a->push_back(xa);
    in_b->push_back(xb);
  }
}

std::unordered_map<image_t, const ModelImage*> GtImagesByDatabaseId(
    const Reconstruction& gt, const std::vector<Image>& images, const std::string& what) {
  std::unordered_map<image_t, const ModelImage*> out;
  for (const Image& image : images) {
    const ModelImage* m = gt.FindImageByName(image.name);
    if (!m) throw Error(what + " has no image " + image.name);
    out[image.image_id] = m;
  }
  if (gt.points.empty()) {
    throw Error(what +
                " has no 3D points; the oracle needs points with tracks (make_zoom_scene writes "
                "them)");
  }
  return out;
}

double GtPairScale(const Reconstruction& gt, const ModelImage& a, const ModelImage& b,
                   size_t min_common, size_t* support) {
  std::vector<Eigen::Vector2d> pa, pb;
  CommonProjections(gt, a, b, &pa, &pb);
  *support = pa.size();
  if (pa.size() < std::max<size_t>(min_common, 2)) return 0;
  return ScaleFromCorrespondences(pa, pb, 200, a.image_id * 7919u + b.image_id);
}

}  // namespace scalesfm
