// Console output in COLMAP's style: section headers framed by '=' rules, indented key/value
// details, "Elapsed time: x [minutes]" footers, and WARNING/ERROR prefixes on stderr.
#pragma once

#include <stdexcept>
#include <string>

namespace scalesfm {

// Every user-facing failure is thrown as Error; the CLI prints "ERROR: <what>" and exits 1.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void PrintHeading1(const std::string& heading);
void PrintHeading2(const std::string& heading);
void LogInfo(const std::string& message);
void LogWarning(const std::string& message);
void PrintElapsedTime(double seconds);

// printf-style formatting into a std::string.
std::string StringPrintf(const char* format, ...) __attribute__((format(printf, 1, 2)));
// `text` from a file (a database value, a sidecar field) made safe for a one-line message:
// control and non-ASCII bytes as \xNN, at most `max_length` characters, then "...".
std::string Printable(const std::string& text, size_t max_length = 120);

// Silences LogInfo/PrintHeading (warnings still go to stderr). Used by tests and --quiet.
void SetQuiet(bool quiet);

}  // namespace scalesfm
