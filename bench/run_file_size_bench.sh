#!/usr/bin/env bash
# File size of a low-bit .oqa against the same subnets with float32 weights, for a config whose every layer is
# quantized: a short run (file sizes depend on the architecture and bits, not on how long it trained), then
# `oqa export` of the largest and smallest subnets.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bench/run_file_size_bench.sh [--config C] [--bits B] [--out DIR] [--build DIR]
  --config C   training config whose space to measure (default configs/fashion-mnist.json)
  --bits B     weight and activation bits of every layer (default 2)
  --out DIR    run folder (default build/bench-file-size; replaced)
  --build DIR  CMake build folder holding oqa (default: $OQA_BUILD_DIR or <repo>/build)
Every precision group of the space (stem, blocks, squeeze-excite, head, classifier) is set to "searched" so
the whole network is quantized at B bits; the run trains one short float stage and one wBaB stage on 512
images.
USAGE
}

root="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
config="$root/configs/fashion-mnist.json"
bits=2
build="${OQA_BUILD_DIR:-$root/build}"
out="$build/bench-file-size"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --bits) bits="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "error: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -x "$build/oqa" ]] || { echo "error: $build/oqa not found; build it: bash scripts/build.sh oqa" >&2; exit 2; }
stage="w${bits}a${bits}"
sets=(--set data.train_images=512 --set data.val_images=256 --set supernet.bn_recal_images=256
      --set "supernet.stages=[{\"quant\":\"float\",\"epochs\":1,\"lr\":0.05},{\"quant\":\"$stage\",\"epochs\":1,\"lr\":0.01}]"
      --set "space.quant={\"weight_bits\":[$bits],\"act_bits\":[$bits]}")
if grep -q '"kind": *"resnet"' "$config"; then
  groups=(stem blocks shortcut classifier)
else
  groups=(stem first_block blocks se final_expand feature_mix classifier)
fi
for g in "${groups[@]}"; do sets+=(--set "space.precision.$g=searched"); done
rm -rf "$out"
echo "training a short all-$stage run of $config in $out ..." >&2
"$build/oqa" train --config "$config" --out "$out" "${sets[@]}" >"$out.train.log" 2>&1 ||
  { tail -5 "$out.train.log" >&2; exit 1; }
for subnet in largest smallest; do
  echo "== $stage $subnet"
  "$build/oqa" export --run "$out" --stage "$stage" --subnet "$subnet" --format oqa --out "$out/export-$subnet" |
    grep -E "^MACs|smaller than"
done
