// .oqa files: a written model reads back with the same layers, levels and outputs; truncated, corrupt,
// foreign, newer-version and malformed files fail with an error naming the file and field.
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "deploy/deploy_test_support.h"
#include "oqa/deploy/levels.h"
#include "oqa/deploy/oqa_format.h"
#include "oqa/util/error.h"
#include "util/test_dir.h"

using namespace oqa;

namespace {

deploy::DeployModel tiny_model(const char* config, const test::SubnetPick& pick, uint64_t seed) {
  deploy::DeployModel m(test::extract_tiny(config, pick, seed));
  m.mean.assign(static_cast<size_t>(m.model.in_channels()), 0.25f);
  m.std.assign(static_cast<size_t>(m.model.in_channels()), 0.5f);
  m.info = {{"stage", "w4a4"}, {"note", "test"}};
  return m;
}

// The file layout of docs/formats.md, written independently of the library: header, zlib metadata, payload,
// CRC-32 over everything before it.
std::string assemble(uint32_t version, const nlohmann::json& meta, const std::string& payload) {
  const std::string text = meta.dump();
  std::string packed(compressBound(text.size()), '\0');
  uLongf size = packed.size();
  compress(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(text.data()),
           text.size());
  packed.resize(size);
  std::string out = "OQAMODEL";
  auto put = [&](auto v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); };
  put(version);
  put(uint32_t{0});
  put(uint64_t{text.size()});
  put(uint64_t{packed.size()});
  put(uint64_t{payload.size()});
  out += packed + payload;
  put(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(out.data()), out.size())));
  return out;
}

// Splits a file into its metadata JSON and payload (the inverse of assemble).
void disassemble(const std::string& bytes, nlohmann::json& meta, std::string& payload) {
  uint64_t raw, stored, pay;
  std::memcpy(&raw, bytes.data() + 16, 8);
  std::memcpy(&stored, bytes.data() + 24, 8);
  std::memcpy(&pay, bytes.data() + 32, 8);
  std::string text(raw, '\0');
  uLongf n = raw;
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(text.data()), &n,
                       reinterpret_cast<const Bytef*>(bytes.data() + 40), stored),
            Z_OK);
  meta = nlohmann::json::parse(text);
  payload = bytes.substr(40 + stored, pay);
}

// The error decode_oqa raises for `bytes` (fails the test when none).
util::Error decode_error(const std::string& bytes) {
  try {
    deploy::decode_oqa(bytes, "bad.oqa");
  } catch (const util::Error& e) {
    EXPECT_EQ(e.file_name(), "bad.oqa") << e.what();
    EXPECT_EQ(e.kind(), util::ErrorKind::kInput) << e.what();
    return e;
  }
  ADD_FAILURE() << "decode_oqa accepted the bytes";
  return util::internal_error("none");
}

// The field named by the error that decoding a tiny model's file gives after `edit` changed its metadata.
struct MetadataEditor {
  nlohmann::json meta;
  std::string payload;
  MetadataEditor() {
    const deploy::DeployModel m = tiny_model(oqa_test::kTinyMbv3, test::uniform(4, 4, true, false), 5);
    disassemble(deploy::encode_oqa(m), meta, payload);
  }
  std::string operator()(const std::function<void(nlohmann::json&)>& edit) const {
    nlohmann::json j = meta;
    edit(j);
    return decode_error(assemble(deploy::kOqaVersion, j, payload)).field_name();
  }
};

}  // namespace

TEST(OqaFormat, RoundTripKeepsLevelsStepSizesAndOutputs) {
  const std::vector<std::pair<const char*, test::SubnetPick>> cases = {
      {oqa_test::kTinyMbv3, test::uniform(4, 4, true, true)},
      {oqa_test::kTinyMbv3, test::uniform(2, 2, false, false, true)},
      {oqa_test::kTinyMbv3, test::sampled(5)},
      {oqa_test::kTinyResNet, test::uniform(3, 2, true, false)},
      {oqa_test::kTinyResNet, test::sampled(6)}};
  uint64_t seed = 1;
  for (const auto& [config, pick] : cases) {
    const deploy::DeployModel m = tiny_model(config, pick, seed++);
    const deploy::DeployModel back = deploy::decode_oqa(deploy::encode_oqa(m), "mem.oqa");
    EXPECT_EQ(back.mean, m.mean);
    EXPECT_EQ(back.std, m.std);
    EXPECT_EQ(back.info, m.info);
    ASSERT_EQ(back.model.layers().size(), m.model.layers().size());
    EXPECT_EQ(back.model.describe(), m.model.describe());
    for (size_t i = 0; i < m.model.layers().size(); ++i) {
      const nn::StaticLayer &a = m.model.layers()[i], &b = back.model.layers()[i];
      if (!a.weight.defined()) continue;
      if (!a.weight_quant.spec.is_float()) {
        EXPECT_TRUE(torch::equal(deploy::integer_levels(a.weight, a.weight_quant),
                                 deploy::integer_levels(b.weight, b.weight_quant)))
            << a.name;
        EXPECT_TRUE(torch::equal(a.weight_quant.step_size.reshape({-1}), b.weight_quant.step_size)) << a.name;
      } else {
        EXPECT_TRUE(torch::equal(a.weight, b.weight)) << a.name;
      }
      if (!a.input_quant.spec.is_float()) {
        EXPECT_TRUE(torch::equal(a.input_quant.step_size.reshape({-1}), b.input_quant.step_size)) << a.name;
      }
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor x =
        torch::randn({4, m.model.in_channels(), m.model.resolution(), m.model.resolution()});
    const torch::Tensor want = m.model.forward(x), got = back.model.forward(x);
    EXPECT_LE((want - got).abs().max().item<double>(), 1e-5 * (1 + want.abs().max().item<double>()));
  }
}

TEST(OqaFormat, FoldsBatchNormAndStillReadsVersion1Statistics) {
  const deploy::DeployModel m = tiny_model(oqa_test::kTinyMbv3, test::sampled(7), 8);
  nlohmann::json meta;
  std::string payload;
  disassemble(deploy::encode_oqa(m, deploy::PayloadCompression::kNone), meta, payload);
  // Version 2 stores 2 floats per channel: the affine a * y + c with a = gamma / sqrt(var + eps).
  int folded = 0;
  for (size_t i = 0; i < m.model.layers().size(); ++i) {
    const nn::StaticLayer& l = m.model.layers()[i];
    if (!l.batch_norm) continue;
    const nlohmann::json& bn = meta["layers"][i]["batch_norm"];
    ASSERT_EQ(bn["encoding"], "folded") << l.name;
    EXPECT_EQ(bn["data"]["bytes"].get<int64_t>(), 2 * 4 * l.weight.size(0)) << l.name;
    const int64_t off = bn["data"]["offset"].get<int64_t>();
    const float a0 = *reinterpret_cast<const float*>(payload.data() + off);
    const auto& s = *l.batch_norm;
    EXPECT_NEAR(a0, s.weight[0].item<double>() / std::sqrt(s.running_var[0].item<double>() + s.eps),
                1e-6 * (1 + std::abs(a0)))
        << l.name;
    ++folded;
  }
  ASSERT_GT(folded, 3);
  // A version-1 file (the four batch-norm arrays and eps, as oqa 0.1 wrote them) gives the same model.
  for (size_t i = 0; i < m.model.layers().size(); ++i) {
    const nn::StaticLayer& l = m.model.layers()[i];
    if (!l.batch_norm) continue;
    const auto& s = *l.batch_norm;
    const torch::Tensor stats =
        torch::cat({s.weight, s.bias, s.running_mean, s.running_var}).to(torch::kFloat).contiguous();
    meta["layers"][i]["batch_norm"] = {{"eps", s.eps},
                                       {"data", {{"offset", payload.size()}, {"bytes", stats.numel() * 4}}}};
    payload.append(reinterpret_cast<const char*>(stats.data_ptr<float>()),
                   static_cast<size_t>(stats.numel() * 4));
  }
  const deploy::DeployModel v1 = deploy::decode_oqa(assemble(1, meta, payload), "v1.oqa");
  torch::NoGradGuard no_grad;
  const torch::Tensor x =
      torch::randn({4, m.model.in_channels(), m.model.resolution(), m.model.resolution()});
  const torch::Tensor want = m.model.forward(x);
  EXPECT_TRUE(torch::allclose(v1.model.forward(x), want, 1e-6, 1e-6));
  const deploy::DeployModel v2 = deploy::decode_oqa(deploy::encode_oqa(m), "v2.oqa");
  EXPECT_LE((v2.model.forward(x) - want).abs().max().item<double>(),
            1e-5 * (1 + want.abs().max().item<double>()));
  // An unknown encoding is named.
  for (auto& layer : meta["layers"])
    if (layer.contains("batch_norm")) {
      layer["batch_norm"]["encoding"] = "fp16";
      break;
    }
  EXPECT_NE(decode_error(assemble(2, meta, payload)).field_name().find(".batch_norm.encoding"),
            std::string::npos);
}

TEST(OqaFormat, PayloadIsDeflatedOrStoredAsTheMetadataSays) {
  const deploy::DeployModel m = tiny_model(oqa_test::kTinyMbv3, test::uniform(2, 2, true, true), 6);
  nlohmann::json zmeta, nmeta;
  std::string zpay, npay;
  disassemble(deploy::encode_oqa(m), zmeta, zpay);
  disassemble(deploy::encode_oqa(m, deploy::PayloadCompression::kNone), nmeta, npay);
  ASSERT_EQ(zmeta["payload"]["compression"], "zlib");
  ASSERT_EQ(nmeta["payload"]["compression"], "none");
  ASSERT_EQ(zmeta["payload"]["bytes"].get<size_t>(), npay.size());
  // zlib itself inflates the stored payload to the uncompressed one, which is smaller stored deflated.
  std::string inflated(npay.size(), '\0');
  uLongf n = inflated.size();
  ASSERT_EQ(uncompress(reinterpret_cast<Bytef*>(inflated.data()), &n,
                       reinterpret_cast<const Bytef*>(zpay.data()), zpay.size()),
            Z_OK);
  EXPECT_EQ(n, npay.size());
  EXPECT_TRUE(inflated == npay);
  EXPECT_LT(zpay.size(), npay.size());
  // Both files read back to the same model, and so does a version-2 file (no "payload" field, stored bytes).
  torch::NoGradGuard no_grad;
  const torch::Tensor x =
      torch::randn({3, m.model.in_channels(), m.model.resolution(), m.model.resolution()});
  const torch::Tensor want = m.model.forward(x);
  nlohmann::json v2meta = nmeta;
  v2meta.erase("payload");
  for (const std::string& bytes : {assemble(deploy::kOqaVersion, zmeta, zpay),
                                   assemble(deploy::kOqaVersion, nmeta, npay), assemble(2, v2meta, npay)})
    EXPECT_TRUE(torch::allclose(deploy::decode_oqa(bytes, "p.oqa").model.forward(x), want, 1e-5, 1e-5));
  // Every inconsistency names its field; a corrupt stream is caught by zlib even under a matching CRC.
  auto field_of = [&](nlohmann::json meta, const std::string& payload) {
    return decode_error(assemble(deploy::kOqaVersion, meta, payload)).field_name();
  };
  nlohmann::json j = zmeta;
  j["payload"]["bytes"] = npay.size() + 1;
  EXPECT_EQ(field_of(j, zpay), "payload");
  j["payload"]["bytes"] = uint64_t{1} << 50;
  EXPECT_EQ(field_of(j, zpay), "metadata.payload.bytes");
  j = zmeta;
  j["payload"]["compression"] = "lz4";
  EXPECT_EQ(field_of(j, zpay), "metadata.payload.compression");
  j.erase("payload");
  EXPECT_EQ(field_of(j, zpay), "metadata.payload");
  j = nmeta;
  j["payload"]["bytes"] = npay.size() - 1;
  EXPECT_EQ(field_of(j, npay), "metadata.payload.bytes");
  std::string corrupt = zpay;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5a);
  EXPECT_EQ(field_of(zmeta, corrupt), "payload");
  EXPECT_EQ(field_of(zmeta, zpay.substr(0, zpay.size() - 3)), "payload");
}

TEST(OqaFormat, WritesAtomicallyAndReadsBack) {
  TestDir dir;
  const std::string path = (dir.path / "m.oqa").string();
  const deploy::DeployModel m = tiny_model(oqa_test::kTinyResNet, test::uniform(2, 2, true, true), 3);
  deploy::write_oqa(m, path);
  EXPECT_EQ(deploy::read_oqa(path).model.describe(), m.model.describe());
  try {
    deploy::read_oqa((dir.path / "missing.oqa").string());
    FAIL() << "a missing file was read";
  } catch (const util::Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.oqa"), std::string::npos) << e.what();
  }
}

TEST(OqaFormat, RefusesTruncatedCorruptForeignAndNewerFiles) {
  const deploy::DeployModel m = tiny_model(oqa_test::kTinyMbv3, test::uniform(2, 2, true, true), 4);
  const std::string good = deploy::encode_oqa(m);
  for (size_t keep : {size_t{0}, size_t{5}, size_t{30}, good.size() / 2, good.size() - 1})
    EXPECT_FALSE(std::string(decode_error(good.substr(0, keep)).what()).empty()) << keep;
  EXPECT_EQ(decode_error(good.substr(0, good.size() - 1)).field_name(), "size");
  EXPECT_EQ(decode_error(good + "x").field_name(), "size");
  for (size_t at : {size_t{45}, good.size() / 2, good.size() - 10}) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    EXPECT_EQ(decode_error(bad).field_name(), "checksum") << at;
  }
  EXPECT_EQ(decode_error("\x89PNG\r\n\x1a\n0000000000000000000000000000000000000000").field_name(), "magic");
  nlohmann::json meta;
  std::string payload;
  disassemble(good, meta, payload);
  const util::Error newer = decode_error(assemble(deploy::kOqaVersion + 1, meta, payload));
  EXPECT_EQ(newer.field_name(), "version");
  EXPECT_NE(std::string(newer.what()).find("newer"), std::string::npos) << newer.what();
  // The independent writer produces a file the library accepts.
  EXPECT_EQ(deploy::decode_oqa(assemble(deploy::kOqaVersion, meta, payload), "x").model.describe(),
            m.model.describe());
}

TEST(OqaFormat, MalformedMetadataNamesTheField) {
  const MetadataEditor field_of;
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["weight"]["quant"]["bits"] = 9; }),
            "metadata.layers[0].weight.quant.bits");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["weight"]["step"][0] = -1.0; }),
            "metadata.layers[0].weight.step");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][1]["op"] = "deconv"; }), "metadata.layers[1].op");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][1]["inputs"] = {5}; }), "metadata.layers[1].inputs");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["weight"]["data"]["offset"] = 1 << 30; }),
            "metadata.layers[0].weight.data.offset");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["shape"][1] = 7; }), "metadata.layers[0].shape");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0].erase("input_quant"); }), "metadata.layers[0].input_quant");
  EXPECT_EQ(field_of([](auto& j) { j["classes"] = 11; }), "metadata.classes");
  EXPECT_EQ(field_of([](auto& j) { j["input"]["std"][0] = 0.0; }), "metadata.input.std");
}

// Sizes and offsets a crafted file could make overflow 64-bit arithmetic (or a float-to-integer conversion)
// are each refused naming the field, before any arithmetic on them.
TEST(OqaFormat, CraftedSizesAndOffsetsThatWouldOverflowAreRefused) {
  const MetadataEditor field_of;
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(field_of([&](auto& j) { j["layers"][0]["weight"]["data"]["offset"] = max - 2; }),
            "metadata.layers[0].weight.data.offset");  // offset + bytes wraps
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["weight"]["data"]["offset"] = 1e300; }),
            "metadata.layers[0].weight.data.offset");  // not an integer
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["weight"]["data"]["bytes"] = uint64_t{1} << 63; }),
            "metadata.layers[0].weight.data.bytes");  // beyond int64
  EXPECT_EQ(field_of([](auto& j) { j["layers"][0]["shape"] = {1 << 20, 1 << 20, 1 << 20, 1 << 20}; }),
            "metadata.layers[0].shape");  // the element count wraps
  EXPECT_EQ(field_of([&](auto& j) { j["layers"][0]["shape"][0] = max; }), "metadata.layers[0].shape");
  EXPECT_EQ(field_of([&](auto& j) { j["layers"][0]["groups"] = max; }), "metadata.layers[0].groups");
  EXPECT_EQ(field_of([&](auto& j) { j["layers"][0]["padding"] = max; }), "metadata.layers[0].padding");
  EXPECT_EQ(field_of([&](auto& j) { j["layers"][0]["stride"] = -max; }), "metadata.layers[0].stride");
  EXPECT_EQ(field_of([&](auto& j) { j["resolution"] = max; }), "metadata.resolution");
  EXPECT_EQ(field_of([&](auto& j) { j["in_channels"] = 1e18; }), "metadata.in_channels");
  EXPECT_EQ(field_of([](auto& j) { j["layers"][1]["inputs"] = {uint64_t{1} << 40}; }),
            "metadata.layers[1].inputs");
}

// A model holding a NaN (a collapsed stage) is never encoded: the error names the layer, no file appears.
TEST(OqaFormat, RefusesToWriteANonFiniteModel) {
  deploy::DeployModel m = tiny_model(oqa_test::kTinyMbv3, test::uniform(4, 4, true, false), 5);
  nn::StaticLayer bad = m.model.layers().at(0);
  ASSERT_TRUE(bad.batch_norm.has_value());
  bad.batch_norm->running_var = bad.batch_norm->running_var.clone();
  bad.batch_norm->running_var[0] = std::nanf("");
  deploy::DeployModel broken(nn::StaticModel(m.model.in_channels(), m.model.resolution()));
  broken.model.add(bad);
  for (size_t i = 1; i < m.model.layers().size(); ++i) broken.model.add(m.model.layers()[i]);
  try {
    deploy::check_finite(broken);
    ADD_FAILURE() << "accepted";
  } catch (const util::Error& e) {
    EXPECT_EQ(e.field_name(), "layers." + bad.name);
    EXPECT_NE(std::string(e.what()).find("batch-norm running variance"), std::string::npos) << e.what();
  }
  TestDir dir;
  const std::string path = (dir.path / "model.oqa").string();
  EXPECT_THROW(deploy::write_oqa(broken, path), util::Error);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_NO_THROW(deploy::check_finite(m));
}
