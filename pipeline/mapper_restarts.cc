#include "pipeline/mapper_restarts.h"

#include <algorithm>
#include <map>
#include <regex>

#include "util/flag_args.h"
#include "util/logging.h"

namespace scalesfm {

namespace {

// Verified partners of each image with at least `min_num_matches` inliers.
std::map<image_t, std::vector<std::pair<image_t, size_t>>> Partners(
    const std::unordered_map<image_pair_t, size_t>& num_inliers, size_t min_num_matches) {
  std::map<image_t, std::vector<std::pair<image_t, size_t>>> partners;
  for (const auto& [pair_id, n] : num_inliers) {
    if (n == 0 || n < min_num_matches) continue;
    const auto [id1, id2] = PairIdToImagePair(pair_id);
    partners[id1].emplace_back(id2, n);
    partners[id2].emplace_back(id1, n);
  }
  for (auto& [id, list] : partners) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
  }
  return partners;
}

}  // namespace

std::set<image_t> RegistrableImages(const std::unordered_map<image_pair_t, size_t>& num_inliers,
                                    size_t min_num_matches) {
  std::set<image_t> out;
  for (const auto& [id, partners] : Partners(num_inliers, min_num_matches)) out.insert(id);
  return out;
}

std::vector<InitPair> RestartInitPairs(const std::unordered_map<image_pair_t, size_t>& num_inliers,
                                       const std::set<image_t>& registered,
                                       const std::set<image_pair_t>& tried, size_t min_num_matches,
                                       size_t init_min_num_inliers, size_t max_pairs) {
  const auto partners = Partners(num_inliers, min_num_matches);
  const auto inliers_of = [&](image_t a, image_t b) -> size_t {
    const auto it = num_inliers.find(ImagePairToPairId(a, b));
    return it == num_inliers.end() ? 0 : it->second;
  };

  // Left-out images, the most strongly connected first.
  std::vector<std::pair<size_t, image_t>> left_out;
  for (const auto& [id, list] : partners) {
    if (registered.count(id)) continue;
    size_t total = 0;
    for (const auto& [partner, n] : list) total += n;
    left_out.emplace_back(total, id);
  }
  std::sort(left_out.begin(), left_out.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });

  // Each left-out image's candidates: pairs of its partners by the sum of their ranks.
  std::vector<std::vector<InitPair>> per_image;
  for (const auto& [total, id] : left_out) {
    const auto& list = partners.at(id);
    std::vector<std::pair<size_t, size_t>> ranks;
    for (size_t i = 0; i < list.size(); ++i) {
      for (size_t j = i + 1; j < list.size(); ++j) ranks.emplace_back(i, j);
    }
    std::stable_sort(ranks.begin(), ranks.end(), [](const auto& a, const auto& b) {
      return a.first + a.second < b.first + b.second;
    });
    std::vector<InitPair> candidates;
    for (const auto& [i, j] : ranks) {
      const image_t a = list[i].first, b = list[j].first;
      const size_t n = inliers_of(a, b);
      if (n == 0 || n < init_min_num_inliers) continue;
      candidates.push_back({std::min(a, b), std::max(a, b), n});
    }
    per_image.push_back(std::move(candidates));
  }

  // Round robin over the left-out images, without repeats or pairs already tried.
  std::vector<InitPair> out;
  std::set<image_pair_t> taken = tried;
  for (size_t round = 0; out.size() < max_pairs; ++round) {
    bool any = false;
    for (const auto& candidates : per_image) {
      if (round >= candidates.size()) continue;
      any = true;
      const InitPair& pair = candidates[round];
      if (!taken.insert(ImagePairToPairId(pair.image_id1, pair.image_id2)).second) continue;
      out.push_back(pair);
      if (out.size() == max_pairs) break;
    }
    if (!any) break;
  }
  return out;
}

std::set<image_pair_t> TriedInitPairs(const std::string& mapper_log) {
  static const std::regex kLine(R"(Initializing with image pair #(\d+) and #(\d+))");
  std::set<image_pair_t> out;
  for (auto it = std::sregex_iterator(mapper_log.begin(), mapper_log.end(), kLine);
       it != std::sregex_iterator(); ++it) {
    out.insert(ImagePairToPairId(static_cast<image_t>(std::stoul((*it)[1])),
                                 static_cast<image_t>(std::stoul((*it)[2]))));
  }
  return out;
}

std::optional<std::string> FindMapperArg(const std::vector<std::string>& args,
                                         const std::string& name) {
  return FindFlagValue(args, "Mapper." + name);
}

namespace {

// The small-model floor is scalesfm's to set: not when the user chose --Mapper.min_model_size,
// nor when too few images are registrable for a model of kSmallModelSize.
bool CanKeepSmallModels(const std::vector<std::string>& args, size_t num_registrable) {
  return !FindMapperArg(args, "min_model_size") && num_registrable >= kSmallModelSize;
}

std::vector<std::string> WithSmallModelFloor(std::vector<std::string> args) {
  args.insert(args.end(), {"--Mapper.min_model_size", std::to_string(kSmallModelSize)});
  return args;
}

}  // namespace

std::optional<std::vector<std::string>> SmallModelMapperArgs(const std::vector<std::string>& args,
                                                             const std::string& mapper_log,
                                                             size_t num_registrable) {
  if (!CanKeepSmallModels(args, num_registrable) || TriedInitPairs(mapper_log).empty()) {
    return std::nullopt;
  }
  return WithSmallModelFloor(args);
}

std::vector<std::string> FirstMapperArgs(const std::vector<std::string>& args,
                                         size_t num_registrable) {
  if (!CanKeepSmallModels(args, num_registrable) || num_registrable > kColmapMinModelSize) {
    return args;
  }
  return WithSmallModelFloor(args);
}

std::vector<std::string> WithLocalBundleCap(std::vector<std::string> args) {
  if (FindMapperArg(args, "ba_local_max_num_iterations")) return args;
  args.insert(args.end(),
              {"--Mapper.ba_local_max_num_iterations", std::to_string(kLocalBundleMaxIterations)});
  return args;
}

bool IsBetterModel(const ReconstructionStats& a, const ReconstructionStats& b) {
  if (a.num_images != b.num_images) return a.num_images > b.num_images;
  return a.num_observations > b.num_observations;
}

}  // namespace scalesfm
