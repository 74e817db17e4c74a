#include "eval_common/homography_pairs.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/logging.h"

namespace scalesfm {
namespace fs = std::filesystem;

std::vector<ScalePairGt> ReadHomographyPairs(const std::string& homography_path) {
  const std::string list = (fs::path(homography_path) / "pairs.txt").string();
  std::ifstream in(list);
  if (!in) throw Error("cannot open " + list);
  std::vector<ScalePairGt> pairs;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    ScalePairGt p;
    std::string name;
    if (!(ss >> name >> p.scale)) throw Error("malformed line in " + list + ": " + line);
    p.dataset = "homography/" + name;
    p.name1 = (fs::path(homography_path) / name / "A.jpg").string();
    p.name2 = (fs::path(homography_path) / name / "B.jpg").string();
    pairs.push_back(p);
  }
  return pairs;
}

Eigen::Matrix3d ReadHomography(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot open " + path);
  Eigen::Matrix3d h;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      if (!(in >> h(r, c))) throw Error("malformed homography " + path);
    }
  }
  return h;
}

}  // namespace scalesfm
