// libjpeg decodes a JPEG whose entropy-coded data is damaged (bit flips, a lost block, bytes
// spliced in) into an image with grey or smeared blocks and only prints a warning, which
// OpenCV's reader does not report. Such an image would be matched as if it were intact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace scalesfm {

// True for data starting with JPEG's SOI marker (FF D8 FF).
bool LooksLikeJpeg(const std::vector<uint8_t>& bytes);

// Decodes the whole JPEG in `bytes` with libjpeg (at 1/8 size: every entropy-coded block is
// still read) and returns libjpeg's first warning or error message, e.g. "Corrupt JPEG data:
// premature end of data segment"; nullopt when it decodes cleanly.
std::optional<std::string> JpegCorruption(const std::vector<uint8_t>& bytes);

}  // namespace scalesfm
