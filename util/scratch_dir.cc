#include "util/scratch_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "util/logging.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLockName = ".lock";

// An flock'ed file descriptor of `path` (a folder or a file), or -1 when `non_blocking` and
// another process holds it. Throws Error when the path cannot be opened.
int LockPath(const std::string& path, int open_flags, bool non_blocking) {
  const int fd = open(path.c_str(), open_flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw Error("cannot open " + path + " for the run's temporary files: " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | (non_blocking ? LOCK_NB : 0)) != 0) {
    const int error = errno;
    close(fd);
    if (non_blocking && error == EWOULDBLOCK) return -1;
    throw Error("cannot lock " + path + ": " + std::strerror(error));
  }
  return fd;
}

// Holds the root folder's lock while runs are created and stale ones removed. The root may be
// removed (by the last run to end) between open and flock: then open it again.
class RootLock {
 public:
  explicit RootLock(const std::string& root) {
    int attempts = 0;
    for (;;) {
      std::error_code ec;
      fs::create_directories(root, ec);
      if (ec && !fs::is_directory(root)) {
        throw Error("cannot create the temporary folder " + root + ": " + ec.message());
      }
      // The last run may remove the root between create_directories and open: create it again.
      fd_ = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd_ < 0 && errno == ENOENT && ++attempts < 100) continue;
      if (fd_ < 0) {
        throw Error("cannot open " + root +
                    " for the run's temporary files: " + std::strerror(errno));
      }
      if (flock(fd_, LOCK_EX) != 0) {
        const int error = errno;
        close(fd_);
        throw Error("cannot lock " + root + ": " + std::strerror(error));
      }
      struct stat held, now;
      if (fstat(fd_, &held) == 0 && stat(root.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
          held.st_dev == now.st_dev) {
        return;
      }
      close(fd_);
    }
  }
  ~RootLock() { close(fd_); }

 private:
  int fd_ = -1;
};

// Removes run folders under `root` whose owners no longer hold their lock. Caller holds the
// root's lock, so no run is between creating its folder and locking it.
void RemoveEndedRuns(const std::string& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string lock = (entry.path() / kLockName).string();
    int fd = -1;
    if (fs::exists(lock, ec)) {
      try {
        fd = LockPath(lock, O_RDWR, true);
      } catch (const Error&) {
        continue;  // not ours to judge
      }
      if (fd < 0) continue;  // its run is alive
    }
    fs::remove_all(entry.path(), ec);
    if (!ec) LogInfo("Removed the temporary files of an ended run: " + entry.path().string());
    if (fd >= 0) close(fd);
  }
}

}  // namespace

std::string ScratchDir::RootFor(const std::string& anchor_path) {
  return fs::absolute(anchor_path).lexically_normal().string() + ".scalesfm-tmp";
}

ScratchDir::ScratchDir(const std::string& anchor_path) : root_(RootFor(anchor_path)) {
  static std::atomic<int> counter{0};
  RootLock root_lock(root_);
  RemoveEndedRuns(root_);
  path_ = (fs::path(root_) / ("run-" + std::to_string(getpid()) + "-" + std::to_string(counter++)))
              .string();
  std::error_code ec;
  fs::remove_all(path_, ec);  // a folder of an earlier process with our pid, already unlocked
  if (!fs::create_directory(path_, ec)) {
    throw Error("cannot create the temporary folder " + path_ + ": " + ec.message());
  }
  lock_fd_ = LockPath((fs::path(path_) / kLockName).string(), O_RDWR | O_CREAT, false);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
  close(lock_fd_);
  try {
    RootLock root_lock(root_);
    if (fs::is_empty(root_, ec)) fs::remove(root_, ec);
  } catch (...) {
    // Leaving an empty folder behind is harmless; never throw from a destructor.
  }
}

std::string ScratchDir::File(const std::string& name) const {
  return (fs::path(path_) / name).string();
}

}  // namespace scalesfm
