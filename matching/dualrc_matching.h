// DualRC-Net's dense matching (§3.3): the filtered coarse 4D score C_bar guides the fine maps.
// Coordinates here are fine-map cells (x, y): cell (i, j) covers pixels [4i, 4i + 4) x [4j, 4j +
// 4) of the network input, its centre at COLMAP coordinate 4 (i + 0.5).
#pragma once

#include <torch/torch.h>

#include <vector>

namespace scalesfm {

// Eq. 2: each query's coarse score map over the target, C_bar bilinearly interpolated at the
// query's coarse position and normalised to sum 1 (the official ExtractFeatureMap, but sampled at
// the geometric position (c - 1.5) / 4 where the official code takes c / 4; DESIGN_NOTES).
// corr [ha, wa, hb, wb] (C_bar of one pair); cells [N, 2] float (x, y) fine cells of the source,
// which is A when source_is_a, else B. Returns [N, ht, wt].
torch::Tensor CoarseScoreMaps(const torch::Tensor& corr, const torch::Tensor& cells,
                              bool source_is_a);

// Eqs. 1 and 3: S = S^ (.) U_r(S~), the cosine correlation of each query's fine feature with the
// target's fine map [D, Ht, Wt] times the coarse score map up-sampled (nearest) to the fine
// grid. fine_source [D, Hs, Ws]; cells [N, 2] fine cells of the source (rounded). -> [N, Ht, Wt].
torch::Tensor GuidedScoreMaps(const torch::Tensor& corr, const torch::Tensor& fine_source,
                              const torch::Tensor& fine_target, const torch::Tensor& cells,
                              bool source_is_a);

struct DenseMatchOptions {
  // Fraction of A's coarse cells (those with the highest C_bar maximum) whose 4x4 fine cells are
  // queried (the official generate_query_from_corr4d's 0.5).
  double query_fraction = 0.5;
  int max_num_matches = 4096;  // kept by score (the sum of both directions' maxima)
  int chunk_size = 1024;       // queries per batch: bounds the [chunk, Hb * Wb] score maps
  // Refine the target cell with a parabola through the peak and its neighbours in x and y
  // (off: the official integer cell).
  bool subpixel = true;
};

struct DenseMatch {
  float xa = 0, ya = 0;  // fine cell of A (integer)
  float xb = 0, yb = 0;  // fine cell of B (sub-cell with options.subpixel)
  float score = 0;
};

// §3.3: every query cell of A takes the argmax of S^AB; it is kept when the argmax of S^BA from
// that cell of B returns to it (mutual nearest neighbours); the best max_num_matches by score.
// corr [ha, wa, hb, wb]; fine_a [D, Ha, Wa], fine_b [D, Hb, Wb]; only cells whose centre lies in
// the image (valid_a / valid_b: image width and height in fine cells) are queried or matched,
// so padding never matches.
std::vector<DenseMatch> ExtractDenseMatches(const torch::Tensor& corr, const torch::Tensor& fine_a,
                                            const torch::Tensor& fine_b, double valid_wa,
                                            double valid_ha, double valid_wb, double valid_hb,
                                            const DenseMatchOptions& options);

}  // namespace scalesfm
