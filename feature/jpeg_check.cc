#include "feature/jpeg_check.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
// clang-format on
#include <csetjmp>
#include <cstring>

namespace scalesfm {
namespace {

struct CheckingErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf on_error;
  char message[JMSG_LENGTH_MAX];
  bool failed;
};

void RecordMessage(j_common_ptr info) {
  auto* manager = reinterpret_cast<CheckingErrorManager*>(info->err);
  if (!manager->failed) {
    manager->failed = true;
    (*info->err->format_message)(info, manager->message);
  }
}

// Warnings (msg_level -1) are what libjpeg emits for damaged data; trace messages are ignored.
void EmitMessage(j_common_ptr info, int msg_level) {
  if (msg_level < 0) RecordMessage(info);
}

[[noreturn]] void ErrorExit(j_common_ptr info) {
  RecordMessage(info);
  std::longjmp(reinterpret_cast<CheckingErrorManager*>(info->err)->on_error, 1);
}

// Plain C state only between setjmp and longjmp: no destructors are skipped.
bool DecodeChecking(const unsigned char* data, unsigned long size, CheckingErrorManager* manager,
                    JSAMPLE* row_buffer, size_t row_capacity) {
  jpeg_decompress_struct info;
  info.err = jpeg_std_error(&manager->base);
  manager->base.error_exit = ErrorExit;
  manager->base.emit_message = EmitMessage;
  manager->failed = false;
  manager->message[0] = '\0';
  if (setjmp(manager->on_error)) {
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, data, size);
  jpeg_read_header(&info, TRUE);
  info.out_color_space = JCS_GRAYSCALE;
  info.scale_num = 1;
  info.scale_denom = 8;
  jpeg_start_decompress(&info);
  if (info.output_width * static_cast<size_t>(info.output_components) > row_capacity) {
    jpeg_destroy_decompress(&info);
    std::snprintf(manager->message, sizeof(manager->message), "JPEG is %u pixels wide",
                  info.image_width);
    manager->failed = true;
    return false;
  }
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = row_buffer;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);
  return !manager->failed;
}

}  // namespace

bool LooksLikeJpeg(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

std::optional<std::string> JpegCorruption(const std::vector<uint8_t>& bytes) {
  CheckingErrorManager manager;
  // JPEG's largest width is 65535; at 1/8 size a row is at most 8192 grey samples.
  std::vector<JSAMPLE> row(8192 + 8);
  if (DecodeChecking(bytes.data(), static_cast<unsigned long>(bytes.size()), &manager, row.data(),
                     row.size())) {
    return std::nullopt;
  }
  return std::string(manager.message);
}

}  // namespace scalesfm
