#include "synthetic/jpeg_exif.h"

#include <libexif/exif-data.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>

#include "colmap_ext/image_reader.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

constexpr ExifByteOrder kOrder = EXIF_BYTE_ORDER_INTEL;

// A new entry of `components` values of `format`, owned by `ifd`'s content.
ExifEntry* AddEntry(ExifData* data, ExifIfd ifd, ExifTag tag, ExifFormat format,
                    unsigned components) {
  ExifMem* mem = exif_mem_new_default();
  ExifEntry* entry = exif_entry_new_mem(mem);
  const unsigned size = exif_format_get_size(format) * components;
  entry->data = static_cast<unsigned char*>(exif_mem_alloc(mem, size));
  if (!entry->data) {
    exif_entry_unref(entry);
    exif_mem_unref(mem);
    throw Error("EXIF: out of memory");
  }
  entry->size = size;
  entry->tag = tag;
  entry->components = components;
  entry->format = format;
  exif_content_add_entry(data->ifd[ifd], entry);
  exif_entry_unref(entry);  // the content holds it
  exif_mem_unref(mem);
  return entry;
}

void SetRational(ExifData* data, ExifIfd ifd, ExifTag tag, double value, ExifLong denominator) {
  ExifEntry* entry = AddEntry(data, ifd, tag, EXIF_FORMAT_RATIONAL, 1);
  const ExifRational r = {static_cast<ExifLong>(std::llround(value * denominator)), denominator};
  exif_set_rational(entry->data, kOrder, r);
}

void SetShort(ExifData* data, ExifIfd ifd, ExifTag tag, ExifShort value) {
  exif_set_short(AddEntry(data, ifd, tag, EXIF_FORMAT_SHORT, 1)->data, kOrder, value);
}

void SetLong(ExifData* data, ExifIfd ifd, ExifTag tag, ExifLong value) {
  exif_set_long(AddEntry(data, ifd, tag, EXIF_FORMAT_LONG, 1)->data, kOrder, value);
}

}  // namespace

std::vector<unsigned char> MakeFocalExifBlock(const FocalExif& focal) {
  if (!(focal.focal_px > 0) || !std::isfinite(focal.focal_px) || focal.width < 1 ||
      focal.height < 1) {
    throw Error(StringPrintf("EXIF: invalid focal length %g px for a %dx%d image", focal.focal_px,
                             focal.width, focal.height));
  }
  const double max_size = std::max(focal.width, focal.height);
  const double pixels_per_cm = max_size / (kExifFilmWidthMm / 10.0);
  const double focal_mm = focal.focal_px / max_size * kExifFilmWidthMm;
  if (focal_mm > 65535) throw Error(StringPrintf("EXIF: focal length %g mm too long", focal_mm));
  std::unique_ptr<ExifData, void (*)(ExifData*)> data(exif_data_new(), exif_data_unref);
  if (!data) throw Error("EXIF: out of memory");
  exif_data_set_byte_order(data.get(), kOrder);
  exif_data_set_data_type(data.get(), EXIF_DATA_TYPE_COMPRESSED);
  ExifData* d = data.get();
  SetRational(d, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH, focal_mm, 10000);
  SetRational(d, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_PLANE_X_RESOLUTION, pixels_per_cm, 10000);
  SetRational(d, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_PLANE_Y_RESOLUTION, pixels_per_cm, 10000);
  SetShort(d, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_PLANE_RESOLUTION_UNIT, 3);  // centimetres
  if (focal.with_35mm_equivalent) {
    SetShort(d, EXIF_IFD_EXIF, EXIF_TAG_FOCAL_LENGTH_IN_35MM_FILM,
             static_cast<ExifShort>(std::max(1L, std::lround(focal_mm))));
  }
  SetLong(d, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_X_DIMENSION, static_cast<ExifLong>(focal.width));
  SetLong(d, EXIF_IFD_EXIF, EXIF_TAG_PIXEL_Y_DIMENSION, static_cast<ExifLong>(focal.height));
  unsigned char* buffer = nullptr;
  unsigned int size = 0;
  exif_data_save_data(d, &buffer, &size);
  if (!buffer || size == 0) throw Error("EXIF: could not serialise the block");
  std::vector<unsigned char> block(buffer, buffer + size);
  free(buffer);  // exif_data_save_data allocates with the default allocator (malloc)
  return block;
}

std::vector<unsigned char> EncodeJpegWithExif(const cv::Mat& bgr, int quality,
                                              const FocalExif& focal) {
  std::vector<unsigned char> jpeg;
  if (!cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality}) || jpeg.size() < 2 ||
      jpeg[0] != 0xFF || jpeg[1] != 0xD8) {
    throw Error("cannot encode a JPEG image");
  }
  const std::vector<unsigned char> block = MakeFocalExifBlock(focal);
  const size_t length = block.size() + 2;  // the segment length counts its own two bytes
  if (length > 0xFFFF) throw Error("EXIF block too large for one APP1 segment");
  std::vector<unsigned char> out;
  out.reserve(jpeg.size() + length + 2);
  out.insert(out.end(), jpeg.begin(), jpeg.begin() + 2);  // SOI
  out.push_back(0xFF);
  out.push_back(0xE1);  // APP1
  out.push_back(static_cast<unsigned char>(length >> 8));
  out.push_back(static_cast<unsigned char>(length & 0xFF));
  out.insert(out.end(), block.begin(), block.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

void WriteJpegWithExif(const std::string& path, const cv::Mat& bgr, int quality,
                       const FocalExif& focal) {
  const std::vector<unsigned char> jpeg = EncodeJpegWithExif(bgr, quality, focal);
  std::ofstream file(path, std::ios::binary);
  file.write(reinterpret_cast<const char*>(jpeg.data()), static_cast<std::streamsize>(jpeg.size()));
  if (!file.flush()) throw Error("cannot write " + path);
}

}  // namespace scalesfm
