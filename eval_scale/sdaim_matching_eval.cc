#include "eval_scale/sdaim_matching_eval.h"

#include <Eigen/Core>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/calib3d.hpp>

#include "colmap_ext/database.h"
#include "eval_common/homography_pairs.h"
#include "eval_common/method_presets.h"
#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "util/logging.h"
#include "util/progress.h"

namespace fs = std::filesystem;

namespace scalesfm {

void SdaimMatchingOptions::Check() const {
  if (homography_path.empty()) throw Error("eval_sdaim needs --homography_path");
  if (output_path.empty()) throw Error("eval_sdaim needs --output_path");
  for (const std::string& m : methods) {
    if (!FindPreset(SdaimMethodPresets(), m)) {
      throw Error("unknown eval_sdaim method '" + m +
                  "' (known: " + PresetNames(SdaimMethodPresets()) + ")");
    }
  }
  if (max_num_features <= 0) throw Error("--max_num_features must be positive");
  if (!(threshold_px > 0)) throw Error("--threshold_px must be positive");
}

namespace {

// One method on one pair in a scratch folder; scores the written matches.
SdaimMatchingRow RunPair(const ScalePairGt& pair, const std::string& method,
                         const SdaimMatchingOptions& options, const std::string& scratch) {
  fs::remove_all(scratch);
  const std::string images = scratch + "/images";
  fs::create_directories(images);
  fs::copy_file(pair.name1, images + "/A.jpg");
  fs::copy_file(pair.name2, images + "/B.jpg");
  const std::string db_path = scratch + "/database.db";

  SdaimMethodConfig preset;
  preset.extraction.max_num_features = options.max_num_features;
  preset.extraction.num_threads = 1;  // A is image 1, B image 2
  FindPreset(SdaimMethodPresets(), method)->apply(&preset);
  RunFeatureExtraction(db_path, images, ImageReaderOptions(), preset.extraction);

  MatchingConfig config;
  const ScaleMatchingOptions& scale = config.scale = preset.scale;
  config.image_path = images;
  config.extraction = preset.extraction;
  if (preset.gt_scale) {
    Database db(db_path);
    db.WritePairScale(1, 2, PairScale{scale.estimator.estimator, pair.scale, 0});
  }
  RunRawMatching(db_path, {{1, 2}}, config);

  Database db(db_path);
  SdaimMatchingRow row;
  row.pair = fs::path(pair.name1).parent_path().filename().string();
  row.method = method;
  row.gt_scale = pair.scale;
  if (auto s = db.ReadPairScale(1, 2, scale.estimator.estimator)) row.used_scale = s->scale;
  const Eigen::Matrix3d h = ReadHomography((fs::path(pair.name1).parent_path() / "H.txt").string());
  const Keypoints ka = db.ReadKeypoints(1), kb = db.ReadKeypoints(2);
  const Matches matches = db.ReadMatches(1, 2);
  row.num_matches = matches.size();
  std::vector<cv::Point2f> pa, pb;
  for (const Match& m : matches) {
    // H maps pixel-centre coordinates (OpenCV's convention) of A to B.
    const Eigen::Vector3d a(ColmapToOpenCv(ka[m.idx1].x), ColmapToOpenCv(ka[m.idx1].y), 1.0);
    const Eigen::Vector3d b = h * a;
    const double dx = b.x() / b.z() - ColmapToOpenCv(kb[m.idx2].x);
    const double dy = b.y() / b.z() - ColmapToOpenCv(kb[m.idx2].y);
    if (std::hypot(dx, dy) <= options.threshold_px) ++row.num_correct;
    pa.emplace_back(float(a.x()), float(a.y()));
    pb.emplace_back(ColmapToOpenCv(kb[m.idx2].x), ColmapToOpenCv(kb[m.idx2].y));
  }
  if (pa.size() >= 4) {
    cv::Mat mask;
    cv::findHomography(pa, pb, cv::USAC_MAGSAC, options.threshold_px, mask, 10000, 0.999);
    if (!mask.empty()) row.num_ransac_inliers = size_t(cv::countNonZero(mask));
  }
  return row;
}

}  // namespace

std::vector<SdaimMatchingRow> RunSdaimMatchingEvaluation(const SdaimMatchingOptions& options) {
  options.Check();
  PrintHeading1("SDAIM matching accuracy on homography pairs");
  fs::create_directories(options.output_path);
  const std::vector<ScalePairGt> pairs = ReadHomographyPairs(options.homography_path);
  const std::string scratch = (fs::path(options.output_path) / "scratch").string();
  std::vector<SdaimMatchingRow> rows;
  Progress progress("run", pairs.size() * options.methods.size());
  for (const ScalePairGt& pair : pairs) {
    for (const std::string& method : options.methods) {
      rows.push_back(RunPair(pair, method, options, scratch));
      const SdaimMatchingRow& r = rows.back();
      progress.Step(StringPrintf("%s %s: %zu matches, MMA %.3f, %zu RANSAC inliers", r.pair.c_str(),
                                 method.c_str(), r.num_matches, r.Mma(), r.num_ransac_inliers));
    }
  }
  fs::remove_all(scratch);

  std::ofstream csv((fs::path(options.output_path) / "matching.csv").string());
  csv << "pair,method,gt_scale,used_scale,matches,correct,mma,ransac_inliers\n";
  for (const SdaimMatchingRow& r : rows) {
    csv << r.pair << "," << r.method << "," << r.gt_scale << "," << r.used_scale << ","
        << r.num_matches << "," << r.num_correct << "," << r.Mma() << "," << r.num_ransac_inliers
        << "\n";
  }
  // Means per method over pairs with |log2 s| < 1 and >= 1.
  std::string md = StringPrintf(
      "| method | pairs | mean matches | mean correct@%.0fpx | MMA@%.0fpx | mean RANSAC inliers |\n"
      "|---|---|---|---|---|---|\n",
      options.threshold_px, options.threshold_px);
  for (const bool large_group : {false, true}) {
    const char* group = large_group ? "|log2 s| >= 1" : "|log2 s| < 1";
    for (const std::string& method : options.methods) {
      size_t n = 0;
      double matches = 0, correct = 0, mma = 0, inliers = 0;
      for (const SdaimMatchingRow& r : rows) {
        const bool large = std::abs(std::log2(r.gt_scale)) >= 1;
        if (r.method != method || large != large_group) continue;
        ++n;
        matches += r.num_matches;
        correct += r.num_correct;
        mma += r.Mma();
        inliers += r.num_ransac_inliers;
      }
      if (n == 0) continue;
      md += StringPrintf("| %s (%s) | %zu | %.0f | %.0f | %.3f | %.0f |\n", method.c_str(), group,
                         n, matches / n, correct / n, mma / n, inliers / n);
    }
  }
  md += "\nPer pair (correct matches / matches, RANSAC inliers):\n\n| pair | s(A->B) |";
  for (const std::string& m : options.methods) md += " " + m + " |";
  md += "\n|---|---|";
  for (size_t i = 0; i < options.methods.size(); ++i) md += "---|";
  md += "\n";
  for (size_t i = 0; i < rows.size(); i += options.methods.size()) {
    md += StringPrintf("| %s | %.2f |", rows[i].pair.c_str(), rows[i].gt_scale);
    for (size_t k = 0; k < options.methods.size(); ++k) {
      const SdaimMatchingRow& r = rows[i + k];
      md += StringPrintf(" %zu / %zu, %zu |", r.num_correct, r.num_matches, r.num_ransac_inliers);
    }
    md += "\n";
  }
  std::ofstream((fs::path(options.output_path) / "matching.md").string()) << md;
  std::cout << md;
  return rows;
}

}  // namespace scalesfm
