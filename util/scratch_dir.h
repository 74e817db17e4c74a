// A private folder for one run's temporary files, next to the file the run works on.
//
// Runs that share a folder (matching shards of copies of one database, two evaluations) must
// not share temporary names: each run gets `<anchor>.scalesfm-tmp/run-<pid>-<n>/`, holds an
// flock on it while it lives, and removes it when it ends. A run killed with SIGKILL cannot
// clean up; its lock dies with it, and the next run on the same anchor removes its folder.
#pragma once

#include <string>

namespace scalesfm {

class ScratchDir {
 public:
  // Creates the run's folder, first removing folders whose runs have ended. Throws Error naming
  // the folder when it cannot be created (read-only folder, full disk).
  explicit ScratchDir(const std::string& anchor_path);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // `path()/name`.
  std::string File(const std::string& name) const;
  // The shared parent of all runs' folders for `anchor_path`.
  static std::string RootFor(const std::string& anchor_path);

 private:
  std::string root_;
  std::string path_;
  int lock_fd_ = -1;
};

}  // namespace scalesfm
