// Learning-rate schedule: linear warm-up then cosine decay to a floor, as a pure function of the step.
#pragma once

#include <cstdint>

namespace oqa::train {

struct ScheduleOptions {
  double base_lr = 0.1;
  double min_lr = 0.0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  // Steps of the same curve already taken by earlier stages: lr_at(step) is the curve at offset_steps + step
  // (a stage that continues its parent's cosine instead of restarting it).
  int64_t offset_steps = 0;
};

class CosineSchedule {
 public:
  explicit CosineSchedule(ScheduleOptions o) : o_(o) {}
  double lr_at(int64_t step) const;  // step counts optimizer steps from 0
  const ScheduleOptions& options() const { return o_; }

 private:
  ScheduleOptions o_;
};

}  // namespace oqa::train
