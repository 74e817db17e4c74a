#include "matching/matching_pipeline.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "matching/descriptor_cache.h"
#include "matching/guided_matching.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {

void MatchingOptions::Check() const {
  if (type != "nn" && type != "s2dnet") {
    throw Error("unknown --Matching.type '" + type + "' (known: nn, s2dnet)");
  }
  nn.Check();
  if (block_size <= 0) throw Error("--Matching.block_size must be positive");
  if (pairs_per_commit <= 0) throw Error("--Matching.pairs_per_commit must be positive");
  ParseDevice(device);
  if (!shard.empty()) ParseShard(shard);
}

void MatchingOptions::ApplyThreads() const { SetLibTorchThreads(num_threads); }

ImagePairs SelectPairs(const Database& db, const MatchingOptions& options) {
  ImagePairs pairs = options.pair_list.empty()
                         ? ExhaustivePairs(db.ReadAllImages(), options.block_size)
                         : ReadPairList(options.pair_list, db);
  if (options.shard.empty()) return pairs;
  const auto [index, count] = ParseShard(options.shard);
  ImagePairs slice = ShardPairs(pairs, index, count);
  LogInfo(StringPrintf("Shard %d/%d: %zu of %zu pairs", index, count, slice.size(), pairs.size()));
  return slice;
}

void VerificationOptions::Check() const {
  if (!(max_error > 0)) {
    throw Error(StringPrintf("--SiftMatching.max_error must be positive, got %g", max_error));
  }
  if (num_processes == 0 || num_processes < -1) {
    throw Error(
        StringPrintf("--SiftMatching.num_processes must be -1 or >= 1, got %d", num_processes));
  }
}

int VerificationOptions::ResolvedNumProcesses(size_t num_pairs) const {
  const int wanted = num_processes > 0
                         ? num_processes
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return static_cast<int>(std::max<size_t>(1, std::min<size_t>(wanted, num_pairs)));
}

std::vector<std::string> VerificationOptions::ToColmapArgs() const {
  // Guided matching is never COLMAP's: scalesfm runs it after verification (RunGuidedMatching).
  return {"--SiftMatching.use_gpu",          "0",
          "--SiftMatching.num_threads",      std::to_string(num_threads),
          "--SiftMatching.max_error",        std::to_string(max_error),
          "--SiftMatching.confidence",       std::to_string(confidence),
          "--SiftMatching.max_num_trials",   std::to_string(max_num_trials),
          "--SiftMatching.min_inlier_ratio", std::to_string(min_inlier_ratio),
          "--SiftMatching.min_num_inliers",  std::to_string(min_num_inliers),
          "--SiftMatching.multiple_models",  multiple_models ? "1" : "0",
          "--SiftMatching.guided_matching",  "0",
          "--SiftMatching.planar_scene",     planar_scene ? "1" : "0"};
}

ImagePairs PairsToMatch(const Database& db, const ImagePairs& pairs,
                        const std::unordered_set<image_t>& with_features,
                        MatchingSummary* summary) {
  std::unordered_set<image_pair_t> done;
  for (image_pair_t id : db.ReadMatchedPairIds()) done.insert(id);
  ImagePairs todo;
  size_t missing_features = 0;
  for (const auto& [a, b] : pairs) {
    if (done.count(ImagePairToPairId(a, b))) {
      ++summary->num_already_done;
    } else if (!with_features.count(a) || !with_features.count(b)) {
      ++missing_features;
    } else {
      todo.emplace_back(a, b);
    }
  }
  if (missing_features > 0) {
    LogWarning(StringPrintf("%zu pairs involve images without features and are left out",
                            missing_features));
  }
  if (summary->num_already_done > 0) {
    LogInfo(StringPrintf("Skipping %zu pairs whose raw matches are already in the database",
                         summary->num_already_done));
  }
  return todo;
}

MatchingSummary RunRawMatching(const std::string& database_path, const ImagePairs& pairs,
                               const MatchingOptions& options) {
  options.Check();
  Timer timer;
  MatchingSummary summary;
  summary.num_pairs = pairs.size();
  Database db(database_path);
  const torch::Device device = ParseDevice(options.device);
  options.ApplyThreads();

  std::unordered_set<image_t> with_features;
  for (const Image& image : db.ReadAllImages()) {
    if (db.ExistsDescriptors(image.image_id)) with_features.insert(image.image_id);
  }
  const ImagePairs todo = PairsToMatch(db, pairs, with_features, &summary);
  LogInfo(StringPrintf("Matching %zu pairs on %s", todo.size(), device.str().c_str()));

  DescriptorCache cache(&db, device, 2 * options.block_size);
  Progress progress("pairs", todo.size());
  for (size_t start = 0; start < todo.size(); start += options.pairs_per_commit) {
    const size_t end = std::min(todo.size(), start + options.pairs_per_commit);
    std::vector<Matches> batch;
    size_t num_matches = 0;
    for (size_t i = start; i < end; ++i) {
      batch.push_back(MatchNearestNeighbors(cache.Get(todo[i].first, kDatabaseLevel).descriptors,
                                            cache.Get(todo[i].second, kDatabaseLevel).descriptors,
                                            options.nn));
      num_matches += batch.back().size();
    }
    Database::Transaction transaction(&db);
    for (size_t i = start; i < end; ++i) {
      db.WriteMatches(todo[i].first, todo[i].second, batch[i - start]);
    }
    transaction.Commit();
    summary.num_matched += end - start;
    progress.Step(StringPrintf("(%.0f matches/pair)", double(num_matches) / (end - start)),
                  end - start);
  }
  summary.matching_seconds = timer.ElapsedSeconds();
  return summary;
}

namespace {

// `colmap matches_importer` on `pairs` of `database_path`, logging to `log_path`.
void RunMatchesImporter(const std::string& database_path, const ImagePairs& pairs,
                        const std::vector<Image>& images, const VerificationOptions& options,
                        const ColmapRunner& colmap, const std::string& list_path,
                        const std::string& log_path) {
  WritePairList(list_path, pairs, images);
  std::vector<std::string> args = {"--database_path", database_path,  "--match_list_path",
                                   list_path,         "--match_type", "pairs"};
  const std::vector<std::string> extra = options.ToColmapArgs();
  args.insert(args.end(), extra.begin(), extra.end());
  colmap.Run("matches_importer", args, log_path);
  std::filesystem::remove(list_path);
}

// Contiguous slices of `pairs` verified in parallel, each on its own copy of the database; the
// copies' two-view geometries are then added to `database_path`, one transaction per slice. The
// copies are removed whether or not a step failed.
void RunParallelMatchesImporter(const std::string& database_path, const ImagePairs& pairs,
                                const std::vector<Image>& images,
                                const VerificationOptions& options, const ColmapRunner& colmap,
                                const std::string& work_dir, const std::string& log_path,
                                int num_processes) {
  namespace fs = std::filesystem;
  std::vector<std::string> copies, logs;
  std::vector<ImagePairs> slices;
  for (int k = 0; k < num_processes; ++k) {
    const size_t begin = pairs.size() * k / num_processes;
    const size_t end = pairs.size() * (k + 1) / num_processes;
    slices.emplace_back(pairs.begin() + begin, pairs.begin() + end);
    const std::string stem = (fs::path(work_dir) / StringPrintf("scalesfm_verify_%d", k)).string();
    copies.push_back(stem + ".db");
    logs.push_back(stem + ".log");
    fs::copy_file(database_path, copies.back(), fs::copy_options::overwrite_existing);
    fs::remove(logs.back());
  }
  std::vector<std::future<void>> jobs;
  for (int k = 0; k < num_processes; ++k) {
    jobs.push_back(std::async(std::launch::async, [&, k] {
      RunMatchesImporter(copies[k], slices[k], images, options, colmap, copies[k] + ".pairs.txt",
                         logs[k]);
    }));
  }
  std::exception_ptr failure;
  for (auto& job : jobs) {
    try {
      job.get();
    } catch (...) {
      if (!failure) failure = std::current_exception();
    }
  }
  if (!log_path.empty()) {  // the processes' logs, in slice order
    std::ofstream log(log_path, std::ios::app);
    for (const std::string& path : logs) {
      std::ifstream in(path);
      log << in.rdbuf();
    }
  }
  if (!failure) {
    // Each copy holds the geometries of its own slice (and those verified before, which
    // INSERT OR IGNORE leaves as they are). One transaction per slice: after an interruption, a
    // re-run verifies the slices that are missing. On an error the open transaction rolls back
    // and closing the connection detaches the copy.
    try {
      Database db(database_path);
      for (const std::string& copy : copies) {
        db.Attach(copy, "slice");
        Database::Transaction transaction(&db);
        db.Execute(
            "INSERT OR IGNORE INTO main.two_view_geometries SELECT * FROM "
            "slice.two_view_geometries;");
        transaction.Commit();
        db.Execute("DETACH DATABASE slice;");
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  for (size_t k = 0; k < copies.size(); ++k) {
    fs::remove(copies[k]);
    fs::remove(logs[k]);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

void RunGeometricVerification(const std::string& database_path, const ImagePairs& pairs,
                              const VerificationOptions& options, const ColmapRunner& colmap,
                              const std::string& work_dir, MatchingSummary* summary) {
  options.Check();
  Timer timer;
  ImagePairs todo;
  std::vector<Image> images;
  {
    Database db(database_path);
    images = db.ReadAllImages();
    std::unordered_set<image_pair_t> matched;
    for (image_pair_t id : db.ReadMatchedPairIds()) matched.insert(id);
    std::unordered_set<image_pair_t> verified;
    for (const auto& [id, n] : db.ReadTwoViewGeometryNumInliers()) verified.insert(id);
    for (const auto& pair : pairs) {
      const image_pair_t id = ImagePairToPairId(pair.first, pair.second);
      if (matched.count(id) && !verified.count(id)) todo.push_back(pair);
    }
  }
  PrintHeading1("Geometric verification (colmap matches_importer)");
  const int num_processes = options.ResolvedNumProcesses(todo.size());
  LogInfo(StringPrintf("Verifying %zu pairs in %d process%s", todo.size(), num_processes,
                       num_processes == 1 ? "" : "es"));
  const std::string log_path = (std::filesystem::path(work_dir) / "scalesfm_colmap.log").string();
  if (todo.empty()) {
    // nothing to do
  } else if (num_processes == 1) {
    RunMatchesImporter(
        database_path, todo, images, options, colmap,
        (std::filesystem::path(work_dir) / "scalesfm_verification_pairs.txt").string(), log_path);
  } else {
    RunParallelMatchesImporter(database_path, todo, images, options, colmap, work_dir, log_path,
                               num_processes);
  }
  Database db(database_path);
  size_t verified = 0;
  for (const auto& [id, n] : db.ReadTwoViewGeometryNumInliers()) verified += n > 0;
  summary->num_verified = verified;
  summary->verification_seconds = timer.ElapsedSeconds();
  LogInfo(StringPrintf("%zu image pairs have a verified two-view geometry", verified));
  PrintElapsedTime(summary->verification_seconds);
}

MatchingSummary RunMatcher(const std::string& database_path, const MatchingOptions& options,
                           const VerificationOptions& verification, const ColmapRunner& colmap,
                           const std::string& heading,
                           const std::function<MatchingSummary(const ImagePairs&)>& raw_matching) {
  colmap.ResolveBinary();  // fail before any work when COLMAP is missing
  verification.Check();    // or when a verification flag is wrong
  PrintHeading1(heading);
  ImagePairs pairs;
  {
    Database db(database_path);
    pairs = SelectPairs(db, options);
  }
  MatchingSummary summary = raw_matching(pairs);
  PrintElapsedTime(summary.matching_seconds);
  const std::string work_dir = std::filesystem::absolute(database_path).parent_path().string();
  RunGeometricVerification(database_path, pairs, verification, colmap, work_dir, &summary);
  if (verification.guided_matching) {
    const std::string skip = GuidedMatchingSkipReason(options);
    if (skip.empty()) {
      RunGuidedMatching(database_path, pairs, options, verification.GuidedMaxError(), &summary);
    } else {
      LogInfo("Guided matching skipped: " + skip);
    }
  }
  return summary;
}

MatchingSummary RunExhaustiveMatching(const std::string& database_path,
                                      const MatchingOptions& options,
                                      const VerificationOptions& verification,
                                      const ColmapRunner& colmap) {
  return RunMatcher(
      database_path, options, verification, colmap,
      options.pair_list.empty() ? "Exhaustive feature matching" : "Feature matching from pair list",
      [&](const ImagePairs& pairs) { return RunRawMatching(database_path, pairs, options); });
}

}  // namespace scalesfm
