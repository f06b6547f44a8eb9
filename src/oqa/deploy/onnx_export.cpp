// ONNX export: each StaticLayer becomes ONNX nodes (Q/DQ quantizers, int8 weights); checked, then written.
#include "oqa/deploy/onnx_export.h"

#include <cmath>
#include <exception>
#include <utility>

#include <ATen/ATen.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include "oqa/deploy/levels.h"
#include "oqa/util/atomic_file.h"
#include "oqa/util/error.h"

namespace oqa::deploy {
namespace {

constexpr int64_t kOpset = 14;

using nn::StaticLayer;
using nn::StaticOp;
using nn::StaticQuant;

int32_t onnx_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return onnx::TensorProto::FLOAT;
    case torch::kChar: return onnx::TensorProto::INT8;
    case torch::kByte: return onnx::TensorProto::UINT8;
    case torch::kLong: return onnx::TensorProto::INT64;
    default: break;
  }
  throw util::internal_error("onnx export: unsupported tensor type " + std::string(c10::toString(t)));
}

// Appends nodes and initializers to one graph; every name it makes is unique because callers prefix them
// with the layer index.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* graph) : graph_(graph) {}

  // An initializer holding t (float, int8, uint8 or int64) with t's shape (0-d for scalars).
  std::string initializer(const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    onnx::TensorProto* p = graph_->add_initializer();
    p->set_name(name);
    p->set_data_type(onnx_type(c.scalar_type()));
    for (int64_t d : c.sizes()) p->add_dims(d);
    p->set_raw_data(std::string(static_cast<const char*>(c.data_ptr()), c.nbytes()));
    return name;
  }
  std::string scalar(const std::string& name, float v) { return initializer(name, torch::tensor(v)); }

  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::string& output) {
    onnx::NodeProto* n = graph_->add_node();
    n->set_op_type(op);
    n->set_name(output);
    for (const auto& i : inputs) n->add_input(i);
    n->add_output(output);
    return n;
  }
  // Shorthand for a node without attributes: returns its output name.
  std::string op(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    node(op, inputs, output);
    return output;
  }

  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, float v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& v) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }

  onnx::GraphProto& graph() { return *graph_; }

 private:
  onnx::GraphProto* graph_;
};

// Errors about one layer name it ("layers[3] (stages.0.blocks.1.dw).weight_quant.step_size").
util::Error layer_error(size_t index, const StaticLayer& l, const std::string& field,
                        const std::string& msg) {
  return util::input_error("cannot export to ONNX: " + msg)
      .field("layers[" + std::to_string(index) + "] (" + l.name + ")." + field);
}

void check_quant(size_t index, const StaticLayer& l, const StaticQuant& q, const std::string& field,
                 int64_t channels) {
  if (q.spec.is_float()) return;
  try {
    q.spec.validate();
  } catch (const util::Error& e) {
    throw layer_error(index, l, field + ".spec", e.message());
  }
  if (!q.step_size.defined() || q.step_size.numel() == 0)
    throw layer_error(index, l, field + ".step_size", "undefined step size");
  const torch::Tensor s = q.step_size.detach().to(torch::kFloat);
  if (!torch::isfinite(s).all().item<bool>() || (s <= 0).any().item<bool>())
    throw layer_error(index, l, field + ".step_size", "step sizes must be finite and positive")
        .value(std::to_string(s.min().item<double>()));
  const int64_t expected = q.spec.per_channel() ? channels : 1;
  if (s.numel() != expected)
    throw layer_error(
        index, l, field + ".step_size",
        "expected " + std::to_string(expected) + " step sizes, got " + std::to_string(s.numel()));
  if (q.spec.symmetric != !q.offset.defined())
    throw layer_error(
        index, l, field + ".offset",
        q.spec.symmetric ? "a symmetric spec has no offset" : "an asymmetric spec needs an offset");
  if (q.offset.defined() && q.offset.numel() != s.numel())
    throw layer_error(index, l, field + ".offset", "offset and step size lengths differ");
}

// Sub(beta) -> Clip(s*Qn, s*Qp) -> QuantizeLinear -> DequantizeLinear -> Add(beta) on a per-tensor quantizer.
std::string quantize_activation(GraphBuilder& g, const std::string& x, const StaticQuant& q,
                                const std::string& p) {
  if (q.spec.is_float()) return x;
  const float s = q.step_size.to(torch::kFloat).reshape({}).item<float>();
  std::string cur = x;
  std::string beta;
  if (q.offset.defined()) {
    beta = g.scalar(p + "/in_offset", q.offset.to(torch::kFloat).reshape({}).item<float>());
    cur = g.op("Sub", {cur, beta}, p + "/in_shifted");
  }
  const std::string lo = g.scalar(p + "/in_min", s * static_cast<float>(q.spec.qn()));
  const std::string hi = g.scalar(p + "/in_max", s * static_cast<float>(q.spec.qp()));
  cur = g.op("Clip", {cur, lo, hi}, p + "/in_clipped");
  const std::string scale = g.scalar(p + "/in_scale", s);
  const torch::Tensor zp_value = torch::zeros({}, q.spec.is_signed ? torch::kChar : torch::kByte);
  const std::string zp = g.initializer(p + "/in_zero_point", zp_value);
  cur = g.op("QuantizeLinear", {cur, scale, zp}, p + "/in_q");
  cur = g.op("DequantizeLinear", {cur, scale, zp}, p + "/in_dq");
  if (!beta.empty()) cur = g.op("Add", {cur, beta}, p + "/in_unshifted");
  return cur;
}

// The layer's weight: a float initializer, or integer levels + DequantizeLinear (+ Add(offset)).
std::string weight_tensor(GraphBuilder& g, size_t index, const StaticLayer& l, const std::string& p) {
  const StaticQuant& q = l.weight_quant;
  if (q.spec.is_float()) return g.initializer(p + "/weight", l.weight.to(torch::kFloat));
  const torch::Tensor levels = integer_levels(l.weight, q);
  const bool is_signed = q.spec.is_signed;
  if (levels.min().item<int64_t>() < (is_signed ? -128 : 0) ||
      levels.max().item<int64_t>() > (is_signed ? 127 : 255))
    throw layer_error(index, l, "weight_quant", "integer levels do not fit an 8-bit container");
  const torch::ScalarType container = is_signed ? torch::kChar : torch::kByte;
  const std::string w = g.initializer(p + "/weight_levels", levels.to(container));
  const torch::Tensor step = q.step_size.detach().to(torch::kFloat);
  std::string scale, zp;
  if (q.spec.per_channel()) {
    scale = g.initializer(p + "/weight_scale", step.reshape({-1}));
    zp = g.initializer(p + "/weight_zero_point", torch::zeros({step.numel()}, container));
  } else {
    scale = g.scalar(p + "/weight_scale", step.reshape({}).item<float>());
    zp = g.initializer(p + "/weight_zero_point", torch::zeros({}, container));
  }
  onnx::NodeProto* dq = g.node("DequantizeLinear", {w, scale, zp}, p + "/weight_dq");
  if (q.spec.per_channel()) GraphBuilder::attr(dq, "axis", q.spec.axis);
  std::string cur = p + "/weight_dq";
  if (q.offset.defined()) {
    const std::string off =
        g.initializer(p + "/weight_offset", broadcast_param(q.offset.detach(), q, l.weight.dim()));
    cur = g.op("Add", {cur, off}, p + "/weight_shifted");
  }
  return cur;
}

std::string activation(GraphBuilder& g, const std::string& x, nn::Activation act, const std::string& p) {
  switch (act) {
    case nn::Activation::kNone: return x;
    case nn::Activation::kRelu: return g.op("Relu", {x}, p + "/relu");
    case nn::Activation::kHswish: return g.op("HardSwish", {x}, p + "/hswish");
    case nn::Activation::kHsigmoid: {
      onnx::NodeProto* n = g.node("HardSigmoid", {x}, p + "/hsigmoid");
      GraphBuilder::attr(n, "alpha", 1.0f / 6.0f);
      GraphBuilder::attr(n, "beta", 0.5f);
      return p + "/hsigmoid";
    }
  }
  return x;
}

void check_weighted(size_t index, const StaticLayer& l) {
  const bool conv = l.op == StaticOp::kConv;
  if (!l.weight.defined() || l.weight.dim() != (conv ? 4 : 2))
    throw layer_error(index, l, "weight", conv ? "needs a 4-d conv weight" : "needs a 2-d linear weight");
  if (l.weight.scalar_type() != torch::kFloat) throw layer_error(index, l, "weight", "must be float32");
  const int64_t out = l.weight.size(0);
  if (l.bias.defined() && l.bias.numel() != out)
    throw layer_error(index, l, "bias", "length differs from C_out");
  if (!l.weight_quant.spec.is_float() && l.weight_quant.spec.per_channel() && l.weight_quant.spec.axis != 0)
    throw layer_error(index, l, "weight_quant.spec.axis",
                      "only per-channel weights along axis 0 are exported");
  check_quant(index, l, l.weight_quant, "weight_quant", out);
  check_quant(index, l, l.input_quant, "input_quant", 1);
  if (!l.input_quant.spec.is_float() && l.input_quant.spec.per_channel())
    throw layer_error(index, l, "input_quant.spec.granularity",
                      "per-channel input quantizers are not exported");
}

// The layer's batch norm (inference statistics) on `cur` when it has one; returns the output name.
std::string batch_norm(GraphBuilder& g, const StaticLayer& l, const std::string& cur, const std::string& p) {
  if (!l.batch_norm) return cur;
  const nn::StaticBatchNorm& bn = *l.batch_norm;
  onnx::NodeProto* n = g.node("BatchNormalization",
                              {cur, g.initializer(p + "/bn_weight", bn.weight.to(torch::kFloat)),
                               g.initializer(p + "/bn_bias", bn.bias.to(torch::kFloat)),
                               g.initializer(p + "/bn_mean", bn.running_mean.to(torch::kFloat)),
                               g.initializer(p + "/bn_var", bn.running_var.to(torch::kFloat))},
                              p + "/bn");
  GraphBuilder::attr(n, "epsilon", static_cast<float>(bn.eps));
  return p + "/bn";
}

std::string conv_layer(GraphBuilder& g, size_t index, const StaticLayer& l, const std::string& x,
                       const std::string& p) {
  check_weighted(index, l);
  const std::string xq = quantize_activation(g, x, l.input_quant, p);
  const std::string w = weight_tensor(g, index, l, p);
  std::vector<std::string> inputs{xq, w};
  if (l.bias.defined()) inputs.push_back(g.initializer(p + "/bias", l.bias.to(torch::kFloat)));
  onnx::NodeProto* conv = g.node("Conv", inputs, p + "/conv");
  GraphBuilder::attr(conv, "kernel_shape", std::vector<int64_t>{l.weight.size(2), l.weight.size(3)});
  GraphBuilder::attr(conv, "strides", std::vector<int64_t>{l.stride, l.stride});
  GraphBuilder::attr(conv, "pads", std::vector<int64_t>{l.padding, l.padding, l.padding, l.padding});
  GraphBuilder::attr(conv, "dilations", std::vector<int64_t>{1, 1});
  GraphBuilder::attr(conv, "group", l.groups);
  return activation(g, batch_norm(g, l, p + "/conv", p), l.act, p);
}

std::string linear_layer(GraphBuilder& g, size_t index, const StaticLayer& l, const std::string& x,
                         const std::string& p) {
  check_weighted(index, l);
  onnx::NodeProto* flat = g.node("Flatten", {x}, p + "/flat");
  GraphBuilder::attr(flat, "axis", int64_t{1});
  const std::string xq = quantize_activation(g, p + "/flat", l.input_quant, p);
  std::vector<std::string> inputs{xq, weight_tensor(g, index, l, p)};
  if (l.bias.defined()) inputs.push_back(g.initializer(p + "/bias", l.bias.to(torch::kFloat)));
  onnx::NodeProto* gemm = g.node("Gemm", inputs, p + "/gemm");
  GraphBuilder::attr(gemm, "transB", int64_t{1});
  return activation(g, batch_norm(g, l, p + "/gemm", p), l.act, p);
}

void add_value_info(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int64_t>& dims) {
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  onnx::TensorShapeProto* shape = t->mutable_shape();
  for (int64_t d : dims) {
    if (d < 0)
      shape->add_dim()->set_dim_param("batch");
    else
      shape->add_dim()->set_dim_value(d);
  }
}

void check_options(const nn::StaticModel& model, const OnnxExportOptions& opt) {
  const auto channels = static_cast<size_t>(model.in_channels());
  if (!opt.mean.empty() && opt.mean.size() != channels)
    throw util::input_error("needs one value per input channel (" + std::to_string(channels) + ")")
        .field("mean")
        .value(std::to_string(opt.mean.size()) + " values");
  if (!opt.std.empty() && opt.std.size() != channels)
    throw util::input_error("needs one value per input channel (" + std::to_string(channels) + ")")
        .field("std")
        .value(std::to_string(opt.std.size()) + " values");
  for (float s : opt.std)
    if (!(s > 0) || !std::isfinite(s))
      throw util::input_error("must be finite and positive").field("std").value(std::to_string(s));
}

void add_metadata(onnx::ModelProto& m, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* e = m.add_metadata_props();
  e->set_key(key);
  e->set_value(value);
}

}  // namespace

std::string onnx_model_bytes(const nn::StaticModel& model, const OnnxExportOptions& opt) {
  if (model.layers().empty()) throw util::input_error("cannot export an empty model to ONNX").field("layers");
  check_options(model, opt);
  torch::NoGradGuard no_grad;

  onnx::ModelProto m;
  m.set_ir_version(onnx::IR_VERSION);
  m.set_producer_name("oqa");
  m.set_producer_version(opt.producer_version.empty() ? std::string(OQA_VERSION) : opt.producer_version);
  onnx::OperatorSetIdProto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  add_metadata(m, "oqa.mean", nlohmann::json(opt.mean).dump());
  add_metadata(m, "oqa.std", nlohmann::json(opt.std).dump());
  if (!opt.metadata.is_null()) add_metadata(m, "oqa.metadata", opt.metadata.dump());

  onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name("oqa_static_model");
  GraphBuilder g(graph);
  add_value_info(graph->add_input(), "input",
                 {-1, model.in_channels(), model.resolution(), model.resolution()});

  const auto& layers = model.layers();
  std::vector<std::string> outputs;
  outputs.reserve(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    const StaticLayer& l = layers[i];
    const std::string p = "l" + std::to_string(i) + "_" + (l.name.empty() ? nn::to_string(l.op) : l.name);
    std::vector<std::string> in;
    for (int j : l.inputs) in.push_back(j < 0 ? std::string("input") : outputs.at(static_cast<size_t>(j)));
    switch (l.op) {
      case StaticOp::kConv: outputs.push_back(conv_layer(g, i, l, in.at(0), p)); break;
      case StaticOp::kLinear: outputs.push_back(linear_layer(g, i, l, in.at(0), p)); break;
      case StaticOp::kAdd:
        outputs.push_back(activation(g, g.op("Add", {in.at(0), in.at(1)}, p + "/add"), l.act, p));
        break;
      case StaticOp::kMul: outputs.push_back(g.op("Mul", {in.at(0), in.at(1)}, p + "/mul")); break;
      case StaticOp::kGlobalAvgPool:
        outputs.push_back(g.op("GlobalAveragePool", {in.at(0)}, p + "/pool"));
        break;
    }
  }

  // The last layer's final node writes "logits" directly (no later node reads its old name).
  onnx::NodeProto* last = graph->mutable_node(graph->node_size() - 1);
  OQA_ASSERT(last->output(0) == outputs.back(), "onnx export: the last node must produce the model output");
  last->set_output(0, "logits");
  const StaticLayer& tail = layers.back();
  if (tail.op == StaticOp::kLinear) {
    add_value_info(graph->add_output(), "logits", {-1, tail.weight.size(0)});
  } else {  // a feature map: [batch, channels, height, width], the spatial sizes symbolic
    onnx::ValueInfoProto* out = graph->add_output();
    out->set_name("logits");
    onnx::TypeProto_Tensor* t = out->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    onnx::TensorShapeProto* shape = t->mutable_shape();
    shape->add_dim()->set_dim_param("batch");
    shape->add_dim()->set_dim_value(model.out_channels(static_cast<int>(layers.size()) - 1));
    shape->add_dim()->set_dim_param("height");
    shape->add_dim()->set_dim_param("width");
  }

  try {
    onnx::checker::check_model(m);
  } catch (const std::exception& e) {
    throw util::internal_error(std::string("the ONNX checker rejected the exported model: ") + e.what());
  }
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw util::internal_error("cannot serialise the ONNX model");
  return bytes;
}

void export_onnx(const nn::StaticModel& model, const OnnxExportOptions& opt, const std::string& path) {
  std::string bytes;
  try {
    bytes = onnx_model_bytes(model, opt);
  } catch (util::Error& e) {
    if (e.file_name().empty()) e.file(path);
    throw;
  }
  util::atomic_write(path, bytes);
}

}  // namespace oqa::deploy
