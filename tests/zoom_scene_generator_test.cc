// make_zoom_scene (synthetic/zoom_scene.h): the GT of every generated view projects the scene's
// points onto the pixels that show them, for the crop and the optical zoom model; spots follow
// the seed and are covered by wide shots; bad input is refused without touching anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "colmap_ext/image_reader.h"
#include "synthetic/synthetic_scene.h"
#include "synthetic/zoom_scene.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {
namespace fs = std::filesystem;

struct SourceScene {
  std::string dir;
  Reconstruction gt;
  std::vector<ModelPoint> points;
};

Eigen::Vector2d Project(const Reconstruction& model, const ModelImage& image,
                        const Eigen::Vector3d& X, double* depth) {
  const Camera& c = model.cameras.at(image.camera_id);
  const Eigen::Vector3d x = image.R() * X + image.t;
  *depth = x.z();
  return Eigen::Vector2d(c.FocalX() * x.x() / x.z() + c.PrincipalX(),
                         c.FocalY() * x.y() / x.z() + c.PrincipalY());
}

bool Inside(const Camera& c, const Eigen::Vector2d& p, double margin) {
  return p.x() >= margin && p.y() >= margin && p.x() < c.width - margin &&
         p.y() < c.height - margin;
}

// Six 480x360 cameras. A view's pixels depend only on the direction of a point, not its depth
// (every view keeps its source's centre), so the points are random pixels of each camera
// back-projected to random depths, with tracks in the cameras they project into.
const SourceScene& Source() {
  static const SourceScene scene = [] {
    SyntheticSceneOptions o;
    o.num_cameras = 6;
    o.num_zoomed = 0;
    o.width = 480;
    o.height = 360;
    o.focal = 420;
    o.seed = 5;
    SourceScene s;
    s.dir = test::MakeTempDir("zoom_source");
    WriteSyntheticScene(RenderSyntheticScene(o), s.dir);
    s.gt = Reconstruction::Read(s.dir + "/gt");
    std::mt19937 rng(11);
    for (const auto& [id, image] : s.gt.images) {
      const Camera& c = s.gt.cameras.at(image.camera_id);
      for (int k = 0; k < 1500; ++k) {
        const Eigen::Vector3d pixel(std::uniform_real_distribution<double>(0, c.width)(rng),
                                    std::uniform_real_distribution<double>(0, c.height)(rng), 1);
        const double depth = std::uniform_real_distribution<double>(4, 12)(rng);
        const Eigen::Vector3d ray((pixel.x() - c.PrincipalX()) / c.FocalX(),
                                  (pixel.y() - c.PrincipalY()) / c.FocalY(), 1);
        ModelPoint p;
        p.xyz = image.R().transpose() * (depth * ray - image.t);
        for (const auto& [other_id, other] : s.gt.images) {
          double z;
          const Eigen::Vector2d q = Project(s.gt, other, p.xyz, &z);
          if (z > 0 && Inside(s.gt.cameras.at(other.camera_id), q, 0)) {
            p.track_images.push_back(other_id);
          }
        }
        p.track_length = p.track_images.size();
        s.points.push_back(p);
      }
    }
    return s;
  }();
  return scene;
}

std::vector<const ModelPoint*> Pointers(const std::vector<ModelPoint>& points) {
  std::vector<const ModelPoint*> out;
  for (const ModelPoint& p : points) out.push_back(&p);
  return out;
}

cv::Mat Gray(const std::string& path) {
  cv::Mat image = cv::imread(path, cv::IMREAD_GRAYSCALE);
  EXPECT_FALSE(image.empty()) << path;
  cv::Mat f;
  image.convertTo(f, CV_32F);
  return f;
}

// Bilinear sample at a COLMAP-convention position (pixel centres at +0.5).
double Sample(const cv::Mat& image, const Eigen::Vector2d& p) {
  cv::Mat patch;
  cv::getRectSubPix(image, cv::Size(1, 1), cv::Point2f(p.x() - 0.5, p.y() - 0.5), patch);
  return patch.at<float>(0, 0);
}

constexpr double kWideBlur = 1.0;  // Gaussian sigma, source pixels
struct Photometry {
  double error = 0;          // mean |view - source| at the points' projections
  double shifted_error = 0;  // the same with the view's principal point 1.5 source pixels off
  size_t samples = 0;
};

// Compares each view's pixels at the points' GT projections with the source's pixels at theirs.
// Wide shots are compared with the source blurred as their area downscale blurs it.
Photometry ComparePixels(const std::string& out_dir, const Reconstruction& out,
                         const std::vector<ZoomView>& views, bool wide) {
  const SourceScene& src = Source();
  Photometry m;
  for (size_t i = 0; i < views.size(); ++i) {
    const ZoomView& v = views[i];
    if (wide != (v.zoom == 1)) continue;
    const ModelImage& source = src.gt.images.at(v.source_image_id);
    const ModelImage* view = out.FindImageByName(v.name);
    EXPECT_NE(view, nullptr) << v.name;
    if (view == nullptr) continue;
    const cv::Mat view_pixels = Gray(out_dir + "/images/" + v.name);
    cv::Mat source_pixels = Gray(src.dir + "/images/" + source.name);
    if (wide) cv::GaussianBlur(source_pixels, source_pixels, cv::Size(0, 0), kWideBlur);
    Reconstruction shifted = out;
    const double shift = 1.5 * v.camera.FocalX() / src.gt.cameras.at(source.camera_id).FocalX();
    shifted.cameras.at(view->camera_id).params[2] += shift;
    for (const ModelPoint& p : src.points) {
      double z_source, z_view, z_shifted;
      const Eigen::Vector2d a = Project(src.gt, source, p.xyz, &z_source);
      const Eigen::Vector2d b = Project(out, *view, p.xyz, &z_view);
      const Eigen::Vector2d c = Project(shifted, *view, p.xyz, &z_shifted);
      if (z_source <= 0 || z_view <= 0 || !Inside(out.cameras.at(view->camera_id), b, 6) ||
          !Inside(out.cameras.at(view->camera_id), c, 6)) {
        continue;
      }
      const double reference = Sample(source_pixels, a);
      m.error += std::abs(Sample(view_pixels, b) - reference);
      m.shifted_error += std::abs(Sample(view_pixels, c) - reference);
      ++m.samples;
    }
  }
  if (m.samples > 0) {
    m.error /= m.samples;
    m.shifted_error /= m.samples;
  }
  return m;
}

class ZoomSceneTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ZoomSceneTest, GtProjectsThePointsOntoThePixelsThatShowThem) {
  const SourceScene& src = Source();
  ZoomSceneOptions o;
  o.zoom_model = GetParam();
  o.seed = 3;
  o.jpeg_quality = 100;
  const std::vector<ZoomView> views = PlanZoomScene(src.gt, Pointers(src.points), o);
  ASSERT_EQ(views.size(), 6u);
  const std::string out_dir = test::MakeTempDir("zoom_out") + "/scene";
  WriteZoomScene(src.dir, src.gt, Pointers(src.points), views, o, out_dir);
  const Reconstruction out = Reconstruction::Read(out_dir + "/gt");
  ASSERT_EQ(out.images.size(), 6u);

  // Names, zooms and what each view is, as in the shipped -zoom scenes.
  const std::vector<std::string> names = {"0000_wide.jpg",  "0001_zoom2.jpg", "0002_wide.jpg",
                                          "0003_zoom4.jpg", "0004_wide.jpg",  "0005_zoom8.jpg"};
  for (size_t i = 0; i < views.size(); ++i) {
    EXPECT_EQ(views[i].name, names[i]);
    const ModelImage* view = out.FindImageByName(names[i]);
    ASSERT_NE(view, nullptr);
    const ModelImage& source = src.gt.images.at(views[i].source_image_id);
    const Camera& cam = out.cameras.at(view->camera_id);
    const Camera& source_cam = src.gt.cameras.at(source.camera_id);
    EXPECT_EQ(cam.width, 240);
    EXPECT_EQ(cam.height, 180);
    // Same centre; the focal length is the wide shot's times the zoom (exact for the wide shots
    // and optical views; crop windows are whole source pixels, so within one pixel's worth).
    EXPECT_LT((view->Center() - source.Center()).norm(), 1e-9);
    const double wide_focal = 0.5 * source_cam.FocalX();
    EXPECT_NEAR(cam.FocalX() / wide_focal, views[i].zoom, views[i].zoom * 0.02) << names[i];
    if (views[i].zoom > 1) {
      EXPECT_GT(views[i].spot_support, 0u) << names[i];
      if (GetParam() == "optical") {
        EXPECT_DOUBLE_EQ(cam.PrincipalX(), 120.0);
        EXPECT_DOUBLE_EQ(cam.PrincipalY(), 90.0);
        // It looks at its spot: a point on its optical axis projects onto the spot.
        double z;
        const Eigen::Vector3d on_axis =
            view->Center() + view->R().transpose() * Eigen::Vector3d(0, 0, 7);
        EXPECT_LT((Project(src.gt, source, on_axis, &z) - views[i].spot).norm(), 1e-6);
      } else {
        EXPECT_LT((view->R() - source.R()).norm(), 1e-12) << "a crop keeps the pose";
      }
    }
    // The GT agrees with the renderer's pixel map at every point in front of the camera.
    for (const ModelPoint& p : src.points) {
      double z_source, z_view;
      const Eigen::Vector2d a = Project(src.gt, source, p.xyz, &z_source);
      const Eigen::Vector2d b = Project(out, *view, p.xyz, &z_view);
      if (z_source <= 0 || z_view <= 0) continue;
      const Eigen::Vector2d mapped = (views[i].source_from_view * b.homogeneous()).hnormalized();
      ASSERT_LT((mapped - a).norm(), 1e-6) << names[i];
    }
  }

  // The pixels at a point's projections agree; 1.5 source pixels off, they clearly do not.
  const Photometry zoomed = ComparePixels(out_dir, out, views, false);
  ASSERT_GT(zoomed.samples, 200u);
  std::cout << GetParam() << ": mean |view - source| " << zoomed.error << " (shifted "
            << zoomed.shifted_error << ") over " << zoomed.samples << " zoomed samples\n";
  // JPEG quality 100; half a pixel off (OpenCV's pixel-centre convention) measures 0.9-1.2.
  EXPECT_LT(zoomed.error, 0.6);
  EXPECT_LT(zoomed.error, 0.2 * zoomed.shifted_error)
      << zoomed.error << " vs " << zoomed.shifted_error;
  const Photometry wide = ComparePixels(out_dir, out, views, true);
  std::cout << GetParam() << ": wide " << wide.error << " (shifted " << wide.shifted_error << ")\n";
  EXPECT_LT(wide.error, 0.25 * wide.shifted_error) << wide.error << " vs " << wide.shifted_error;

  // The observations written to gt/ are the views' projections of points their sources saw.
  size_t observations = 0;
  for (const ModelPoint& p : out.points) observations += p.track_length;
  EXPECT_GT(observations, 1000u);
  for (const auto& [id, image] : out.images) EXPECT_EQ(image.num_points2D, image.num_points3D);

  // Re-running replaces the folder it wrote, named with a trailing separator too.
  WriteZoomScene(src.dir, src.gt, Pointers(src.points), views, o, out_dir + "/");
  EXPECT_FALSE(fs::exists(out_dir + "/.partial"));
  EXPECT_FALSE(fs::exists(out_dir + "/.old"));
  EXPECT_TRUE(fs::exists(out_dir + "/zoom_scene.txt"));
  EXPECT_FALSE(fs::exists(out_dir + ".partial"));
  EXPECT_FALSE(fs::exists(out_dir + ".old"));
}

INSTANTIATE_TEST_SUITE_P(Models, ZoomSceneTest, ::testing::Values("crop", "optical"));

// Every image carries the EXIF a camera writes, stating its GT focal length (35 mm equivalent
// in whole millimetres, COLMAP's convention), or that times 1 + e with --exif_focal_error, drawn
// per image from the seed.
TEST(ZoomScene, ExifStatesTheFocalLength) {
  const SourceScene& src = Source();
  ZoomSceneOptions o;
  EXPECT_EQ(o.zoom_model, "optical") << "the default is what a zoom lens does";
  o.seed = 5;
  const std::vector<ZoomView> views = PlanZoomScene(src.gt, Pointers(src.points), o);
  const std::string dir = test::MakeTempDir("zoom_exif");
  std::vector<std::vector<double>> runs;  // EXIF priors per run
  for (double error : {0.0, 0.2, 0.2}) {
    o.exif_focal_error = error;
    WriteZoomScene(src.dir, src.gt, Pointers(src.points), views, o, dir + "/scene");
    const Reconstruction out = Reconstruction::Read(dir + "/scene/gt");
    std::vector<double>& priors = runs.emplace_back();
    for (const ZoomView& v : views) {
      const Camera& cam = out.cameras.at(out.FindImageByName(v.name)->camera_id);
      const auto prior = ReadExifFocalLengthPixels(dir + "/scene/images/" + v.name, 240, 180);
      ASSERT_TRUE(prior.has_value()) << v.name;
      const double mm = cam.FocalX() / 240 * kExifFilmWidthMm;
      const double rounding = 0.5 / kExifFilmWidthMm * 240;  // half a millimetre, in pixels
      if (error == 0) {
        EXPECT_NEAR(*prior, std::round(mm) / kExifFilmWidthMm * 240, 1e-9) << v.name;
      } else {
        EXPECT_LE(*prior, cam.FocalX() * (1 + error) + rounding) << v.name;
        EXPECT_GE(*prior, cam.FocalX() * (1 - error) - rounding) << v.name;
      }
      priors.push_back(*prior);
    }
  }
  EXPECT_NE(runs[1], runs[0]) << "the error changed nothing";
  EXPECT_EQ(runs[2], runs[1]) << "the error is not drawn from the seed";
}

// make_synthetic_scene's zoom models: with one seed, the same cameras, except that a zoomed one
// turns towards its target (optical, principal point at the centre) or keeps a wide camera's
// orientation with its principal point moved (crop). Either way its image centre shows the target.
TEST(SyntheticScene, ZoomModels) {
  SyntheticSceneOptions o;
  o.num_cameras = 4;
  o.num_zoomed = 1;
  o.width = 96;
  o.height = 64;
  o.focal = 80;
  o.supersampling = 1;
  const SyntheticScene optical = RenderSyntheticScene(o);
  o.zoom_model = "crop";
  const SyntheticScene crop = RenderSyntheticScene(o);
  ASSERT_EQ(optical.cameras.size(), crop.cameras.size());
  int zoomed = 0;
  for (size_t i = 0; i < optical.cameras.size(); ++i) {
    const SyntheticCamera& a = optical.cameras[i];
    const SyntheticCamera& b = crop.cameras[i];
    EXPECT_LT((-a.R.transpose() * a.t + b.R.transpose() * b.t).norm(), 1e-12) << "same centre";
    EXPECT_EQ(a.focal, b.focal);
    EXPECT_EQ(a.cx, 48.0);
    EXPECT_EQ(a.cy, 32.0);
    if (a.zoom == 1) {
      EXPECT_EQ(b.cx, 48.0);
      EXPECT_LT((a.R - b.R).norm(), 1e-12);
      EXPECT_EQ(cv::norm(optical.images[i], crop.images[i], cv::NORM_INF), 0) << "wide camera";
      continue;
    }
    ++zoomed;
    EXPECT_GT(std::hypot(b.cx - 48.0, b.cy - 32.0), 5.0)
        << "a crop's principal point is off centre";
    const Eigen::Vector3d ray_a = a.R.transpose() * Eigen::Vector3d(0, 0, 1);
    const Eigen::Vector3d ray_b =
        (b.R.transpose() * Eigen::Vector3d((48.0 - b.cx) / b.focal, (32.0 - b.cy) / b.focal, 1))
            .normalized();
    EXPECT_LT((ray_a - ray_b).norm(), 1e-9) << "the image centres show the same point";
  }
  EXPECT_EQ(zoomed, 1);
  o.zoom_model = "digital";
  EXPECT_THROW(o.Check(), Error);
}

TEST(ZoomScene, SpotsFollowTheSeed) {
  const SourceScene& src = Source();
  ZoomSceneOptions o;
  o.seed = 1;
  const auto spots = [&](unsigned seed) {
    ZoomSceneOptions s = o;
    s.seed = seed;
    std::vector<Eigen::Vector2d> out;
    for (const ZoomView& v : PlanZoomScene(src.gt, Pointers(src.points), s)) {
      out.push_back(v.spot);
    }
    return out;
  };
  EXPECT_EQ(spots(1), spots(1));
  bool differs = false;
  for (unsigned seed = 2; seed < 8; ++seed) differs = differs || spots(seed) != spots(1);
  EXPECT_TRUE(differs);
}

TEST(ZoomScene, SpotsAreWhereWideShotsSeeTheScene) {
  // Only points in the left half of camera 2's image are seen by a wide shot: its zoomed view
  // (position 1) must look there.
  const SourceScene& src = Source();
  std::vector<ModelPoint> left;
  std::vector<image_t> ids;
  for (const auto& [id, image] : src.gt.images) ids.push_back(id);
  const ModelImage& zoomed = src.gt.images.at(ids[1]);
  for (const ModelPoint& p : src.points) {
    double z;
    const Eigen::Vector2d q = Project(src.gt, zoomed, p.xyz, &z);
    if (z > 0 && q.x() >= 240) continue;
    left.push_back(p);
  }
  ZoomSceneOptions o;
  o.zooms = {4};
  for (unsigned seed = 0; seed < 5; ++seed) {
    o.seed = seed;
    const std::vector<ZoomView> views = PlanZoomScene(src.gt, Pointers(left), o);
    // A 120-pixel window centred within a quarter window of the half's edge at most.
    EXPECT_LT(views[1].spot.x(), 270.0) << "seed " << seed;
    EXPECT_GT(views[1].spot_support, 0u);
  }
}

TEST(ZoomScene, BadInputIsRefused) {
  const SourceScene& src = Source();
  ZoomSceneOptions o;
  o.zooms = {2, 0.5};
  EXPECT_THROW(PlanZoomScene(src.gt, Pointers(src.points), o), Error);
  o = ZoomSceneOptions();
  o.zoom_model = "digital";
  EXPECT_THROW(PlanZoomScene(src.gt, Pointers(src.points), o), Error);
  o = ZoomSceneOptions();
  o.wide_scale = 0;
  EXPECT_THROW(PlanZoomScene(src.gt, Pointers(src.points), o), Error);

  Reconstruction distorted = src.gt;
  distorted.cameras.begin()->second.model_id = 2;  // SIMPLE_RADIAL
  distorted.cameras.begin()->second.params = {420, 240, 180, 0.01};
  try {
    PlanZoomScene(distorted, Pointers(src.points), ZoomSceneOptions());
    FAIL() << "a distorted camera was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image_undistorter"), std::string::npos) << e.what();
  }

  // A GT camera that does not fit its image file is an error, not a wrong GT.
  Reconstruction resized = src.gt;
  resized.cameras.begin()->second.width = 479;
  const std::string resized_out = test::MakeTempDir("zoom_resized") + "/s";
  EXPECT_THROW(WriteZoomScene(src.dir, resized, Pointers(src.points),
                              PlanZoomScene(resized, Pointers(src.points), ZoomSceneOptions()),
                              ZoomSceneOptions(), resized_out),
               Error);
  EXPECT_FALSE(fs::exists(resized_out));
  EXPECT_FALSE(fs::exists(resized_out + ".partial")) << "a failed write left its partial folder";

  // A folder make_zoom_scene did not write is left as it is.
  o = ZoomSceneOptions();
  const std::string foreign = test::MakeTempDir("zoom_foreign");
  std::ofstream(foreign + "/notes.txt") << "mine\n";
  const std::vector<ZoomView> views = PlanZoomScene(src.gt, Pointers(src.points), o);
  EXPECT_THROW(WriteZoomScene(src.dir, src.gt, Pointers(src.points), views, o, foreign), Error);
  EXPECT_TRUE(fs::exists(foreign + "/notes.txt"));
  EXPECT_FALSE(fs::exists(foreign + "/images"));
}

}  // namespace
}  // namespace scalesfm

namespace scalesfm {
namespace {

// The command on a scene with an empty points3D.txt: it triangulates with the GT poses (colmap),
// reuses that triangulation for another seed, and writes a scene evaluate_model can read.
TEST(ZoomScene, CommandTriangulatesOnceAndWritesAScene) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not found";
  const std::string dir = test::MakeTempDir("zoom_cli");
  const std::string bin = test::ScalesfmBinary();
  const std::string scene = test::SyntheticSceneDir();
  std::string log;
  ASSERT_EQ(test::RunCommand(bin + " make_zoom_scene --scene_path " + scene + " --output_path " +
                                 dir + "/s0 --seed 0 --zoom_model optical",
                             &log),
            0)
      << log;
  EXPECT_NE(log.find("Triangulating"), std::string::npos);
  ASSERT_EQ(
      test::RunCommand(bin + " make_zoom_scene --scene_path " + scene + " --output_path " + dir +
                           "/s1 --seed 1 --triangulation_path " + dir + "/s0_triangulation",
                       &log),
      0)
      << log;
  EXPECT_EQ(log.find("Triangulating"), std::string::npos) << "the triangulation was not reused";
  for (const std::string s : {"s0", "s1"}) {
    const Reconstruction gt = Reconstruction::Read(dir + "/" + s + "/gt");
    EXPECT_EQ(gt.images.size(), 8u);
    EXPECT_GT(gt.points.size(), 100u);
    size_t images = 0;
    for (const auto& entry : fs::directory_iterator(dir + "/" + s + "/images")) {
      images += entry.path().extension() == ".jpg";
    }
    EXPECT_EQ(images, 8u);
  }
  EXPECT_NE(test::RunCommand(bin + " make_zoom_scene --scene_path " + scene + " --output_path " +
                                 dir + "/bad --zooms 2,x",
                             &log),
            0);
  EXPECT_NE(log.find("--zooms"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir + "/bad"));
}

}  // namespace
}  // namespace scalesfm
