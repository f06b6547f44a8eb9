#!/usr/bin/env bash
# Writes the fuzz seed corpus, tests/fuzz/corpus/<harness>/, from a tiny run of the built oqa (its exported
# model, subnets and configs) and small hand-made data files (make_seeds.py). Usage: make_corpus.sh [OQA_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
OQA="${1:-build/oqa}"
OUT=tests/fuzz/corpus
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$OQA" --threads 1 --quiet train --config tests/fuzz/tiny-run.json --out "$WORK/run" >/dev/null
"$OQA" --threads 1 --quiet export --run "$WORK/run" --stage w4a4 --subnet smallest --format oqa \
  --out "$WORK/export" >/dev/null
mkdir -p "$OUT"/{oqa_file,oqa_metadata,idx,cifar,image,config,subnet,checkpoint_header}
cp "$WORK/export/model.oqa" "$OUT/oqa_file/tiny-w4a4-smallest.oqa"
for s in largest smallest; do
  "$OQA" --threads 1 --quiet eval --run "$WORK/run" --stage w4a4 --subnet "$s" --json |
    /usr/bin/python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["subnet"]))' >"$OUT/subnet/$s.json"
done
cp tests/fuzz/tiny-run.json configs/fashion-mnist-quick.json configs/fashion-mnist-baseline.json \
  configs/space-resnet20.json "$OUT/config/"
# A JPEG, written with stb_image_write (Python's standard library has no JPEG encoder).
cat >"$WORK/jpeg.cpp" <<'CPP'
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
int main(int, char** argv) {
  unsigned char px[8 * 8 * 3];
  for (int i = 0; i < 8 * 8 * 3; ++i) px[i] = static_cast<unsigned char>(i * 7);
  return stbi_write_jpg(argv[1], 8, 8, 3, px, 80) ? 0 : 1;
}
CPP
g++ -O1 -o "$WORK/jpeg" "$WORK/jpeg.cpp"
"$WORK/jpeg" "$OUT/image/rgb8.jpg"
/usr/bin/python3 tests/fuzz/make_seeds.py "$OUT" "$OUT/oqa_file/tiny-w4a4-smallest.oqa"
echo "[make_corpus] $(find "$OUT" -type f | wc -l) seed files in $OUT"
