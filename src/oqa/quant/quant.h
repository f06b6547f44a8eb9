// oqa::quant umbrella header: specs, the LSQ op, step-size init, the Quantizer module, bit inheritance.
#pragma once

#include "oqa/quant/bit_inheritance.h"
#include "oqa/quant/lsq.h"
#include "oqa/quant/quant_spec.h"
#include "oqa/quant/quantizer.h"
#include "oqa/quant/step_init.h"
