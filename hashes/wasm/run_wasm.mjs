// Run the built pdq.wasm under Node.js, without a browser, for tests and benchmarks.
//
//   node hashes/wasm/run_wasm.mjs pdq WASM RGBA_FILE WIDTH HEIGHT [REPEATS]
//       -> {"hash": "<64 hex>", "quality": N, "ms": [per-run milliseconds]}
//   node hashes/wasm/run_wasm.mjs md5 WASM FILE [CHUNK_BYTES]
//       -> {"md5": "<32 hex>", "bytes": N, "ms": total}
//   node hashes/wasm/run_wasm.mjs batch WASM MANIFEST_JSON
//       MANIFEST_JSON: [{"path": RGBA_FILE, "width": W, "height": H}, ...]
//       -> one {"hash", "quality", "memory_bytes"} per entry, in order, as a JSON list
//          (memory_bytes: the module's linear memory after that entry)
//
// It uses the module exactly as the browser worker does: alloc, copy RGBA in,
// pdq_hash, read 32 hash bytes and an int32 quality, free.
import { openSync, readSync, closeSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

async function load(wasmPath) {
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
  return instance.exports;
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function pdqOnce(wasm, rgba, width, height) {
  // Pointers are unsigned: >>> 0 keeps those above 2 GiB positive.
  const input = wasm.alloc(rgba.length) >>> 0;
  const out = wasm.alloc(36) >>> 0;
  if (!input || !out) throw new Error("wasm alloc failed");
  new Uint8Array(wasm.memory.buffer, input, rgba.length).set(rgba);
  const start = performance.now();
  const status = wasm.pdq_hash(input, width, height, out);
  const ms = performance.now() - start;
  if (status !== 0) throw new Error(`pdq_hash returned ${status}`);
  const view = new DataView(wasm.memory.buffer, out, 36);
  const hash = hex(new Uint8Array(wasm.memory.buffer, out, 32));
  const quality = view.getInt32(32, true);
  wasm.free(out);
  wasm.free(input);
  return { hash, quality, ms };
}

async function pdq([wasmPath, rgbaPath, width, height, repeats = "1"]) {
  const wasm = await load(wasmPath);
  const rgba = readFileSync(rgbaPath);
  let result;
  const times = [];
  for (let i = 0; i < Number(repeats); i++) {
    result = pdqOnce(wasm, rgba, Number(width), Number(height));
    times.push(result.ms);
  }
  return {
    hash: result.hash,
    quality: result.quality,
    ms: times,
    memory_bytes: wasm.memory.buffer.byteLength,
  };
}

async function batch([wasmPath, manifestPath]) {
  const wasm = await load(wasmPath);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  return manifest.map(({ path, width, height }) => {
    const { hash, quality } = pdqOnce(wasm, readFileSync(path), width, height);
    return { hash, quality, memory_bytes: wasm.memory.buffer.byteLength };
  });
}

async function md5([wasmPath, filePath, chunkBytes = String(1 << 20)]) {
  const wasm = await load(wasmPath);
  const chunk = Number(chunkBytes);
  const ctx = wasm.alloc(wasm.md5_ctx_size()) >>> 0;
  const buf = wasm.alloc(chunk) >>> 0;
  const out = wasm.alloc(16) >>> 0;
  wasm.md5_init(ctx);
  const fd = openSync(filePath, "r");
  const staging = Buffer.alloc(chunk);
  let total = 0;
  let ms = 0;
  for (;;) {
    const n = readSync(fd, staging, 0, chunk, null);
    if (n === 0) break;
    const start = performance.now();
    new Uint8Array(wasm.memory.buffer, buf, n).set(staging.subarray(0, n));
    wasm.md5_update(ctx, buf, n);
    ms += performance.now() - start;
    total += n;
  }
  closeSync(fd);
  wasm.md5_final(ctx, out);
  return { md5: hex(new Uint8Array(wasm.memory.buffer, out, 16)), bytes: total, ms };
}

const [mode, ...args] = process.argv.slice(2);
const modes = { pdq, md5, batch };
if (!modes[mode]) {
  console.error("usage: run_wasm.mjs pdq|md5|batch WASM ...");
  process.exit(2);
}
console.log(JSON.stringify(await modes[mode](args)));
