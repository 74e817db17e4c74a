// SCFeat's weakly supervised losses (Sec. III-D), given only the fundamental matrix F of a pair
// (x_B^T F x_A = 0; pixel coordinates in OpenCV's convention).
//  - Description (eqs. 14-15), line-to-window as in the official recipe: a query's descriptor
//    is compared with descriptors sampled along its epipolar line e(x) in B; a window around
//    the best line position (jittered) gives a soft location y^ (softmax, temperature) and its
//    spread sigma; the loss is dist(y^, e(x)) weighted by M_i / sigma_i (weights detached).
//  - Detection (eqs. 16-21): keypoints are sampled, at most one per g x g cell, from the score
//    map; mutual nearest neighbours of the frozen descriptors are candidate pairs; P_m marks the
//    pairs within eps of each other's epipolar lines (eq. 18); L_fme is Algorithm 1's minimum
//    smooth-L1 error of 8-point fundamental matrices from P_m pairs; the reward is eq. 20 and
//    the policy-gradient loss eq. 21.
#pragma once

#include <torch/torch.h>

#include <Eigen/Core>
#include <random>
#include <vector>

namespace scalesfm {

// Point-to-line distances |l . (x, y, 1)| / |(l_0, l_1)| of points [N, 2] to lines [N, 3].
torch::Tensor PointLineDistance(const torch::Tensor& points, const torch::Tensor& lines);

// Epipolar lines F x in B of points [N, 2] of A: [N, 3].
torch::Tensor EpipolarLines(const Eigen::Matrix3d& F, const torch::Tensor& points);

struct EpipolarLossOptions {
  double temperature = 60;       // similarities are multiplied by this before the softmax
  int line_samples = 64;         // positions sampled along e(x) inside B
  double window_fraction = 0.1;  // window side, fraction of max(width, height)
  int window_samples = 16;       // window grid, per side
};

struct EpipolarLossResult {
  torch::Tensor loss;        // eq. 14, scalar
  double mean_distance = 0;  // mean dist(y^, e(x)) over masked queries, pixels
  int valid_queries = 0;     // sum of M_i
};

// `cn_a`, `cn_b`: F_cn maps [1, C, h, w] of A and B (both width x height images); `queries`
// [N, 2] points of A. `rng` jitters the windows (loc_rand of the official recipe).
EpipolarLossResult EpipolarDescriptorLoss(const torch::Tensor& cn_a, const torch::Tensor& cn_b,
                                          const Eigen::Matrix3d& F, const torch::Tensor& queries,
                                          int width, int height, const EpipolarLossOptions& options,
                                          std::mt19937* rng);

struct KeypointLossOptions {
  int grid = 8;               // g_k
  double epsilon = 2.0;       // eq. 18, pixels
  double lambda_reg = 0.001;  // eq. 21 (the official kp_penalty)
  int fme_iterations = 100;   // Algorithm 1's n_iter
};

struct SampledKeypoints {
  torch::Tensor points;                    // [K, 2] pixel positions (OpenCV convention)
  torch::Tensor log_prob;                  // [K] log P_kp, differentiable w.r.t. the score map
  torch::Tensor cell_ids, cell_positions;  // [K] cell index and position inside the cell (CPU)
};

// One draw per g x g cell from score map [1, 1, H, W]: a position with probability S / sum_cell S,
// kept with probability S / (1 + S).
SampledKeypoints SampleKeypoints(const torch::Tensor& score, int grid, std::mt19937* rng);

// log P_kp of the samples `k` under score map [1, 1, H, W] (for a fixed-sample policy step).
torch::Tensor KeypointLogProb(const torch::Tensor& score, int grid, const SampledKeypoints& k);

// Algorithm 1: min over `iterations` random 8-subsets of the smooth-L1 distance between the
// 8-point F^ and F (both scaled to unit Frobenius norm, sign-aligned). Needs > 8 pairs; returns
// 1 (a large error) otherwise.
double FundamentalMatrixError(const std::vector<Eigen::Vector2d>& x1,
                              const std::vector<Eigen::Vector2d>& x2, const Eigen::Matrix3d& F,
                              int iterations, std::mt19937* rng);

struct KeypointLossResult {
  torch::Tensor loss;
  double fme = 0;           // L_fme
  int candidate_pairs = 0;  // mutual nearest neighbours
  int correct_pairs = 0;    // P_m
  int keypoints = 0;        // |Q1| + |Q2|
};

// `score_a/b` [1, 1, H, W]; `desc_a/b` frozen D_desc maps [1, C, h, w].
KeypointLossResult KeypointLoss(const torch::Tensor& score_a, const torch::Tensor& score_b,
                                const torch::Tensor& desc_a, const torch::Tensor& desc_b,
                                const Eigen::Matrix3d& F, const KeypointLossOptions& options,
                                std::mt19937* rng);

// Mutual nearest neighbours of unit rows d1 [N, C], d2 [M, C]: [K, 2] index pairs.
torch::Tensor MutualNearestNeighbours(const torch::Tensor& d1, const torch::Tensor& d2);

}  // namespace scalesfm
