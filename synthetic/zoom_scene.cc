#include "synthetic/zoom_scene.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>

#include "feature/image_io.h"
#include "synthetic/jpeg_exif.h"
#include "util/logging.h"

namespace scalesfm {
namespace fs = std::filesystem;

namespace {

constexpr int kSimplePinhole = 0;
constexpr int kPinhole = 1;

Camera PinholeCamera(int width, int height, double fx, double fy, double cx, double cy) {
  Camera c;
  c.model_id = kPinhole;
  c.width = width;
  c.height = height;
  c.params = {fx, fy, cx, cy};
  return c;
}

// Projects X with a view's camera and pose; false when behind it or outside the image.
bool ProjectInto(const Camera& camera, const Eigen::Quaterniond& q, const Eigen::Vector3d& t,
                 const Eigen::Vector3d& X, Eigen::Vector2d* p) {
  return ProjectWorldPoint(camera, q, t, X, p) && InsideImage(camera, *p);
}

std::string ZoomLabel(double zoom) {
  const double rounded = std::round(zoom);
  if (std::abs(zoom - rounded) < 1e-9) return std::to_string(static_cast<long long>(rounded));
  std::string s = StringPrintf("%g", zoom);
  std::replace(s.begin(), s.end(), '.', 'p');
  return s;
}

// A zoomed view of `source` (camera `cam`, pose q/t) with the source window [x0, x0 + w) x
// [y0, y0 + h) as its footprint (crop) or aimed at the window's centre (optical).
ZoomView MakeZoomedView(const ModelImage& source, const Camera& cam, int wide_width,
                        int wide_height, double zoom, int x0, int y0, int w, int h,
                        const std::string& model) {
  ZoomView v;
  v.source_image_id = source.image_id;
  v.source_name = source.name;
  v.zoom = zoom;
  v.spot = Eigen::Vector2d(x0 + 0.5 * w, y0 + 0.5 * h);
  if (model == "crop") {
    // u_view = s (u_source - x0): K' = diag(s, s, 1) [1 0 -x0; 0 1 -y0; 0 0 1] K.
    const double sx = double(wide_width) / w, sy = double(wide_height) / h;
    v.camera = PinholeCamera(wide_width, wide_height, sx * cam.FocalX(), sy * cam.FocalY(),
                             sx * (cam.PrincipalX() - x0), sy * (cam.PrincipalY() - y0));
    v.q = source.q;
    v.t = source.t;
    v.source_from_view << 1 / sx, 0, x0, 0, 1 / sy, y0, 0, 0, 1;
    return v;
  }
  // Optical: R_look turns the ray through the spot onto the optical axis; the centre stays.
  const double sx = double(wide_width) / cam.width, sy = double(wide_height) / cam.height;
  v.camera = PinholeCamera(wide_width, wide_height, zoom * sx * cam.FocalX(),
                           zoom * sy * cam.FocalY(), 0.5 * wide_width, 0.5 * wide_height);
  const Eigen::Matrix3d K = CalibrationMatrix(cam);
  const Eigen::Vector3d ray = K.inverse() * v.spot.homogeneous();
  const Eigen::Quaterniond look = Eigen::Quaterniond::FromTwoVectors(ray, Eigen::Vector3d::UnitZ());
  v.q = (look * source.q.normalized()).normalized();
  v.t = look * source.t;
  v.source_from_view =
      K * look.toRotationMatrix().transpose() * CalibrationMatrix(v.camera).inverse();
  return v;
}

bool FootprintInside(const ZoomView& v, int width, int height) {
  for (const Eigen::Vector2d& corner :
       {Eigen::Vector2d(0, 0), Eigen::Vector2d(v.camera.width, 0),
        Eigen::Vector2d(0, v.camera.height), Eigen::Vector2d(v.camera.width, v.camera.height)}) {
    const Eigen::Vector3d p = v.source_from_view * corner.homogeneous();
    if (p.z() <= 0) return false;
    const Eigen::Vector2d s = p.hnormalized();
    if (s.x() < -1e-6 || s.y() < -1e-6 || s.x() > width + 1e-6 || s.y() > height + 1e-6) {
      return false;
    }
  }
  return true;
}

}  // namespace

void ZoomSceneOptions::Check() const {
  if (zooms.empty()) throw Error("--zooms must list at least one magnification");
  for (double z : zooms) {
    if (!(z > 1) || !std::isfinite(z)) {
      throw Error(StringPrintf("--zooms: every magnification must be > 1, got %g", z));
    }
  }
  if (!(wide_scale > 0 && wide_scale <= 1)) {
    throw Error(StringPrintf("--wide_scale must be in (0, 1], got %g", wide_scale));
  }
  if (zoom_model != "crop" && zoom_model != "optical") {
    throw Error("--zoom_model must be crop or optical, got '" + zoom_model + "'");
  }
  if (!(spot_score_fraction > 0 && spot_score_fraction <= 1)) {
    throw Error("--spot_score_fraction must be in (0, 1]");
  }
  if (jpeg_quality < 1 || jpeg_quality > 100) throw Error("--jpeg_quality must be in [1, 100]");
  if (!(exif_focal_error >= 0 && exif_focal_error < 1)) {
    throw Error(StringPrintf("--exif_focal_error must be in [0, 1), got %g", exif_focal_error));
  }
}

std::vector<ZoomView> PlanZoomScene(const Reconstruction& gt,
                                    const std::vector<const ModelPoint*>& points,
                                    const ZoomSceneOptions& options) {
  options.Check();
  std::vector<const ModelImage*> sources;
  for (const auto& [id, image] : gt.images) sources.push_back(&image);
  std::sort(sources.begin(), sources.end(),
            [](const ModelImage* a, const ModelImage* b) { return a->name < b->name; });
  if (sources.size() < 2) throw Error("make_zoom_scene needs at least two posed images");
  for (const ModelImage* s : sources) {
    const auto cam = gt.cameras.find(s->camera_id);
    if (cam == gt.cameras.end()) throw Error("GT image " + s->name + " has no camera");
    if (cam->second.model_id != kPinhole && cam->second.model_id != kSimplePinhole) {
      throw Error("GT camera of " + s->name + " is " + cam->second.ModelName() +
                  "; make_zoom_scene needs PINHOLE or SIMPLE_PINHOLE cameras (undistort the "
                  "scene first with colmap image_undistorter)");
    }
  }
  std::set<image_t> wide_ids;
  for (size_t k = 0; k < sources.size(); k += 2) wide_ids.insert(sources[k]->image_id);

  std::mt19937 rng(options.seed);
  std::vector<ZoomView> views;
  for (size_t k = 0; k < sources.size(); ++k) {
    const ModelImage& source = *sources[k];
    const Camera& cam = gt.cameras.at(source.camera_id);
    const int wide_width =
        std::max(1, static_cast<int>(std::lround(cam.width * options.wide_scale)));
    const int wide_height =
        std::max(1, static_cast<int>(std::lround(cam.height * options.wide_scale)));
    const std::string number = StringPrintf("%04zu", k);
    if (k % 2 == 0) {
      // A wide shot is the whole source, downscaled: a crop of magnification 1.
      ZoomView v = MakeZoomedView(source, cam, wide_width, wide_height, 1.0, 0, 0, cam.width,
                                  cam.height, "crop");
      v.name = number + "_wide.jpg";
      views.push_back(v);
      continue;
    }
    const double zoom = options.zooms[(k / 2) % options.zooms.size()];
    // The source points this image saw, weighted by how many wide shots saw them (up to 3).
    std::vector<Eigen::Vector2d> seen;
    std::vector<int> weight;
    for (const ModelPoint* p : points) {
      if (std::find(p->track_images.begin(), p->track_images.end(), source.image_id) ==
          p->track_images.end()) {
        continue;
      }
      std::set<image_t> wide_seen;
      for (image_t id : p->track_images) {
        if (wide_ids.count(id)) wide_seen.insert(id);
      }
      Eigen::Vector2d pixel;
      if (wide_seen.empty() || !ProjectInto(cam, source.q, source.t, p->xyz, &pixel)) continue;
      seen.push_back(pixel);
      weight.push_back(std::min<int>(3, static_cast<int>(wide_seen.size())));
    }
    // Candidate windows of 1/zoom of the source on a grid of a quarter window.
    const int w = std::max(8, static_cast<int>(std::lround(cam.width / zoom)));
    const int h = std::max(8, static_cast<int>(std::lround(cam.height / zoom)));
    const int step_x = std::max(1, w / 4), step_y = std::max(1, h / 4);
    struct Candidate {
      ZoomView view;
      size_t support;
      long score;
    };
    std::vector<Candidate> candidates;
    for (int y0 = 0; y0 + h <= cam.height; y0 += step_y) {
      for (int x0 = 0; x0 + w <= cam.width; x0 += step_x) {
        ZoomView v = MakeZoomedView(source, cam, wide_width, wide_height, zoom, x0, y0, w, h,
                                    options.zoom_model);
        if (!FootprintInside(v, cam.width, cam.height)) continue;
        const Eigen::Matrix3d view_from_source = v.source_from_view.inverse();
        Candidate c{v, 0, 0};
        for (size_t i = 0; i < seen.size(); ++i) {
          const Eigen::Vector3d p = view_from_source * seen[i].homogeneous();
          if (p.z() <= 0) continue;
          if (InsideImage(v.camera, p.hnormalized())) {
            ++c.support;
            c.score += weight[i];
          }
        }
        candidates.push_back(c);
      }
    }
    // The centred window is the fallback (a crop of it always fits; an optical view of it may
    // leave the source when the principal point is far off centre).
    candidates.push_back(
        {MakeZoomedView(source, cam, wide_width, wide_height, zoom, (cam.width - w) / 2,
                        (cam.height - h) / 2, w, h, options.zoom_model),
         0, 0});
    long best = 0;
    for (const Candidate& c : candidates) best = std::max(best, c.score);
    std::vector<const Candidate*> good;
    for (const Candidate& c : candidates) {
      if (best > 0 && c.score >= options.spot_score_fraction * best) good.push_back(&c);
    }
    const Candidate* chosen = &candidates.back();
    if (good.empty()) {
      LogWarning("make_zoom_scene: no triangulated point of " + source.name +
                 " is seen by a wide shot; its zoomed view looks at the image centre");
      if (!FootprintInside(chosen->view, cam.width, cam.height)) {
        throw Error("make_zoom_scene: the " + options.zoom_model + " view of " + source.name +
                    " at the image centre leaves the image; use --zoom_model crop");
      }
    } else {
      chosen = good[std::uniform_int_distribution<size_t>(0, good.size() - 1)(rng)];
    }
    ZoomView v = chosen->view;
    v.spot_support = chosen->support;
    v.name = number + "_zoom" + ZoomLabel(zoom) + ".jpg";
    views.push_back(v);
  }
  return views;
}

cv::Mat RenderZoomView(const cv::Mat& source, const Camera& source_camera, const ZoomView& view) {
  const cv::Size size(view.camera.width, view.camera.height);
  Eigen::Matrix3d H = view.source_from_view;  // view pixel -> source pixel (COLMAP convention)
  cv::Mat src = source;
  // A view that shows the source smaller than 1:1 is taken from an area-downscaled source, so
  // that it does not alias.
  const double magnification = view.camera.FocalX() / source_camera.FocalX();
  if (magnification < 1) {
    cv::resize(source, src,
               cv::Size(std::max(1, static_cast<int>(std::lround(source.cols * magnification))),
                        std::max(1, static_cast<int>(std::lround(source.rows * magnification)))),
               0, 0, cv::INTER_AREA);
    H = Eigen::Vector3d(double(src.cols) / source.cols, double(src.rows) / source.rows, 1)
            .asDiagonal() *
        H;
  }
  // OpenCV indexes pixel centres at integers; COLMAP puts them at +0.5.
  Eigen::Matrix3d to_index, from_index;
  to_index << 1, 0, -0.5, 0, 1, -0.5, 0, 0, 1;
  from_index << 1, 0, 0.5, 0, 1, 0.5, 0, 0, 1;
  const Eigen::Matrix3d M = to_index * H * from_index;
  cv::Mat Mcv(3, 3, CV_64F);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) Mcv.at<double>(r, c) = M(r, c);
  }
  cv::Mat out;
  cv::warpPerspective(src, out, Mcv, size, cv::INTER_CUBIC | cv::WARP_INVERSE_MAP,
                      cv::BORDER_REPLICATE);
  return out;
}

fs::path ZoomSceneFolder(const std::string& output_path) {
  fs::path out = fs::absolute(output_path).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();  // "dir/" -> "dir"
  return out;
}

namespace {

// The focal length a view's EXIF states: the GT one (the mean of fx and fy), times 1 + e with e
// uniform in [-exif_focal_error, exif_focal_error], drawn per view from the seed.
double ExifFocalOfView(const ZoomView& v, size_t index, const ZoomSceneOptions& options) {
  const double focal = 0.5 * (v.camera.FocalX() + v.camera.FocalY());
  if (options.exif_focal_error == 0) return focal;
  std::mt19937 rng(options.seed * 7919u + static_cast<unsigned>(index) * 104729u + 17u);
  std::uniform_real_distribution<double> error(-options.exif_focal_error, options.exif_focal_error);
  return focal * (1 + error(rng));
}

// Renders and writes the whole scene into `partial` (created afresh).
void WriteSceneFolder(const std::string& scene_path, const Reconstruction& gt,
                      const std::vector<const ModelPoint*>& points,
                      const std::vector<ZoomView>& views, const ZoomSceneOptions& options,
                      const fs::path& partial) {
  fs::remove_all(partial);
  fs::create_directories(partial / "images");
  fs::create_directories(partial / "gt");
  std::ofstream info(partial / "zoom_scene.txt");

  std::map<image_t, size_t> view_of_source;
  for (size_t i = 0; i < views.size(); ++i) view_of_source[views[i].source_image_id] = i;
  // Observations: a view sees a point when its source image did and the point projects inside.
  std::vector<std::vector<std::pair<Eigen::Vector2d, size_t>>> observations(views.size());
  std::vector<std::vector<std::pair<size_t, size_t>>> tracks(points.size());
  for (size_t k = 0; k < points.size(); ++k) {
    for (image_t id : points[k]->track_images) {
      const auto it = view_of_source.find(id);
      if (it == view_of_source.end()) continue;
      const ZoomView& v = views[it->second];
      Eigen::Vector2d p;
      if (!ProjectInto(v.camera, v.q, v.t, points[k]->xyz, &p)) continue;
      tracks[k].emplace_back(it->second, observations[it->second].size());
      observations[it->second].emplace_back(p, k);
    }
  }

  std::ofstream cameras(partial / "gt" / "cameras.txt");
  std::ofstream images(partial / "gt" / "images.txt");
  std::ofstream points3d(partial / "gt" / "points3D.txt");
  cameras.precision(17);
  images.precision(17);
  points3d.precision(17);
  cameras << "# Camera list with one line of data per camera:\n"
          << "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n";
  images << "# Image list with two lines of data per image:\n"
         << "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
         << "#   POINTS2D[] as (X, Y, POINT3D_ID)\n";
  points3d << "# 3D point list with one line of data per point:\n"
           << "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n";
  std::string zooms;
  for (double z : options.zooms) zooms += (zooms.empty() ? "" : ",") + StringPrintf("%g", z);
  info << "# make_zoom_scene --scene_path " << fs::weakly_canonical(scene_path).string()
       << " --seed " << options.seed << " --zooms " << zooms << " --wide_scale "
       << options.wide_scale << " --zoom_model " << options.zoom_model << " --exif_focal_error "
       << options.exif_focal_error << "\n"
       << "# NAME SOURCE_NAME ZOOM SPOT_X SPOT_Y SPOT_SUPPORT\n";

  for (size_t i = 0; i < views.size(); ++i) {
    const ZoomView& v = views[i];
    const int id = static_cast<int>(i) + 1;
    const std::vector<double>& c = v.camera.params;
    cameras << id << " PINHOLE " << v.camera.width << " " << v.camera.height << " " << c[0] << " "
            << c[1] << " " << c[2] << " " << c[3] << "\n";
    const Eigen::Quaterniond q = v.q.normalized();
    images << id << " " << q.w() << " " << q.x() << " " << q.y() << " " << q.z() << " " << v.t.x()
           << " " << v.t.y() << " " << v.t.z() << " " << id << " " << v.name << "\n";
    for (size_t j = 0; j < observations[i].size(); ++j) {
      images << (j ? " " : "") << observations[i][j].first.x() << " "
             << observations[i][j].first.y() << " " << observations[i][j].second + 1;
    }
    images << "\n";
    info << v.name << " " << v.source_name << " " << v.zoom << " " << v.spot.x() << " "
         << v.spot.y() << " " << v.spot_support << "\n";

    const ModelImage& source = gt.images.at(v.source_image_id);
    const std::string source_path = (fs::path(scene_path) / "images" / source.name).string();
    const cv::Mat rgb = ReadImageOrThrow(source_path, 3);
    const Camera& source_camera = gt.cameras.at(source.camera_id);
    if (rgb.cols != source_camera.width || rgb.rows != source_camera.height) {
      throw Error(StringPrintf("%s is %dx%d but its GT camera is %dx%d", source_path.c_str(),
                               rgb.cols, rgb.rows, source_camera.width, source_camera.height));
    }
    cv::Mat bgr;
    cv::cvtColor(RenderZoomView(rgb, source_camera, v), bgr, cv::COLOR_RGB2BGR);
    const std::string path = (partial / "images" / v.name).string();
    WriteJpegWithExif(path, bgr, options.jpeg_quality,
                      {ExifFocalOfView(v, i, options), v.camera.width, v.camera.height});
    LogInfo(v.zoom == 1 ? StringPrintf("[%zu/%zu] %s from %s (wide shot)", i + 1, views.size(),
                                       v.name.c_str(), source.name.c_str())
                        : StringPrintf("[%zu/%zu] %s from %s (zoom %g at %.0f,%.0f; %zu covered "
                                       "points in view)",
                                       i + 1, views.size(), v.name.c_str(), source.name.c_str(),
                                       v.zoom, v.spot.x(), v.spot.y(), v.spot_support));
  }
  for (size_t k = 0; k < points.size(); ++k) {
    if (tracks[k].empty()) continue;
    points3d << k + 1 << " " << points[k]->xyz.x() << " " << points[k]->xyz.y() << " "
             << points[k]->xyz.z() << " 128 128 128 " << points[k]->error;
    for (const auto& [view, idx] : tracks[k]) points3d << " " << view + 1 << " " << idx;
    points3d << "\n";
  }
  for (std::ofstream* f : {&cameras, &images, &points3d, &info}) {
    f->close();
    if (!*f) throw Error("cannot write the zoom scene under " + partial.string());
  }
}

}  // namespace

void WriteZoomScene(const std::string& scene_path, const Reconstruction& gt,
                    const std::vector<const ModelPoint*>& points,
                    const std::vector<ZoomView>& views, const ZoomSceneOptions& options,
                    const std::string& output_path) {
  const fs::path out = ZoomSceneFolder(output_path);
  const fs::path partial = out.string() + ".partial", old = out.string() + ".old";
  // Only folders this command wrote (they hold zoom_scene.txt) are replaced or removed.
  for (const fs::path& dir : {out, partial, old}) {
    if (fs::exists(dir) && !fs::is_empty(dir) && !fs::exists(dir / "zoom_scene.txt")) {
      throw Error(dir.string() +
                  " exists and was not written by make_zoom_scene; refusing to "
                  "replace it");
    }
  }
  // A failed write leaves neither the partial folder nor a changed output behind.
  try {
    WriteSceneFolder(scene_path, gt, points, views, options, partial);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(partial, ignored);
    throw;
  }
  // Swap in: the old folder (ours, checked above) goes only once the new one is complete.
  fs::remove_all(old);
  if (fs::exists(out)) fs::rename(out, old);
  fs::rename(partial, out);
  fs::remove_all(old);
}

}  // namespace scalesfm
