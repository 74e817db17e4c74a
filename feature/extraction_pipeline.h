// Image folder -> features -> COLMAP database, resumable and parallel.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "colmap_ext/image_reader.h"
#include "feature/extractor.h"

namespace scalesfm {

struct ExtractionSummary {
  size_t num_images = 0;        // files listed
  size_t num_extracted = 0;     // newly extracted in this run
  size_t num_already_done = 0;  // skipped: features already in the database
  std::vector<std::pair<std::string, std::string>> failed;  // (name, reason)
  double seconds = 0;
};

// Extracts features for every image below `image_path` that does not have them yet and writes
// camera, image, keypoints and descriptors of each image in one transaction. An image already
// in the database keeps its image id and camera (so GT intrinsics written beforehand are used).
// Unreadable images are skipped with a warning and listed in the summary.
ExtractionSummary RunFeatureExtraction(const std::string& database_path,
                                       const std::string& image_path,
                                       const ImageReaderOptions& reader_options,
                                       const ExtractionOptions& extraction_options);

void PrintExtractionSummary(const ExtractionSummary& summary);

}  // namespace scalesfm
