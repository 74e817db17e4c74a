#include "training/scalenet_trainer.h"

#include <chrono>
#include <ctime>
#include <thread>

#include "scale/scale_distribution.h"
#include "scale/scale_estimator.h"
#include "scale/scalenet.h"
#include "training/scale_pairs.h"
#include "training/sidecar.h"
#include "training/training.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/weights_io.h"

namespace scalesfm {

void ScaleNetTrainOptions::Check() const {
  CheckRun("train_scalenet");
  if (iterations < 1) throw Error("--iterations must be >= 1");
  if (learning_rate <= 0) throw Error("--learning_rate must be positive");
  if (max_zoom_magnification < 0) throw Error("--max_zoom_magnification must be >= 0");
  if (max_corner_jitter < 0 || max_corner_jitter > 0.3) {
    throw Error("--max_corner_jitter must be in [0, 0.3] (a fraction of the canvas)");
  }
  if (max_rotation_deg < 0 || max_rotation_deg > 180) {
    throw Error("--max_rotation_deg must be in [0, 180]");
  }
  if (ScaleNetConfig::FromName(config).in_channels != 1) {
    throw Error("train_scalenet trains grey, letterboxed configs (compact); the '" + config +
                "' config takes RGB pairs cropped as the official code does: convert the official "
                "weights with scripts/convert_official_weights.py instead");
  }
}

namespace {

ScaleValidation Validate(ScaleNet& model, const std::vector<ScalePairBatch>& batches,
                         const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<double> est_log2, gt_log2;
  std::vector<int> argmax_bins;
  for (const ScalePairBatch& batch : batches) {
    const auto fa = model->ExtractFeatures(batch.a.to(device));
    const auto fb = model->ExtractFeatures(batch.b.to(device));
    const torch::Tensor p_ab = torch::softmax(model->PairLogits(fa, fb), 1).cpu();
    const torch::Tensor p_ba = torch::softmax(model->PairLogits(fb, fa), 1).cpu();
    const torch::Tensor est = ConsistentLogScale(p_ab, p_ba) / std::log(2.0);
    const torch::Tensor gt = batch.log_scale / std::log(2.0);
    const torch::Tensor argmax = p_ab.argmax(1);
    for (int64_t i = 0; i < est.size(0); ++i) {
      est_log2.push_back(est[i].item<double>());
      gt_log2.push_back(gt[i].item<double>());
      argmax_bins.push_back(static_cast<int>(argmax[i].item<int64_t>()));
    }
  }
  model->train();
  // D-ScaleNet's hard assignment is the argmax bin.
  return SummariseScaleValidation(est_log2, gt_log2, argmax_bins);
}

}  // namespace

void TrainScaleNet(const ScaleNetTrainOptions& options) {
  options.Check();
  const TrainingStart setup = StartTraining(options, "ScaleNet training (" + options.config + ")");
  const torch::Device device = setup.device;
  const std::vector<std::string>& train_paths = setup.train_paths;
  const std::vector<std::string>& val_paths = setup.val_paths;
  const ScaleNetConfig config = ScaleNetConfig::FromName(options.config);
  ScalePairOptions pair_options;
  pair_options.canvas_size = config.input_size;
  pair_options.max_zoom_magnification = options.max_zoom_magnification;
  pair_options.max_corner_jitter = options.max_corner_jitter;
  pair_options.max_rotation_deg = options.max_rotation_deg;
  const ScalePairGenerator train_data(train_paths, pair_options);
  const ScalePairGenerator val_data(val_paths, pair_options);
  LogInfo(StringPrintf("Training images: %zu, validation images: %zu", train_data.num_images(),
                       val_data.num_images()));
  const std::vector<ScalePairBatch> validation = MakeScaleValidationBatches(
      val_data, options.validation_pairs, options.batch_size, options.seed);

  ScaleNet model(config);
  model->to(device);
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(options.learning_rate));
  const TrainingCheckpoint checkpoint(options.output_path);
  const int start = checkpoint.LoadModel(model.get(), options.init_weights);
  if (start > 0) checkpoint.LoadOptimizer(&optimizer);
  model->train();

  Timer timer;
  Progress progress("iteration", options.iterations - start);
  double running = 0;
  int running_n = 0;
  ScaleValidation last;
  for (int it = start; it < options.iterations; ++it) {
    const double lr =
        SetStepDecayLearningRate(&optimizer, options.learning_rate, it, options.iterations);
    // The batch depends on (seed, iteration) only, so a resumed run sees the same data.
    std::mt19937 rng(options.seed * 1000003u + static_cast<unsigned>(it));
    const ScalePairBatch batch = MakeScalePairBatch(train_data, options.batch_size, &rng);
    optimizer.zero_grad();
    const torch::Tensor logits = model->forward(batch.a.to(device), batch.b.to(device));
    const torch::Tensor loss =
        ScaleKlLoss(logits, GroundTruthDistribution(batch.log_scale).to(device));
    loss.backward();
    optimizer.step();
    running += loss.item<double>();
    ++running_n;

    const bool last_it = it + 1 == options.iterations;
    if ((it + 1) % 25 == 0 || last_it) {
      progress.Step(StringPrintf("loss %.4f lr %.0e", running / running_n, lr), running_n);
      running = 0;
      running_n = 0;
    }
    if ((it + 1) % options.validate_every == 0 || last_it) {
      last = Validate(model, validation, device);
      LogScaleValidation(it + 1, last);
    }
    if ((it + 1) % options.checkpoint_every == 0 && !last_it) {
      checkpoint.Save(*model, optimizer, it + 1);
    }
  }

  TrainingSidecar sidecar;
  sidecar.architecture = "scalenet";
  sidecar.config = config.name;
  sidecar.data_use = " (every 10th image held out for validation)";
  sidecar.training_seconds = timer.ElapsedSeconds();
  sidecar.fields = {{"input_size", config.input_size},
                    {"in_channels", config.in_channels},
                    {"num_bins", kNumScaleBins},
                    {"iterations", options.iterations},
                    {"learning_rate", options.learning_rate},
                    {"max_zoom_magnification", options.max_zoom_magnification},
                    {"max_corner_jitter", options.max_corner_jitter},
                    {"max_rotation_deg", options.max_rotation_deg}};
  sidecar.final_metrics = ScaleValidationJson(last, "argmax_within_one_bin");
  WriteTrainedWeights(checkpoint, *model, options, sidecar);
  PrintElapsedTime(timer.ElapsedSeconds());
}

}  // namespace scalesfm
