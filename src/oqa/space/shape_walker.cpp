// ShapeWalker: conv, pooled pointwise and linear layer shapes with their slots' specs.
#include "oqa/space/shape_walker.h"

#include "oqa/space/space.h"

namespace oqa::space {
namespace {

// Field by field: a whole-struct copy reads the just-returned specs with 16-byte loads across their narrower
// stores, which the CPU cannot forward (a fifth of the search's cost count, measured).
void copy_fields(const quant::QuantSpec& from, quant::QuantSpec& to) {
  to.bits = from.bits;
  to.is_signed = from.is_signed;
  to.granularity = from.granularity;
  to.axis = from.axis;
  to.symmetric = from.symmetric;
}

}  // namespace

ShapeWalker::ShapeWalker(const Space& space, const Subnet& subnet, LayerSink& sink)
    : space_(space), subnet_(subnet), sink_(sink), size_(subnet.resolution) {}

void ShapeWalker::emit(nn::LayerShape& l, size_t slot) {
  const nn::LayerQuantSpecs specs = space_.slot_specs(subnet_, slot);
  copy_fields(specs.weight, l.weight_spec);
  copy_fields(specs.input, l.input_spec);
  sink_.layer(l, slot);
}

void ShapeWalker::conv(size_t slot, int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                       bool bias, bool batch_norm) {
  nn::LayerShape l;
  l.in_channels = in;
  l.out_channels = out;
  l.kernel_size = kernel;
  l.stride = stride;
  l.groups = groups;
  l.in_height = l.in_width = size_;
  size_ = nn::conv_out_size(size_, kernel, stride);
  l.out_height = l.out_width = size_;
  l.bias = bias;
  l.batch_norm = batch_norm;
  emit(l, slot);
}

void ShapeWalker::pointwise_on_pooled(size_t slot, int64_t in, int64_t out, bool bias, bool batch_norm) {
  const int64_t keep = size_;
  size_ = 1;
  conv(slot, in, out, 1, 1, 1, bias, batch_norm);
  size_ = keep;
}

void ShapeWalker::linear(size_t slot, int64_t in, int64_t out, bool bias) {
  nn::LayerShape l;
  l.linear = true;
  l.in_channels = in;
  l.out_channels = out;
  l.bias = bias;
  emit(l, slot);
}

}  // namespace oqa::space
