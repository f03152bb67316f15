// Hash photos and videos on this device; only the hashes ever leave it (contract 3 in DESIGN.md).
//
//   pdqFromRGBA(rgba, width, height) -> Promise<{hash, quality}>
//   hashFile(file, {onProgress}) -> Promise<{kind: "image", md5, pdq, quality, width, height, format}
//                                          | {kind: "video", md5, frames, vpdq, fps, duration, ...}>
//
// The work runs in a module worker (worker.js) around pdq.wasm; video frames are decoded here,
// by a <video> element, because workers have none (video.js). A file that cannot be hashed
// rejects with a HashingError whose `code` is one of CODES and whose `message` is in the page's
// language when the page loaded Django's JavaScript catalog (/<lang>/jsi18n/).
import { MAX_PIXELS, readBytes, sniff } from "./formats.js";
import { hashVideoFrames } from "./video.js";

// Django's catalog defines gettext and interpolate on window; without it, English.
const gettext = (msgid) => (typeof globalThis.gettext === "function" ? globalThis.gettext(msgid) : msgid);
const interpolate = (format, values) =>
  typeof globalThis.interpolate === "function"
    ? globalThis.interpolate(format, values, true)
    : format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));

const MESSAGES = {
  empty: () => gettext("This file is empty. Please choose the photo or video again."),
  unreadable: () => gettext("This file could not be read. It may be damaged or only partly downloaded."),
  unsupported: () =>
    gettext("This type of file cannot be fingerprinted here. Photos in JPEG, PNG, WebP, GIF or AVIF "
      + "and videos in MP4 or WebM can. On an iPhone, HEIC photos can be shared or saved as JPEG."),
  too_large: () =>
    interpolate(gettext("This image is too large to fingerprint on this device (more than %(megapixels)s "
      + "megapixels). A smaller copy of it, such as a screenshot, can be used instead."),
    { megapixels: Math.floor(MAX_PIXELS / 1e6) }),
  too_plain: () =>
    gettext("This image is too plain to fingerprint: it has too little detail for platforms to recognise "
      + "copies of it. Its exact copies can still be found."),
  bad_input: () => gettext("Something went wrong while fingerprinting this file. Please try again."),
};

const CODES = Object.keys(MESSAGES);

class HashingError extends Error {
  constructor(code, detail = "", extra = {}) {
    super((MESSAGES[code] || MESSAGES.bad_input)());
    this.name = "HashingError";
    this.code = code;
    // For developers and bug reports, never shown to a person: the browser's own words.
    this.detail = detail;
    // too_plain still carries the file's md5 (and the quality): exact copies can be matched.
    Object.assign(this, extra);
  }
}

// One worker serves every call; requests are told apart by id.
let worker = null;
let nextId = 1;
const pending = new Map();

function startWorker() {
  worker = new Worker(new URL("worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => {
    const request = pending.get(data.id);
    if (!request) return;
    if (data.progress) {
      request.onProgress?.(data.progress);
      return;
    }
    pending.delete(data.id);
    if (data.error) {
      const { code, detail, ...extra } = data.error;
      request.reject(new HashingError(code, detail, extra));
    } else {
      request.resolve(data.result);
    }
  };
  // A worker that fails to start (its script or the module blocked) or dies fails every waiting
  // request with a reason, and the next call starts a fresh one.
  worker.onerror = (event) => {
    event.preventDefault();
    const failed = [...pending.values()];
    pending.clear();
    worker.terminate();
    worker = null;
    for (const request of failed) request.reject(new HashingError("bad_input", event.message || "worker failed"));
  };
}

function call(message, { transfer = [], onProgress } = {}) {
  if (!worker) startWorker();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...message, id }, transfer);
  });
}

export async function pdqFromRGBA(rgba, width, height) {
  if (!(rgba instanceof Uint8Array || rgba instanceof Uint8ClampedArray)) {
    throw new TypeError("pdqFromRGBA needs a Uint8Array or Uint8ClampedArray of RGBA pixels");
  }
  // Copied, not transferred: the caller keeps its pixels.
  const { hash, quality } = await call({ op: "pdq", rgba, width, height });
  return { hash, quality };
}

function progressReporter(onProgress) {
  if (typeof onProgress !== "function") return () => {};
  let last = -1;
  return ({ phase, fraction }) => {
    // Progress only moves forward, whatever order the worker's parts report in.
    if (fraction < last) return;
    last = fraction;
    onProgress({ phase, fraction });
  };
}

export async function hashFile(file, { onProgress } = {}) {
  if (!(file instanceof Blob)) throw new TypeError("hashFile needs a File or Blob");
  const report = progressReporter(onProgress);
  if (file.size === 0) throw new HashingError("empty");
  const { kind } = sniff(await readBytes(file, 0, 64));
  if (kind !== "video") {
    // Images, and files that are neither: the worker names the reason.
    const result = await call({ op: "image", file }, { onProgress: report });
    report({ phase: "done", fraction: 1 });
    return result;
  }
  return hashVideo(file, report);
}

async function hashVideo(file, report) {
  // MD5 (in the worker) and the frames (decoded here, hashed in the worker) run side by side.
  const parts = { reading: 0, frames: 0 };
  const both = (phase) => ({ fraction }) => {
    parts[phase] = fraction;
    report({ phase, fraction: (parts.reading + parts.frames) / 2 });
  };
  const digest = call({ op: "md5", file }, { onProgress: both("reading") });
  const hashFrame = (bitmap) => call({ op: "frame", bitmap }, { transfer: [bitmap] });
  let video;
  try {
    video = await hashVideoFrames(file, hashFrame, both("frames"));
  } catch (error) {
    // A video this browser cannot play still has an MD5, which finds exact copies: keep it,
    // with the reason its frames are missing.
    const code = CODES.includes(error.code) ? error.code : "unreadable";
    video = { frames: [], warning: new HashingError(code, String(error.detail || error)) };
  }
  const { md5 } = await digest;
  report({ phase: "done", fraction: 1 });
  const { warning, ...rest } = video;
  const result = { kind: "video", md5, ...rest };
  if (warning) result.warning = { code: warning.code, message: warning.message, detail: warning.detail };
  return result;
}
