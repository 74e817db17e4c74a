#include "cluster/slurm_job.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "util/logging.h"
#include "util/progress.h"
#include "util/thread_environment.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSbatchMissing =
    "Slurm's sbatch was not found: install slurm-wlm or load the cluster's slurm module";

// Slurm clients retry an unreachable controller for a while (sinfo about 10 s, squeue about 20 s
// with the default MessageTimeout); these limits only catch a client that hangs for good.
constexpr double kClientTimeoutSeconds = 120;
// squeue may fail for a while (controller restart, fail-over) without the jobs being lost.
constexpr double kSqueueOutageSeconds = 600;

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

// The end of a client's message, on one line, for an error text.
std::string Quote(const std::string& text) {
  std::string one_line = Trim(text);
  std::replace(one_line.begin(), one_line.end(), '\n', ' ');
  const size_t keep = 1500;
  if (one_line.size() > keep) one_line = "..." + one_line.substr(one_line.size() - keep);
  return Printable(one_line, keep + 3);
}

std::string MissingTool(const std::string& name) {
  return "Slurm's " + name + " was not found: install slurm-wlm or load the cluster's slurm module";
}

// `name` resolved through $PATH to an executable file; empty when there is none. Resolved here,
// before fork, so that the child only calls execve.
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const fs::path candidate = fs::path(dir.empty() ? "." : dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return "";
}

struct ProcessResult {
  int exit_code = 0;
  bool timed_out = false;
  std::string out, err;
};

// Runs argv[0] (a path) with stdin from /dev/null, stdout and stderr captured apart (sbatch's job
// id on stdout, its reasons on stderr), and the user's environment: sbatch hands the environment
// on to the job, which must not inherit scalesfm's own thread settings. Kills the child after
// `timeout_seconds` (> 0).
ProcessResult RunProcess(const std::vector<std::string>& args, double timeout_seconds) {
  std::vector<std::string> arg_strings = args;
  std::vector<char*> argv;
  for (std::string& arg : arg_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = UserEnvironment(CurrentEnvironment());
  std::vector<char*> envp;
  for (std::string& entry : env_strings) envp.push_back(entry.data());
  envp.push_back(nullptr);

  // Close-on-exec everywhere: a child that another thread starts meanwhile must not hold our pipe
  // ends open, or our reads would wait for it too. dup2 clears the flag on 0, 1 and 2.
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    throw Error(std::string("pipe2() failed: ") + std::strerror(errno));
  }
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw Error(std::string("pipe2() failed: ") + std::strerror(error));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) {
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    static const char kMessage[] = "scalesfm: exec failed\n";
    [[maybe_unused]] const ssize_t written = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
    _exit(127);
  }
  const int fork_error = errno;
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    throw Error(std::string("fork() failed: ") + std::strerror(fork_error));
  }

  ProcessResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  Timer timer;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    int wait_ms = -1;
    if (timeout_seconds > 0) {
      const double left = timeout_seconds - timer.ElapsedSeconds();
      if (left <= 0) {
        kill(pid, SIGKILL);
        result.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::ceil(left * 1000));
    }
    const int ready = poll(fds, 2, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; ready > 0 && i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, n);
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;  // poll skips negative descriptors
      }
    }
  }
  for (const pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

void CheckJob(const SlurmArrayJob& job) {
  if (job.name.empty() ||
      job.name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    throw Error("Slurm job name '" + Printable(job.name) +
                "' is not usable as a file name prefix: use letters, digits, '.', '_' and '-'");
  }
  if (Trim(job.task_command).empty()) {
    throw Error("Slurm job '" + job.name + "' has no task command");
  }
  if (job.work_dir.empty()) throw Error("Slurm job '" + job.name + "' has no work folder");
  // Slurm turns off every %-substitution in --output when the path holds a backslash.
  if (job.work_dir.find('\\') != std::string::npos) {
    throw Error("Slurm work folder '" + Printable(job.work_dir) +
                "' contains a backslash, which stops Slurm from naming the per-task logs");
  }
  // Options that would change how the array is submitted, logged or waited for.
  static const std::set<std::string> kOwnLong = {"--array",     "--output", "--error",
                                                 "--job-name",  "--wait",   "--parsable",
                                                 "--open-mode", "--input"};
  static const std::string kOwnShort = "aoeJWi";
  for (const std::string& arg : job.sbatch_args) {
    const std::string option = arg.substr(0, arg.find('='));
    const bool own_short = arg.size() >= 2 && arg[0] == '-' && arg[1] != '-' &&
                           kOwnShort.find(arg[1]) != std::string::npos;
    if (kOwnLong.count(option) > 0 || own_short) {
      throw Error("sbatch argument '" + Printable(arg) + "' of Slurm job '" + job.name +
                  "' is set by scalesfm itself (array, logs, job name and waiting)");
    }
  }
}

std::string BatchScript(const SlurmArrayJob& job, const fs::path& dir, const fs::path& script) {
  const std::string marker_prefix = ShellQuote((dir / job.name).string() + ".");
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Written by scalesfm (cluster/slurm_job.cc) for the Slurm job array '" << job.name
    << "'.\n"
    << "# Slurm runs it once per task with SLURM_ARRAY_TASK_ID set. A task succeeded when\n"
    << "# " << job.name << ".<id>.ok appears (written only when the command exits 0; it holds "
    << "the job id);\n"
    << "# " << job.name << ".<id>.failed holds the job id and the exit status otherwise.\n"
    << "# Run one task by hand: SLURM_ARRAY_TASK_ID=<id> bash " << ShellQuote(script.string())
    << "\n"
    << "scalesfm_task=\"${SLURM_ARRAY_TASK_ID:?not run as a Slurm array task}\"\n"
    << "scalesfm_job=\"${SLURM_ARRAY_JOB_ID:-manual}\"\n"
    << "scalesfm_marker=" << marker_prefix << "\"$scalesfm_task\"\n"
    << "echo \"=== scalesfm: task $scalesfm_task of Slurm job $scalesfm_job on $HOSTNAME at "
       "$(date '+%F %T') ===\"\n"
    << "# The command runs in a subshell: its `exit`, `cd` and `set -e` stay inside.\n"
    << "(\n"
    << job.task_command << "\n"
    << ")\n"
    << "scalesfm_status=$?\n"
    << "if [ \"$scalesfm_status\" -eq 0 ]; then\n"
    << "  scalesfm_outcome=ok\n"
    << "  echo \"$scalesfm_job\" >\"$scalesfm_marker.ok.tmp\"\n"
    << "else\n"
    << "  scalesfm_outcome=failed\n"
    << "  echo \"$scalesfm_job $scalesfm_status\" >\"$scalesfm_marker.failed.tmp\"\n"
    << "fi\n"
    << "# Renamed into place so that a reader never sees a half-written marker.\n"
    << "if ! mv -f \"$scalesfm_marker.$scalesfm_outcome.tmp\" "
       "\"$scalesfm_marker.$scalesfm_outcome\"; then\n"
    << "  echo \"scalesfm: could not write $scalesfm_marker.$scalesfm_outcome\" >&2\n"
    << "  [ \"$scalesfm_status\" -ne 0 ] || scalesfm_status=1\n"
    << "fi\n"
    << "echo \"=== scalesfm: task $scalesfm_task exit status $scalesfm_status ===\"\n"
    << "exit \"$scalesfm_status\"\n";
  return s.str();
}

// "1|PD|Resources" lines of `squeue -h -r -o %K|%t|%r`: counts and pending reasons.
struct QueueCounts {
  size_t running = 0, pending = 0;
  std::set<std::string> pending_reasons;
};

QueueCounts ParseQueue(const std::string& out) {
  QueueCounts counts;
  std::stringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    line = Trim(line);
    if (line.empty()) continue;
    std::stringstream fields(line);
    std::string id, state, reason;
    std::getline(fields, id, '|');
    std::getline(fields, state, '|');
    std::getline(fields, reason);
    if (state == "PD") {
      ++counts.pending;
      if (!reason.empty() && reason != "None") counts.pending_reasons.insert(reason);
    } else {
      ++counts.running;  // running, completing, configuring, suspended: not ended yet
    }
  }
  return counts;
}

// Blocks until squeue lists no task of `job_id`.
void WaitForArray(const SlurmArrayJob& job, const std::string& job_id, size_t total) {
  const std::string squeue = FindOnPath("squeue");
  if (squeue.empty()) throw Error(MissingTool("squeue"));
  Timer timer;
  std::string last_report;
  double last_report_time = 0;
  double squeue_failing_since = -1;
  while (true) {
    const ProcessResult queue =
        RunProcess({squeue, "-h", "-r", "-j", job_id, "-o", "%K|%t|%r"}, kClientTimeoutSeconds);
    const double elapsed = timer.ElapsedSeconds();
    if (queue.exit_code == 0 && !queue.timed_out) {
      squeue_failing_since = -1;
      const QueueCounts counts = ParseQueue(queue.out);
      const size_t active = counts.running + counts.pending;
      if (active == 0) return;
      const size_t done = total > active ? total - active : 0;
      std::string pending = StringPrintf("%zu pending", counts.pending);
      if (!counts.pending_reasons.empty()) {
        std::string reasons;
        for (const std::string& reason : counts.pending_reasons) {
          reasons += (reasons.empty() ? "" : ", ") + reason;
        }
        pending += " (" + reasons + ")";
      }
      const std::string report =
          StringPrintf("Slurm job %s '%s': [%zu/%zu] tasks done, %zu running, %s", job_id.c_str(),
                       job.name.c_str(), done, total, counts.running, pending.c_str());
      // A line when something changed, and one every 10 minutes to show the wait is alive.
      if (report != last_report || elapsed - last_report_time >= 600) {
        LogInfo(report + " (elapsed " + FormatDuration(elapsed) + ")");
        last_report = report;
        last_report_time = elapsed;
      }
    } else if (queue.err.find("Invalid job id") != std::string::npos) {
      return;  // ended long enough ago (MinJobAge) for the controller to forget it
    } else {
      const std::string why = queue.timed_out
                                  ? "no answer within " + FormatDuration(kClientTimeoutSeconds)
                                  : Quote(queue.err);
      if (squeue_failing_since < 0) {
        squeue_failing_since = elapsed;
        LogWarning("squeue failed for Slurm job " + job_id + " (" + why + "); retrying");
      } else if (elapsed - squeue_failing_since > kSqueueOutageSeconds) {
        throw Error(StringPrintf(
            "squeue has failed for %s while waiting for Slurm job %s (%s); the job may still run: "
            "watch it with `squeue -j %s`, cancel it with `scancel %s`",
            FormatDuration(elapsed - squeue_failing_since).c_str(), job_id.c_str(), why.c_str(),
            job_id.c_str(), job_id.c_str()));
      }
    }
    if (job.timeout_seconds > 0 && elapsed >= job.timeout_seconds) {
      const std::string scancel = FindOnPath("scancel");
      if (!scancel.empty()) RunProcess({scancel, job_id}, kClientTimeoutSeconds);
      throw Error(StringPrintf("Slurm job %s '%s' did not end within %s; cancelled it (scancel %s)",
                               job_id.c_str(), job.name.c_str(),
                               FormatDuration(job.timeout_seconds).c_str(), job_id.c_str()));
    }
    // Polls get rarer as the wait grows (at most ~10% late, at most one squeue per 30 s), so a
    // long array does not load the controller and a short one is seen to end quickly.
    double sleep_seconds = std::clamp(elapsed / 10, 0.5, 30.0);
    if (job.timeout_seconds > 0) {
      sleep_seconds = std::min(sleep_seconds, std::max(0.1, job.timeout_seconds - elapsed));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(sleep_seconds));
  }
}

// Words of the marker file, or nothing when it does not exist.
std::vector<std::string> ReadMarker(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> words;
  std::string word;
  while (in >> word) words.push_back(word);
  return words;
}

struct TaskOutcome {
  bool has_marker = false;
  bool succeeded = false;
  std::string exit_status;
};

TaskOutcome ReadOutcome(const fs::path& prefix, const std::string& job_id) {
  TaskOutcome outcome;
  const std::vector<std::string> ok = ReadMarker(prefix.string() + ".ok");
  // A marker from another job (an older run still finishing) does not count.
  if (!ok.empty() && ok[0] == job_id) {
    outcome.has_marker = outcome.succeeded = true;
    return outcome;
  }
  const std::vector<std::string> failed = ReadMarker(prefix.string() + ".failed");
  if (failed.size() >= 2 && failed[0] == job_id) {
    outcome.has_marker = true;
    outcome.exit_status = failed[1];
  }
  return outcome;
}

}  // namespace

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string SlurmArraySpec(std::vector<int> task_ids) {
  if (task_ids.empty()) throw Error("a Slurm job array needs at least one task id");
  std::sort(task_ids.begin(), task_ids.end());
  task_ids.erase(std::unique(task_ids.begin(), task_ids.end()), task_ids.end());
  if (task_ids.front() < 0) {
    throw Error(StringPrintf("Slurm array task ids cannot be negative (got %d)", task_ids.front()));
  }
  std::string spec;
  for (size_t i = 0; i < task_ids.size();) {
    size_t j = i;
    while (j + 1 < task_ids.size() && task_ids[j + 1] == task_ids[j] + 1) ++j;
    spec += (spec.empty() ? "" : ",") + std::to_string(task_ids[i]);
    if (j > i) spec += "-" + std::to_string(task_ids[j]);
    i = j + 1;
  }
  return spec;
}

std::string SlurmTaskLogPath(const SlurmArrayJob& job, int task_id) {
  return (fs::absolute(job.work_dir).lexically_normal() /
          (job.name + "." + std::to_string(task_id) + ".log"))
      .string();
}

std::string SlurmUnavailableReason() {
  if (FindOnPath("sbatch").empty()) return kSbatchMissing;
  for (const char* tool : {"squeue", "scancel", "sinfo"}) {
    if (FindOnPath(tool).empty()) return MissingTool(tool);
  }
  const ProcessResult sinfo = RunProcess({FindOnPath("sinfo"), "-h", "-o", "%T"}, 60);
  if (sinfo.timed_out) return "Slurm's sinfo did not answer within 60 s";
  if (sinfo.exit_code != 0) {
    return StringPrintf("Slurm's sinfo failed with exit code %d: %s", sinfo.exit_code,
                        Quote(sinfo.err + sinfo.out).c_str());
  }
  std::stringstream lines(sinfo.out);
  std::string state, states;
  while (std::getline(lines, state)) {
    state = Trim(state);
    if (state.empty()) continue;
    // A trailing '*' means the node does not respond; '~' (powered down, started on demand)
    // and '#' (powering up) are fine.
    for (const char* up : {"idle", "mix", "alloc", "comp", "plan"}) {
      if (state.rfind(up, 0) == 0 && state.back() != '*') return "";
    }
    states += (states.empty() ? "" : ", ") + state;
  }
  if (states.empty()) return "Slurm's sinfo lists no nodes";
  return "no Slurm node is up (sinfo reports " + Printable(states) + ")";
}

SlurmArrayResult RunSlurmArray(const SlurmArrayJob& job) {
  CheckJob(job);
  const std::string spec = SlurmArraySpec(job.task_ids);
  std::vector<int> ids = job.task_ids;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const std::string sbatch = FindOnPath("sbatch");
  if (sbatch.empty()) throw Error(kSbatchMissing);

  const fs::path dir = fs::absolute(job.work_dir).lexically_normal();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error("cannot create the Slurm work folder '" + dir.string() + "': " + ec.message());
  }
  const fs::path script = dir / (job.name + ".sbatch");
  {
    errno = 0;
    std::ofstream out(script, std::ios::trunc);
    out << BatchScript(job, dir, script);
    out.close();
    if (!out) {
      const int error = errno;
      throw Error("cannot write the Slurm work folder '" + dir.string() + "': writing " +
                  script.filename().string() + " failed" +
                  (error != 0 ? std::string(" (") + std::strerror(error) + ")" : ""));
    }
  }
  // Markers of an earlier run of these tasks would read as this run's outcome.
  for (const int id : ids) {
    for (const char* kind : {".ok", ".failed"}) {
      const fs::path marker = dir / (job.name + "." + std::to_string(id) + kind);
      fs::remove(marker, ec);
      if (ec) {
        throw Error("cannot write the Slurm work folder '" + dir.string() + "': removing " +
                    marker.filename().string() + " failed (" + ec.message() + ")");
      }
    }
  }
  // A syntax error would otherwise surface as N failed tasks, one log each.
  const std::string bash = FindOnPath("bash").empty() ? "/bin/bash" : FindOnPath("bash");
  const ProcessResult syntax = RunProcess({bash, "-n", script.string()}, 60);
  if (syntax.exit_code != 0) {
    throw Error("the task command of Slurm job '" + job.name +
                "' is not valid bash: " + Quote(syntax.err));
  }

  // %a is the array index; a literal '%' in the folder's name has to be doubled.
  std::string log_pattern = (dir / job.name).string();
  for (size_t at = log_pattern.find('%'); at != std::string::npos;
       at = log_pattern.find('%', at + 2)) {
    log_pattern.insert(at, "%");
  }
  log_pattern += ".%a.log";
  std::vector<std::string> argv = {sbatch,
                                   "--parsable",
                                   "--job-name=" + job.name,
                                   "--array=" + spec,
                                   "--output=" + log_pattern,
                                   "--open-mode=append"};
  argv.insert(argv.end(), job.sbatch_args.begin(), job.sbatch_args.end());
  argv.push_back(script.string());
  const ProcessResult submit = RunProcess(argv, kClientTimeoutSeconds);
  if (submit.timed_out) {
    throw Error("sbatch did not answer within " + FormatDuration(kClientTimeoutSeconds) +
                " when submitting Slurm job '" + job.name + "'");
  }
  if (submit.exit_code != 0) {
    throw Error(StringPrintf("sbatch refused Slurm job '%s' (exit code %d): %s", job.name.c_str(),
                             submit.exit_code, Quote(submit.err + submit.out).c_str()));
  }
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const std::string job_id = Trim(submit.out.substr(0, submit.out.find(';')));
  if (job_id.empty() || job_id.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("sbatch printed no job id for Slurm job '" + job.name +
                "': " + Quote(submit.out + submit.err));
  }
  LogInfo(StringPrintf("Submitted Slurm job %s '%s': %zu task(s), --array=%s, logs %s.<id>.log",
                       job_id.c_str(), job.name.c_str(), ids.size(), spec.c_str(),
                       (dir / job.name).string().c_str()));
  Timer timer;
  WaitForArray(job, job_id, ids.size());

  SlurmArrayResult result;
  result.job_id = job_id;
  std::map<int, TaskOutcome> outcomes;
  // A marker written on another node can take a moment to show here (NFS attribute caching):
  // only when some task has none, look again a few times before calling it failed.
  for (int attempt = 0; attempt < 4; ++attempt) {
    bool missing = false;
    for (const int id : ids) {
      TaskOutcome& outcome = outcomes[id];
      if (!outcome.has_marker) {
        outcome = ReadOutcome(dir / (job.name + "." + std::to_string(id)), job_id);
      }
      missing = missing || !outcome.has_marker;
    }
    if (!missing) break;
    if (attempt < 3) std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  size_t failures_logged = 0;
  for (const auto& [id, outcome] : outcomes) {
    (outcome.succeeded ? result.succeeded : result.failed).push_back(id);
    if (outcome.succeeded) continue;
    // A long list of failures says no more after the first few lines.
    if (++failures_logged <= 10) {
      LogWarning(StringPrintf(
          "Slurm task %d of job %s failed: %s; its log: %s", id, job_id.c_str(),
          outcome.has_marker
              ? ("exit status " + outcome.exit_status).c_str()
              : "it ended without writing a marker (cancelled, over its time or memory limit, or "
                "its node failed)",
          SlurmTaskLogPath(job, id).c_str()));
    }
  }
  if (failures_logged > 10) {
    LogWarning(StringPrintf("... and %zu more failed tasks of Slurm job %s", failures_logged - 10,
                            job_id.c_str()));
  }
  LogInfo(StringPrintf("Slurm job %s '%s' ended: %zu/%zu tasks succeeded (elapsed %s)",
                       job_id.c_str(), job.name.c_str(), result.succeeded.size(), ids.size(),
                       FormatDuration(timer.ElapsedSeconds()).c_str()));
  return result;
}

}  // namespace scalesfm
