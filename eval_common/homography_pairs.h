// The homography pairs that eval_scale, eval_sdaim and eval_features read: a folder with
// pairs.txt ("<pair> <s(A->B)> ..." per line, '#' comments) and <pair>/{A.jpg, B.jpg, H.txt}.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

namespace scalesfm {

// An image pair with its GT scale change, from the homography pairs or from a posed scene.
struct ScalePairGt {
  std::string dataset;
  std::string name1, name2;  // paths of A and B
  double scale = 1;          // s(A->B)
  size_t support = 0;        // covisible points behind the GT (0 for homography pairs)
};

// Reads ../homography/pairs.txt style folders.
std::vector<ScalePairGt> ReadHomographyPairs(const std::string& homography_path);

// A 3x3 H.txt (A -> B, pixel-centre coordinates in OpenCV's convention); throws Error.
Eigen::Matrix3d ReadHomography(const std::string& path);

}  // namespace scalesfm
