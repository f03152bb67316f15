// What a file is, and how big an image is, from its first bytes: read before anything is decoded,
// so that a file the browser cannot decode, or one so large that decoding it could take the tab
// down, is refused with a reason instead. hashes/decoding.py applies the same limit on the server.

// 2^26 pixels (256 MiB as RGBA): above the 48-64 MP of today's phone cameras, and about what a
// phone's tab can hold twice (the decoded pixels and their copy in WebAssembly memory).
export const MAX_PIXELS = 2 ** 26;
// The largest side a canvas accepts in Chromium and Firefox.
export const MAX_SIDE = 32767;

// Kinds of file by signature. "unsupported" formats are photos that browsers cannot decode.
const IMAGE = "image";
const VIDEO = "video";
const UNSUPPORTED = "unsupported";

const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"]);
const AVIF_BRANDS = new Set(["avif", "avis"]);

export async function readBytes(file, start, length) {
  return new Uint8Array(await file.slice(start, start + length).arrayBuffer());
}

function ascii(bytes, start, length) {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes, signature, offset = 0) {
  return signature.every((b, i) => bytes[offset + i] === b);
}

// -> {kind: "image"|"video"|"unsupported"|null, format}
export function sniff(head) {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: IMAGE, format: "jpeg" };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: IMAGE, format: "png" };
  if (ascii(head, 0, 4) === "GIF8") return { kind: IMAGE, format: "gif" };
  if (ascii(head, 0, 2) === "BM") return { kind: IMAGE, format: "bmp" };
  if (ascii(head, 0, 4) === "RIFF") {
    const type = ascii(head, 8, 4);
    if (type === "WEBP") return { kind: IMAGE, format: "webp" };
    if (type === "AVI ") return { kind: VIDEO, format: "avi" };
  }
  if (ascii(head, 4, 4) === "ftyp") {
    // ISO base media: the major brand and the compatible ones say what is inside.
    const size = new DataView(head.buffer, head.byteOffset).getUint32(0);
    const brands = [];
    for (let at = 8; at + 4 <= Math.min(size, head.length); at += 4) if (at !== 12) brands.push(ascii(head, at, 4));
    if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: IMAGE, format: "avif" };
    if (brands.some((b) => HEIF_BRANDS.has(b))) return { kind: UNSUPPORTED, format: "heic" };
    return { kind: VIDEO, format: "mp4" };
  }
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: VIDEO, format: "webm" };
  if (ascii(head, 0, 4) === "OggS") return { kind: VIDEO, format: "ogg" };
  if (ascii(head, 0, 4) === "II*\0" || ascii(head, 0, 4) === "MM\0*") return { kind: UNSUPPORTED, format: "tiff" };
  if (ascii(head, 0, 4) === "8BPS") return { kind: UNSUPPORTED, format: "psd" };
  return { kind: null, format: null };
}

// JPEG keeps its size in the frame header (SOFn), after any number of other segments (EXIF,
// ICC profiles) that can be large: walk the segments by their lengths, reading only headers.
async function jpegSize(file) {
  let at = 2;
  while (at + 4 <= file.size) {
    const header = await readBytes(file, at, 10);
    if (header[0] !== 0xff) return null;
    const marker = header[1];
    if (marker === 0xff) { at += 1; continue; } // fill byte
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { at += 2; continue; }
    const isFrame = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isFrame) {
      return { height: (header[5] << 8) | header[6], width: (header[7] << 8) | header[8] };
    }
    if (marker === 0xda || marker === 0xd9) return null; // image data with no frame header
    at += 2 + ((header[2] << 8) | header[3]);
  }
  return null;
}

function webpSize(head) {
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  const chunk = ascii(head, 12, 4);
  if (chunk === "VP8 " && head.length >= 30) {
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff };
  }
  if (chunk === "VP8L" && head.length >= 25) {
    const bits = view.getUint32(21, true);
    return { width: 1 + (bits & 0x3fff), height: 1 + ((bits >>> 14) & 0x3fff) };
  }
  if (chunk === "VP8X" && head.length >= 30) {
    const u24 = (at) => head[at] | (head[at + 1] << 8) | (head[at + 2] << 16);
    return { width: 1 + u24(24), height: 1 + u24(27) };
  }
  return null;
}

// -> {width, height} from the header, or null where the format keeps it elsewhere (AVIF) or the
// header is damaged: the decoder then has the last word.
export async function imageSize(file, format, head) {
  const view = new DataView(head.buffer, head.byteOffset, head.length);
  switch (format) {
    case "jpeg":
      return jpegSize(file);
    case "png":
      return head.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : null;
    case "gif":
      return head.length >= 10 ? { width: view.getUint16(6, true), height: view.getUint16(8, true) } : null;
    case "bmp":
      return head.length >= 26 ? { width: Math.abs(view.getInt32(18, true)), height: Math.abs(view.getInt32(22, true)) } : null;
    case "webp":
      return webpSize(head);
    default:
      return null;
  }
}

export function tooLarge({ width, height }) {
  return width * height > MAX_PIXELS || width > MAX_SIDE || height > MAX_SIDE;
}
