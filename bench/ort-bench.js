// Times one ONNX model under ONNX Runtime's CPU provider, the peer segd's
// benchmark compares against. Usage:
//   node ort-bench.js MODEL.onnx SIZE THREADS ITERS WARMUP
// Prints one "run MS" line per timed run, then "maxrss KIB", so that the
// driver can pool runs from several interleaved batches.
'use strict';
const ort = require('onnxruntime-node');

// Same spirit as seg bench's input: deterministic, roughly unit variance.
function fillRandom(x) {
  let s = 0x12345678 >>> 0;
  for (let i = 0; i < x.length; i++) {
    let sum = 0;
    for (let k = 0; k < 4; k++) {
      s ^= s << 13; s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5; s >>>= 0;
      sum += s / 4294967296;
    }
    x[i] = (sum - 2) * 1.7320508;
  }
}

async function main() {
  const [file, size, threads, iters, warmup] = process.argv.slice(2);
  if (!file || !size) {
    console.error('usage: node ort-bench.js MODEL SIZE THREADS ITERS WARMUP');
    process.exit(2);
  }
  const n = Number(size), t = Number(threads || 1);
  const session = await ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: t,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const data = new Float32Array(3 * n * n);
  fillRandom(data);
  const feeds = {};
  feeds[session.inputNames[0]] =
      new ort.Tensor('float32', data, [1, 3, n, n]);
  const total = Number(warmup || 3) + Number(iters || 20);
  for (let i = 0; i < total; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= Number(warmup || 3))
      console.log(`run ${ms.toFixed(3)}`);
  }
  console.log(`maxrss ${process.resourceUsage().maxRSS}`);
}

main().catch((e) => {
  console.error(`ort-bench: ${e.message}`);
  process.exit(1);
});
