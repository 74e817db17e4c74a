#include "eval_common/gt_triangulation.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "feature/extraction_pipeline.h"
#include "matching/matching_controller.h"
#include "pipeline/reconstruction_pipeline.h"
#include "util/logging.h"

namespace scalesfm {
namespace fs = std::filesystem;

Reconstruction TriangulateWithGtPoses(const std::string& scene_path, const std::string& work_path,
                                      const ColmapRunner& colmap) {
  const std::string model_path = (fs::path(work_path) / "model").string();
  const std::string stamp_path = (fs::path(work_path) / "scene.txt").string();
  const std::string scene = fs::weakly_canonical(scene_path).string();
  std::string stamped;
  if (std::ifstream stamp(stamp_path); stamp) std::getline(stamp, stamped);
  if (stamped != scene || !fs::exists(fs::path(model_path) / "points3D.bin")) {
    PrintHeading1("Triangulating " + scene + " with its GT poses");
    fs::remove_all(work_path);
    fs::create_directories(model_path);
    const std::string db = (fs::path(work_path) / "database.db").string();
    const std::string images = (fs::path(scene) / "images").string();
    const std::string gt = (fs::path(scene) / "gt").string();
    ImportIntrinsicsFromModel(db, gt, images);
    RunFeatureExtraction(db, images, ImageReaderOptions(), ExtractionOptions());
    MatchingConfig plain;  // native levels, no scale estimate
    plain.scale.estimator.estimator = "none";
    RunMatching(db, plain, colmap);
    std::vector<std::string> args = {"--database_path", db, "--image_path",  images,
                                     "--input_path",    gt, "--output_path", model_path};
    for (const std::string& a : FixedIntrinsicsMapperArgs()) args.push_back(a);
    colmap.Run("point_triangulator", args, (fs::path(work_path) / "colmap.log").string());
    // The stamp is written last: an interrupted run leaves none and is redone.
    const std::string tmp = stamp_path + ".tmp";
    std::ofstream(tmp) << scene << "\n";
    fs::rename(tmp, stamp_path);
  }
  return Reconstruction::Read(model_path);
}

std::vector<const ModelPoint*> ReliablePoints(const Reconstruction& model, size_t min_track_length,
                                              double max_error) {
  std::vector<const ModelPoint*> points;
  for (const ModelPoint& p : model.points) {
    if (p.track_length >= min_track_length && p.error < max_error) points.push_back(&p);
  }
  return points;
}

Reconstruction GtPointsOrTriangulation(const std::string& scene_path, const Reconstruction& gt,
                                       const std::string& work_path, const ColmapRunner& colmap) {
  const size_t reliable = ReliablePoints(gt).size();
  if (reliable >= kMinReliableGtPoints) {
    LogInfo(StringPrintf("GT points from the GT model (%zu seen 3 times)", reliable));
    return gt;
  }
  LogInfo(StringPrintf(
      "The GT model has %zu points seen 3 times: GT points from a triangulation of SIFT matches "
      "with the GT poses (cached in %s)",
      reliable, work_path.c_str()));
  return TriangulateWithGtPoses(scene_path, work_path, colmap);
}

}  // namespace scalesfm
