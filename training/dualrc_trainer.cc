#include "training/dualrc_trainer.h"

#include <Eigen/LU>
#include <array>
#include <cmath>
#include <random>

#include "matching/dualrc_matching.h"
#include "matching/s2dnet_model.h"
#include "training/scfeat_pairs.h"
#include "training/sidecar.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/weights_io.h"

namespace scalesfm {

void DualRcTrainOptions::Check() const {
  CheckRun("train_dualrc");
  if (iterations < 1) throw Error("--iterations must be >= 1");
  if (image_size < 64 || image_size % DualRcNetConfig::kStride) {
    throw Error("--image_size must be a multiple of 16 and >= 64");
  }
  if (correspondences_per_pair < 1) throw Error("--correspondences_per_pair must be >= 1");
  if (!(max_log2_zoom >= 0)) throw Error("--max_log2_zoom must be >= 0");
  if (!(learning_rate > 0)) throw Error("--learning_rate must be positive");
  if (!(orthogonal_weight >= 0)) throw Error("--orthogonal_weight must be >= 0");
  DualRcNetConfig::FromName(config);
}

torch::Tensor GroundTruthScoreMaps(const torch::Tensor& targets, int64_t height, int64_t width) {
  const int64_t n = targets.size(0);
  const torch::Tensor t = targets.to(torch::kFloat32);
  const torch::Tensor x = t.select(1, 0), y = t.select(1, 1);
  const torch::Tensor x0 = x.floor(), y0 = y.floor();
  torch::Tensor maps = torch::zeros({n, height * width}, t.options());
  const torch::Tensor rows = torch::arange(n, t.options().dtype(torch::kLong));
  for (int dy = 0; dy < 2; ++dy) {
    for (int dx = 0; dx < 2; ++dx) {
      const torch::Tensor cx = x0 + dx, cy = y0 + dy;
      const torch::Tensor w = (1 - (x - cx).abs()) * (1 - (y - cy).abs());
      const torch::Tensor inside = cx.ge(0) & cx.lt(width) & cy.ge(0) & cy.lt(height);
      const torch::Tensor index =
          (cy.clamp(0, height - 1) * width + cx.clamp(0, width - 1)).to(torch::kLong);
      maps.index_put_({rows, index}, torch::where(inside, w, torch::zeros_like(w)),
                      /*accumulate=*/true);
    }
  }
  const torch::Tensor g = torch::tensor({1.f, 2.f, 1.f}, t.options());
  const torch::Tensor kernel = (g.unsqueeze(1) * g.unsqueeze(0) / 16.0).reshape({1, 1, 3, 3});
  torch::Tensor blurred =
      torch::conv2d(maps.reshape({n, 1, height, width}), kernel, {}, 1, 1).reshape({n, -1});
  return (blurred / (blurred.sum(1, true) + 1e-12)).reshape({n, height, width});
}

DualRcLossTerms DualRcDirectionLoss(const torch::Tensor& corr, const torch::Tensor& fine_source,
                                    const torch::Tensor& fine_target, const torch::Tensor& cells,
                                    const torch::Tensor& targets, bool source_is_a) {
  const int64_t n = cells.size(0);
  const int64_t h = fine_target.size(1), w = fine_target.size(2);
  // S: eq. 3's score map as a probability map over the target's fine cells.
  torch::Tensor s = torch::relu(GuidedScoreMaps(corr, fine_source, fine_target, cells, source_is_a))
                        .reshape({n, h * w});
  s = s / (s.sum(1, true) + 1e-12);
  const torch::Tensor g = GroundTruthScoreMaps(targets, h, w).reshape({n, h * w});
  DualRcLossTerms terms;
  terms.keypoint = (s - g).norm();                        // eq. 4
  terms.orthogonal = (s.mm(s.t()) - g.mm(g.t())).norm();  // eq. 5
  return terms;
}

void LoadBackboneFromS2DNet(DualRcNet& model, const std::string& s2dnet_weights) {
  S2DNet s2dnet = LoadS2DNet(s2dnet_weights);
  const S2DNetConfig& sc = s2dnet->config();
  const DualRcNetConfig& dc = model->config();
  if (dc.backbone != "vgg" || sc.block_channels != dc.block_channels ||
      sc.block_convs != dc.block_convs || sc.in_channels != dc.in_channels) {
    throw Error("--backbone_weights " + s2dnet_weights +
                ": its VGG encoder's sizes differ from the DualRC-Net config's vgg backbone");
  }
  auto ours = model->named_parameters(true);
  torch::NoGradGuard no_grad;
  int copied = 0;
  for (const auto& item : s2dnet->named_parameters(true)) {
    const std::string& name = item.key();
    if (name.rfind("encoder.", 0) != 0) continue;
    const size_t dot = name.find('.', 8);
    const int index = std::stoi(name.substr(8, dot - 8));
    const std::string leaf = name.substr(dot + 1);
    // torchvision VGG indices: blocks 1-3 (0..15), pool + block 4 (16..22), pool + block 5.
    const int stage = index <= 15 ? 0 : (index <= 22 ? 1 : 2);
    const int local = index - (stage == 0 ? 0 : (stage == 1 ? 16 : 23));
    const std::string target = "FeatureExtraction.extractor_list." + std::to_string(stage) + "." +
                               std::to_string(local) + "." + leaf;
    torch::Tensor* p = ours.find(target);
    if (p == nullptr || !p->sizes().equals(item.value().sizes())) {
      throw Error("--backbone_weights " + s2dnet_weights + ": " + name + " has no place (" +
                  target + ") in the DualRC-Net backbone");
    }
    p->copy_(item.value());
    ++copied;
  }
  LogInfo(
      StringPrintf("Backbone: %d tensors from S2DNet weights %s", copied, s2dnet_weights.c_str()));
}

namespace {

struct TrainPair {
  torch::Tensor a, b;  // [1, in, S, S]
  // Query fine cells and their GT fine-cell positions in the other image, per direction.
  torch::Tensor cells_ab, targets_ab, cells_ba, targets_ba;
};

// Fine cell centre (OpenCV pixel 4 c + 1.5) through h, back in fine cells of the other image;
// up to `count` random cells that land inside it.
void SampleCells(const Eigen::Matrix3d& h, int cells_per_side, int count, std::mt19937* rng,
                 torch::Tensor* cells, torch::Tensor* targets) {
  std::uniform_int_distribution<int> u(0, cells_per_side - 1);
  std::vector<float> c, t;
  const double last = cells_per_side - 1;
  for (int tries = 0; tries < 8 * count && static_cast<int>(c.size()) < 2 * count; ++tries) {
    const int x = u(*rng), y = u(*rng);
    const Eigen::Vector3d p = h * Eigen::Vector3d(4 * x + 1.5, 4 * y + 1.5, 1.0);
    if (p.z() <= 0) continue;
    const double tx = (p.x() / p.z() - 1.5) / 4, ty = (p.y() / p.z() - 1.5) / 4;
    if (tx < 0 || ty < 0 || tx > last || ty > last) continue;
    c.insert(c.end(), {float(x), float(y)});
    t.insert(t.end(), {float(tx), float(ty)});
  }
  const int64_t k = static_cast<int64_t>(c.size() / 2);
  *cells = torch::from_blob(c.data(), {k, 2}, torch::kFloat32).clone();
  *targets = torch::from_blob(t.data(), {k, 2}, torch::kFloat32).clone();
}

TrainPair MakePair(const PosedPlanePairGenerator& gen, int count, const DualRcNetConfig& config,
                   std::mt19937* rng) {
  const PosedPlanePair pair = gen.Sample(rng);
  TrainPair out;
  out.a = DualRcNetInput(pair.a, config);
  out.b = DualRcNetInput(pair.b, config);
  const int side = pair.a.cols / DualRcNetConfig::kFineStride;
  SampleCells(pair.H, side, count, rng, &out.cells_ab, &out.targets_ab);
  SampleCells(pair.H.inverse(), side, count, rng, &out.cells_ba, &out.targets_ba);
  return out;
}

struct BatchResult {
  torch::Tensor loss;
  double found_1 = 0, found_2 = 0, queries = 0;  // argmax within 1 / 2 fine cells (4 / 8 px)
};

BatchResult BatchLoss(DualRcNet& model, const std::vector<TrainPair>& pairs, double lambda,
                      const torch::Device& device, bool measure) {
  std::vector<torch::Tensor> a, b;
  for (const TrainPair& p : pairs) {
    a.push_back(p.a);
    b.push_back(p.b);
  }
  const auto n = static_cast<int64_t>(pairs.size());
  const std::vector<torch::Tensor> fa = model->Features(torch::cat(a).to(device));
  const std::vector<torch::Tensor> fb = model->Features(torch::cat(b).to(device));
  const torch::Tensor corr = model->FilterCorrelation(fa[1], fb[1]);
  BatchResult r;
  r.loss = torch::zeros({}, torch::TensorOptions().device(device));
  for (int64_t i = 0; i < n; ++i) {
    const TrainPair& p = pairs[i];
    const torch::Tensor c = corr[i][0];
    for (const bool ab : {true, false}) {
      const torch::Tensor cells = (ab ? p.cells_ab : p.cells_ba).to(device);
      const torch::Tensor targets = (ab ? p.targets_ab : p.targets_ba).to(device);
      if (cells.size(0) == 0) continue;
      const torch::Tensor src = ab ? fa[0][i] : fb[0][i], dst = ab ? fb[0][i] : fa[0][i];
      const DualRcLossTerms t = DualRcDirectionLoss(c, src, dst, cells, targets, ab);
      r.loss = r.loss + (t.keypoint + lambda * t.orthogonal) / static_cast<double>(n);
      if (measure) {
        torch::NoGradGuard no_grad;
        const torch::Tensor s = GuidedScoreMaps(c, src, dst, cells, ab);
        const int64_t w = s.size(2);
        const torch::Tensor idx = s.reshape({s.size(0), -1}).argmax(1);
        const torch::Tensor found =
            torch::stack({idx.remainder(w), idx.div(w, "floor")}, 1).to(torch::kFloat32);
        const torch::Tensor err = (found - targets).norm(2, 1);
        r.found_1 += err.le(1).sum().item<double>();
        r.found_2 += err.le(2).sum().item<double>();
        r.queries += static_cast<double>(err.size(0));
      }
    }
  }
  return r;
}

}  // namespace

void TrainDualRc(const DualRcTrainOptions& options) {
  options.Check();
  const TrainingStart setup = StartTraining(options, "DualRC-Net training");
  const torch::Device device = setup.device;
  const DualRcNetConfig config = DualRcNetConfig::FromName(options.config);
  PosedPlanePairOptions pair_options;
  pair_options.size = options.image_size;
  pair_options.max_log2_zoom = options.max_log2_zoom;
  const PosedPlanePairGenerator train_data(setup.train_paths, pair_options);
  const PosedPlanePairGenerator val_data(setup.val_paths, pair_options);
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

  DualRcNet model(config);
  const TrainingCheckpoint checkpoint(options.output_path);
  int start = checkpoint.LoadModel(model.get(), options.init_weights);
  if (start == 0 && options.init_weights.empty()) {
    if (config.backbone != "vgg") {
      throw Error("train_dualrc --config " + config.name +
                  " starts from converted weights: pass --init_weights (README, DualRC-Net)");
    }
    LoadBackboneFromS2DNet(model, options.backbone_weights.empty()
                                      ? DefaultWeights("s2dnet_compact.pt")
                                      : options.backbone_weights);
  }
  model->to(device);
  std::vector<torch::Tensor> trainable;
  for (auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(options.learning_rate));
  if (start > 0) checkpoint.LoadOptimizer(&optimizer);

  auto validate = [&]() {
    torch::NoGradGuard no_grad;
    model->eval();
    BatchResult total;
    double loss = 0;
    for (const auto& batch : validation) {
      const BatchResult r = BatchLoss(model, batch, options.orthogonal_weight, device, true);
      loss += r.loss.item<double>() / validation.size();
      total.found_1 += r.found_1;
      total.found_2 += r.found_2;
      total.queries += r.queries;
    }
    model->train();
    const double q = std::max(1.0, total.queries);
    return std::array<double, 3>{loss, total.found_1 / q, total.found_2 / q};
  };

  Timer timer;
  Progress progress("iteration", options.iterations - start);
  double run_loss = 0;
  int run_n = 0;
  std::array<double, 3> last{0, 0, 0};
  model->train();
  for (int it = start; it < options.iterations; ++it) {
    // Halved at 50% and 75% of the run (the official MultiStepLR halves at epochs 5, 10, 15 of 15).
    const double lr = options.learning_rate * (it >= 0.5 * options.iterations ? 0.5 : 1.0) *
                      (it >= 0.75 * options.iterations ? 0.5 : 1.0);
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    }
    // The batch depends on (seed, iteration) only, so a resumed run sees the same data.
    std::mt19937 rng(options.seed * 1000003u + static_cast<unsigned>(it));
    const std::vector<TrainPair> batch = make_batch(train_data, options.batch_size, &rng);
    optimizer.zero_grad();
    const BatchResult r = BatchLoss(model, batch, options.orthogonal_weight, device, false);
    r.loss.backward();
    optimizer.step();
    run_loss += r.loss.item<double>();
    ++run_n;
    const bool last_it = it + 1 == options.iterations;
    if ((it + 1) % 25 == 0 || last_it) {
      progress.Step(StringPrintf("loss %.4f lr %.1e", run_loss / run_n, lr), run_n);
      run_loss = 0;
      run_n = 0;
    }
    if ((it + 1) % options.validate_every == 0 || last_it) {
      last = validate();
      LogInfo(
          StringPrintf("Validation at %d: loss %.4f, argmax within 1/2 fine cells (4/8 px) "
                       "%.3f/%.3f",
                       it + 1, last[0], last[1], last[2]));
    }
    if ((it + 1) % options.checkpoint_every == 0 && !last_it) {
      checkpoint.Save(*model, optimizer, it + 1);
    }
  }

  TrainingSidecar sidecar;
  sidecar.architecture = "dualrc";
  sidecar.config = config.name;
  sidecar.data_use = " as synthetic plane pairs with GT homographies (every 10th image held out)";
  sidecar.training_seconds = timer.ElapsedSeconds();
  sidecar.fields = {{"iterations", options.iterations},
                    {"image_size", options.image_size},
                    {"correspondences_per_pair", options.correspondences_per_pair},
                    {"max_log2_zoom", options.max_log2_zoom},
                    {"learning_rate", options.learning_rate},
                    {"orthogonal_weight", options.orthogonal_weight},
                    {"backbone_init", options.init_weights.empty()
                                          ? (options.backbone_weights.empty()
                                                 ? std::string("models/s2dnet_compact.pt")
                                                 : options.backbone_weights)
                                          : options.init_weights}};
  sidecar.final_metrics = {
      {"loss", last[0]}, {"found_within_1_cell", last[1]}, {"found_within_2_cells", last[2]}};
  WriteTrainedWeights(checkpoint, *model, options, sidecar);
  PrintElapsedTime(timer.ElapsedSeconds());
}

}  // namespace scalesfm
