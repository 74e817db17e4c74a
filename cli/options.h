// COLMAP-style --Section.option flags, each bound 1:1 to a field of an options struct.
#pragma once

#include <boost/program_options.hpp>
#include <set>
#include <string>
#include <vector>

#include "colmap_ext/image_reader.h"
#include "eval_common/pose_metrics.h"
#include "feature/extractor.h"
#include "matching/matching_options.h"
#include "pipeline/mapper_restarts.h"
#include "scale/scale_estimator.h"
#include "training/training.h"

namespace scalesfm {

namespace po = boost::program_options;

void AddImageReaderOptions(po::options_description* desc, ImageReaderOptions* o);
void AddExtractionOptions(po::options_description* desc, ExtractionOptions* o);
// --Matching.* of the matcher, its per-method sub-structs (nn, s2dnet) included.
void AddMatchingOptions(po::options_description* desc, MatchingOptions* o);
// --Matching.{pair_list,shard,block_size}: which pairs are matched.
void AddPairingOptions(po::options_description* desc, PairingOptions* o);
void AddVerificationOptions(po::options_description* desc, VerificationOptions* o);
// The k-means flags of a vocabulary, named `prefix` + option ("" for vocab_tree_builder, as
// COLMAP's; "VocabTreeMatching." for the matcher's built-in vocabulary).
void AddVocabularyOptions(po::options_description* desc, const std::string& prefix,
                          VocabularyOptions* o);
// --VocabTreeMatching.* (vocab_tree_matcher) and --SequentialMatching.* (sequential_matcher).
void AddVocabTreeMatchingOptions(po::options_description* desc, VocabTreeMatchingOptions* o);
void AddSequentialMatchingOptions(po::options_description* desc, SequentialMatchingOptions* o);
// --Mapper.restarts: scalesfm's own, never passed to colmap (other --Mapper.* flags are).
void AddMapperOptions(po::options_description* desc, MapperOptions* o);
void AddScaleOptions(po::options_description* desc, ScaleEstimatorOptions* o);
// --ScaleMatching.* of the matchers: the estimator flags plus SDAIM level selection.
void AddScaleMatchingOptions(po::options_description* desc, ScaleMatchingOptions* o);
void AddS2DNetMatchOptions(po::options_description* desc, S2DNetMatchOptions* o);
void AddDualRcMatchOptions(po::options_description* desc, DualRcMatchOptions* o);
// Every matcher section of a matcher command: pairing, matching, --SiftMatching.* verification
// and --ScaleMatching.*. (--image_path and the --Extraction.* flags of re-extraction are the
// command's, which may share them with its extraction stage.)
void AddMatchingConfigOptions(po::options_description* desc, MatchingConfig* o);
// --translation_angle and --thresholds: the pose-error definitions (IMC 2020's by default).
void AddPoseMetricOptions(po::options_description* desc, PoseMetricOptions* o);
// --device: the device of every stage of the command, unless a stage's own flag
// (--Extraction.device, --Matching.device, --ScaleMatching.device) is given.
void AddDeviceOption(po::options_description* desc);
// The flags every train_* command shares (paths, config, batch, validation, checkpoints, seed,
// threads, device).
void AddTrainingRunOptions(po::options_description* desc, TrainingRunOptions* o);

// "scalesfm <subcommand> <args...>" as typed, for weights sidecars.
std::string CommandLine(int argc, char** argv);

// The flags given on the command line, as "Section.option" names without the dashes.
std::set<std::string> ExplicitFlags(int argc, char** argv);

// Parses argv (after the subcommand). Prints help and returns false for -h/--help. Options not
// declared but starting with one of `passthrough_sections` (e.g. "Mapper.") are collected into
// `passthrough` as "--name value" pairs for the colmap binary; any other unknown option is an
// error. A --device given (AddDeviceOption) is passed on to every --Section.device flag of `desc`
// that is not given itself.
bool ParseCommandLine(int argc, char** argv, const std::string& usage,
                      const po::options_description& desc,
                      const std::vector<std::string>& passthrough_sections = {},
                      std::vector<std::string>* passthrough = nullptr);

}  // namespace scalesfm
