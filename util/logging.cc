#include "util/logging.h"

#include <atomic>
#include <cstdarg>
#include <iostream>
#include <mutex>

namespace scalesfm {
namespace {
std::atomic<bool> g_quiet{false};
std::mutex g_mutex;
}  // namespace

void SetQuiet(bool quiet) { g_quiet = quiet; }

void PrintHeading1(const std::string& heading) {
  if (g_quiet) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::cout << "\n"
            << std::string(78, '=') << "\n"
            << heading << "\n"
            << std::string(78, '=') << "\n\n"
            << std::flush;
}

void PrintHeading2(const std::string& heading) {
  if (g_quiet) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::cout << "\n"
            << heading << "\n"
            << std::string(std::min<size_t>(heading.size(), 78), '-') << "\n"
            << std::flush;
}

void LogInfo(const std::string& message) {
  if (g_quiet) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::cout << message << "\n" << std::flush;
}

void LogWarning(const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::cerr << "WARNING: " << message << "\n" << std::flush;
}

void PrintElapsedTime(double seconds) {
  LogInfo(StringPrintf("Elapsed time: %.3f [minutes]", seconds / 60.0));
}

std::string Printable(const std::string& text, size_t max_length) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= max_length) return out + "...";
    const auto byte = static_cast<unsigned char>(c);
    out += byte >= 0x20 && byte < 0x7F ? std::string(1, c) : StringPrintf("\\x%02x", byte);
  }
  return out;
}

std::string StringPrintf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list copy;
  va_copy(copy, args);
  const int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string result(size > 0 ? size : 0, '\0');
  if (size > 0) std::vsnprintf(result.data(), size + 1, format, args);
  va_end(args);
  return result;
}

}  // namespace scalesfm
