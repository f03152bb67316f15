// The assisted case page (admin): a caseworker picks the victim's files, each is hashed here in the
// browser with the same module as the public site, and only the hashes go into the form. The file
// input has no name, so the files themselves are never part of the request.
import { hashFile } from "../hashing/hasher.js";

const form = document.querySelector("[data-assisted-case]");
if (form) {
  const input = form.querySelector("[data-assist-input]");
  const list = form.querySelector("[data-assist-list]");
  const count = form.querySelector("[data-assist-count]");
  const submit = form.querySelector("[data-assist-submit]");
  const field = form.querySelector("input[name=hashes]");
  const max = Number(form.dataset.maxFiles) || 50;
  const hashes = [];
  let pending = 0;
  let queue = Promise.resolve();

  const refresh = () => {
    field.value = JSON.stringify(hashes);
    count.textContent = `${form.dataset.msgCount} ${hashes.length}`;
    submit.disabled = pending > 0 || hashes.length === 0;
  };

  const hashOne = async (file, item) => {
    const state = item.querySelector(".state");
    try {
      const result = await hashFile(file, {
        onProgress: ({ fraction }) => {
          state.textContent = `${form.dataset.msgHashing} ${Math.round((fraction || 0) * 100)}%`;
        },
      });
      // The same choice as the public page: a photo's PDQ (finds edited copies) and its MD5
      // (exact copies); a video's MD5.
      if (result.kind === "image" && result.pdq) hashes.push({ signal_type: "pdq", value: result.pdq, quality: result.quality });
      if (result.md5) hashes.push({ signal_type: "md5", value: result.md5 });
      state.textContent = form.dataset.msgDone;
      item.dataset.state = "done";
    } catch (error) {
      if (error?.code === "too_plain" && error.md5) {
        // Too plain for a photo fingerprint, but exact copies can still be found.
        hashes.push({ signal_type: "md5", value: error.md5 });
        state.textContent = form.dataset.msgDone;
        item.dataset.state = "done";
        return;
      }
      state.textContent = `${form.dataset.msgFailed}: ${error?.message || error}`;
      item.classList.add("failed");
      item.dataset.state = "failed";
    } finally {
      pending -= 1;
      refresh();
    }
  };

  input.addEventListener("change", () => {
    for (const file of [...input.files].slice(0, Math.max(0, max - list.children.length))) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      // The name is shown to the caseworker only; it never leaves this page.
      name.textContent = `${file.name} – `;
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = form.dataset.msgHashing;
      item.append(name, state);
      list.append(item);
      pending += 1;
      queue = queue.then(() => hashOne(file, item));
    }
    input.value = "";
    refresh();
  });
  refresh();
}
