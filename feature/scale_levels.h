// Discrete scale levels for multi-level extraction (D-ScaleNet, sec. 5.4): each image is
// extracted once at several resize factors spaced by the ScaleNet bin ratio sqrt(2), and a pair
// later matches the levels that bring both images to about the same scale.
#pragma once

#include <string>
#include <vector>

namespace scalesfm {

// Parses --Extraction.levels: "1" (single level, as COLMAP), "auto" (sqrt(2)^k for
// k = kAutoMinLevelStep..kAutoMaxLevelStep), or a comma-separated list of positive factors.
// Factors are relative to the original image; returned sorted descending, duplicates removed.
std::vector<double> ParseLevelSpec(const std::string& spec);

constexpr int kAutoMinLevelStep = -6;  // 1/8: the smallest ScaleNet bin
constexpr int kAutoMaxLevelStep = 1;   // sqrt(2); see docs/DESIGN_NOTES.md "Scale levels"

// The levels actually used for a width x height image: factors whose resized image fits in
// max_image_size (longest side) and keeps at least min_image_size pixels on its shortest side.
// When no factor fits, the single level min(1, max_image_size / longest side) is used, so an
// image always has at least one level.
std::vector<double> LevelsForImage(const std::vector<double>& factors, int width, int height,
                                   int max_image_size, int min_image_size = 48);

}  // namespace scalesfm
