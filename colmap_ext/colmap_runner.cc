#include "colmap_ext/colmap_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "colmap_ext/database.h"
#include "util/flag_args.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/thread_environment.h"

namespace scalesfm {

ColmapRunner::ColmapRunner(std::string binary) : binary_(std::move(binary)) {}

std::string ColmapRunner::DefaultBinary() {
  const char* env = std::getenv("SCALESFM_COLMAP");
  return env && *env ? env : "colmap";
}

std::string ColmapRunner::ResolveBinary() const {
  namespace fs = std::filesystem;
  auto executable = [](const fs::path& p) {
    return fs::is_regular_file(p) && access(p.c_str(), X_OK) == 0;
  };
  if (binary_.find('/') != std::string::npos) {
    if (executable(binary_)) return binary_;
  } else if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
      const fs::path candidate = fs::path(dir.empty() ? "." : dir) / binary_;
      if (executable(candidate)) return candidate.string();
    }
  }
  throw Error("the COLMAP binary '" + binary_ +
              "' was not found or is not executable. Install Debian's colmap package "
              "(scripts/install_deps.sh) or point $SCALESFM_COLMAP at it.");
}

const ColmapDialect& ColmapRunner::Dialect() const {
  static std::mutex mutex;
  static std::map<std::string, ColmapDialect> dialects;  // by resolved binary
  const std::string binary = ResolveBinary();
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = dialects.find(binary); it != dialects.end()) return it->second;
  const ColmapRunResult help = Execute(binary, "help", {});
  const std::optional<ColmapVersion> version = ParseColmapVersion(help.log);
  if (!version) {
    throw Error(StringPrintf(
        "cannot tell the version of the COLMAP binary %s: `colmap help` exited with %d and "
        "printed no 'COLMAP <version>' banner. Beginning of its output:\n%s",
        binary.c_str(), help.exit_code, help.log.substr(0, 500).c_str()));
  }
  LogInfo("COLMAP " + version->ToString() + " at " + binary);
  return dialects.emplace(binary, ColmapDialect(*version)).first->second;
}

void ColmapRunner::CheckCanReadDatabase(const std::string& path) const {
  const ColmapDialect& dialect = Dialect();
  if (dialect.IsColmap4() || Colmap3CanReadDatabase(path)) return;
  throw Error("database " + path +
              " has COLMAP 4.x's schema (it was created by COLMAP 4 or by scalesfm for it: its "
              "images table has no prior_* columns), which COLMAP " +
              dialect.version().ToString() + " at " + ResolveBinary() +
              " cannot read. Point $SCALESFM_COLMAP at a COLMAP 4 binary (README, \"COLMAP "
              "versions\").");
}

ColmapRunResult ColmapRunner::Run(const std::string& command, const std::vector<std::string>& args,
                                  const std::string& log_path, bool throw_on_failure) const {
  const std::string binary = ResolveBinary();
  const ColmapDialect& dialect = Dialect();
  const std::string version = dialect.version().ToString();
  if (!dialect.HasCommand(command)) {
    throw Error("`colmap " + command + "` needs COLMAP 4.0 or newer, and " + binary +
                " is COLMAP " + version +
                ". Point $SCALESFM_COLMAP at a COLMAP 4 binary (README, \"COLMAP versions\").");
  }
  for (const FlagArg& arg : SplitFlagArgs(args)) {
    if (arg.value && (arg.name == "database_path" || arg.name == "database_path1" ||
                      arg.name == "database_path2")) {
      CheckCanReadDatabase(*arg.value);
    }
  }
  const std::vector<std::string> translated = dialect.TranslateArgs(args);
  ColmapRunResult result = Execute(binary, command, translated);
  if (!log_path.empty()) {
    std::ofstream log(log_path, std::ios::app);
    log << "$ colmap " << command;
    for (const auto& a : translated) log << " " << a;
    log << "\n" << result.log << "\n";
  }
  if (result.exit_code != 0 && throw_on_failure) ThrowColmapFailure(command, result);
  return result;
}

ColmapRunResult ColmapRunner::Execute(const std::string& binary, const std::string& command,
                                      const std::vector<std::string>& args) const {
  std::vector<std::string> argv_strings = {binary, command};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  // The user's environment (without what scalesfm set for its own threads), built before fork:
  // the child may only make async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (std::string& entry : UserEnvironment(CurrentEnvironment())) {
    if (entry.rfind("QT_QPA_PLATFORM=", 0) != 0) env_strings.push_back(std::move(entry));
  }
  env_strings.push_back("QT_QPA_PLATFORM=offscreen");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  // Close-on-exec: a child started by another thread at the same time must not inherit this
  // pipe, or our read would wait for that child too. dup2 clears the flag on stdout/stderr.
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw Error(std::string("pipe2() failed: ") + std::strerror(errno));
  }
  Timer timer;
  const pid_t pid = fork();
  if (pid < 0) throw Error(std::string("fork() failed: ") + std::strerror(errno));
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execve(binary.c_str(), argv.data(), envp.data());
    std::fprintf(stderr, "exec %s failed: %s\n", binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(pipe_fds[1]);
  ColmapRunResult result;
  char buffer[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) result.log.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.seconds = timer.ElapsedSeconds();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  return result;
}

void ThrowColmapFailure(const std::string& command, const ColmapRunResult& result) {
  const size_t keep = 2000;
  const std::string tail =
      result.log.size() > keep ? "..." + result.log.substr(result.log.size() - keep) : result.log;
  throw Error(StringPrintf("`colmap %s` failed with exit code %d. End of its log:\n%s",
                           command.c_str(), result.exit_code, tail.c_str()));
}

}  // namespace scalesfm
