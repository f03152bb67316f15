// The file picker: several files at once, drag and drop, or the phone's photo picker. Each file is
// shown with a thumbnail made from an object URL (it stays on the device), hashed in the browser
// with progress, and can be removed before sending. Only the resulting hashes are ever read out.
import { hashFile } from "../hashing/hasher.js";

const gettext = (msgid) => (typeof globalThis.gettext === "function" ? globalThis.gettext(msgid) : msgid);
const interpolate = (format, values) =>
  typeof globalThis.interpolate === "function"
    ? globalThis.interpolate(format, values, true)
    : format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));

// Files dropped outside the drop zone would otherwise be opened by the browser, leaving the page.
for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());

export class FilePicker {
  constructor(root) {
    this.root = root;
    this.max = Number(root.dataset.maxFiles) || 50;
    this.input = root.querySelector("[data-file-input]");
    this.list = root.querySelector("[data-file-list]");
    this.template = root.querySelector("[data-file-template]");
    this.announce = root.querySelector("[data-file-announce]");
    this.entries = [];
    this.queue = Promise.resolve();
    this.input.addEventListener("change", () => {
      this.add([...this.input.files]);
      this.input.value = "";
    });
    const zone = root.querySelector("[data-drop-zone]");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      this.add([...(event.dataTransfer?.files || [])]);
    });
  }

  add(files) {
    let refused = 0;
    for (const file of files) {
      if (this.entries.length >= this.max) {
        refused += 1;
        continue;
      }
      this.entries.push(this.show(file));
    }
    if (refused) {
      this.say(interpolate(gettext("You can send up to %(max)s files at a time. %(count)s files were not added."),
        { max: this.max, count: refused }));
    }
  }

  show(file) {
    const item = this.template.content.firstElementChild.cloneNode(true);
    const entry = { file, item, state: "hashing", hash: null, url: null };
    item.querySelector(".file-name").textContent = file.name;
    const progress = item.querySelector("progress");
    progress.setAttribute("aria-label", interpolate(gettext("Fingerprinting %(name)s"), { name: file.name }));
    const thumb = item.querySelector(".thumb");
    if (file.type.startsWith("image/")) {
      entry.url = URL.createObjectURL(file);
      const img = document.createElement("img");
      img.alt = "";
      img.src = entry.url;
      img.addEventListener("error", () => img.remove());
      thumb.append(img);
    } else {
      thumb.textContent = file.type.startsWith("video/") ? "▶" : "?";
    }
    this.setState(entry, "hashing", gettext("Waiting to be fingerprinted…"));
    const remove = item.querySelector(".file-remove");
    remove.setAttribute("aria-label", interpolate(gettext("Remove %(name)s"), { name: file.name }));
    remove.addEventListener("click", () => this.remove(entry));
    this.list.append(item);
    this.queue = this.queue.then(() => this.hash(entry, progress));
    return entry;
  }

  async hash(entry, progress) {
    if (!this.entries.includes(entry)) return;
    this.setState(entry, "hashing", gettext("Fingerprinting…"));
    try {
      const result = await hashFile(entry.file, { onProgress: ({ fraction }) => { progress.value = fraction; } });
      entry.hash = result.kind === "image"
        ? { signal_type: "pdq", value: result.pdq, quality: result.quality }
        : { signal_type: "md5", value: result.md5 };
      this.finish(entry, gettext("Ready to send"));
    } catch (error) {
      if (error?.code === "too_plain" && error.md5) {
        // Too plain for a photo fingerprint, but exact copies can still be found.
        entry.hash = { signal_type: "md5", value: error.md5 };
        this.finish(entry, error.message);
      } else {
        entry.hash = null;
        this.setState(entry, "problem", error?.message || gettext("This file could not be fingerprinted."));
      }
    }
    progress.value = 1;
    this.changed();
  }

  finish(entry, message) {
    const twin = this.entries.find((other) => other !== entry && other.hash && other.hash.value === entry.hash.value);
    if (twin) {
      entry.hash = null;
      this.setState(entry, "problem", gettext("You already chose this file. It will be sent once."));
    } else {
      this.setState(entry, "ready", message);
    }
  }

  setState(entry, state, message) {
    entry.state = state;
    entry.item.dataset.state = state;
    entry.item.querySelector(".file-state").textContent = message;
  }

  remove(entry) {
    const index = this.entries.indexOf(entry);
    if (index < 0) return;
    this.entries.splice(index, 1);
    if (entry.url) URL.revokeObjectURL(entry.url);
    entry.item.remove();
    this.say(interpolate(gettext("%(name)s removed."), { name: entry.file.name }));
    // Keep the keyboard where it was: on the next file's Remove button, or the picker.
    const next = this.entries[index] || this.entries[index - 1];
    (next ? next.item.querySelector(".file-remove") : this.input).focus();
    this.changed();
  }

  changed() {
    this.root.dispatchEvent(new CustomEvent("files-changed"));
  }

  say(message) {
    this.announce.textContent = message;
  }

  get busy() {
    return this.entries.some((entry) => entry.state === "hashing");
  }

  hashes() {
    return this.entries.filter((entry) => entry.state === "ready").map((entry) => entry.hash);
  }

  // What stops sending now, in words for the person, or "" when the hashes are ready to go.
  notReady() {
    if (this.busy) return gettext("Please wait until every file has been fingerprinted.");
    if (!this.hashes().length) return gettext("Choose at least one photo or video that can be fingerprinted.");
    return "";
  }

  clear() {
    for (const entry of this.entries) {
      if (entry.url) URL.revokeObjectURL(entry.url);
      entry.item.remove();
    }
    this.entries = [];
  }
}
