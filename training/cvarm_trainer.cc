#include "training/cvarm_trainer.h"

#include <cmath>

#include "scale/cvarm.h"
#include "scale/scale_estimator.h"
#include "training/posed_scale_pairs.h"
#include "training/sidecar.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/weights_io.h"

namespace scalesfm {

void CvarmTrainOptions::Check() const {
  CheckRun("train_cvarm");
  if (iterations < 1) throw Error("--iterations must be >= 1");
  if (learning_rate <= 0) throw Error("--learning_rate must be positive");
  if (lambda_d < 0 || lambda_c < 0 || lambda_d + lambda_c <= 0) {
    throw Error("--lambda_d and --lambda_c must be >= 0 and not both 0");
  }
  if (posed_fraction < 0 || posed_fraction > 1) throw Error("--posed_fraction must be in [0, 1]");
  if (CvarmConfig::FromName(config).in_channels != 1) {
    throw Error("train_cvarm trains grey, letterboxed configs (compact); the '" + config +
                "' config takes RGB 640 px input, which 2 CPU cores cannot train");
  }
}

namespace {

// Both images of every pair through MSFEF in one pass, then both directions.
struct Directions {
  torch::Tensor ab, ba;  // log2 SN(A, B), log2 SN(B, A)
};

Directions Forward(CvarmNet& model, const ScalePairBatch& batch, const torch::Device& device) {
  const int64_t n = batch.a.size(0);
  const torch::Tensor f = model->ExtractFeatures(torch::cat({batch.a, batch.b}).to(device));
  const torch::Tensor fa = f.slice(0, 0, n), fb = f.slice(0, n, 2 * n);
  return {model->PairLog2Scale(fa, fb), model->PairLog2Scale(fb, fa)};
}

ScaleValidation Validate(CvarmNet& model, const std::vector<ScalePairBatch>& batches,
                         const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<double> est_log2, gt_log2;
  std::vector<int> bins;
  for (const ScalePairBatch& batch : batches) {
    const Directions d = Forward(model, batch, device);
    const torch::Tensor est = SymmetricLog2Scale(d.ab, d.ba).cpu();
    const torch::Tensor gt = batch.log_scale / std::log(2.0);
    for (int64_t i = 0; i < est.size(0); ++i) {
      est_log2.push_back(est[i].item<double>());
      gt_log2.push_back(gt[i].item<double>());
      bins.push_back(NearestScaleBin(std::exp2(est_log2.back())));
    }
  }
  model->train();
  return SummariseScaleValidation(est_log2, gt_log2, bins);
}

}  // namespace

void TrainCvarm(const CvarmTrainOptions& options) {
  options.Check();
  const TrainingStart setup = StartTraining(options, "CVARM training (" + options.config + ")");
  const torch::Device device = setup.device;
  const CvarmConfig config = CvarmConfig::FromName(options.config);
  ScalePairOptions pair_options;
  pair_options.canvas_size = config.input_size;
  const ScalePairGenerator train_data(setup.train_paths, pair_options);
  const ScalePairGenerator val_data(setup.val_paths, pair_options);
  std::vector<PosedPairGt> posed;
  for (const std::string& csv : options.posed_pairs) {
    for (const PosedPairGt& p : ReadPosedPairs(csv)) posed.push_back(p);
  }
  PosedScalePairOptions posed_options;
  posed_options.canvas_size = config.input_size;
  std::unique_ptr<PosedScalePairGenerator> posed_data;
  if (!posed.empty()) posed_data = std::make_unique<PosedScalePairGenerator>(posed, posed_options);
  const int posed_per_batch =
      posed_data ? static_cast<int>(std::lround(options.posed_fraction * options.batch_size)) : 0;
  LogInfo(
      StringPrintf("Training images: %zu, validation images: %zu, posed pairs: %zu (%d per "
                   "batch of %d)",
                   train_data.num_images(), val_data.num_images(), posed.size(), posed_per_batch,
                   options.batch_size));
  const std::vector<ScalePairBatch> validation = MakeScaleValidationBatches(
      val_data, options.validation_pairs, options.batch_size, options.seed);

  CvarmNet model(config);
  model->to(device);
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(options.learning_rate));
  const TrainingCheckpoint checkpoint(options.output_path);
  const int start = checkpoint.LoadModel(model.get(), options.init_weights);
  if (start > 0) checkpoint.LoadOptimizer(&optimizer);
  model->train();

  Timer timer;
  Progress progress("iteration", options.iterations - start);
  double running = 0, running_dual = 0, running_consistent = 0;
  int running_n = 0;
  ScaleValidation last;
  for (int it = start; it < options.iterations; ++it) {
    const double lr =
        SetStepDecayLearningRate(&optimizer, options.learning_rate, it, options.iterations);
    // The batch depends on (seed, iteration) only, so a resumed run sees the same data.
    std::mt19937 rng(options.seed * 1000003u + static_cast<unsigned>(it));
    std::vector<ScalePair> pairs;
    for (int i = 0; i < options.batch_size; ++i) {
      pairs.push_back(i < posed_per_batch ? posed_data->Sample(&rng) : train_data.Sample(&rng));
    }
    const ScalePairBatch batch = ToScalePairBatch(pairs);
    optimizer.zero_grad();
    const Directions d = Forward(model, batch, device);
    const DualConsistentLoss loss =
        CvarmLoss(d.ab, d.ba, (batch.log_scale / std::log(2.0)).to(device), options.lambda_d,
                  options.lambda_c);
    loss.total.backward();
    optimizer.step();
    running += loss.total.item<double>();
    running_dual += loss.dual.item<double>();
    running_consistent += loss.consistent.item<double>();
    ++running_n;

    const bool last_it = it + 1 == options.iterations;
    if ((it + 1) % 25 == 0 || last_it) {
      progress.Step(StringPrintf("loss %.4f (l_d %.4f, l_c %.4f) lr %.0e", running / running_n,
                                 running_dual / running_n, running_consistent / running_n, lr),
                    running_n);
      running = running_dual = running_consistent = 0;
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
  sidecar.architecture = "cvarm";
  sidecar.config = config.name;
  sidecar.data_use = " (every 10th image held out for validation)";
  sidecar.training_seconds = timer.ElapsedSeconds();
  sidecar.fields = {{"input_size", config.input_size},
                    {"in_channels", config.in_channels},
                    {"iterations", options.iterations},
                    {"learning_rate", options.learning_rate},
                    {"lambda_d", options.lambda_d},
                    {"lambda_c", options.lambda_c},
                    {"posed_pairs", options.posed_pairs},
                    {"posed_pair_count", posed.size()},
                    {"posed_fraction", options.posed_fraction}};
  sidecar.final_metrics = ScaleValidationJson(last, "bin_within_one_bin");
  WriteTrainedWeights(checkpoint, *model, options, sidecar);
  PrintElapsedTime(timer.ElapsedSeconds());
}

}  // namespace scalesfm
