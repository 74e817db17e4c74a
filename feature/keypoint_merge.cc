#include "feature/keypoint_merge.h"

#include <cmath>
#include <unordered_map>

#include "util/logging.h"

namespace scalesfm {

void KeypointMergeOptions::Check() const {
  if (!(radius >= 0)) throw Error("--Extraction.merge_radius must be >= 0");
  if (!(max_log2_scale_diff >= 0)) throw Error("--Extraction.merge_max_log2_scale must be >= 0");
}

namespace {

// Uniform grid over original-image coordinates for radius queries.
class Grid {
 public:
  explicit Grid(double cell) : cell_(std::max(cell, 1e-3)) {}
  void Insert(float x, float y, point2D_t id) { cells_[Key(Cell(x), Cell(y))].push_back(id); }
  template <typename F>
  void ForNeighbours(float x, float y, int reach, F f) const {
    const int64_t cx = Cell(x), cy = Cell(y);
    for (int64_t dx = -reach; dx <= reach; ++dx) {
      for (int64_t dy = -reach; dy <= reach; ++dy) {
        auto it = cells_.find(Key(cx + dx, cy + dy));
        if (it == cells_.end()) continue;
        for (point2D_t id : it->second) f(id);
      }
    }
  }
  double cell() const { return cell_; }

 private:
  int64_t Cell(float v) const { return static_cast<int64_t>(std::floor(v / cell_)); }
  static int64_t Key(int64_t cx, int64_t cy) { return (cx << 32) ^ (cy & 0xffffffff); }
  double cell_;
  std::unordered_map<int64_t, std::vector<point2D_t>> cells_;
};

}  // namespace

MergedKeypoints MergeLevelKeypoints(const std::vector<LevelKeypoints>& levels,
                                    const KeypointMergeOptions& options) {
  options.Check();
  MergedKeypoints out;
  out.index.resize(levels.size());
  // The search radius in original pixels grows for coarse levels (1 / factor pixels each).
  double min_factor = 1.0;
  for (const LevelKeypoints& level : levels) min_factor = std::min(min_factor, level.factor);
  Grid grid(options.radius > 0 ? options.radius : 1.0);
  // Per merged keypoint: the factor of the level that created it, the last level that joined
  // it, and its log2 scale.
  std::vector<double> merged_factor;
  std::vector<int> last_level;
  std::vector<float> merged_log2_scale;

  for (size_t l = 0; l < levels.size(); ++l) {
    const LevelKeypoints& level = levels[l];
    out.index[l].resize(level.keypoints.size());
    // A merged keypoint takes one keypoint per level: one created or joined in this level is
    // skipped (last_level == l).
    for (size_t i = 0; i < level.keypoints.size(); ++i) {
      const Keypoint& kp = level.keypoints[i];
      const float log2_scale = std::log2(std::max(kp.ComputeScale(), 1e-6f));
      point2D_t best = 0;
      double best_d2 = -1;
      if (options.radius > 0 && !out.keypoints.empty()) {
        // Radius in original pixels: `radius` pixels of the coarser of the two levels.
        const double level_radius = options.radius / std::min(1.0, level.factor);
        const int reach =
            static_cast<int>(std::ceil(options.radius / std::min(1.0, min_factor) / grid.cell()));
        grid.ForNeighbours(kp.x, kp.y, reach, [&](point2D_t id) {
          if (last_level[id] == static_cast<int>(l)) return;
          const double r =
              std::max(level_radius, options.radius / std::min(1.0, merged_factor[id]));
          const double dx = kp.x - out.keypoints[id].x, dy = kp.y - out.keypoints[id].y;
          const double d2 = dx * dx + dy * dy;
          if (d2 > r * r) return;
          if (std::abs(log2_scale - merged_log2_scale[id]) > options.max_log2_scale_diff) return;
          if (best_d2 < 0 || d2 < best_d2) {
            best_d2 = d2;
            best = id;
          }
        });
      }
      if (best_d2 >= 0) {
        out.index[l][i] = best;
        last_level[best] = static_cast<int>(l);
        continue;
      }
      const point2D_t id = static_cast<point2D_t>(out.keypoints.size());
      out.keypoints.push_back(kp);
      out.source.emplace_back(static_cast<int>(l), static_cast<point2D_t>(i));
      merged_factor.push_back(level.factor);
      merged_log2_scale.push_back(log2_scale);
      last_level.push_back(static_cast<int>(l));
      grid.Insert(kp.x, kp.y, id);
      out.index[l][i] = id;
    }
  }
  return out;
}

}  // namespace scalesfm
