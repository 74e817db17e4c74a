// A blob column as a vector of T, shared by the database readers and the consistency check.
#pragma once

#include <sqlite3.h>

#include <cstring>
#include <vector>

namespace scalesfm {

// The elements of column `col` of the current row; NULL and empty blobs give an empty vector.
// `*ragged` (when given) is set when the blob is not a whole number of T, or SQLite could not
// hand it over (out of memory): the vector then holds only the whole elements, or none.
template <typename T>
std::vector<T> ColumnBlob(sqlite3_stmt* stmt, int col, bool* ragged = nullptr) {
  // sqlite3_column_blob before sqlite3_column_bytes, as SQLite's documentation asks.
  const void* data = sqlite3_column_blob(stmt, col);
  const int bytes = sqlite3_column_bytes(stmt, col);
  if (ragged) *ragged = bytes < 0 || bytes % sizeof(T) != 0 || (bytes > 0 && data == nullptr);
  std::vector<T> out(bytes > 0 && data != nullptr ? static_cast<size_t>(bytes) / sizeof(T) : 0);
  if (!out.empty()) std::memcpy(out.data(), data, out.size() * sizeof(T));
  return out;
}

}  // namespace scalesfm
