#include "colmap_ext/reconstruction.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "util/logging.h"

namespace scalesfm {
namespace fs = std::filesystem;
namespace {

class BinaryReader {
 public:
  explicit BinaryReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw Error("cannot open " + path);
  }
  template <typename T>
  T Read() {
    T v;
    in_.read(reinterpret_cast<char*>(&v), sizeof(T));
    if (!in_) throw Error("model file " + path_ + " is truncated or corrupt");
    return v;
  }
  std::string ReadString() {
    std::string s;
    char c;
    while (in_.get(c) && c != '\0') s.push_back(c);
    if (!in_) throw Error("model file " + path_ + " is truncated or corrupt");
    return s;
  }

 private:
  std::string path_;
  std::ifstream in_;
};

// Non-comment, non-empty lines of a text model file.
std::vector<std::string> DataLines(const std::string& path, bool keep_empty) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] == '#') continue;
    if (line.empty() && !keep_empty) continue;
    lines.push_back(line);
  }
  return lines;
}

void ReadBinary(const fs::path& dir, Reconstruction* rec) {
  {
    BinaryReader r((dir / "cameras.bin").string());
    const uint64_t n = r.Read<uint64_t>();
    for (uint64_t i = 0; i < n; ++i) {
      Camera c;
      c.camera_id = r.Read<uint32_t>();
      c.model_id = r.Read<int32_t>();
      c.width = static_cast<int>(r.Read<uint64_t>());
      c.height = static_cast<int>(r.Read<uint64_t>());
      c.params.resize(CameraModelNumParams(c.model_id));
      for (double& p : c.params) p = r.Read<double>();
      rec->cameras[c.camera_id] = c;
    }
  }
  {
    BinaryReader r((dir / "images.bin").string());
    const uint64_t n = r.Read<uint64_t>();
    for (uint64_t i = 0; i < n; ++i) {
      ModelImage im;
      im.image_id = r.Read<uint32_t>();
      const double qw = r.Read<double>(), qx = r.Read<double>(), qy = r.Read<double>(),
                   qz = r.Read<double>();
      im.q = Eigen::Quaterniond(qw, qx, qy, qz);
      for (int k = 0; k < 3; ++k) im.t[k] = r.Read<double>();
      im.camera_id = r.Read<uint32_t>();
      im.name = r.ReadString();
      im.num_points2D = r.Read<uint64_t>();
      for (size_t k = 0; k < im.num_points2D; ++k) {
        r.Read<double>();
        r.Read<double>();
        if (r.Read<uint64_t>() != std::numeric_limits<uint64_t>::max()) ++im.num_points3D;
      }
      rec->images[im.image_id] = im;
    }
  }
  {
    BinaryReader r((dir / "points3D.bin").string());
    const uint64_t n = r.Read<uint64_t>();
    rec->points.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      ModelPoint p;
      r.Read<uint64_t>();
      for (int k = 0; k < 3; ++k) p.xyz[k] = r.Read<double>();
      for (int k = 0; k < 3; ++k) r.Read<uint8_t>();
      p.error = r.Read<double>();
      p.track_length = r.Read<uint64_t>();
      p.track_images.reserve(p.track_length);
      for (size_t k = 0; k < p.track_length; ++k) {
        p.track_images.push_back(r.Read<uint32_t>());
        r.Read<uint32_t>();
      }
      rec->points.push_back(p);
    }
  }
}

void ReadText(const fs::path& dir, Reconstruction* rec) {
  const std::string cameras_path = (dir / "cameras.txt").string();
  for (const std::string& line : DataLines(cameras_path, false)) {
    std::stringstream ss(line);
    Camera c;
    std::string model;
    ss >> c.camera_id >> model >> c.width >> c.height;
    c.model_id = CameraModelNameToId(model);
    c.params.resize(CameraModelNumParams(c.model_id));
    for (double& p : c.params) ss >> p;
    if (!ss) throw Error("malformed camera line in " + cameras_path + ": " + line);
    rec->cameras[c.camera_id] = c;
  }
  const std::string images_path = (dir / "images.txt").string();
  const std::vector<std::string> lines = DataLines(images_path, true);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::stringstream ss(lines[i]);
    ModelImage im;
    double qw, qx, qy, qz;
    ss >> im.image_id >> qw >> qx >> qy >> qz >> im.t[0] >> im.t[1] >> im.t[2] >> im.camera_id;
    std::getline(ss >> std::ws, im.name);
    if (!ss && im.name.empty()) throw Error("malformed image line in " + images_path);
    im.q = Eigen::Quaterniond(qw, qx, qy, qz);
    // The next line holds POINTS2D[] as (X, Y, POINT3D_ID).
    if (i + 1 < lines.size()) {
      std::stringstream pts(lines[++i]);
      double x, y;
      long long id;
      while (pts >> x >> y >> id) {
        ++im.num_points2D;
        if (id >= 0) ++im.num_points3D;
      }
    }
    rec->images[im.image_id] = im;
  }
  for (const std::string& line : DataLines((dir / "points3D.txt").string(), false)) {
    std::stringstream ss(line);
    ModelPoint p;
    long long id;
    int rgb;
    ss >> id >> p.xyz[0] >> p.xyz[1] >> p.xyz[2] >> rgb >> rgb >> rgb >> p.error;
    long long a, b;
    while (ss >> a >> b) {
      ++p.track_length;
      p.track_images.push_back(static_cast<image_t>(a));
    }
    rec->points.push_back(p);
  }
}

}  // namespace

Eigen::Matrix3d CalibrationMatrix(const Camera& camera) {
  Eigen::Matrix3d K;
  K << camera.FocalX(), 0, camera.PrincipalX(), 0, camera.FocalY(), camera.PrincipalY(), 0, 0, 1;
  return K;
}

bool ProjectWorldPoint(const Camera& camera, const Eigen::Quaterniond& q, const Eigen::Vector3d& t,
                       const Eigen::Vector3d& X, Eigen::Vector2d* pixel) {
  const Eigen::Vector3d x = q.normalized() * X + t;
  if (x.z() <= 1e-9) return false;
  *pixel = Eigen::Vector2d(camera.FocalX() * x.x() / x.z() + camera.PrincipalX(),
                           camera.FocalY() * x.y() / x.z() + camera.PrincipalY());
  return true;
}

bool InsideImage(const Camera& camera, const Eigen::Vector2d& p) {
  return p.x() >= 0 && p.y() >= 0 && p.x() < camera.width && p.y() < camera.height;
}

Reconstruction Reconstruction::Read(const std::string& path) {
  const fs::path dir(path);
  if (!fs::is_directory(dir)) throw Error("model folder " + path + " does not exist");
  Reconstruction rec;
  if (fs::exists(dir / "cameras.bin")) {
    ReadBinary(dir, &rec);
  } else if (fs::exists(dir / "cameras.txt")) {
    ReadText(dir, &rec);
  } else {
    throw Error("model folder " + path + " has neither cameras.bin nor cameras.txt");
  }
  for (const auto& [id, image] : rec.images) {
    if (!rec.cameras.count(image.camera_id)) {
      throw Error(StringPrintf("model %s: image %s refers to missing camera %u", path.c_str(),
                               image.name.c_str(), image.camera_id));
    }
  }
  return rec;
}

ReconstructionStats Reconstruction::ComputeStats() const {
  ReconstructionStats s;
  s.num_images = images.size();
  s.num_points = points.size();
  double weighted_error = 0;
  for (const ModelPoint& p : points) {
    s.num_observations += p.track_length;
    weighted_error += p.error * p.track_length;
  }
  if (s.num_points > 0) s.mean_track_length = double(s.num_observations) / s.num_points;
  if (s.num_images > 0) s.mean_observations_per_image = double(s.num_observations) / s.num_images;
  if (s.num_observations > 0) s.mean_reprojection_error = weighted_error / s.num_observations;
  return s;
}

const ModelImage* Reconstruction::FindImageByName(const std::string& name) const {
  for (const auto& [id, image] : images) {
    if (image.name == name) return &image;
  }
  return nullptr;
}

std::vector<std::string> ListModels(const std::string& sparse_path) {
  std::vector<std::pair<size_t, std::string>> models;
  if (!fs::is_directory(sparse_path)) return {};
  for (const auto& entry : fs::directory_iterator(sparse_path)) {
    if (!entry.is_directory()) continue;
    if (!fs::exists(entry.path() / "cameras.bin") && !fs::exists(entry.path() / "cameras.txt")) {
      continue;
    }
    const Reconstruction rec = Reconstruction::Read(entry.path().string());
    models.emplace_back(rec.images.size(), entry.path().string());
  }
  std::sort(models.begin(), models.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> out;
  for (auto& m : models) out.push_back(m.second);
  return out;
}

}  // namespace scalesfm
