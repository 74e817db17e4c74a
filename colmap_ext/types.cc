#include "colmap_ext/types.h"

#include <cmath>

namespace scalesfm {

Keypoint Keypoint::FromScaleOrientation(float x, float y, float scale, float orientation) {
  Keypoint kp;
  kp.x = x;
  kp.y = y;
  const float c = std::cos(orientation), s = std::sin(orientation);
  kp.a11 = scale * c;
  kp.a12 = -scale * s;
  kp.a21 = scale * s;
  kp.a22 = scale * c;
  return kp;
}

float Keypoint::ComputeScale() const {
  return 0.5f * (std::hypot(a11, a21) + std::hypot(a12, a22));
}

float Keypoint::ComputeOrientation() const { return std::atan2(a21, a11); }

}  // namespace scalesfm
