#include "training/s2dnet_trainer.h"

#include <cmath>
#include <random>

#include "feature/image_io.h"
#include "feature/network_input.h"
#include "matching/s2d_correspondence.h"
#include "matching/s2dnet_model.h"
#include "training/scfeat_pairs.h"
#include "training/sidecar.h"
#include "training/training.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/weights_io.h"

namespace scalesfm {

void S2DNetTrainOptions::Check() const {
  CheckRun("train_s2dnet");
  if (iterations < 1) throw Error("--iterations must be >= 1");
  if (image_size < 64 || image_size % S2DNetConfig::kStride) {
    throw Error("--image_size must be a multiple of 16 and >= 64");
  }
  if (correspondences_per_pair < 1) throw Error("--correspondences_per_pair must be >= 1");
  if (!(max_log2_zoom >= 0)) throw Error("--max_log2_zoom must be >= 0");
  if (!(curriculum_fraction >= 0 && curriculum_fraction <= 1)) {
    throw Error("--curriculum_fraction must be in [0, 1]");
  }
  if (!(learning_rate > 0)) throw Error("--learning_rate must be positive");
  S2DNetConfig::FromName(config);
}

namespace {

struct TrainPair {
  torch::Tensor a, b;             // [1, in, S, S]
  torch::Tensor points, targets;  // [K, 2] in A and their GT pixels in B (OpenCV coordinates)
};

// Up to `count` random pixels of A whose homography image lies inside B.
TrainPair MakePair(const PosedPlanePairGenerator& gen, int count, const S2DNetConfig& config,
                   std::mt19937* rng) {
  const PosedPlanePair pair = gen.Sample(rng);
  TrainPair out;
  out.a = S2DNetInput(pair.a, config);
  out.b = S2DNetInput(pair.b, config);
  std::uniform_real_distribution<double> ux(0, pair.a.cols - 1), uy(0, pair.a.rows - 1);
  std::vector<float> p, t;
  for (int tries = 0; tries < 8 * count && static_cast<int>(p.size()) < 2 * count; ++tries) {
    const Eigen::Vector3d x(ux(*rng), uy(*rng), 1.0);
    const Eigen::Vector3d y = pair.H * x;
    if (y.z() <= 0) continue;
    const double bx = y.x() / y.z(), by = y.y() / y.z();
    if (bx < 0 || by < 0 || bx > pair.b.cols - 1 || by > pair.b.rows - 1) continue;
    p.insert(p.end(), {float(x.x()), float(x.y())});
    t.insert(t.end(), {float(bx), float(by)});
  }
  const int64_t k = static_cast<int64_t>(p.size() / 2);
  out.points = torch::from_blob(p.data(), {k, 2}, torch::kFloat32).clone();
  out.targets = torch::from_blob(t.data(), {k, 2}, torch::kFloat32).clone();
  return out;
}

DenseMaps Slice(const std::vector<torch::Tensor>& levels, int64_t i, int size) {
  DenseMaps maps;
  for (const torch::Tensor& l : levels) maps.levels.push_back(l.slice(0, i, i + 1));
  maps.height = maps.width = size;
  return maps;
}

// Mean loss over a batch of pairs: the A and B images go through the network together.
torch::Tensor BatchLoss(S2DNet& model, const std::vector<TrainPair>& pairs, int size,
                        const torch::Device& device) {
  std::vector<torch::Tensor> a, b;
  for (const TrainPair& p : pairs) {
    a.push_back(p.a);
    b.push_back(p.b);
  }
  const auto n = static_cast<int64_t>(pairs.size());
  const std::vector<torch::Tensor> levels =
      model->forward(torch::cat({torch::cat(a), torch::cat(b)}).to(device));
  torch::Tensor loss = torch::zeros({}, torch::TensorOptions().device(device));
  for (int64_t i = 0; i < n; ++i) {
    const TrainPair& p = pairs[i];
    if (p.points.size(0) == 0) continue;
    const DenseMaps ma = Slice(levels, i, size), mb = Slice(levels, n + i, size);
    loss = loss + CorrespondenceLoss(SampleSparseDescriptors(ma, p.points.to(device)), mb,
                                     p.targets.to(device)) /
                      static_cast<double>(n);
  }
  return loss;
}

S2DNetValidation Validate(S2DNet& model, const std::vector<std::vector<TrainPair>>& batches,
                          int size, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model->eval();
  S2DNetValidation v;
  double n = 0;
  SparseToDenseOptions search;
  search.confidence_threshold = 0;
  for (const std::vector<TrainPair>& batch : batches) {
    v.loss += BatchLoss(model, batch, size, device).item<double>() / batches.size();
    for (const TrainPair& p : batch) {
      if (p.points.size(0) == 0) continue;
      const std::vector<torch::Tensor> la = model->forward(p.a.to(device));
      const std::vector<torch::Tensor> lb = model->forward(p.b.to(device));
      const DenseMaps ma = Slice(la, 0, size), mb = Slice(lb, 0, size);
      const Correspondences c =
          FindCorrespondences(SampleSparseDescriptors(ma, p.points.to(device)), mb, search);
      const torch::Tensor err = (c.points.cpu() - p.targets).norm(2, 1);
      v.accuracy_1px += (err <= 1).sum().item<double>();
      v.accuracy_2px += (err <= 2).sum().item<double>();
      v.accuracy_4px += (err <= 4).sum().item<double>();
      n += static_cast<double>(err.size(0));
    }
  }
  if (n > 0) {
    v.accuracy_1px /= n;
    v.accuracy_2px /= n;
    v.accuracy_4px /= n;
  }
  model->train();
  return v;
}

}  // namespace

void TrainS2DNet(const S2DNetTrainOptions& options) {
  options.Check();
  const TrainingStart setup = StartTraining(options, "S2DNet training");
  const torch::Device device = setup.device;
  const std::vector<std::string>& train_paths = setup.train_paths;
  const std::vector<std::string>& val_paths = setup.val_paths;
  const S2DNetConfig config = S2DNetConfig::FromName(options.config);
  PosedPlanePairOptions pair_options;
  pair_options.size = options.image_size;
  pair_options.max_log2_zoom = options.max_log2_zoom;
  const PosedPlanePairGenerator train_data(train_paths, pair_options);
  const PosedPlanePairGenerator val_data(val_paths, pair_options);
  // Curriculum: zoom up to 2x in the first `curriculum_fraction` of the iterations (from
  // scratch, 4x zoom pairs alone left the loss at chance level for hundreds of iterations).
  PosedPlanePairOptions easy_options = pair_options;
  easy_options.max_log2_zoom = std::min(1.0, options.max_log2_zoom);
  const PosedPlanePairGenerator easy_data(train_paths, easy_options);
  LogInfo(StringPrintf("Training images: %zu, validation images: %zu", train_data.num_images(),
                       val_data.num_images()));
  auto make_batch = [&](const PosedPlanePairGenerator& gen, int n, std::mt19937* rng) {
    std::vector<TrainPair> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back(MakePair(gen, options.correspondences_per_pair, config, rng));
    }
    return batch;
  };
  const std::vector<std::vector<TrainPair>> validation =
      MakeValidationBatches<std::vector<TrainPair>>(
          options.validation_pairs, options.batch_size, options.seed,
          [&](int n, std::mt19937* rng) { return make_batch(val_data, n, rng); });

  S2DNet model(config);
  model->to(device);
  const TrainingCheckpoint checkpoint(options.output_path);
  const int start = checkpoint.LoadModel(model.get(), options.init_weights);
  torch::optim::Adam optimizer(model->parameters(),
                               torch::optim::AdamOptions(options.learning_rate));
  if (start > 0) checkpoint.LoadOptimizer(&optimizer);

  // The paper decays the rate by e^-0.1 per epoch over 30 epochs: here per iterations / 30.
  const double epoch = std::max(1.0, options.iterations / 30.0);
  Timer timer;
  Progress progress("iteration", options.iterations - start);
  double run_loss = 0;
  int run_n = 0;
  S2DNetValidation last;
  model->train();
  for (int it = start; it < options.iterations; ++it) {
    const double lr = options.learning_rate * std::exp(-0.1 * std::floor(it / epoch));
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
    // The batch depends on (seed, iteration) only, so a resumed run sees the same data.
    std::mt19937 rng(options.seed * 1000003u + static_cast<unsigned>(it));
    const bool easy = it < options.curriculum_fraction * options.iterations;
    const std::vector<TrainPair> batch =
        make_batch(easy ? easy_data : train_data, options.batch_size, &rng);
    optimizer.zero_grad();
    torch::Tensor loss = BatchLoss(model, batch, options.image_size, device);
    loss.backward();
    optimizer.step();
    run_loss += loss.item<double>();
    ++run_n;
    const bool last_it = it + 1 == options.iterations;
    if ((it + 1) % 25 == 0 || last_it) {
      progress.Step(StringPrintf("loss %.4f lr %.1e", run_loss / run_n, lr), run_n);
      run_loss = 0;
      run_n = 0;
    }
    if ((it + 1) % options.validate_every == 0 || last_it) {
      last = Validate(model, validation, options.image_size, device);
      LogInfo(StringPrintf("Validation at %d: loss %.4f, found within 1/2/4 px %.3f/%.3f/%.3f",
                           it + 1, last.loss, last.accuracy_1px, last.accuracy_2px,
                           last.accuracy_4px));
    }
    if ((it + 1) % options.checkpoint_every == 0 && !last_it) {
      checkpoint.Save(*model, optimizer, it + 1);
    }
  }

  TrainingSidecar sidecar;
  sidecar.architecture = "s2dnet";
  sidecar.config = config.name;
  sidecar.data_use = " as synthetic plane pairs with GT homographies (every 10th image held out)";
  sidecar.training_seconds = timer.ElapsedSeconds();
  sidecar.fields = {{"descriptor_dim", config.descriptor_dim},
                    {"iterations", options.iterations},
                    {"image_size", options.image_size},
                    {"correspondences_per_pair", options.correspondences_per_pair},
                    {"max_log2_zoom", options.max_log2_zoom},
                    {"curriculum_fraction", options.curriculum_fraction},
                    {"learning_rate", options.learning_rate}};
  sidecar.final_metrics = {{"loss", last.loss},
                           {"accuracy_1px", last.accuracy_1px},
                           {"accuracy_2px", last.accuracy_2px},
                           {"accuracy_4px", last.accuracy_4px}};
  WriteTrainedWeights(checkpoint, *model, options, sidecar);
  PrintElapsedTime(timer.ElapsedSeconds());
}

}  // namespace scalesfm
