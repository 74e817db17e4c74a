#include "feature/extraction_pipeline.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <optional>
#include <thread>

#include "colmap_ext/database.h"
#include "feature/image_io.h"
#include "feature/multilevel_extraction.h"
#include "feature/scale_levels.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"

namespace scalesfm {

ExtractionSummary RunFeatureExtraction(const std::string& database_path,
                                       const std::string& image_path,
                                       const ImageReaderOptions& reader_options,
                                       const ExtractionOptions& extraction_options) {
  reader_options.Check();
  extraction_options.Check();
  PrintHeading1("Feature extraction");
  if (!extraction_options.IsLearned() && ParseDevice(extraction_options.device).is_cuda()) {
    LogInfo("--Extraction.type " + extraction_options.type +
            " runs on the CPU; the CUDA device is used by learned extractors");
  }
  Timer timer;
  ExtractionSummary summary;
  const ImageListing listing = ListImageFolder(image_path);
  const std::vector<std::string>& names = listing.names;
  summary.num_images = names.size() + listing.skipped.size();
  // Extractors are created here, not in the workers: a missing or corrupt weights file or an
  // unusable device is reported as an error before the database is created or touched.
  std::vector<std::unique_ptr<FeatureExtractor>> extractors;
  extractors.push_back(FeatureExtractor::Create(extraction_options));
  Database db(database_path);

  // Which images still need work? (Resume: those with keypoints and descriptors are done.)
  std::vector<std::string> todo;
  std::optional<camera_t> shared_camera_id;
  for (const std::string& name : names) {
    if (auto image = db.ReadImageWithName(name)) {
      if (reader_options.single_camera && !shared_camera_id) shared_camera_id = image->camera_id;
      if (db.ExistsKeypoints(image->image_id) && db.ExistsDescriptors(image->image_id)) {
        ++summary.num_already_done;
        continue;
      }
    }
    todo.push_back(name);
  }
  if (summary.num_already_done > 0) {
    LogInfo(StringPrintf("Skipping %zu images whose features are already in the database",
                         summary.num_already_done));
  }

  // Learned extractors use LibTorch's threads (all cores by default) on one image at a time.
  if (extraction_options.IsLearned()) SetLibTorchThreads(extraction_options.num_threads);
  const int num_threads = extraction_options.IsLearned()
                              ? 1
                              : std::min<int>(extraction_options.EffectiveNumThreads(),
                                              std::max<size_t>(1, todo.size()));
  // Parallelism is across images; OpenCV's own threads would oversubscribe the cores.
  while (static_cast<int>(extractors.size()) < num_threads) {
    extractors.push_back(FeatureExtractor::Create(extraction_options));
  }
  const int previous_cv_threads = cv::getNumThreads();
  cv::setNumThreads(1);
  std::mutex db_mutex;
  std::atomic<size_t> next{0};
  Progress progress("image", todo.size());
  std::exception_ptr fatal;
  // Results are written in listing order, whichever worker finishes first, so images get the
  // same ids on every run (as COLMAP numbers them in reading order): `turn` is the index of
  // `todo` whose result goes into the database next.
  std::condition_variable turn_changed;
  size_t turn = 0;
  // Holds db_mutex from image i's turn on; passes the turn to i + 1 when it goes out of scope.
  struct Turn {
    std::unique_lock<std::mutex> lock;
    size_t* turn;
    std::condition_variable* changed;
    ~Turn() {
      // An image whose write failed keeps its turn: the others stop (fatal) instead of taking
      // its id.
      if (std::uncaught_exceptions() > 0) return;
      ++*turn;
      lock.unlock();
      changed->notify_all();
    }
  };
  auto wait_for_turn = [&](size_t i) {
    std::unique_lock<std::mutex> lock(db_mutex);
    turn_changed.wait(lock, [&] { return turn == i || fatal; });
    return Turn{std::move(lock), &turn, &turn_changed};
  };

  // Warns about and records an image that cannot be extracted. Caller holds db_mutex.
  auto skip = [&](const std::string& name, const std::string& path, const std::string& reason) {
    LogWarning("skipping image " + path + ": " + reason);
    summary.failed.emplace_back(name, reason);
  };
  for (const auto& [name, reason] : listing.skipped) {
    skip(name, (std::filesystem::path(image_path) / name).string(), reason);
  }

  const std::vector<double> level_factors = extraction_options.LevelFactors();
  const KeypointMergeOptions merge = extraction_options.MergeOptions();
  auto worker = [&](FeatureExtractor* extractor) {
    for (size_t i = next++; i < todo.size(); i = next++) {
      const std::string& name = todo[i];
      const std::string path = (std::filesystem::path(image_path) / name).string();
      try {
        std::string error;
        const cv::Mat image = ReadImage(path, extractor->InputChannels(), &error);
        if (image.empty()) {
          const Turn my_turn = wait_for_turn(i);
          skip(name, path, error);
          continue;
        }
        const std::vector<double> factors = LevelsForImage(level_factors, image.cols, image.rows,
                                                           extraction_options.max_image_size);
        MultiLevelFeatures features = ExtractLevels(extractor, image, factors, merge);

        const Turn my_turn = wait_for_turn(i);
        if (fatal) return;  // another image failed: stop without writing
        Database::Transaction transaction(&db);
        Image db_image;
        if (auto existing = db.ReadImageWithName(name)) {
          db_image = *existing;
          const Camera camera = db.ReadCamera(db_image.camera_id);
          if (camera.width != image.cols || camera.height != image.rows) {
            const std::string reason =
                StringPrintf("image is %dx%d but its camera %u in the database is %dx%d",
                             image.cols, image.rows, camera.camera_id, camera.width, camera.height);
            skip(name, path, reason);
            continue;
          }
        } else {
          db_image.name = name;
          if (reader_options.single_camera && shared_camera_id) {
            const Camera camera = db.ReadCamera(*shared_camera_id);
            if (camera.width != image.cols || camera.height != image.rows) {
              const std::string reason =
                  "--ImageReader.single_camera is set but this image's size differs from the "
                  "shared camera's";
              skip(name, path, reason);
              continue;
            }
            db_image.camera_id = *shared_camera_id;
          } else {
            db_image.camera_id =
                db.WriteCamera(SetupCamera(reader_options, path, image.cols, image.rows));
            if (reader_options.single_camera) shared_camera_id = db_image.camera_id;
          }
          db_image.image_id = db.WriteImage(db_image);
        }
        db.WriteKeypoints(db_image.image_id, features.keypoints);
        db.WriteDescriptors(db_image.image_id, features.descriptors);
        if (features.float_descriptors.rows() > 0 || extraction_options.IsLearned()) {
          db.WriteFloatDescriptors(db_image.image_id, features.float_descriptors);
        }
        db.WriteFeatureLevels(db_image.image_id, features.levels);
        db.WriteFeatureType(db_image.image_id, extraction_options.type);
        transaction.Commit();
        ++summary.num_extracted;
        std::string per_level;
        for (size_t l = 0; l < features.level_sizes.size() && factors.size() > 1; ++l) {
          per_level += StringPrintf("%s%.2f:%zu", l ? " " : ", levels ", factors[l],
                                    features.level_sizes[l]);
        }
        progress.Step(StringPrintf("%s (%dx%d, %zu features%s)", name.c_str(), image.cols,
                                   image.rows, features.keypoints.size(), per_level.c_str()));
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(db_mutex);
          if (!fatal) fatal = std::current_exception();
          next = todo.size();  // stop the other workers
        }
        turn_changed.notify_all();  // and wake those waiting for their turn
        return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < num_threads; ++t) threads.emplace_back(worker, extractors[t].get());
  for (auto& t : threads) t.join();
  cv::setNumThreads(previous_cv_threads);
  if (fatal) std::rethrow_exception(fatal);

  summary.seconds = timer.ElapsedSeconds();
  PrintExtractionSummary(summary);
  PrintElapsedTime(summary.seconds);
  return summary;
}

void PrintExtractionSummary(const ExtractionSummary& summary) {
  LogInfo(StringPrintf("Images: %zu listed, %zu extracted now, %zu already done, %zu failed",
                       summary.num_images, summary.num_extracted, summary.num_already_done,
                       summary.failed.size()));
  for (const auto& [name, reason] : summary.failed) {
    LogInfo("  failed: " + name + " (" + reason + ")");
  }
}

}  // namespace scalesfm
