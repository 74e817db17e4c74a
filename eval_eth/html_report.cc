#include "eval_eth/html_report.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "colmap_ext/database.h"
#include "eval_eth/eth_results.h"
#include "util/logging.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string Base64(const std::vector<uchar>& data) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], table[v & 63]};
  }
  if (i + 1 == data.size()) {
    const uint32_t v = data[i] << 16;
    out += {table[v >> 18], table[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == data.size()) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += {table[v >> 18], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
  }
  return out;
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

// A side-by-side image of a pair with its verified inlier matches, as a data: URI.
std::string PairThumbnail(const EthResult& r, const Database& db, const Image& a, const Image& b) {
  const cv::Mat ia = cv::imread((fs::path(r.image_path) / a.name).string(), cv::IMREAD_COLOR);
  const cv::Mat ib = cv::imread((fs::path(r.image_path) / b.name).string(), cv::IMREAD_COLOR);
  if (ia.empty() || ib.empty()) return "";
  const int h = 180;
  const double sa = double(h) / ia.rows, sb = double(h) / ib.rows;
  cv::Mat ra, rb, canvas;
  cv::resize(ia, ra, cv::Size(int(ia.cols * sa), h), 0, 0, cv::INTER_AREA);
  cv::resize(ib, rb, cv::Size(int(ib.cols * sb), h), 0, 0, cv::INTER_AREA);
  cv::hconcat(ra, rb, canvas);
  const Keypoints ka = db.ReadKeypoints(a.image_id), kb = db.ReadKeypoints(b.image_id);
  const TwoViewGeometry tvg = db.ReadTwoViewGeometry(a.image_id, b.image_id);
  size_t drawn = 0;
  for (size_t i = 0; i < tvg.inlier_matches.size(); i += 1 + tvg.inlier_matches.size() / 150) {
    const Match& m = tvg.inlier_matches[i];
    const cv::Point2d pa(ka[m.idx1].x * sa, ka[m.idx1].y * sa);
    const cv::Point2d pb(kb[m.idx2].x * sb + ra.cols, kb[m.idx2].y * sb);
    cv::line(canvas, pa, pb, cv::Scalar(60, 220, 60), 1, cv::LINE_AA);
    ++drawn;
  }
  std::vector<uchar> png;
  cv::imencode(".png", canvas, png);
  return "data:image/png;base64," + Base64(png);
}

}  // namespace

std::string SvgLineChart(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<CurveSeries>& series) {
  const double w = 520, h = 300, left = 55, right = 150, top = 30, bottom = 45;
  double x_min = 1e300, x_max = -1e300;
  for (const CurveSeries& s : series) {
    for (double x : s.x) {
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
    }
  }
  if (!(x_max > x_min)) {
    x_min = 0;
    x_max = 1;
  }
  const double pw = w - left - right, ph = h - top - bottom;
  auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * pw; };
  auto py = [&](double y) { return top + (1 - std::clamp(y, 0.0, 1.0)) * ph; };
  std::string svg = StringPrintf(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n"
      "<text x=\"%.0f\" y=\"18\" font-size=\"13\" font-weight=\"bold\">%s</text>\n"
      "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" "
      "stroke=\"#444\"/>\n",
      w, h, left, Escape(title).c_str(), left, top, pw, ph);
  for (int i = 0; i <= 5; ++i) {
    const double y = i / 5.0;
    svg += StringPrintf(
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>\n",
        left, py(y), left + pw, py(y), left - 5, py(y) + 4, y);
    const double x = x_min + (x_max - x_min) * i / 5.0;
    svg += StringPrintf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.3g</text>\n", px(x),
                        top + ph + 15, x);
  }
  svg += StringPrintf(
      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n"
      "<text x=\"14\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 14 %.1f)\">%s"
      "</text>\n",
      left + pw / 2, h - 8, Escape(x_label).c_str(), top + ph / 2, top + ph / 2,
      Escape(y_label).c_str());
  for (size_t k = 0; k < series.size(); ++k) {
    const CurveSeries& s = series[k];
    const char* color = kColors[k % 6];
    std::string points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      points += StringPrintf("%.1f,%.1f ", px(s.x[i]), py(s.y[i]));
    }
    svg += StringPrintf(
        "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
        "points=\"%s\"/>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"3\" fill=\"%s\"/>"
        "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n",
        color, points.c_str(), left + pw + 10, top + 8 + 16.0 * k, color, left + pw + 26,
        top + 12 + 16.0 * k, Escape(s.label).c_str());
  }
  return svg + "</svg>\n";
}

std::vector<std::pair<std::string, double>> GtScaleChanges(const Reconstruction& gt) {
  // Point nearest all optical axes: sum (I - d d^T)(x - c) = 0.
  Eigen::Matrix3d a = Eigen::Matrix3d::Zero();
  Eigen::Vector3d rhs = Eigen::Vector3d::Zero();
  for (const auto& [id, image] : gt.images) {
    const Eigen::Vector3d d = image.R().row(2).transpose();
    const Eigen::Matrix3d p = Eigen::Matrix3d::Identity() - d * d.transpose();
    a += p;
    rhs += p * image.Center();
  }
  const Eigen::Vector3d centre = a.ldlt().solve(rhs);
  std::vector<const ModelImage*> images;
  for (const auto& [id, image] : gt.images) images.push_back(&image);
  std::vector<std::pair<std::string, double>> out;
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t j = i + 1; j < images.size(); ++j) {
      const ModelImage& x = *images[i];
      const ModelImage& y = *images[j];
      const Camera& cx = gt.cameras.at(x.camera_id);
      const Camera& cy = gt.cameras.at(y.camera_id);
      const double dx = std::max(1e-9, (x.Center() - centre).norm());
      const double dy = std::max(1e-9, (y.Center() - centre).norm());
      const double s = (cy.FocalX() / cx.FocalX()) * (dx / dy);
      out.emplace_back(x.name + "|" + y.name, std::abs(std::log2(s)));
    }
  }
  return out;
}

void WriteHtmlReport(const std::string& path, const std::vector<EthResult>& results,
                     int thumbnails_per_run) {
  std::string html =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>scalesfm evaluation"
      "</title>\n<style>body{font-family:sans-serif;margin:20px;max-width:1200px}"
      "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #bbb;padding:3px 6px;"
      "text-align:right}th{background:#eee}td:first-child,td:nth-child(2){text-align:left}"
      ".charts{display:flex;flex-wrap:wrap;gap:10px}figure{margin:6px}"
      "figcaption{font-size:12px}</style></head><body>\n"
      "<h1>scalesfm evaluation</h1>\n<p>ETH local-feature protocol; relative-pose error of a pair "
      "= max(rotation error, translation-direction error); an unregistered image fails all its "
      "pairs.</p>\n<h2>Results</h2>\n<table id=\"results\"><tr><th>dataset</th><th>method</th>"
      "<th>run</th><th>registered</th><th>points</th><th>track len</th><th>reproj px</th>"
      "<th>mAA@5</th><th>mAA@10</th><th>total s</th></tr>\n";
  for (const EthResult& r : results) {
    html += StringPrintf(
        "<tr><td>%s</td><td>%s</td><td>%d</td><td>%zu/%zu</td><td>%zu</td><td>%.3f</td>"
        "<td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.1f</td></tr>\n",
        Escape(r.dataset).c_str(), Escape(r.method).c_str(), r.repetition, r.stats.num_images,
        r.num_images, r.stats.num_points, r.stats.mean_track_length,
        r.stats.mean_reprojection_error, r.pose.maa5, r.pose.maa10, r.TotalSeconds());
  }
  html += "</table>\n";

  // Curves per dataset, first repetition of each method.
  std::map<std::string, std::vector<const EthResult*>> by_dataset;
  for (const EthResult& r : results) {
    if (r.repetition == 0 && r.has_gt) by_dataset[r.dataset].push_back(&r);
  }
  if (!by_dataset.empty()) html += "<h2>Accuracy curves</h2>\n";
  for (const auto& [dataset, runs] : by_dataset) {
    std::vector<CurveSeries> thresholds, scales;
    std::map<std::string, double> change;
    try {
      for (const auto& [key, c] : GtScaleChanges(Reconstruction::Read(runs[0]->gt_path))) {
        change[key] = c;
      }
    } catch (const Error&) {
    }
    for (const EthResult* r : runs) {
      CurveSeries t{r->method, {}, {}};
      for (int d = 0; d <= 20; ++d) {
        const double th = 0.5 * d;
        size_t ok = 0;
        for (const PairPoseError& e : r->pose.errors) ok += e.error_deg <= th;
        t.x.push_back(th);
        t.y.push_back(r->pose.errors.empty() ? 0.0 : double(ok) / r->pose.errors.size());
      }
      thresholds.push_back(t);
      // Accuracy (error <= 10 deg) per GT scale-change bin of 0.5 octave.
      std::map<int, std::pair<size_t, size_t>> bins;
      for (const PairPoseError& e : r->pose.errors) {
        auto it = change.find(e.name1 + "|" + e.name2);
        if (it == change.end()) it = change.find(e.name2 + "|" + e.name1);
        if (it == change.end()) continue;
        auto& bin = bins[static_cast<int>(std::floor(it->second / 0.5))];
        ++bin.second;
        bin.first += e.error_deg <= 10.0;
      }
      CurveSeries s{r->method, {}, {}};
      for (const auto& [bin, counts] : bins) {
        s.x.push_back(0.5 * bin + 0.25);
        s.y.push_back(double(counts.first) / counts.second);
      }
      scales.push_back(s);
    }
    html += "<h3>" + Escape(dataset) + "</h3>\n<div class=\"charts\">\n";
    html += SvgLineChart(dataset + ": pairs within threshold", "threshold (deg)",
                         "fraction of pairs", thresholds);
    html += SvgLineChart(dataset + ": accuracy vs scale change", "GT |log2 s| (bins of 0.5 octave)",
                         "pairs within 10 deg", scales);
    html += "</div>\n";
  }

  // Thumbnails: the verified pairs with the largest GT scale change, per run.
  html += "<h2>Matched pairs (verified inliers)</h2>\n<div class=\"charts\">\n";
  for (const EthResult& r : results) {
    if (r.repetition != 0 || thumbnails_per_run <= 0) continue;
    const std::string db_path = (fs::path(r.workspace) / "database.db").string();
    if (!fs::exists(db_path)) continue;
    try {
      Database db(db_path);
      std::map<std::string, double> change;
      if (r.has_gt) {
        for (const auto& [key, c] : GtScaleChanges(Reconstruction::Read(r.gt_path))) {
          change[key] = c;
        }
      }
      std::map<image_t, Image> images;
      for (const Image& image : db.ReadAllImages()) images[image.image_id] = image;
      std::vector<std::tuple<double, size_t, image_pair_t>> candidates;
      for (const auto& [pair_id, inliers] : db.ReadTwoViewGeometryNumInliers()) {
        if (inliers == 0) continue;
        const auto [a, b] = PairIdToImagePair(pair_id);
        if (!images.count(a) || !images.count(b)) continue;
        auto it = change.find(images[a].name + "|" + images[b].name);
        if (it == change.end()) it = change.find(images[b].name + "|" + images[a].name);
        candidates.emplace_back(it == change.end() ? 0.0 : it->second, inliers, pair_id);
      }
      std::sort(candidates.rbegin(), candidates.rend());
      for (int k = 0; k < thumbnails_per_run && k < int(candidates.size()); ++k) {
        const auto [c, inliers, pair_id] = candidates[k];
        const auto [a, b] = PairIdToImagePair(pair_id);
        const std::string uri = PairThumbnail(r, db, images[a], images[b]);
        if (uri.empty()) continue;
        html += StringPrintf(
            "<figure><img class=\"thumb\" src=\"%s\"><figcaption>%s / %s: %s - %s, %zu inliers"
            "%s</figcaption></figure>\n",
            uri.c_str(), Escape(r.dataset).c_str(), Escape(r.method).c_str(),
            Escape(images[a].name).c_str(), Escape(images[b].name).c_str(), inliers,
            r.has_gt ? StringPrintf(", GT |log2 s| %.2f", c).c_str() : "");
      }
    } catch (const Error& e) {
      LogWarning("report: no thumbnails for " + r.dataset + " / " + r.method + ": " + e.what());
    }
  }
  html += "</div>\n</body></html>\n";
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << html;
  fs::rename(tmp, path);
}

}  // namespace scalesfm
