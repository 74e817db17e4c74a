#include "matching/keypoint_grid.h"

#include <limits>

namespace scalesfm {

KeypointGrid::KeypointGrid(const std::vector<Eigen::Vector2d>& points, double cell_size,
                           double points_per_cell) {
  double x1 = -std::numeric_limits<double>::infinity(), y1 = x1;
  x0_ = y0_ = std::numeric_limits<double>::infinity();
  for (const Eigen::Vector2d& p : points) {
    if (!p.allFinite()) continue;  // never visited
    x0_ = std::min(x0_, p.x());
    y0_ = std::min(y0_, p.y());
    x1 = std::max(x1, p.x());
    y1 = std::max(y1, p.y());
    ++points_;
  }
  if (points_ == 0) {
    x0_ = y0_ = 0;
    start_.assign(2, 0);
    return;
  }
  const double width = x1 - x0_, height = y1 - y0_;
  if (cell_size <= 0) {
    const double area = std::max(width, 1.0) * std::max(height, 1.0);
    cell_size = std::sqrt(area * points_per_cell / points_);
  }
  cell_ = std::max(cell_size, 1e-6);
  // Bounded cell counts: a few outlying points must not make the grid huge.
  nx_ = static_cast<int>(std::min(4096.0, std::floor(width / cell_) + 1));
  ny_ = static_cast<int>(std::min(4096.0, std::floor(height / cell_) + 1));
  cell_ = std::max({cell_, width / nx_ * (1 + 1e-9), height / ny_ * (1 + 1e-9)});
  std::vector<int64_t> cell_of(points.size(), -1);
  start_.assign(int64_t(nx_) * ny_ + 1, 0);
  for (size_t j = 0; j < points.size(); ++j) {
    if (!points[j].allFinite()) continue;
    const int cx = std::min(CellX(points[j].x()), nx_ - 1);
    const int cy = std::min(CellY(points[j].y()), ny_ - 1);
    cell_of[j] = int64_t(cy) * nx_ + cx;
    ++start_[cell_of[j] + 1];
  }
  for (size_t c = 1; c < start_.size(); ++c) start_[c] += start_[c - 1];
  order_.resize(points_);
  std::vector<int64_t> fill(start_.begin(), start_.end() - 1);
  for (size_t j = 0; j < points.size(); ++j) {
    if (cell_of[j] >= 0) order_[fill[cell_of[j]]++] = static_cast<int32_t>(j);
  }
}

}  // namespace scalesfm
