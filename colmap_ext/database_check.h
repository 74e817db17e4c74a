// The whole database's structure checked before a command starts work on it: every row of
// COLMAP's tables and of scalesfm's side tables has sizes that agree with its blob and with the
// image's keypoints, and values in range. A run on a damaged database would otherwise fail (or
// crash) halfway, after writing matches or geometries built on the damage.
//
// Shapes, counts and ranges are checked in SQL over lengths, without reading blobs. Keypoint
// values, level keypoint indices and match indices are read (24, 4 and 8 bytes per item: a
// fraction of one matching pass); descriptors are not. Non-finite float descriptors and the
// like are checked by the readers in colmap_ext/database.h as they read.
#pragma once

#include "colmap_ext/database.h"

namespace scalesfm {

// Throws Error naming the table, the image (or pair) and the field of the first problem, e.g.
// "database db.db: descriptors of image 3 (b.jpg): 1011 rows for 1012 keypoints".
// Accepted, because scalesfm and COLMAP write them: images without features, keypoints without
// descriptors (imported keypoints), descriptors with 0 columns beside float descriptors (learned
// features), and descriptor rows equal to scalesfm_detected_keypoints.num_detected when a
// sparse-to-dense matcher appended keypoints without descriptors.
void CheckDatabaseConsistency(Database* db);

}  // namespace scalesfm
