#include "training/scale_pairs.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

#include "feature/image_io.h"
#include "scale/scale_estimator.h"
#include "scale/scalenet_input.h"
#include "util/logging.h"
#include "util/random.h"

namespace scalesfm {
namespace {

// The homography taking canvas pixels to source-image pixels for a view whose canvas spans
// `extent` source pixels (longest side), centred at `center`, rotated by `angle`, with corner
// jitter. Canvas content occupies [0, w) x [0, h) (w, h <= size).
cv::Mat ViewHomography(int w, int h, double extent, cv::Point2d center, double angle, double jitter,
                       int size, std::mt19937* rng) {
  const double per_px = extent / std::max(w, h);
  const double c = std::cos(angle), s = std::sin(angle);
  std::vector<cv::Point2f> canvas = {{0, 0}, {float(w), 0}, {float(w), float(h)}, {0, float(h)}};
  std::vector<cv::Point2f> source;
  for (const auto& p : canvas) {
    const double dx = (p.x + Uniform(rng, -jitter, jitter) * size - w / 2.0) * per_px;
    const double dy = (p.y + Uniform(rng, -jitter, jitter) * size - h / 2.0) * per_px;
    source.emplace_back(center.x + c * dx - s * dy, center.y + s * dx + c * dy);
  }
  return cv::getPerspectiveTransform(canvas, source);
}

// Renders a view: source warped through H (canvas -> source) into a w x h region of a size^2
// canvas; pixels outside the source are filled from the distractor. Returns 0..255 floats and
// the mask of pixels that came from the source.
cv::Mat RenderView(const cv::Mat& source, const cv::Mat& distractor, const cv::Mat& H, int w, int h,
                   int size, std::mt19937* rng, cv::Mat* valid) {
  cv::Mat view, mask;
  cv::warpPerspective(source, view, H, cv::Size(w, h), cv::INTER_AREA | cv::WARP_INVERSE_MAP,
                      cv::BORDER_CONSTANT, 0);
  cv::Mat ones(source.size(), CV_8U, cv::Scalar(255));
  cv::warpPerspective(ones, mask, H, cv::Size(w, h), cv::INTER_NEAREST | cv::WARP_INVERSE_MAP,
                      cv::BORDER_CONSTANT, 0);
  // Distractor: a random crop of another image, resized to the view.
  const double f = Uniform(rng, 0.4, 1.0);
  const int dw = std::max(8, int(distractor.cols * f)), dh = std::max(8, int(distractor.rows * f));
  const int dx = std::uniform_int_distribution<int>(0, distractor.cols - dw)(*rng);
  const int dy = std::uniform_int_distribution<int>(0, distractor.rows - dh)(*rng);
  cv::Mat filler;
  cv::resize(distractor(cv::Rect(dx, dy, dw, dh)), filler, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  filler.copyTo(view, mask == 0);
  // Photometric jitter: contrast, brightness, gamma, blur, noise.
  const double blur = Uniform(rng, 0.0, 1.2);
  if (blur > 0.3) cv::GaussianBlur(view, view, cv::Size(0, 0), blur);
  const double gamma = std::exp(Uniform(rng, -0.3, 0.3));
  cv::pow(view / 255.0, gamma, view);
  view = view * (255.0 * Uniform(rng, 0.7, 1.3)) + Uniform(rng, -25, 25);
  cv::Mat noise(view.size(), CV_32F);
  cv::randn(noise, 0, Uniform(rng, 0, 6));
  view += noise;
  cv::Mat canvas(size, size, CV_32F, cv::Scalar(127.5));
  view.copyTo(canvas(cv::Rect((size - w) / 2, (size - h) / 2, w, h)));
  *valid = cv::Mat::zeros(size, size, CV_8U);
  mask.copyTo((*valid)(cv::Rect((size - w) / 2, (size - h) / 2, w, h)));
  return canvas;
}

}  // namespace

ScalePairGenerator::ScalePairGenerator(const std::vector<std::string>& image_paths,
                                       const ScalePairOptions& options)
    : options_(options) {
  for (const std::string& path : image_paths) {
    std::string error;
    cv::Mat gray = ReadImageGray(path, &error);
    if (gray.empty() || std::min(gray.cols, gray.rows) < 64) {
      LogWarning("skipping training image " + path +
                 (error.empty() ? ": too small" : ": " + error));
      continue;
    }
    cv::Mat f;
    gray.convertTo(f, CV_32F);
    images_.push_back(f);
  }
  if (images_.size() < 2) throw Error("need at least two readable training images");
  for (size_t i = 1; i < images_.size(); ++i) {
    const auto side = [&](size_t k) { return std::min(images_[k].cols, images_[k].rows); };
    if (side(i) > side(largest_)) largest_ = i;
  }
}

ScalePair ScalePairGenerator::Sample(std::mt19937* rng) const {
  const int size = options_.canvas_size;
  std::uniform_int_distribution<size_t> pick(0, images_.size() - 1);
  const double log2_s = Uniform(rng, -options_.max_log2_scale, options_.max_log2_scale);
  const double zoom = std::exp2(std::abs(log2_s));
  // The zoomed view spans wide_extent / zoom source pixels on a canvas of `size`; keeping its
  // magnification size * zoom / wide_extent <= max_zoom_magnification needs a wide extent of
  // at least min_extent, so the source must be that big (the largest image if none is).
  const double min_extent =
      options_.max_zoom_magnification > 0 ? size * zoom / options_.max_zoom_magnification : 0.0;
  std::vector<size_t> big_enough;
  for (size_t i = 0; i < images_.size(); ++i) {
    if (std::min(images_[i].cols, images_[i].rows) >= min_extent) big_enough.push_back(i);
  }
  const cv::Mat& source = big_enough.empty()
                              ? images_[largest_]
                              : images_[big_enough[std::uniform_int_distribution<size_t>(
                                    0, big_enough.size() - 1)(*rng)]];
  const cv::Mat& distractor = images_[pick(*rng)];

  auto view_size = [&](int* w, int* h) {
    *w = *h = size;
    if (Uniform(rng, 0, 1) < options_.letterbox_probability) {
      const int short_side = static_cast<int>(size * Uniform(rng, 0.6, 0.8));
      if (Uniform(rng, 0, 1) < 0.7)
        *h = short_side;
      else
        *w = short_side;
    }
  };
  int ww, wh, zw, zh;
  view_size(&ww, &wh);
  view_size(&zw, &zh);
  // The wide view spans most of the source; the zoomed one 1/zoom of that, centred inside it.
  const double min_side = std::min(source.cols, source.rows);
  const double wide_extent =
      min_side * Uniform(rng, std::min(1.0, std::max(0.6, min_extent / min_side)), 1.0);
  const cv::Point2d wide_center(source.cols / 2.0 + Uniform(rng, -0.15, 0.15) * source.cols,
                                source.rows / 2.0 + Uniform(rng, -0.15, 0.15) * source.rows);
  const double reach = 0.45 * wide_extent;  // zoomed centre within the wide view (some partial)
  const cv::Point2d zoom_center(wide_center.x + Uniform(rng, -reach, reach),
                                wide_center.y + Uniform(rng, -reach, reach));
  const double rotation = Uniform(rng, -1, 1) * options_.max_rotation_deg * M_PI / 180.0;
  const cv::Mat H_wide =
      ViewHomography(ww, wh, wide_extent, wide_center, 0.0, options_.max_corner_jitter, size, rng);
  const cv::Mat H_zoom = ViewHomography(zw, zh, wide_extent / zoom, zoom_center, rotation,
                                        options_.max_corner_jitter, size, rng);
  cv::Mat valid_wide, valid_zoom;
  const cv::Mat wide = RenderView(source, distractor, H_wide, ww, wh, size, rng, &valid_wide);
  const cv::Mat zoomed = RenderView(source, distractor, H_zoom, zw, zh, size, rng, &valid_zoom);

  // Canvas offsets of the letterboxed content.
  auto shift = [&](int w, int h) {
    cv::Mat T = cv::Mat::eye(3, 3, CV_64F);
    T.at<double>(0, 2) = (size - w) / 2;
    T.at<double>(1, 2) = (size - h) / 2;
    return T;
  };
  // Wide canvas -> zoomed canvas.
  const cv::Mat H_wz = shift(zw, zh) * H_zoom.inv() * H_wide * shift(ww, wh).inv();
  // GT: geometric mean of sqrt|det J| over wide-canvas pixels (from the source) that land inside
  // the zoomed view's source pixels.
  double log_sum = 0;
  int count = 0;
  for (int y = 2; y < size; y += 4) {
    for (int x = 2; x < size; x += 4) {
      if (!valid_wide.at<uint8_t>(y, x)) continue;
      const double* m = H_wz.ptr<double>(0);
      const double X = m[0] * x + m[1] * y + m[2], Y = m[3] * x + m[4] * y + m[5],
                   W = m[6] * x + m[7] * y + m[8];
      const double u = X / W, v = Y / W;
      if (u < 0 || v < 0 || u >= size || v >= size) continue;
      if (!valid_zoom.at<uint8_t>(int(v), int(u))) continue;
      // Jacobian of the projective map at (x, y).
      const double j11 = (m[0] - m[6] * u) / W, j12 = (m[1] - m[7] * u) / W;
      const double j21 = (m[3] - m[6] * v) / W, j22 = (m[4] - m[7] * v) / W;
      log_sum += 0.5 * std::log(std::abs(j11 * j22 - j12 * j21));
      ++count;
    }
  }
  ScalePair pair;
  pair.zoom_magnification = size * zoom / wide_extent;
  const double log_scale_wz = count > 0 ? log_sum / count : std::log(zoom);
  // A is the wide view when log2_s >= 0, else the zoomed one.
  if (log2_s >= 0) {
    pair.a = NormaliseForScaleNet(wide);
    pair.b = NormaliseForScaleNet(zoomed);
    pair.scale = std::exp(log_scale_wz);
    pair.nominal_scale = zoom;
  } else {
    pair.a = NormaliseForScaleNet(zoomed);
    pair.b = NormaliseForScaleNet(wide);
    pair.scale = std::exp(-log_scale_wz);
    pair.nominal_scale = 1.0 / zoom;
  }
  return pair;
}

ScalePairBatch ToScalePairBatch(const std::vector<ScalePair>& pairs) {
  std::vector<torch::Tensor> a, b;
  std::vector<float> log_scale;
  for (const ScalePair& pair : pairs) {
    const int s = pair.a.rows;
    a.push_back(torch::from_blob(pair.a.clone().data, {1, 1, s, s}, torch::kFloat32).clone());
    b.push_back(torch::from_blob(pair.b.clone().data, {1, 1, s, s}, torch::kFloat32).clone());
    log_scale.push_back(static_cast<float>(std::log(pair.scale)));
  }
  return {torch::cat(a), torch::cat(b), torch::tensor(log_scale)};
}

ScalePairBatch MakeScalePairBatch(const ScalePairGenerator& generator, int n, std::mt19937* rng) {
  std::vector<ScalePair> pairs;
  for (int i = 0; i < n; ++i) pairs.push_back(generator.Sample(rng));
  return ToScalePairBatch(pairs);
}

std::vector<ScalePairBatch> MakeScaleValidationBatches(const ScalePairGenerator& generator,
                                                       int num_pairs, int batch_size,
                                                       unsigned seed) {
  std::vector<ScalePairBatch> batches;
  std::mt19937 rng(seed + 977);
  for (int done = 0; done < num_pairs; done += batch_size) {
    batches.push_back(MakeScalePairBatch(generator, std::min(batch_size, num_pairs - done), &rng));
  }
  return batches;
}

ScaleValidation SummariseScaleValidation(const std::vector<double>& est_log2,
                                         const std::vector<double>& gt_log2,
                                         const std::vector<int>& est_bins) {
  double sum = 0, sum_ge1 = 0;
  size_t n_ge1 = 0, within = 0;
  std::array<double, 3> octave_error{}, octave_bias{};
  std::array<size_t, 3> octave_n{};
  const size_t n = est_log2.size();
  for (size_t i = 0; i < n; ++i) {
    const double e = std::abs(est_log2[i] - gt_log2[i]);
    const double g = gt_log2[i];
    sum += e;
    if (std::abs(g) >= 1) {
      sum_ge1 += e;
      ++n_ge1;
    }
    const size_t octave = std::min<size_t>(2, static_cast<size_t>(std::abs(g)));
    octave_error[octave] += e;
    octave_bias[octave] += std::abs(est_log2[i]) - std::abs(g);
    ++octave_n[octave];
    within += std::abs(est_bins[i] - NearestScaleBin(std::exp2(g))) <= 1;
  }
  ScaleValidation v;
  v.mean_log2_error = n ? sum / n : 0;
  v.mean_log2_error_ge1 = n_ge1 ? sum_ge1 / n_ge1 : 0;
  v.bin_within_one_bin = n ? double(within) / n : 0;
  for (size_t k = 0; k < 3; ++k) {
    v.error_by_octave[k] = octave_n[k] ? octave_error[k] / octave_n[k] : 0;
    v.magnitude_bias_by_octave[k] = octave_n[k] ? octave_bias[k] / octave_n[k] : 0;
  }
  return v;
}

nlohmann::json ScaleValidationJson(const ScaleValidation& v, const std::string& bin_key) {
  return {{"E_log2", v.mean_log2_error},
          {"E_log2_abs_ge1", v.mean_log2_error_ge1},
          {bin_key, v.bin_within_one_bin},
          {"E_log2_by_octave", v.error_by_octave},
          {"abs_log2_bias_by_octave", v.magnitude_bias_by_octave}};
}

void LogScaleValidation(int iteration, const ScaleValidation& v) {
  LogInfo(
      StringPrintf("Validation at %d: E = %.4f, E(|log2 s|>=1) = %.4f, bin within one bin: %.3f",
                   iteration, v.mean_log2_error, v.mean_log2_error_ge1, v.bin_within_one_bin));
  LogInfo(StringPrintf(
      "  per octave of |log2 s| (0-1, 1-2, 2-3): E %.3f / %.3f / %.3f, |log2 s| estimated "
      "minus GT %+.3f / %+.3f / %+.3f",
      v.error_by_octave[0], v.error_by_octave[1], v.error_by_octave[2],
      v.magnitude_bias_by_octave[0], v.magnitude_bias_by_octave[1], v.magnitude_bias_by_octave[2]));
}

}  // namespace scalesfm
