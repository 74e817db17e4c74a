#include "training/scfeat_trainer.h"

#include <Eigen/Geometry>
#include <ctime>
#include <thread>

#include "feature/image_io.h"
#include "feature/scfeat_keypoints.h"
#include "feature/scfeat_model.h"
#include "training/scfeat_losses.h"
#include "training/scfeat_pairs.h"
#include "training/sidecar.h"
#include "training/training.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/progress.h"
#include "util/weights_io.h"

namespace scalesfm {

void ScfeatTrainOptions::Check() const {
  CheckRun("train_scfeat");
  if (description_iterations < 0 || detection_iterations < 0 ||
      description_iterations + detection_iterations < 1) {
    throw Error("--description_iterations and --detection_iterations must be >= 0, not both 0");
  }
  if (image_size < 64 || image_size % ScfeatConfig::kStride) {
    throw Error("--image_size must be a multiple of 16 and >= 64");
  }
  if (queries_per_pair < 1) throw Error("--queries_per_pair must be >= 1");
  if (description_learning_rate <= 0 || detection_learning_rate <= 0) {
    throw Error("learning rates must be positive");
  }
  ScfeatConfig::FromName(config);
}

namespace {

torch::Tensor ToInput(const cv::Mat& u8, const ScfeatConfig& config) {
  return ScfeatInput(u8, config);
}

struct PairBatch {
  std::vector<PosedPlanePair> pairs;
  torch::Tensor a, b;  // [N, in, S, S]
};

PairBatch MakeBatch(const PosedPlanePairGenerator& gen, int n, const ScfeatConfig& config,
                    std::mt19937* rng) {
  PairBatch batch;
  std::vector<torch::Tensor> a, b;
  for (int i = 0; i < n; ++i) {
    batch.pairs.push_back(gen.Sample(rng));
    a.push_back(ToInput(batch.pairs.back().a, config));
    b.push_back(ToInput(batch.pairs.back().b, config));
  }
  batch.a = torch::cat(a);
  batch.b = torch::cat(b);
  return batch;
}

torch::Tensor RandomQueries(int n, int size, std::mt19937* rng) {
  std::uniform_real_distribution<float> u(4.f, size - 5.f);
  std::vector<float> q(n * 2);
  for (float& v : q) v = u(*rng);
  return torch::from_blob(q.data(), {n, 2}, torch::kFloat32).clone();
}

Eigen::Vector2d Apply(const Eigen::Matrix3d& H, double x, double y) {
  const Eigen::Vector3d p = H * Eigen::Vector3d(x, y, 1);
  return p.hnormalized();
}

ScfeatValidation Validate(Scfeat& model, const std::vector<PairBatch>& batches, int size,
                          bool with_detector, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model->eval();
  ScfeatValidation v;
  double nn_ok = 0, nn_total = 0, epi_sum = 0, epi_n = 0, mma_ok = 0, mma_total = 0;
  std::mt19937 rng(12345);
  for (const PairBatch& batch : batches) {
    const ScfeatDescription da = model->Describe(batch.a.to(device));
    const ScfeatDescription db = model->Describe(batch.b.to(device));
    torch::Tensor sa, sb;
    if (with_detector) {
      sa = model->Detect(da, batch.a.to(device));
      sb = model->Detect(db, batch.b.to(device));
    }
    const int64_t h = da.desc.size(2), w = da.desc.size(3);
    // Grid of B's D_desc positions (image pixel centres of the stride-4 cells).
    const torch::Tensor ys = torch::arange(h, torch::kFloat32) * 4 + 1.5;
    const torch::Tensor xs = torch::arange(w, torch::kFloat32) * 4 + 1.5;
    const torch::Tensor grid =
        torch::stack({xs.view({1, w}).expand({h, w}), ys.view({h, 1}).expand({h, w})}, -1)
            .reshape({-1, 2});
    for (size_t i = 0; i < batch.pairs.size(); ++i) {
      const PosedPlanePair& pair = batch.pairs[i];
      const auto idx = static_cast<int64_t>(i);
      const torch::Tensor map_a = da.desc.slice(0, idx, idx + 1);
      const torch::Tensor map_b = db.desc.slice(0, idx, idx + 1);
      const torch::Tensor q = RandomQueries(256, size, &rng);
      const torch::Tensor dq = SampleDescriptors(map_a, q, size, size);
      const torch::Tensor dmap =
          torch::nn::functional::normalize(map_b.squeeze(0).reshape({map_b.size(1), -1}).t().cpu(),
                                           torch::nn::functional::NormalizeFuncOptions().dim(1));
      const torch::Tensor best = torch::matmul(dq, dmap.t()).argmax(1);
      const torch::Tensor lines = EpipolarLines(pair.F, q);
      const torch::Tensor pred = grid.index({best});
      const torch::Tensor epi = PointLineDistance(pred, lines);
      const auto qa = q.accessor<float, 2>();
      const auto pa = pred.accessor<float, 2>();
      const auto ea = epi.accessor<float, 1>();
      for (int64_t k = 0; k < q.size(0); ++k) {
        const Eigen::Vector2d gt = Apply(pair.H, qa[k][0], qa[k][1]);
        if (gt.x() < 0 || gt.y() < 0 || gt.x() > size - 1 || gt.y() > size - 1) continue;
        nn_total += 1;
        nn_ok += (Eigen::Vector2d(pa[k][0], pa[k][1]) - gt).norm() <= 8;
        epi_sum += ea[k];
        epi_n += 1;
      }
      if (!with_detector) continue;
      ScfeatKeypointOptions ko;
      ko.max_keypoints = 512;
      const ScfeatKeypoints ka = SelectKeypoints(sa.slice(0, idx, idx + 1), size, size, ko);
      const ScfeatKeypoints kb = SelectKeypoints(sb.slice(0, idx, idx + 1), size, size, ko);
      const torch::Tensor m =
          MutualNearestNeighbours(SampleDescriptors(map_a, ka.points, size, size),
                                  SampleDescriptors(map_b, kb.points, size, size));
      const auto pka = ka.points.accessor<float, 2>(), pkb = kb.points.accessor<float, 2>();
      const auto ma = m.accessor<int64_t, 2>();
      for (int64_t k = 0; k < m.size(0); ++k) {
        const Eigen::Vector2d gt = Apply(pair.H, pka[ma[k][0]][0], pka[ma[k][0]][1]);
        mma_total += 1;
        mma_ok += (Eigen::Vector2d(pkb[ma[k][1]][0], pkb[ma[k][1]][1]) - gt).norm() <= 3;
      }
    }
  }
  model->train();
  v.nn_accuracy_8px = nn_total ? nn_ok / nn_total : 0;
  v.mean_epipolar_distance = epi_n ? epi_sum / epi_n : 0;
  v.keypoint_mma_3px = mma_total ? mma_ok / mma_total : 0;
  return v;
}

void SetLearningRate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
}

}  // namespace

void TrainScfeat(const ScfeatTrainOptions& options) {
  options.Check();
  const TrainingStart setup = StartTraining(options, "SCFeat training (" + options.config + ")");
  const torch::Device device = setup.device;
  const std::vector<std::string>& train_paths = setup.train_paths;
  const std::vector<std::string>& val_paths = setup.val_paths;
  const ScfeatConfig config = ScfeatConfig::FromName(options.config);
  PosedPlanePairOptions pair_options;
  pair_options.size = options.image_size;
  const PosedPlanePairGenerator train_data(train_paths, pair_options);
  const PosedPlanePairGenerator val_data(val_paths, pair_options);
  LogInfo(StringPrintf("Training images: %zu, validation images: %zu", train_data.num_images(),
                       val_data.num_images()));
  std::vector<PairBatch> validation;
  {
    std::mt19937 rng(options.seed + 977);
    for (int done = 0; done < options.validation_pairs; done += options.batch_size) {
      validation.push_back(MakeBatch(
          val_data, std::min(options.batch_size, options.validation_pairs - done), config, &rng));
    }
  }

  Scfeat model(config);
  model->to(device);
  const int total = options.description_iterations + options.detection_iterations;
  const TrainingCheckpoint checkpoint(options.output_path);
  const int start = checkpoint.LoadModel(model.get(), options.init_weights);
  auto make_optimizer = [&](bool detection) {
    auto opt = std::make_unique<torch::optim::Adam>(
        detection ? model->DetectionParameters() : model->DescriptionParameters(),
        torch::optim::AdamOptions(detection ? options.detection_learning_rate
                                            : options.description_learning_rate));
    return opt;
  };
  bool detection_stage = start >= options.description_iterations;
  std::unique_ptr<torch::optim::Adam> optimizer = make_optimizer(detection_stage);
  if (start > 0 && start != options.description_iterations) {
    checkpoint.LoadOptimizer(optimizer.get());
  }

  EpipolarLossOptions epi_options;
  KeypointLossOptions kp_options;
  Timer timer;
  Progress progress("iteration", total - start);
  double run_loss = 0, run_aux = 0;
  int run_n = 0;
  ScfeatValidation last;
  for (int it = start; it < total; ++it) {
    if (!detection_stage && it >= options.description_iterations) {
      detection_stage = true;
      optimizer = make_optimizer(true);
      LogInfo("Stage 2: detector training, description network and bridge frozen");
    }
    model->train();
    double lr =
        detection_stage ? options.detection_learning_rate : options.description_learning_rate;
    if (!detection_stage && it >= 0.8 * options.description_iterations) lr *= 0.1;
    SetLearningRate(*optimizer, lr);
    // The batch depends on (seed, iteration) only, so a resumed run sees the same data.
    std::mt19937 rng(options.seed * 1000003u + static_cast<unsigned>(it));
    const PairBatch batch = MakeBatch(train_data, options.batch_size, config, &rng);
    optimizer->zero_grad();
    torch::Tensor loss = torch::zeros({}, torch::TensorOptions().device(device));
    double aux = 0;
    if (!detection_stage) {
      const ScfeatDescription da = model->Describe(batch.a.to(device));
      const ScfeatDescription db = model->Describe(batch.b.to(device));
      for (size_t i = 0; i < batch.pairs.size(); ++i) {
        const auto idx = static_cast<int64_t>(i);
        const torch::Tensor q = RandomQueries(options.queries_per_pair, options.image_size, &rng);
        const EpipolarLossResult r = EpipolarDescriptorLoss(
            da.cn.slice(0, idx, idx + 1), db.cn.slice(0, idx, idx + 1), batch.pairs[i].F,
            q.to(device), options.image_size, options.image_size, epi_options, &rng);
        loss = loss + r.loss / static_cast<double>(batch.pairs.size());
        aux += r.mean_distance / batch.pairs.size();
      }
    } else {
      ScfeatDescription da, db;
      {
        torch::NoGradGuard no_grad;
        model->eval();  // frozen description network (BatchNorm running statistics)
        da = model->Describe(batch.a.to(device));
        db = model->Describe(batch.b.to(device));
        model->train();
      }
      const torch::Tensor sa = model->Detect(da, batch.a.to(device));
      const torch::Tensor sb = model->Detect(db, batch.b.to(device));
      for (size_t i = 0; i < batch.pairs.size(); ++i) {
        const auto idx = static_cast<int64_t>(i);
        const KeypointLossResult r = KeypointLoss(
            sa.slice(0, idx, idx + 1), sb.slice(0, idx, idx + 1), da.desc.slice(0, idx, idx + 1),
            db.desc.slice(0, idx, idx + 1), batch.pairs[i].F, kp_options, &rng);
        loss = loss + r.loss / static_cast<double>(batch.pairs.size());
        aux += r.correct_pairs / std::max(1.0, double(r.candidate_pairs)) / batch.pairs.size();
      }
    }
    loss.backward();
    optimizer->step();
    run_loss += loss.item<double>();
    run_aux += aux;
    ++run_n;

    const bool last_it = it + 1 == total;
    if ((it + 1) % 25 == 0 || last_it) {
      progress.Step(
          StringPrintf("%s loss %.4f %s %.3f lr %.0e",
                       detection_stage ? "detection" : "description", run_loss / run_n,
                       detection_stage ? "correct-fraction" : "epi-px", run_aux / run_n, lr),
          run_n);
      run_loss = run_aux = 0;
      run_n = 0;
    }
    if ((it + 1) % options.validate_every == 0 || last_it ||
        it + 1 == options.description_iterations) {
      last = Validate(model, validation, options.image_size, detection_stage, device);
      LogInfo(StringPrintf(
          "Validation at %d: NN within 8 px %.3f, epipolar distance %.2f px%s", it + 1,
          last.nn_accuracy_8px, last.mean_epipolar_distance,
          detection_stage ? StringPrintf(", keypoint MMA@3px %.3f", last.keypoint_mma_3px).c_str()
                          : ""));
    }
    if ((it + 1) % options.checkpoint_every == 0 && !last_it) {
      checkpoint.Save(*model, *optimizer, it + 1);
    }
  }

  TrainingSidecar sidecar;
  sidecar.architecture = "scfeat";
  sidecar.config = config.name;
  sidecar.data_use = " as posed plane pairs (every 10th image held out for validation)";
  sidecar.training_seconds = timer.ElapsedSeconds();
  sidecar.fields = {{"in_channels", config.in_channels},
                    {"descriptor_dim", config.descriptor_dim},
                    {"description_iterations", options.description_iterations},
                    {"detection_iterations", options.detection_iterations},
                    {"image_size", options.image_size},
                    {"description_learning_rate", options.description_learning_rate},
                    {"detection_learning_rate", options.detection_learning_rate}};
  sidecar.final_metrics = {{"nn_accuracy_8px", last.nn_accuracy_8px},
                           {"mean_epipolar_distance_px", last.mean_epipolar_distance},
                           {"keypoint_mma_3px", last.keypoint_mma_3px}};
  WriteTrainedWeights(checkpoint, *model, options, sidecar);
  PrintElapsedTime(timer.ElapsedSeconds());
}

}  // namespace scalesfm
