#include "matching/matching_controller.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "colmap_ext/database_check.h"
#include "feature/extractor.h"
#include "matching/guided_matching.h"
#include "matching/level_matcher.h"
#include "matching/pair_matcher.h"
#include "matching/pair_scale_source.h"
#include "matching/verification.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {

ImagePairs SourcePairs(const Database& db, const PairingOptions& options) {
  if (!options.pair_list.empty()) return ReadPairList(options.pair_list, db);
  if (options.source == "vocab_tree") {
    const VisualVocabulary vocabulary = LoadOrBuildVocabulary(db, options.vocab_tree);
    ImagePairs pairs = RetrievalPairs(RetrieveImages(db, vocabulary, options.vocab_tree));
    LogInfo(StringPrintf("Retrieval pairs: %zu (%d per image%s)", pairs.size(),
                         options.vocab_tree.num_images,
                         options.vocab_tree.multi_level ? ", multi-level" : ""));
    return pairs;
  }
  if (options.source == "sequential") {
    return SequentialPairs(db, options.sequential, options.vocab_tree);
  }
  return ExhaustivePairs(db.ReadAllImages(), options.block_size);
}

std::string PairingHeading(const PairingOptions& options) {
  if (!options.pair_list.empty()) return "Feature matching from pair list";
  if (options.source == "vocab_tree") return "Vocabulary tree feature matching";
  if (options.source == "sequential") return "Sequential feature matching";
  return "Exhaustive feature matching";
}

ImagePairs SelectPairs(const Database& db, const PairingOptions& options) {
  ImagePairs pairs = SourcePairs(db, options);
  if (options.shard.empty()) return pairs;
  const auto [index, count] = ParseShard(options.shard);
  ImagePairs slice = ShardPairs(pairs, index, count);
  LogInfo(StringPrintf("Shard %d/%d: %zu of %zu pairs", index, count, slice.size(), pairs.size()));
  return slice;
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
                               const MatchingConfig& config) {
  config.Check();
  const MatchingOptions& options = config.matching;
  const ScaleMatchingOptions& scale_options = config.scale;
  const PairMatcherEntry& entry = FindPairMatcher(options.type);
  Timer timer;
  MatchingSummary summary;
  summary.num_pairs = pairs.size();
  Database db(database_path);
  const torch::Device device = ParseDevice(options.device);
  options.ApplyThreads();

  const std::vector<Image> images = db.ReadAllImages();
  const std::string feature_type = ReadFeatureType(db);
  const ExtractorTraits& features = FeatureExtractor::Traits(feature_type);
  if (scale_options.reextract && feature_type != config.extraction.type) {
    throw Error("--ScaleMatching.reextract: the database holds " + feature_type +
                " features but --Extraction.type is " + config.extraction.type);
  }
  const size_t cache_images = 4 * static_cast<size_t>(config.pairing.block_size);
  LevelMatcher levels(&db, images, device, options.nn, cache_images);
  std::optional<GtCovisibleRegions> regions;
  if (scale_options.gt_region) {
    regions.emplace(scale_options.estimator.gt_path, &db, images);
    levels.RestrictTo(&*regions);
  }
  std::unordered_set<image_t> with_features;
  for (const Image& image : images) {
    const bool has = entry.traits.needs_descriptors ? levels.HasDescriptors(image.image_id)
                                                    : db.ExistsKeypoints(image.image_id);
    if (has) with_features.insert(image.image_id);
  }
  const ImagePairs todo = PairsToMatch(db, pairs, with_features, &summary);
  const std::string& estimator = scale_options.estimator.estimator;
  LogInfo(StringPrintf("Matching %zu pairs of %s features on %s (--Matching.type %s, estimator %s)",
                       todo.size(), feature_type.c_str(), device.str().c_str(),
                       options.type.c_str(), estimator.c_str()));
  const std::unique_ptr<PairScaleSource> scales =
      MakeScaleSource(scale_options.estimator, &db, images, config.image_path,
                      features.keypoints_carry_scale, cache_images);
  MatcherContext context;
  context.db = &db;
  context.images = &images;
  context.config = &config;
  context.levels = &levels;
  context.device = device;
  const std::unique_ptr<PairMatcher> matcher = entry.create(context);

  Progress progress("pairs", todo.size());
  for (size_t start = 0; start < todo.size(); start += options.pairs_per_commit) {
    const size_t end = std::min(todo.size(), start + options.pairs_per_commit);
    std::vector<Matches> batch(end - start);
    std::vector<std::optional<PairScale>> new_scales(end - start);
    size_t num_matches = 0;
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      std::optional<Matches> native;
      PairTask task;
      task.a = a;
      task.b = b;
      task.native = [&, a = a, b = b]() -> const Matches& {
        if (!native) {
          // Without descriptors on both sides (a keypoints-only matcher), there is nothing to
          // match natively: no votes, s = 1.
          native = levels.HasDescriptors(a) && levels.HasDescriptors(b) ? levels.MatchNative(a, b)
                                                                        : Matches();
        }
        return *native;
      };
      // 1. s(A->B): cached, or estimated now ("none": 1, never cached).
      if (!scale_options.Enabled()) {
        // every pair matches its native levels, as stock matching does
      } else if (auto cached = db.ReadPairScale(a, b, estimator)) {
        task.scale = cached->scale;
      } else {
        const ScaleEstimate estimate = scales->Estimate(a, b, task.native);
        task.scale = estimate.scale;
        new_scales[i - start] = PairScale{estimator, estimate.scale, estimate.support};
      }
      // 2. SDAIM: rescale unless the scale change is small.
      task.rescale = std::abs(std::log2(task.scale)) >= scale_options.min_log2_scale;
      batch[i - start] = matcher->Match(task);
      num_matches += batch[i - start].size();
    }
    Database::Transaction transaction(&db);
    matcher->WriteStaged(&db);
    for (size_t i = start; i < end; ++i) {
      const auto [a, b] = todo[i];
      db.WriteMatches(a, b, batch[i - start]);
      if (new_scales[i - start]) db.WritePairScale(a, b, *new_scales[i - start]);
    }
    transaction.Commit();
    summary.num_matched += end - start;
    const std::string note = matcher->BatchNote();
    progress.Step(StringPrintf("(%.0f matches/pair%s%s)", double(num_matches) / (end - start),
                               note.empty() ? "" : ", ", note.c_str()),
                  end - start);
  }
  const std::string final_note = matcher->FinalNote();
  if (!final_note.empty()) LogInfo(final_note);
  summary.matching_seconds = timer.ElapsedSeconds();
  return summary;
}

std::string GuidedMatchingSkipReason(const MatchingConfig& config) {
  if (!FindPairMatcher(config.matching.type).traits.allows_guided) {
    return "with --Matching.type " + config.matching.type +
           " the new keypoints have no descriptors";
  }
  return GuidedMatchingSkipReason(config.matching.nn);
}

MatchingSummary RunMatching(const std::string& database_path, const MatchingConfig& config,
                            const ColmapRunner& colmap) {
  colmap.ResolveBinary();  // fail before any work when COLMAP is missing
  config.Check();          // or when an option is wrong
  if (!std::filesystem::exists(database_path)) {
    throw Error("database " + database_path + " does not exist");
  }
  // Verification runs colmap on it: a schema it cannot read fails now, not after matching.
  if (!config.matching.raw_matches_only) colmap.CheckCanReadDatabase(database_path);
  PrintHeading1(PairingHeading(config.pairing));
  ImagePairs pairs;
  {
    Database db(database_path);
    CheckDatabaseConsistency(&db);  // damage found now, not after matches are written
    pairs = SelectPairs(db, config.pairing);
  }
  MatchingSummary summary = RunRawMatching(database_path, pairs, config);
  PrintElapsedTime(summary.matching_seconds);
  if (config.matching.raw_matches_only) {
    LogInfo("Raw matches only (--Matching.raw_matches_only): no verification");
    return summary;
  }
  const std::string work_dir = std::filesystem::absolute(database_path).parent_path().string();
  RunGeometricVerification(database_path, pairs, config.verification, colmap, work_dir, &summary);
  if (config.verification.guided_matching) {
    const std::string skip = GuidedMatchingSkipReason(config);
    if (skip.empty()) {
      RunGuidedMatching(database_path, pairs, config.matching,
                        2 * static_cast<size_t>(config.pairing.block_size),
                        config.verification.GuidedMaxError(),
                        config.verification.guided_max_num_inliers, &summary);
    } else {
      LogInfo("Guided matching skipped: " + skip);
    }
  }
  return summary;
}

}  // namespace scalesfm
