// vPDQ-style frame hashes of a video, decoded by the browser's own <video> element (workers have
// no media elements; WebCodecs would need a demuxer of our own for every container).
//
// Meta's vpdq hashes frame n when n % frameMod == 0, with frameMod = trunc(secondsPerHash * fps)
// (at least 1) and secondsPerHash = 1, and stamps it n / fps in float32. We find the frame rate
// from the frames themselves (two presentation times one frame apart), then seek to the middle of
// each chosen frame, so that frame and no neighbour is shown, and hand its pixels to the worker.
// Frames are hashed at the video's own size, like vpdq without downsampling.

const SECONDS_PER_HASH = 1;
// Seeking takes a few milliseconds per frame; a stuck one must not hang the page.
const SEEK_TIMEOUT_MS = 10_000;

class VideoFailure extends Error {
  constructor(code, detail) {
    super(detail);
    this.code = code;
    this.detail = detail;
  }
}

function once(target, events, timeoutMs = SEEK_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(reject, new VideoFailure("unreadable", `timed out waiting for ${events}`)), timeoutMs);
    const handlers = {};
    const finish = (settle, value) => {
      clearTimeout(timer);
      for (const [name, handler] of Object.entries(handlers)) target.removeEventListener(name, handler);
      settle(value);
    };
    for (const name of events) {
      handlers[name] = (event) => finish(resolve, event);
      target.addEventListener(name, handlers[name]);
    }
  });
}

function mediaError(video) {
  // MEDIA_ERR_SRC_NOT_SUPPORTED (4): a container or codec this browser does not play.
  const error = video.error;
  const code = error && error.code === 4 ? "unsupported" : "unreadable";
  return new VideoFailure(code, error ? `MediaError ${error.code}: ${error.message}` : "media error");
}

// Seek, and resolve with the presentation time of the frame now shown (not the time asked for).
async function seek(video, time) {
  const shown = new Promise((resolve) => {
    video.requestVideoFrameCallback((_now, metadata) => resolve(metadata.mediaTime));
  });
  const seeked = once(video, ["seeked", "error"]);
  video.currentTime = time;
  const event = await seeked;
  if (event.type === "error") throw mediaError(video);
  return Promise.race([
    shown,
    new Promise((_, reject) => setTimeout(() => reject(new VideoFailure("unreadable", "no frame shown after seek")), SEEK_TIMEOUT_MS)),
  ]);
}

// Containers store frame rates as rationals (30000/1001), but some (WebM) keep times only to the
// millisecond, so one frame's duration (33 or 34 ms) cannot tell 30 from 29.97 frames a second.
// A frame a second or more into the video can: it starts at a whole number of frames at the
// true rate. Rates no camera uses are kept as measured.
const COMMON_RATES = [24000 / 1001, 24, 25, 30000 / 1001, 30, 48, 50, 60000 / 1001, 60, 100, 120, 240];

async function frameRate(video) {
  const shown = await seek(video, Math.min(video.duration / 2, 1));
  const previous = await seek(video, Math.max(0, shown - 1e-4));
  const frame = shown - previous;
  if (!(frame > 0)) throw new VideoFailure("unreadable", "could not measure the frame rate");
  const far = await seek(video, Math.min(video.duration * 0.9, 10));
  const offGrid = (rate) => Math.abs(far * rate - Math.round(far * rate));
  const fitting = COMMON_RATES
    .filter((rate) => Math.abs(1 / rate - frame) < 0.0015 && offGrid(rate) <= 0.0006 * rate + 1e-6)
    .sort((a, b) => offGrid(a) - offGrid(b));
  return fitting.length ? fitting[0] : 1 / frame;
}

export async function hashVideoFrames(file, hashFrame, progress) {
  const url = URL.createObjectURL(file);
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.preload = "auto";
  // Off screen but rendered: Chromium shows (and reports) frames only of rendered videos.
  Object.assign(video.style, { position: "fixed", left: "-10000px", top: "0", width: "16px", height: "16px" });
  video.setAttribute("aria-hidden", "true");
  document.body.append(video);
  try {
    const loaded = once(video, ["loadeddata", "error"], 30_000);
    video.src = url;
    if ((await loaded).type === "error") throw mediaError(video);
    const { videoWidth: width, videoHeight: height, duration } = video;
    if (!width || !height || !Number.isFinite(duration)) throw new VideoFailure("unreadable", "no video track");
    const fps = await frameRate(video);
    const frameMod = Math.max(1, Math.trunc(SECONDS_PER_HASH * fps));
    const frameCount = Math.round(duration * fps);
    const frames = [];
    for (let n = 0; n < frameCount; n += frameMod) {
      await seek(video, (n + 0.5) / fps);
      const bitmap = await createImageBitmap(video, { colorSpaceConversion: "none" });
      const { hash, quality } = await hashFrame(bitmap);
      const timestamp = Math.fround(Math.fround(n) / Math.fround(fps));
      frames.push({ frameNumber: n, timestamp: Number(timestamp.toFixed(3)), pdq: hash, quality });
      progress({ fraction: Math.min(1, (n + frameMod) / frameCount) });
    }
    // The text vpdq writes: one "frame,quality,hash,timestamp" line per hashed frame.
    const vpdq = frames.map((f) => `${f.frameNumber},${f.quality},${f.pdq},${f.timestamp.toFixed(3)}\n`).join("");
    return { width, height, duration, fps, frames, vpdq };
  } finally {
    video.removeAttribute("src");
    video.load();
    video.remove();
    URL.revokeObjectURL(url);
  }
}
