// `scalesfm train_cvarm`: Scale-Net with CVARM (scale/cvarm.h), trained with the dual consistent
// loss (eqs. 10-12) on the synthetic Scale-COCO-like pairs of train_scalenet (scale_pairs.h),
// plus real posed pairs from eval_scale gt_pairs.csv files (posed_scale_pairs.h). Adam, a fixed
// seed, progress lines, resumable checkpoints and the validation of train_scalenet.
#pragma once

#include <string>
#include <vector>

#include "training/scale_pairs.h"
#include "training/training.h"

namespace scalesfm {

struct CvarmTrainOptions : TrainingRunOptions {
  CvarmTrainOptions() {
    batch_size = 16;
    validation_pairs = 256;
  }
  int iterations = 6000;
  double learning_rate = 1e-3;  // decayed x0.1 at 70% and 90% of the iterations
  double lambda_d = 1.0;        // eq. 12 (the paper's values)
  double lambda_c = 1.0;
  // eval_scale gt_pairs.csv files of posed scenes (never the -zoom scenes: they are evaluation
  // data); empty: synthetic pairs only.
  std::vector<std::string> posed_pairs;
  double posed_fraction = 0.25;  // of each batch, when posed pairs are given

  void Check() const;
};

void TrainCvarm(const CvarmTrainOptions& options);

}  // namespace scalesfm
