// A thin wrapper that runs the `colmap` binary (COLMAP 3.8 has no library in Debian, so
// verification and mapping happen through its CLI on the shared database).
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/colmap_dialect.h"

namespace scalesfm {

struct ColmapRunResult {
  int exit_code = 0;
  std::string log;  // stdout and stderr, interleaved
  double seconds = 0;
};

// Throws the Error that Run throws for a failed command (command, exit code, end of the log).
[[noreturn]] void ThrowColmapFailure(const std::string& command, const ColmapRunResult& result);

class ColmapRunner {
 public:
  // `binary` is a name looked up on PATH or a path. The default honours $SCALESFM_COLMAP.
  explicit ColmapRunner(std::string binary = DefaultBinary());

  static std::string DefaultBinary();

  // Resolved path of the binary; throws Error when it cannot be found or executed.
  std::string ResolveBinary() const;

  // The binary's dialect, from the banner of `colmap help`, read once per binary and process.
  // Throws Error when the binary is missing or prints no version.
  const ColmapDialect& Dialect() const;

  // Throws Error, naming the remedy, when the binary cannot read the database at `path`
  // (COLMAP 3.8 and a database that COLMAP 4 created). Called by Run for --database_path, and by
  // the pipelines before their work.
  void CheckCanReadDatabase(const std::string& path) const;

  // Runs `colmap <command> <args...>` with QT_QPA_PLATFORM=offscreen, captures its log (and
  // appends it to `log_path` when set). `args` may use COLMAP 3.8's or 4.x's flag names: they
  // are written in the binary's dialect (ColmapDialect::TranslateArgs). Throws Error naming the
  // command and quoting the end of the log when the binary is missing or exits non-zero, and
  // before running it when the binary lacks the command or cannot read the schema of the
  // database that --database_path names (COLMAP 3.8 and a database COLMAP 4.x created).
  // With `throw_on_failure` false a non-zero exit is returned in exit_code instead.
  ColmapRunResult Run(const std::string& command, const std::vector<std::string>& args,
                      const std::string& log_path = "", bool throw_on_failure = true) const;

 private:
  // Runs the resolved binary with `command` and `args` as given.
  ColmapRunResult Execute(const std::string& binary, const std::string& command,
                          const std::vector<std::string>& args) const;

  std::string binary_;
};

}  // namespace scalesfm
