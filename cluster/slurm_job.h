// Runs one bash command per shard as a Slurm job array and waits for the array to end.
//
// Success is read from marker files that the batch script writes next to the task logs, not from
// sacct: many clusters (and the single-node test cluster of scripts/start_local_slurm.sh) have no
// accounting database, and a marker also says that the task's outputs reached the shared file
// system that the caller reads. squeue only tells when the array has ended. See
// docs/DESIGN_NOTES.md, "Slurm job arrays".
#pragma once

#include <string>
#include <vector>

namespace scalesfm {

struct SlurmArrayJob {
  // --job-name, and the prefix of every file in work_dir: letters, digits, '.', '_' and '-'.
  std::string name;
  // The batch script, the per-task logs and the markers go here. It must be on a file system that
  // the compute nodes share with the submitting machine.
  std::string work_dir;
  // Array indices to run (e.g. only the unfinished shards); order and duplicates do not matter.
  std::vector<int> task_ids;
  // Bash, run once per task in a subshell; $SLURM_ARRAY_TASK_ID holds the task's index.
  std::string task_command;
  // The user's extra sbatch arguments (--partition, --time, --cpus-per-task, ...). Those that
  // RunSlurmArray sets itself (--array, --output, --error, --job-name, --wait, ...) are refused.
  std::vector<std::string> sbatch_args;
  // Cancel the array (scancel) and throw when it has not ended after this long; 0: wait forever.
  double timeout_seconds = 0;
};

struct SlurmArrayResult {
  std::string job_id;
  std::vector<int> succeeded, failed;  // sorted task ids
};

// Writes work_dir/<name>.sbatch, submits it with `sbatch --parsable --array=<ids> ...`, polls
// squeue until no task is left, and sorts each task into succeeded/failed by its marker file.
// Logs the submission and progress (tasks done/total, elapsed). A failed task is logged with its
// exit status and log file; the call still returns, so the caller can rerun just those ids.
// Throws Error when sbatch is not on PATH, when work_dir cannot be written, when task_command is
// not valid bash, when sbatch refuses the job (quoting its stderr) and on timeout.
SlurmArrayResult RunSlurmArray(const SlurmArrayJob& job);

// Empty when a usable Slurm is reachable (sbatch, squeue and scancel on PATH, and sinfo answers
// with at least one node that is up); otherwise why not, in one sentence.
std::string SlurmUnavailableReason();

// Task `task_id`'s log: work_dir/<name>.<task_id>.log, its stdout and stderr. Reruns append.
std::string SlurmTaskLogPath(const SlurmArrayJob& job, int task_id);

// Slurm's --array syntax for `task_ids`: sorted, duplicates dropped, runs joined ("1-3,5,7-8").
// Throws Error for an empty list or a negative id.
std::string SlurmArraySpec(std::vector<int> task_ids);

// `text` single-quoted for bash: nothing inside is expanded.
std::string ShellQuote(const std::string& text);

}  // namespace scalesfm
