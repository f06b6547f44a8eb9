// ort_run.js: runs an ONNX model with ONNX Runtime (onnxruntime-node) on raw float32 inputs, in batches.
//
// Usage: node tools/ort_run.js --model M.onnx --input X.bin --shape N,C,H,W --output Y.bin
//                              [--batch 64] [--threads T] [--repeat R] [--warmup W]
// X.bin holds N*C*H*W little-endian float32 values; Y.bin receives the concatenated outputs of every batch
// (float32, little-endian). Prints one JSON line on stdout:
//   {"outputs": [N, classes], "seconds": S, "per_batch_ms": M, "batch": b, "threads": T, "ort_version": V}
// seconds: inference time of one whole pass (the median pass when --repeat > 1); per_batch_ms: median latency
// of one full batch over every timed pass. Errors: one line on stderr, exit status 1.
'use strict';

const fs = require('fs');
const path = require('path');

const ORT_DIR = path.join(__dirname, '..', 'third_party', 'npm', 'node_modules', 'onnxruntime-node');

function oneLine(text) {
  return String(text).split('\n').map((s) => s.trim()).filter((s) => s).join(' ');
}

function fail(message) {
  process.stderr.write(`ort_run: ${oneLine(message)}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { batch: 64, threads: 1, repeat: 1, warmup: 0 };
  const ints = { '--batch': 'batch', '--threads': 'threads', '--repeat': 'repeat', '--warmup': 'warmup' };
  const strings = { '--model': 'model', '--input': 'input', '--shape': 'shape', '--output': 'output' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1];
    if (!(key in ints) && !(key in strings)) fail(`unknown argument '${key}'`);
    if (value === undefined) fail(`${key} needs a value`);
    if (key in strings) {
      opts[strings[key]] = value;
    } else {
      const n = Number(value);
      const min = key === '--warmup' ? 0 : 1;
      if (!Number.isInteger(n) || n < min) fail(`${key} must be an integer >= ${min}, got '${value}'`);
      opts[ints[key]] = n;
    }
  }
  for (const key of Object.keys(strings))
    if (opts[strings[key]] === undefined) fail(`missing ${key}`);
  const dims = opts.shape.split(',').map(Number);
  if (dims.length !== 4 || dims.some((d) => !Number.isInteger(d) || d < 1))
    fail(`--shape must be N,C,H,W with positive integers, got '${opts.shape}'`);
  opts.dims = dims;
  return opts;
}

function loadOrt() {
  if (!fs.existsSync(path.join(ORT_DIR, 'package.json')))
    fail(`onnxruntime-node not installed in ${ORT_DIR}: run scripts/install-deps.sh`);
  try {
    return require(ORT_DIR);
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${ORT_DIR}: ${e.message}`);
  }
  return null;
}

function readInputs(file, dims) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    fail(`cannot read --input ${file}: ${e.code || e.message}`);
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== count * 4)
    fail(`--input ${file} has ${buf.length} bytes, --shape ${dims.join(',')} needs ${count * 4}`);
  // Copy into an aligned Float32Array (the file buffer may not be 4-byte aligned).
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = buf.readFloatLE(i * 4);
  return data;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function runPass(ort, session, data, dims, batch, latencies) {
  const [n, c, h, w] = dims;
  const per = c * h * w;
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const outputs = [];
  let total = 0;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const tensor = new ort.Tensor('float32', data.subarray(start * per, (start + b) * per), [b, c, h, w]);
    const t0 = process.hrtime.bigint();
    const result = await session.run({ [inputName]: tensor });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    total += ms;
    if (latencies && b === Math.min(batch, n)) latencies.push(ms);
    outputs.push(result[outputName]);
  }
  return { outputs, seconds: total / 1000 };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const data = readInputs(opts.input, opts.dims);
  if (!fs.existsSync(opts.model)) fail(`--model ${opts.model} does not exist`);
  let session;
  try {
    session = await ort.InferenceSession.create(opts.model, {
      intraOpNumThreads: opts.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
  } catch (e) {
    fail(`cannot load --model ${opts.model}: ${e.message}`);
  }
  try {
    for (let i = 0; i < opts.warmup; ++i) await runPass(ort, session, data, opts.dims, opts.batch, null);
    const latencies = [];
    const passSeconds = [];
    let last = null;
    for (let i = 0; i < opts.repeat; ++i) {
      last = await runPass(ort, session, data, opts.dims, opts.batch, latencies);
      passSeconds.push(last.seconds);
    }
    const first = last.outputs[0];
    const rows = last.outputs.reduce((a, t) => a + t.dims[0], 0);
    const tail = first.dims.slice(1);
    const parts = last.outputs.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    try {
      fs.writeFileSync(opts.output, Buffer.concat(parts));
    } catch (e) {
      fail(`cannot write --output ${opts.output}: ${e.code || e.message}`);
    }
    process.stdout.write(
      JSON.stringify({
        outputs: [rows, ...tail],
        seconds: median(passSeconds),
        per_batch_ms: median(latencies),
        batch: opts.batch,
        threads: opts.threads,
        ort_version: ort.env.versions.node || ort.env.versions.common,
      }) + '\n',
    );
  } catch (e) {
    fail(`inference failed: ${e.message}`);
  }
}

main().catch((e) => fail(e && e.message ? e.message : e));
