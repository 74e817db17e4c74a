#include "synthetic/synthetic_scene.h"

#include <Eigen/Geometry>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "util/logging.h"

namespace scalesfm {
namespace {

// A textured rectangle o + u*eu + v*ev, (u, v) in [0, 1]^2.
struct Rect {
  Eigen::Vector3d o, eu, ev, n;
  double shade;
  uint32_t seed;
};

uint32_t Hash(int32_t x, int32_t y, uint32_t seed) {
  uint32_t h = seed * 0x9E3779B1u ^ static_cast<uint32_t>(x) * 0x85EBCA77u ^
               static_cast<uint32_t>(y) * 0xC2B2AE3Du;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  h *= 0x297A2D39u;
  h ^= h >> 15;
  return h;
}

double Lattice(int32_t x, int32_t y, uint32_t seed) {
  return (Hash(x, y, seed) & 0xFFFF) / 65535.0;
}

double ValueNoise(double x, double y, uint32_t seed) {
  const double fx = std::floor(x), fy = std::floor(y);
  const int32_t ix = static_cast<int32_t>(fx), iy = static_cast<int32_t>(fy);
  double tx = x - fx, ty = y - fy;
  tx = tx * tx * (3 - 2 * tx);
  ty = ty * ty * (3 - 2 * ty);
  const double a = Lattice(ix, iy, seed), b = Lattice(ix + 1, iy, seed);
  const double c = Lattice(ix, iy + 1, seed), d = Lattice(ix + 1, iy + 1, seed);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}

// Fractal noise in [0, 1] at world-unit coordinates (x, y); octaves finer than twice the pixel
// footprint are faded out (analytic mip-mapping).
double Texture(double x, double y, double footprint, uint32_t seed, double octave_gain) {
  double sum = 0, norm = 0, amplitude = 1, frequency = 1.5;
  for (int k = 0; k < 12; ++k) {
    const double wavelength = 1.0 / frequency;
    const double w = std::clamp((wavelength / footprint - 2.0) / 2.0, 0.0, 1.0);
    sum += w * amplitude * (ValueNoise(x * frequency, y * frequency, seed + 101 * k) - 0.5);
    norm += amplitude;
    amplitude *= octave_gain;
    frequency *= 2.0;
  }
  return 0.5 + 1.6 * sum / norm * 2.0;
}

Rect MakeRect(const Eigen::Vector3d& o, const Eigen::Vector3d& eu, const Eigen::Vector3d& ev,
              double shade, uint32_t seed) {
  return {o, eu, ev, eu.cross(ev).normalized(), shade, seed};
}

std::vector<Rect> BuildScene(std::mt19937* rng) {
  std::vector<Rect> rects;
  uint32_t seed = (*rng)();
  rects.push_back(MakeRect({-7, -7, 0}, {14, 0, 0}, {0, 12, 0}, 0.85, seed++));  // ground
  rects.push_back(MakeRect({-7, 5, 0}, {14, 0, 0}, {0, 0, 6}, 1.0, seed++));     // back wall
  std::uniform_real_distribution<double> ux(-3.0, 3.0), uy(-2.5, 2.5), usize(1.0, 2.0),
      uh(1.0, 2.5);
  for (int b = 0; b < 3; ++b) {
    const double x = ux(*rng), y = uy(*rng), sx = usize(*rng), sy = usize(*rng), h = uh(*rng);
    const Eigen::Vector3d p(x, y, 0);
    const Eigen::Vector3d ex(sx, 0, 0), ey(0, sy, 0), ez(0, 0, h);
    rects.push_back(MakeRect(p, ex, ez, 0.95, seed++));       // front (y = min)
    rects.push_back(MakeRect(p + ey, ez, ex, 0.75, seed++));  // back
    rects.push_back(MakeRect(p, ez, ey, 0.7, seed++));        // left
    rects.push_back(MakeRect(p + ex, ey, ez, 0.8, seed++));   // right
    rects.push_back(MakeRect(p + ez, ex, ey, 1.05, seed++));  // top
  }
  return rects;
}

Eigen::Matrix3d LookAt(const Eigen::Vector3d& center, const Eigen::Vector3d& target) {
  const Eigen::Vector3d z = (target - center).normalized();
  const Eigen::Vector3d x = z.cross(Eigen::Vector3d::UnitZ()).normalized();
  const Eigen::Vector3d y = z.cross(x);
  Eigen::Matrix3d R;
  R.row(0) = x.transpose();
  R.row(1) = y.transpose();
  R.row(2) = z.transpose();
  return R;
}

cv::Mat Render(const SyntheticCamera& cam, const std::vector<Rect>& rects, int ss,
               double octave_gain) {
  cv::Mat image(cam.height, cam.width, CV_8UC3);
  const Eigen::Vector3d center = -cam.R.transpose() * cam.t;
  const double cx = cam.cx, cy = cam.cy;
  cv::parallel_for_(cv::Range(0, cam.height), [&](const cv::Range& range) {
    for (int row = range.start; row < range.end; ++row) {
      for (int col = 0; col < cam.width; ++col) {
        double value = 0;
        for (int a = 0; a < ss; ++a) {
          for (int b = 0; b < ss; ++b) {
            // COLMAP convention: pixel (col, row) covers [col, col+1) x [row, row+1).
            const double u = col + (b + 0.5) / ss, v = row + (a + 0.5) / ss;
            const Eigen::Vector3d dir =
                (cam.R.transpose() * Eigen::Vector3d((u - cx) / cam.focal, (v - cy) / cam.focal, 1))
                    .normalized();
            double best_t = std::numeric_limits<double>::infinity();
            double sample = 0.55 + 0.1 * dir.z();  // sky: smooth, featureless
            for (const Rect& r : rects) {
              const double denom = r.n.dot(dir);
              if (std::abs(denom) < 1e-9) continue;
              const double t = r.n.dot(r.o - center) / denom;
              if (t <= 1e-6 || t >= best_t) continue;
              const Eigen::Vector3d p = center + t * dir - r.o;
              const double lu = p.dot(r.eu) / r.eu.squaredNorm();
              const double lv = p.dot(r.ev) / r.ev.squaredNorm();
              if (lu < 0 || lu > 1 || lv < 0 || lv > 1) continue;
              best_t = t;
              const double footprint = t / (cam.focal * ss * std::max(0.2, std::abs(denom)));
              sample = r.shade *
                       Texture(lu * r.eu.norm(), lv * r.ev.norm(), footprint, r.seed, octave_gain);
            }
            value += sample;
          }
        }
        const uint8_t g = cv::saturate_cast<uint8_t>(255.0 * value / (ss * ss));
        image.at<cv::Vec3b>(row, col) = cv::Vec3b(g, g, g);
      }
    }
  });
  return image;
}

}  // namespace

void SyntheticSceneOptions::Check() const {
  if (num_cameras < 2) throw Error("--num_cameras must be at least 2");
  if (num_zoomed < 0 || num_zoomed >= num_cameras) {
    throw Error("--num_zoomed must be in [0, num_cameras)");
  }
  if (zoom < 1) throw Error("--zoom must be >= 1");
  if (zoom_model != "optical" && zoom_model != "crop") {
    throw Error("--zoom_model must be optical or crop, got '" + zoom_model + "'");
  }
  if (width < 32 || height < 32) throw Error("--width and --height must be at least 32");
  if (supersampling < 1) throw Error("--supersampling must be >= 1");
  if (!(texture_octave_gain > 0 && texture_octave_gain <= 2)) {
    throw Error("--texture_octave_gain must be in (0, 2]");
  }
}

SyntheticScene RenderSyntheticScene(const SyntheticSceneOptions& options) {
  options.Check();
  std::mt19937 rng(options.seed);
  const std::vector<Rect> rects = BuildScene(&rng);
  std::uniform_real_distribution<double> jitter(-0.3, 0.3);
  SyntheticScene scene;
  // Zoomed cameras are spread evenly through the sequence.
  std::vector<bool> zoomed(options.num_cameras, false);
  for (int k = 0; k < options.num_zoomed; ++k) {
    zoomed[(2 * k + 1) * options.num_cameras / (2 * options.num_zoomed)] = true;
  }
  for (int i = 0; i < options.num_cameras; ++i) {
    const double angle = (-55.0 + 110.0 * i / (options.num_cameras - 1)) * M_PI / 180.0;
    const Eigen::Vector3d center(9.0 * std::sin(angle) + jitter(rng),
                                 -9.0 * std::cos(angle) + jitter(rng), 3.0 + jitter(rng));
    SyntheticCamera cam;
    cam.name = StringPrintf("%04d.png", i);
    cam.width = options.width;
    cam.height = options.height;
    cam.zoom = zoomed[i] ? options.zoom : 1.0;
    cam.focal = options.focal * cam.zoom;
    // Wide cameras look at the scene centre; zoomed ones at a point on a box or the ground:
    // optical, turned towards it; crop, facing as a wide camera would with the principal point
    // moved so the point is at the image centre.
    const Eigen::Vector3d wide_target(jitter(rng), jitter(rng), 1.0 + jitter(rng));
    Eigen::Vector3d target = wide_target;
    if (zoomed[i]) target += Eigen::Vector3d(2 * jitter(rng), 2 * jitter(rng), 0);
    const bool crop = zoomed[i] && options.zoom_model == "crop";
    cam.R = LookAt(center, crop ? wide_target : target);
    cam.t = -cam.R * center;
    cam.cx = cam.width / 2.0;
    cam.cy = cam.height / 2.0;
    if (crop) {
      const Eigen::Vector3d p = cam.R * target + cam.t;
      cam.cx -= cam.focal * p.x() / p.z();
      cam.cy -= cam.focal * p.y() / p.z();
    }
    scene.images.push_back(Render(cam, rects, options.supersampling, options.texture_octave_gain));
    scene.cameras.push_back(cam);
  }
  return scene;
}

void WriteSyntheticScene(const SyntheticScene& scene, const std::string& output_path) {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(output_path) / "images");
  fs::create_directories(fs::path(output_path) / "gt");
  std::ofstream cameras(fs::path(output_path) / "gt" / "cameras.txt");
  std::ofstream images(fs::path(output_path) / "gt" / "images.txt");
  std::ofstream points(fs::path(output_path) / "gt" / "points3D.txt");
  std::ofstream info(fs::path(output_path) / "scene.txt");
  if (!cameras || !images || !points || !info) {
    throw Error("cannot write the synthetic scene under " + output_path);
  }
  cameras << "# Camera list with one line of data per camera:\n"
          << "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n";
  images << "# Image list with two lines of data per image:\n"
         << "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
         << "#   POINTS2D[] as (X, Y, POINT3D_ID)\n";
  points << "# 3D point list (empty: GT cameras only)\n";
  info << "# name zoom\n";
  cameras.precision(17);
  images.precision(17);
  for (size_t i = 0; i < scene.cameras.size(); ++i) {
    const SyntheticCamera& c = scene.cameras[i];
    const int id = static_cast<int>(i) + 1;
    cameras << id << " PINHOLE " << c.width << " " << c.height << " " << c.focal << " " << c.focal
            << " " << c.cx << " " << c.cy << "\n";
    const Eigen::Quaterniond q(c.R);
    images << id << " " << q.w() << " " << q.x() << " " << q.y() << " " << q.z() << " " << c.t.x()
           << " " << c.t.y() << " " << c.t.z() << " " << id << " " << c.name << "\n\n";
    info << c.name << " " << c.zoom << "\n";
    const std::string path = (fs::path(output_path) / "images" / c.name).string();
    if (!cv::imwrite(path, scene.images[i])) throw Error("cannot write " + path);
  }
}

}  // namespace scalesfm
