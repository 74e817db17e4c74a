// A blob column as a vector of T, shared by the database readers and the consistency check.
#pragma once

#include <sqlite3.h>

#include <cstring>
#include <vector>

namespace scalesfm {

// The whole elements of column `col` of the current row (trailing bytes that do not fill a T are
// dropped: callers check the byte count against rows x cols first). NULL and empty blobs give an
// empty vector.
template <typename T>
std::vector<T> ColumnBlob(sqlite3_stmt* stmt, int col) {
  // sqlite3_column_blob before sqlite3_column_bytes, as SQLite's documentation asks.
  const void* data = sqlite3_column_blob(stmt, col);
  const int bytes = sqlite3_column_bytes(stmt, col);
  std::vector<T> out(bytes > 0 ? static_cast<size_t>(bytes) / sizeof(T) : 0);
  if (!out.empty() && data != nullptr) std::memcpy(out.data(), data, out.size() * sizeof(T));
  return out;
}

}  // namespace scalesfm
