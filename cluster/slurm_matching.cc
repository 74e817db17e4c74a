#include "cluster/slurm_matching.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/slurm_job.h"
#include "colmap_ext/database.h"
#include "colmap_ext/database_check.h"
#include "matching/matching_controller.h"
#include "matching/pair_matcher.h"
#include "util/flag_args.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

constexpr char kJobName[] = "scalesfm-matching";

std::string SelfExecutable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("cannot find the scalesfm executable (/proc/self/exe): " + ec.message());
  return self.string();
}

std::vector<std::string> SplitSpaces(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string word;
  while (in >> word) out.push_back(word);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

void SlurmMatchingOptions::Check() const {
  if (num_shards < 1) throw Error("--num_shards must be positive");
  if (timeout < 0) throw Error("--timeout must be >= 0");
}

std::vector<std::string> TaskMatchingFlags(const std::vector<std::string>& args) {
  static const std::vector<std::string> kDropped = {"database_path",
                                                    "num_shards",
                                                    "sbatch_args",
                                                    "work_dir",
                                                    "timeout",
                                                    "binary",
                                                    "Matching.pair_list",
                                                    "Matching.shard",
                                                    "Matching.raw_matches_only",
                                                    "matcher"};
  static const std::vector<std::string> kDroppedSections = {"VocabTreeMatching.",
                                                            "SequentialMatching."};
  std::vector<std::string> out;
  for (const FlagArg& arg : SplitFlagArgs(args)) {
    const std::string& name = arg.name;
    const bool dropped =
        !name.empty() && (std::find(kDropped.begin(), kDropped.end(), name) != kDropped.end() ||
                          std::any_of(kDroppedSections.begin(), kDroppedSections.end(),
                                      [&](const std::string& s) { return name.rfind(s, 0) == 0; }));
    if (dropped) continue;
    const std::vector<std::string> words = arg.Words();
    out.insert(out.end(), words.begin(), words.end());
  }
  return out;
}

MatchingSummary RunSlurmMatching(const std::string& database_path, const MatchingConfig& config,
                                 const SlurmMatchingOptions& options,
                                 const std::vector<std::string>& task_flags,
                                 const ColmapRunner& colmap) {
  options.Check();
  config.Check();
  colmap.ResolveBinary();
  if (!fs::exists(database_path)) throw Error("database " + database_path + " does not exist");
  if (!FindPairMatcher(config.matching.type).traits.shardable) {
    throw Error("--Matching.type " + config.matching.type +
                " appends keypoints while it matches, so its shards cannot be merged; run "
                "exhaustive_matcher instead of slurm_matching");
  }
  const std::string reason = SlurmUnavailableReason();
  if (!reason.empty()) throw Error("slurm_matching needs Slurm: " + reason);

  PrintHeading1("Slurm feature matching: " + PairingHeading(config.pairing));
  const std::string database = fs::absolute(database_path).string();
  const std::string work_dir =
      fs::absolute(options.work_dir.empty() ? database + ".slurm" : options.work_dir).string();
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec) throw Error("cannot create the work folder " + work_dir + ": " + ec.message());

  // The pairs, chosen once (retrieval runs here, not in every task). A rerun must find the same
  // pairs in the work folder: the shards' raw matches belong to them.
  const std::string pairs_path = work_dir + "/pairs.txt";
  {
    Database db(database);
    CheckDatabaseConsistency(&db);
    PairingOptions pairing = config.pairing;
    pairing.shard.clear();
    const ImagePairs pairs = SourcePairs(db, pairing);
    if (pairs.empty()) throw Error("no pairs to match");
    const std::string fresh = work_dir + "/pairs.txt.new";
    WritePairList(fresh, pairs, db.ReadAllImages());
    if (fs::exists(pairs_path) && ReadFile(pairs_path) != ReadFile(fresh)) {
      fs::remove(fresh, ec);
      throw Error("the work folder " + work_dir +
                  " holds another run's pairs (other options or images); remove it or pass "
                  "another --work_dir");
    }
    fs::rename(fresh, pairs_path, ec);
    if (ec) throw Error("cannot write " + pairs_path + ": " + ec.message());
    LogInfo(StringPrintf("%zu pairs in %d shards", pairs.size(), options.num_shards));
  }

  SlurmArrayJob job;
  job.name = kJobName;
  job.work_dir = work_dir;
  job.sbatch_args = SplitSpaces(options.sbatch_args);
  job.timeout_seconds = options.timeout;
  const auto shard_db = [&](int i) { return work_dir + "/shard-" + std::to_string(i) + ".db"; };
  const auto done = [&](int i) {
    return fs::exists(work_dir + "/" + kJobName + "." + std::to_string(i) + ".ok");
  };
  for (int i = 1; i <= options.num_shards; ++i) {
    if (done(i)) continue;
    if (!fs::exists(shard_db(i))) CopyDatabaseFile(database, shard_db(i));
    job.task_ids.push_back(i);
  }
  std::string command = ShellQuote(options.binary.empty() ? SelfExecutable() : options.binary) +
                        " exhaustive_matcher --database_path " + ShellQuote(work_dir) +
                        "/shard-${SLURM_ARRAY_TASK_ID}.db --Matching.pair_list " +
                        ShellQuote(pairs_path) + " --Matching.shard ${SLURM_ARRAY_TASK_ID}/" +
                        std::to_string(options.num_shards) + " --Matching.raw_matches_only 1";
  for (const std::string& flag : task_flags) command += " " + ShellQuote(flag);
  job.task_command = command;

  if (job.task_ids.empty()) {
    LogInfo("Every shard finished in an earlier run");
  } else {
    LogInfo(StringPrintf("Submitting %zu of %d shards", job.task_ids.size(), options.num_shards));
    const SlurmArrayResult result = RunSlurmArray(job);
    if (!result.failed.empty()) {
      std::string list;
      for (int i : result.failed)
        list += "\n  shard " + std::to_string(i) + ": " + SlurmTaskLogPath(job, i);
      throw Error(StringPrintf(
          "%zu of %d shards failed (Slurm job %s); their logs:%s\nRerun the "
          "same command: finished shards are kept and only these run again",
          result.failed.size(), options.num_shards, result.job_id.c_str(), list.c_str()));
    }
  }

  // Merge: every shard's raw matches and cached scale estimates, one transaction per shard. A
  // pair is in one shard only; INSERT OR IGNORE makes a rerun after a crash here harmless.
  {
    Database db(database);
    Progress progress("shard", size_t(options.num_shards));
    for (int i = 1; i <= options.num_shards; ++i) {
      {
        Database shard(shard_db(i));
        CheckDatabaseConsistency(&shard);
      }
      db.Attach(shard_db(i), "shard");
      {
        Database::Transaction transaction(&db);
        db.Execute("INSERT OR IGNORE INTO main.matches SELECT * FROM shard.matches;");
        db.Execute(
            "INSERT OR IGNORE INTO main.scalesfm_pair_scales SELECT * FROM "
            "shard.scalesfm_pair_scales;");
        transaction.Commit();
      }
      db.Execute("DETACH DATABASE shard;");
      progress.Step("Merged " + shard_db(i));
    }
  }

  // Verification and the guided pass on the merged database, over the same pairs.
  MatchingConfig verify = config;
  verify.pairing.pair_list = pairs_path;
  verify.pairing.shard.clear();
  verify.matching.raw_matches_only = false;
  MatchingSummary summary = RunMatching(database, verify, colmap);
  fs::remove_all(work_dir, ec);
  if (ec) LogWarning("could not remove the work folder " + work_dir + ": " + ec.message());
  return summary;
}

}  // namespace scalesfm
