#include "eval_imc/covisibility.h"

#include <Eigen/Geometry>
#include <algorithm>
#include <array>
#include <random>
#include <set>

namespace scalesfm {
namespace {

std::pair<std::string, std::string> Key(const std::string& a, const std::string& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

// Shared points of one pair and, per image (first: the smaller name), the bounding box of their
// projections inside it.
struct PairAccumulator {
  size_t shared_points = 0;
  Eigen::AlignedBox2d box1, box2;
};

double AreaFraction(const Eigen::AlignedBox2d& box, const Camera& camera) {
  if (box.isEmpty()) return 0;
  return box.volume() / (static_cast<double>(camera.width) * camera.height);
}

// The GT images that observe `point` (each once), with the point's GT projection where it falls
// inside the image.
struct Observation {
  const ModelImage* image;
  bool inside;
  Eigen::Vector2d pixel;
};

std::vector<Observation> Observations(const ModelPoint& point, const Reconstruction& gt,
                                      const std::map<image_t, const ModelImage*>& gt_of) {
  std::vector<Observation> seen;
  for (image_t id : point.track_images) {
    const auto it = gt_of.find(id);
    if (it == gt_of.end()) continue;
    const bool duplicate = std::any_of(seen.begin(), seen.end(),
                                       [&](const Observation& o) { return o.image == it->second; });
    if (duplicate) continue;
    Observation o{it->second, false, Eigen::Vector2d::Zero()};
    const Camera& camera = gt.cameras.at(o.image->camera_id);
    o.inside = ProjectWorldPoint(camera, o.image->q, o.image->t, point.xyz, &o.pixel) &&
               InsideImage(camera, o.pixel);
    seen.push_back(o);
  }
  return seen;
}

using Triplet = std::array<int, 3>;

std::vector<Triplet> CovisibleTriplets(const CovisibilityMatrix& c) {
  std::vector<Triplet> triplets;
  const int n = static_cast<int>(c.size());
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (!c[i][j]) continue;
      for (int k = j + 1; k < n; ++k) {
        if (c[i][k] && c[j][k]) triplets.push_back({i, j, k});
      }
    }
  }
  return triplets;
}

// One bag grown from a random triplet by random triplets that share an image with it and add
// between 1 and the remaining room of new images; empty when it gets stuck below `size`.
std::vector<int> GrowBag(const std::vector<Triplet>& triplets,
                         const std::vector<std::vector<size_t>>& triplets_of, int size,
                         std::mt19937* rng) {
  std::vector<bool> in(triplets_of.size(), false);
  std::vector<int> bag;
  auto add = [&](const Triplet& t) {
    for (int i : t) {
      if (!in[i]) {
        in[i] = true;
        bag.push_back(i);
      }
    }
  };
  add(triplets[std::uniform_int_distribution<size_t>(0, triplets.size() - 1)(*rng)]);
  while (static_cast<int>(bag.size()) < size) {
    const int room = size - static_cast<int>(bag.size());
    std::vector<size_t> candidates;
    for (int b : bag) {
      for (size_t t : triplets_of[b]) {
        const int fresh = !in[triplets[t][0]] + !in[triplets[t][1]] + !in[triplets[t][2]];
        if (fresh >= 1 && fresh <= room) candidates.push_back(t);
      }
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    if (candidates.empty()) return {};
    add(triplets[candidates[std::uniform_int_distribution<size_t>(0,
                                                                  candidates.size() - 1)(*rng)]]);
  }
  std::sort(bag.begin(), bag.end());
  return bag;
}

// Bags of 2: co-visible pairs.
std::vector<std::vector<int>> CovisiblePairs(const CovisibilityMatrix& c) {
  std::vector<std::vector<int>> pairs;
  for (size_t i = 0; i < c.size(); ++i) {
    for (size_t j = i + 1; j < c.size(); ++j) {
      if (c[i][j]) pairs.push_back({static_cast<int>(i), static_cast<int>(j)});
    }
  }
  return pairs;
}

}  // namespace

CovisibilityTable CovisibilityTable::Compute(const Reconstruction& gt,
                                             const Reconstruction& points) {
  std::map<image_t, const ModelImage*> gt_of;  // image id of `points` -> GT image
  for (const auto& [id, image] : points.images) {
    if (const ModelImage* g = gt.FindImageByName(image.name)) gt_of[id] = g;
  }
  std::map<std::pair<std::string, std::string>, PairAccumulator> accumulators;
  for (const ModelPoint& point : points.points) {
    const std::vector<Observation> seen = Observations(point, gt, gt_of);
    for (size_t a = 0; a < seen.size(); ++a) {
      for (size_t b = a + 1; b < seen.size(); ++b) {
        const Observation* o1 = &seen[a];
        const Observation* o2 = &seen[b];
        if (o2->image->name < o1->image->name) std::swap(o1, o2);
        PairAccumulator& acc = accumulators[Key(o1->image->name, o2->image->name)];
        ++acc.shared_points;
        if (o1->inside) acc.box1.extend(o1->pixel);
        if (o2->inside) acc.box2.extend(o2->pixel);
      }
    }
  }
  CovisibilityTable table;
  for (const auto& [key, acc] : accumulators) {
    const Camera& camera1 = gt.cameras.at(gt.FindImageByName(key.first)->camera_id);
    const Camera& camera2 = gt.cameras.at(gt.FindImageByName(key.second)->camera_id);
    PairCovisibility value;
    value.shared_points = acc.shared_points;
    value.ratio = std::min(AreaFraction(acc.box1, camera1), AreaFraction(acc.box2, camera2));
    table.pairs_[key] = value;
  }
  return table;
}

PairCovisibility CovisibilityTable::Get(const std::string& name1, const std::string& name2) const {
  const auto it = pairs_.find(Key(name1, name2));
  return it == pairs_.end() ? PairCovisibility() : it->second;
}

void CovisibilityTable::Set(const std::string& name1, const std::string& name2,
                            const PairCovisibility& value) {
  pairs_[Key(name1, name2)] = value;
}

bool CovisibilityTable::Covisible(const std::string& name1, const std::string& name2,
                                  double vis_th) const {
  return static_cast<double>(Get(name1, name2).shared_points) > vis_th;
}

CovisibilityMatrix MakeCovisibilityMatrix(const std::vector<std::string>& names,
                                          const CovisibilityTable& table, double vis_th) {
  CovisibilityMatrix covisible(names.size(), std::vector<bool>(names.size(), false));
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = 0; j < names.size(); ++j) {
      covisible[i][j] = i != j && (vis_th < 0 || table.Covisible(names[i], names[j], vis_th));
    }
  }
  return covisible;
}

std::vector<std::pair<int, int>> ImportedBagPairs(const std::vector<int>& bag,
                                                  const CovisibilityMatrix& covisible) {
  std::vector<std::pair<int, int>> pairs;
  for (size_t a = 0; a < bag.size(); ++a) {
    for (size_t b = a + 1; b < bag.size(); ++b) {
      if (covisible[bag[a]][bag[b]]) pairs.emplace_back(static_cast<int>(a), static_cast<int>(b));
    }
  }
  return pairs;
}

std::vector<std::vector<int>> SampleCovisibleBags(const CovisibilityMatrix& covisible, int size,
                                                  int count, unsigned seed) {
  std::vector<std::vector<int>> bags;
  const int n = static_cast<int>(covisible.size());
  if (size < 2 || size > n || count <= 0) return bags;
  std::mt19937 rng(seed * 7919u + static_cast<unsigned>(size));
  if (size == 2) {
    std::vector<std::vector<int>> pairs = CovisiblePairs(covisible);
    std::shuffle(pairs.begin(), pairs.end(), rng);
    if (static_cast<int>(pairs.size()) > count) pairs.resize(count);
    return pairs;
  }
  const std::vector<Triplet> triplets = CovisibleTriplets(covisible);
  if (triplets.empty()) return bags;
  std::vector<std::vector<size_t>> triplets_of(n);
  for (size_t t = 0; t < triplets.size(); ++t) {
    for (int i : triplets[t]) triplets_of[i].push_back(t);
  }
  std::set<std::vector<int>> seen;
  for (int attempt = 0; static_cast<int>(bags.size()) < count && attempt < 100 * count; ++attempt) {
    std::vector<int> bag = GrowBag(triplets, triplets_of, size, &rng);
    if (!bag.empty() && seen.insert(bag).second) bags.push_back(bag);
  }
  return bags;
}

}  // namespace scalesfm
