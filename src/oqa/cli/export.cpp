// `oqa export`: a subnet of a trained run, BN recalibrated, to a packed .oqa file and/or an ONNX QDQ model.
#include <cstdio>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "oqa/cli/commands.h"
#include "oqa/pipeline/export_run.h"
#include "oqa/deploy/onnx_export.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/config.h"

namespace oqa::cli {
namespace {

struct ExportArgs {
  pipeline::ExportSource source;
  std::string format = "all", out, payload = "zlib";
  bool json = false;
};

int run_export(const ExportArgs& a) {
  deploy::DeployModel m = pipeline::export_subnet(a.source);
  const std::string stage = m.info.at("stage").get<std::string>();
  const std::string out = a.out.empty() ? a.source.run + "/export/" + stage : a.out;
  util::ensure_dir(out);
  util::Json files = util::Json::object();
  util::write_json(out + "/subnet.json", m.info.at("subnet"));
  const auto compression =
      a.payload == "none" ? deploy::PayloadCompression::kNone : deploy::PayloadCompression::kZlib;
  const int64_t float_bytes =
      static_cast<int64_t>(deploy::encode_oqa(deploy::float_weights(m), compression).size());
  if (a.format == "oqa" || a.format == "all") {
    const std::string path = out + "/model.oqa";
    deploy::write_oqa(m, path, compression);
    files["oqa"] = {{"path", path}, {"bytes", std::filesystem::file_size(path)}};
  }
  if (a.format == "onnx" || a.format == "all") {
    const std::string path = out + "/model.onnx";
    deploy::OnnxExportOptions o;
    o.mean = m.mean;
    o.std = m.std;
    o.producer_version = OQA_VERSION;
    o.metadata = m.info;
    deploy::export_onnx(m.model, o, path);
    files["onnx"] = {{"path", path}, {"bytes", std::filesystem::file_size(path)}};
  }
  const util::Json summary{{"stage", stage},
                           {"subnet", m.info.at("subnet")},
                           {"cost", m.info.at("cost")},
                           {"files", files},
                           {"float32_oqa_bytes", float_bytes}};
  if (a.json) {
    std::printf("%s\n", summary.dump(2).c_str());
    return 0;
  }
  const util::Json& c = m.info.at("cost");
  std::printf("exported stage %s, subnet %s\n", stage.c_str(), m.info.at("subnet").dump().c_str());
  std::printf("MACs %.4g  BitOPs %.4g  bytes %.4g  avg bits w%.2f a%.2f\n", c.value("macs", 0.0),
              c.value("bitops", 0.0), c.value("bytes", 0.0), c.value("avg_weight_bits", 0.0),
              c.value("avg_act_bits", 0.0));
  for (const auto& [kind, f] : files.items())
    std::printf("%-5s %s  %lld bytes (%.1fx smaller than the float32 .oqa, %lld bytes)\n", kind.c_str(),
                f.at("path").get<std::string>().c_str(), f.at("bytes").get<long long>(),
                static_cast<double>(float_bytes) / f.at("bytes").get<double>(),
                static_cast<long long>(float_bytes));
  return 0;
}

}  // namespace

Runner add_export(CLI::App& app, const GlobalOptions&) {
  auto a = std::make_shared<ExportArgs>();
  app.add_option("--run", a->source.run, "run directory of a supernet training")->required();
  app.add_option("--stage", a->source.stage,
                 "stage folder (w4a4, w3a3, w2a2, ...; default: the last trained)");
  app.add_option("--subnet", a->source.subnet,
                 "best (RUN/search/STAGE/best.json), largest, smallest, or a subnet JSON file");
  app.add_option("--format", a->format, "oqa | onnx | all")->check(CLI::IsMember({"oqa", "onnx", "all"}));
  app.add_option("--out", a->out, "output folder (default RUN/export/STAGE)");
  app.add_option("--payload", a->payload,
                 "zlib (default: the .oqa payload deflated) | none (packed bytes stored as they are)")
      ->check(CLI::IsMember({"zlib", "none"}));
  app.add_option("--bn-images", a->source.bn_images,
                 "training images for BN recalibration (default: the config's)");
  app.add_flag("--json", a->json, "print one JSON object");
  return [a] { return run_export(*a); };
}

}  // namespace oqa::cli
