// The hashing worker: reads, decodes and hashes files off the page's thread, so the page keeps
// responding while a 48 MP photo or a 2 GB video is hashed. Driven by hasher.js through messages:
//   {id, op: "pdq", rgba, width, height}  -> {hash, quality, ms}
//   {id, op: "frame", bitmap}             -> {hash, quality}        (a video frame, see video.js)
//   {id, op: "image", file}               -> {kind: "image", md5, pdq, quality, width, height, format}
//   {id, op: "md5", file}                 -> {md5, bytes}
//   {id, op: "stats"}                     -> {memoryBytes}
// Each answer is {id, result} or {id, error: {code, detail}}; long jobs also send
// {id, progress: {phase, fraction}}. Messages for people are made in hasher.js, which has the
// page's translations.
import { MAX_PIXELS, imageSize, readBytes, sniff, tooLarge } from "./formats.js";

const MD5_CHUNK = 4 * 1024 * 1024;
const HEAD_BYTES = 64 * 1024;
// Below this PDQ quality, a picture has too little structure for a match to mean anything;
// python-threatexchange ignores such PDQ hashes too.
const MIN_QUALITY = 50;

class HashingFailure extends Error {
  constructor(code, detail = "", extra = {}) {
    super(detail || code);
    this.code = code;
    this.extra = extra;
  }
}

let exportsPromise = null;

function wasm() {
  exportsPromise ??= (async () => {
    const url = new URL("pdq.wasm", import.meta.url);
    const { instance } = await WebAssembly.instantiateStreaming(fetch(url), {});
    warmUp(instance.exports);
    return instance.exports;
  })();
  return exportsPromise;
}

// V8 first runs WebAssembly through its baseline compiler and optimises a function once it has
// run a while. A small picture hashed at start-up (a few ms) gets the hot loops optimised before
// a person's first photo, which then takes a third of the time it otherwise would.
function warmUp(module) {
  const width = 768;
  const height = 512;
  const pixels = new Uint8Array(width * height * 4);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) >>> 24;
  pdqHash(module, pixels, width, height);
}

function hex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function pdqHash(module, rgba, width, height) {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0
      || rgba.length !== width * height * 4) {
    throw new HashingFailure("bad_input", `expected ${width}x${height}x4 bytes, got ${rgba.length}`);
  }
  // Pointers are unsigned 32-bit: >>> 0 keeps those above 2 GiB positive.
  const input = module.alloc(rgba.length) >>> 0;
  const out = module.alloc(36) >>> 0;
  try {
    if (!input || !out) throw new HashingFailure("too_large", "out of WebAssembly memory");
    // alloc may grow memory, which detaches earlier views: take views only after the last alloc.
    new Uint8Array(module.memory.buffer, input, rgba.length).set(rgba);
    const start = performance.now();
    const status = module.pdq_hash(input, width, height, out);
    const ms = performance.now() - start;
    if (status === -2) throw new HashingFailure("too_large", "out of WebAssembly memory");
    if (status !== 0) throw new HashingFailure("bad_input", `pdq_hash returned ${status}`);
    const result = new Uint8Array(module.memory.buffer, out, 36);
    const quality = new DataView(module.memory.buffer, out + 32, 4).getInt32(0, true);
    // ms (the WebAssembly call alone) is for benchmarks/hashing.py; hasher.js passes on hash and quality.
    return { hash: hex(result.subarray(0, 32)), quality, ms };
  } finally {
    if (out) module.free(out);
    if (input) module.free(input);
  }
}

// The pixels as a person sees them on a white page: transparent parts are composited over white
// (documented in docs/hashing.md; hashes/decoding.py does the same), because the colour under a
// fully transparent pixel is invisible, arbitrary, and lost by the canvas anyway.
function pixelsOf(bitmap) {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = "#fff";
  context.fillRect(0, 0, width, height);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  return context.getImageData(0, 0, width, height).data;
}

// The file's bytes as a stream, piece by piece: never the whole file in memory.
// A "bring your own buffer" reader fills one buffer again and again (about twice as fast as
// reading slices in Chromium); browsers without one get the stream's own pieces.
async function* pieces(file) {
  const stream = file.stream();
  let reader;
  try {
    reader = stream.getReader({ mode: "byob" });
  } catch {
    reader = stream.getReader();
  }
  const byob = typeof ReadableStreamBYOBReader === "function" && reader instanceof ReadableStreamBYOBReader;
  let buffer = new ArrayBuffer(MD5_CHUNK);
  for (;;) {
    const { done, value } = await (byob ? reader.read(new Uint8Array(buffer)) : reader.read());
    if (done) return;
    yield value;
    if (byob) buffer = value.buffer;
  }
}

async function md5(file, report) {
  const module = await wasm();
  const ctx = module.alloc(module.md5_ctx_size()) >>> 0;
  const buffer = module.alloc(MD5_CHUNK) >>> 0;
  const out = module.alloc(16) >>> 0;
  try {
    if (!ctx || !buffer || !out) throw new HashingFailure("too_large", "out of WebAssembly memory");
    module.md5_init(ctx);
    let done = 0;
    let reported = 0;
    try {
      for await (const piece of pieces(file)) {
        for (let at = 0; at < piece.length; at += MD5_CHUNK) {
          const part = piece.subarray(at, at + MD5_CHUNK);
          new Uint8Array(module.memory.buffer, buffer, part.length).set(part);
          module.md5_update(ctx, buffer, part.length);
        }
        done += piece.length;
        // A message per megabyte or so is plenty for a progress bar.
        if (done - reported >= MD5_CHUNK || done === file.size) {
          reported = done;
          report(done / file.size);
        }
      }
    } catch (error) {
      // The file changed or vanished on disk since it was picked.
      throw new HashingFailure("unreadable", String(error));
    }
    if (done !== file.size) throw new HashingFailure("unreadable", `read ${done} of ${file.size} bytes`);
    module.md5_final(ctx, out);
    return hex(new Uint8Array(module.memory.buffer, out, 16));
  } finally {
    for (const ptr of [out, buffer, ctx]) if (ptr) module.free(ptr);
  }
}

async function decode(file) {
  try {
    return await createImageBitmap(file, {
      imageOrientation: "from-image",
      colorSpaceConversion: "none",
      premultiplyAlpha: "none",
    });
  } catch (error) {
    throw new HashingFailure("unreadable", String(error));
  }
}

async function hashImage(file, progress) {
  if (file.size === 0) throw new HashingFailure("empty");
  const head = await readBytes(file, 0, HEAD_BYTES);
  const { kind, format } = sniff(head);
  if (kind === "video") throw new HashingFailure("bad_input", "a video was sent as an image");
  if (kind !== "image") throw new HashingFailure("unsupported", format || "unknown signature");
  const size = await imageSize(file, format, head);
  if (size && tooLarge(size)) {
    throw new HashingFailure("too_large", `${size.width}x${size.height}`, { maxPixels: MAX_PIXELS });
  }
  const digest = await md5(file, (f) => progress("reading", 0.4 * f));
  progress("decoding", 0.4);
  const bitmap = await decode(file);
  const { width, height } = bitmap;
  if (tooLarge({ width, height })) {
    bitmap.close();
    throw new HashingFailure("too_large", `${width}x${height}`, { maxPixels: MAX_PIXELS });
  }
  const pixels = pixelsOf(bitmap);
  progress("hashing", 0.8);
  const { hash, quality } = pdqHash(await wasm(), pixels, width, height);
  progress("hashing", 1);
  if (quality < MIN_QUALITY) {
    throw new HashingFailure("too_plain", `quality ${quality}`, { md5: digest, quality });
  }
  return { kind: "image", format, md5: digest, pdq: hash, quality, width, height };
}

async function hashFrame(bitmap) {
  const { width, height } = bitmap;
  return pdqHash(await wasm(), pixelsOf(bitmap), width, height);
}

const operations = {
  pdq: async ({ rgba, width, height }) => pdqHash(await wasm(), rgba, width, height),
  frame: ({ bitmap }) => hashFrame(bitmap),
  image: ({ file }, progress) => hashImage(file, progress),
  md5: async ({ file }, progress) => {
    if (file.size === 0) throw new HashingFailure("empty");
    return { md5: await md5(file, (f) => progress("reading", f)), bytes: file.size };
  },
  stats: async () => ({ memoryBytes: (await wasm()).memory.buffer.byteLength }),
};

self.onmessage = async ({ data }) => {
  const { id, op } = data;
  const progress = (phase, fraction) => self.postMessage({ id, progress: { phase, fraction } });
  try {
    const result = await operations[op](data, progress);
    self.postMessage({ id, result });
  } catch (error) {
    const failure = error instanceof HashingFailure
      ? error
      // Anything else is a browser failure we did not foresee (out of memory while decoding,
      // most often): still an answer, never a silent stop.
      : new HashingFailure("unreadable", `${error && error.name}: ${error && error.message}`);
    self.postMessage({ id, error: { code: failure.code, detail: failure.message, ...failure.extra } });
  }
};
