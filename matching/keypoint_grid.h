// A uniform grid over one image's keypoint positions, so geometric searches (keypoints near a
// point, keypoints near a line) visit only the cells they can touch instead of every keypoint.
// Guided matching uses it to list the keypoint pairs that fit a pair's F or H without forming
// the dense N x M products.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace scalesfm {

class KeypointGrid {
 public:
  // `cell_size` <= 0 picks one that puts about `points_per_cell` points in a cell on average.
  explicit KeypointGrid(const std::vector<Eigen::Vector2d>& points, double cell_size = 0,
                        double points_per_cell = 2);

  double cell_size() const { return cell_; }

  // Calls visit(j) for every point j in the cells that overlap the box [x0, x1] x [y0, y1].
  // Points outside the box may be visited too; callers apply their exact test.
  template <typename Visit>
  void VisitBox(double x0, double y0, double x1, double y1, Visit visit) const {
    VisitCells(CellX(x0), CellY(y0), CellX(x1), CellY(y1), visit);
  }

  // Calls visit(j) for every point j in the cells that overlap the band of half-width `r`
  // around the line l0 x + l1 y + l2 = 0 (any scale of l; nothing if l0 = l1 = 0). Walks the
  // grid along the line's major axis: per column (or row) of cells, the band's extent there.
  template <typename Visit>
  void VisitBand(const Eigen::Vector3d& line, double r, Visit visit) const {
    const double norm = line.head<2>().norm();
    if (!(norm > 0) || points_ == 0) return;
    const Eigen::Vector3d l = line / norm;
    const bool shallow = std::abs(l(1)) >= std::abs(l(0));  // |slope| <= 1: walk the columns
    const int n = shallow ? nx_ : ny_;
    const double origin = shallow ? x0_ : y0_;
    const double along = shallow ? l(0) : l(1), across = shallow ? l(1) : l(0);
    const double half = r / std::abs(across);  // band half-height per column, >= r
    for (int c = 0; c < n; ++c) {
      const double u0 = origin + c * cell_, u1 = u0 + cell_;
      const double v0 = -(along * u0 + l(2)) / across, v1 = -(along * u1 + l(2)) / across;
      const double lo = std::min(v0, v1) - half, hi = std::max(v0, v1) + half;
      if (shallow) {
        VisitCells(c, CellY(lo), c, CellY(hi), visit);
      } else {
        VisitCells(CellX(lo), c, CellX(hi), c, visit);
      }
    }
  }

 private:
  int CellX(double x) const { return Clamp((x - x0_) / cell_, nx_); }
  int CellY(double y) const { return Clamp((y - y0_) / cell_, ny_); }
  // Cell index of a coordinate, clamped to [-1, n]: -1 and n lie outside the grid.
  static int Clamp(double c, int n) {
    if (!(c >= 0)) return -1;  // also NaN
    return c >= n ? n : static_cast<int>(c);
  }

  template <typename Visit>
  void VisitCells(int cx0, int cy0, int cx1, int cy1, Visit visit) const {
    cx0 = std::max(cx0, 0);
    cy0 = std::max(cy0, 0);
    cx1 = std::min(cx1, nx_ - 1);
    cy1 = std::min(cy1, ny_ - 1);
    for (int cy = cy0; cy <= cy1; ++cy) {
      const int64_t row = int64_t(cy) * nx_;
      for (int64_t k = start_[row + cx0]; cx0 <= cx1 && k < start_[row + cx1 + 1]; ++k) {
        visit(order_[k]);
      }
    }
  }

  size_t points_ = 0;
  double x0_ = 0, y0_ = 0, cell_ = 1;
  int nx_ = 1, ny_ = 1;
  std::vector<int64_t> start_;  // CSR: points of cell c are order_[start_[c], start_[c + 1])
  std::vector<int32_t> order_;
};

}  // namespace scalesfm
