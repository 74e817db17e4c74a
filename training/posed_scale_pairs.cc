#include "training/posed_scale_pairs.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "feature/image_io.h"
#include "scale/scalenet_input.h"
#include "util/logging.h"
#include "util/random.h"

namespace scalesfm {

std::vector<PosedPairGt> ReadPosedPairs(const std::string& csv_path) {
  std::ifstream in(csv_path);
  if (!in) throw Error("cannot read posed pairs " + csv_path);
  std::string line;
  if (!std::getline(in, line) || line.rfind("dataset,image1,image2,gt_scale", 0) != 0) {
    throw Error(csv_path + " is not an eval_scale gt_pairs.csv (header " +
                "dataset,image1,image2,gt_scale,support expected)");
  }
  std::vector<PosedPairGt> pairs;
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
    PosedPairGt p;
    char* end = nullptr;
    if (fields.size() >= 4) p.scale = std::strtod(fields[3].c_str(), &end);
    if (fields.size() < 4 || end == fields[3].c_str() || !std::isfinite(p.scale) || p.scale <= 0) {
      throw Error(
          StringPrintf("%s, row %d: expected dataset,image1,image2,gt_scale with a "
                       "positive scale",
                       csv_path.c_str(), row));
    }
    p.image1 = fields[1];
    p.image2 = fields[2];
    pairs.push_back(p);
  }
  return pairs;
}

PosedScalePairGenerator::PosedScalePairGenerator(const std::vector<PosedPairGt>& pairs,
                                                 const PosedScalePairOptions& options)
    : options_(options) {
  if (pairs.empty()) throw Error("no posed training pairs");
  std::map<std::string, size_t> index;
  auto load = [&](const std::string& path) {
    auto it = index.find(path);
    if (it != index.end()) return it->second;
    std::string error;
    const cv::Mat gray = ReadImageGray(path, &error);
    if (gray.empty()) throw Error("cannot read posed training image " + path + ": " + error);
    Image image;
    image.original_side = std::max(gray.cols, gray.rows);
    const double keep = std::min(1.0, 4.0 * options_.canvas_size / image.original_side);
    cv::Mat small;
    cv::resize(gray, small, cv::Size(), keep, keep, cv::INTER_AREA);
    small.convertTo(image.pixels, CV_32F);
    images_.push_back(image);
    return index[path] = images_.size() - 1;
  };
  for (const PosedPairGt& p : pairs) pairs_.push_back({load(p.image1), load(p.image2), p.scale});
}

cv::Mat PosedScalePairGenerator::Render(const Image& image, double shrink,
                                        std::mt19937* rng) const {
  const int size = options_.canvas_size;
  cv::Mat canvas(size, size, CV_32F, cv::Scalar(127.5));
  if (Uniform(rng, 0, 1) < options_.background_probability) {
    // Background: another image, stretched over the canvas.
    const Image& other =
        images_[std::uniform_int_distribution<size_t>(0, images_.size() - 1)(*rng)];
    cv::resize(other.pixels, canvas, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  }
  const double factor = shrink * size / std::max(image.pixels.cols, image.pixels.rows);
  const int w = std::max(1, int(std::lround(image.pixels.cols * factor)));
  const int h = std::max(1, int(std::lround(image.pixels.rows * factor)));
  cv::Mat view;
  cv::resize(image.pixels, view, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  // Photometric jitter: contrast and brightness.
  view = view * Uniform(rng, 0.8, 1.2) + Uniform(rng, -20, 20);
  const int x = shrink < 1 ? std::uniform_int_distribution<int>(0, size - w)(*rng) : (size - w) / 2;
  const int y = shrink < 1 ? std::uniform_int_distribution<int>(0, size - h)(*rng) : (size - h) / 2;
  view.copyTo(canvas(cv::Rect(x, y, w, h)));
  return canvas;
}

ScalePair PosedScalePairGenerator::Sample(std::mt19937* rng) const {
  const Pair& drawn = pairs_[std::uniform_int_distribution<size_t>(0, pairs_.size() - 1)(*rng)];
  const bool swap = Uniform(rng, 0, 1) < 0.5;
  const Image& a = images_[swap ? drawn.b : drawn.a];
  const Image& b = images_[swap ? drawn.a : drawn.b];
  const double log2_s = swap ? -std::log2(drawn.scale) : std::log2(drawn.scale);
  // Letterboxed at full size, s(A'->B') = s * f_B / f_A with f = canvas px per original px.
  const double size = options_.canvas_size;
  const double t0 = log2_s + std::log2(size / b.original_side) - std::log2(size / a.original_side);
  // Shrinking B by r_B lowers log2 s by -log2 r_B; shrinking A raises it.
  double t = Uniform(rng, -options_.max_log2_scale, options_.max_log2_scale);
  t = std::clamp(t, t0 - options_.max_log2_shrink, t0 + options_.max_log2_shrink);
  const double shrink_b = t < t0 ? std::exp2(t - t0) : 1.0;
  const double shrink_a = t > t0 ? std::exp2(t0 - t) : 1.0;
  ScalePair pair;
  pair.a = NormaliseForScaleNet(Render(a, shrink_a, rng));
  pair.b = NormaliseForScaleNet(Render(b, shrink_b, rng));
  // The rendered sizes are rounded to whole pixels; the GT uses the factors as drawn.
  pair.scale = std::exp2(t);
  pair.nominal_scale = pair.scale;
  return pair;
}

}  // namespace scalesfm
