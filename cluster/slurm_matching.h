// slurm_matching: a matcher command's pairs matched by a Slurm job array, one shard per task,
// each on its own copy of the database; then the shards' raw matches are merged into the
// database and verified once, so the result equals a single-process run.
//
//   pairs (the command's source: exhaustive, vocab tree, sequential or a pair list), chosen once
//   -> <work_dir>/pairs.txt and shard-<i>.db (copies of the database)
//   -> sbatch --array: task i runs `scalesfm exhaustive_matcher --Matching.pair_list pairs.txt
//      --Matching.shard i/n --Matching.raw_matches_only 1` on shard-<i>.db
//   -> merge every shard's matches and cached scales into the database (one transaction each)
//   -> RunMatching on the database with the pair list: nothing left to match; verification and
//      the guided pass, as a single run does them.
// A failed task leaves its marker absent; the command then fails naming the shards and their logs,
// and a rerun submits only the unfinished shards (each resumes from its own database).
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "matching/matching_options.h"
#include "matching/matching_summary.h"

namespace scalesfm {

struct SlurmMatchingOptions {
  int num_shards = 0;
  // Extra sbatch arguments, split at spaces (--partition, --time, --cpus-per-task, ...).
  std::string sbatch_args;
  // Shard databases, the pair list, the batch script and the task logs; on a file system the
  // compute nodes share. Empty: <database>.slurm next to the database. Removed after success.
  std::string work_dir;
  // Cancel the job and fail after this many seconds; 0: wait as long as it takes.
  double timeout = 0;
  // The scalesfm executable the tasks run; empty: this one.
  std::string binary;

  void Check() const;
};

// The flags of a slurm_matching command line that its tasks take: everything except
// slurm_matching's own, the pair source's (the tasks get the pair list) and the pairing flags it
// sets itself. `args` are the command's arguments after its name.
std::vector<std::string> TaskMatchingFlags(const std::vector<std::string>& args);

// Runs the whole flow above. `task_flags` are forwarded to every task (TaskMatchingFlags).
MatchingSummary RunSlurmMatching(const std::string& database_path, const MatchingConfig& config,
                                 const SlurmMatchingOptions& options,
                                 const std::vector<std::string>& task_flags,
                                 const ColmapRunner& colmap);

}  // namespace scalesfm
