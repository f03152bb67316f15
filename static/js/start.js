// "Open a case": declarations, files, sending the hashes (with an idempotency key, so a retry or a
// double tap opens one case), then the receipt with the case number and PIN.
import { ApiError, postJSON, showProblem } from "./api.js";
import { FilePicker } from "./files.js";

const gettext = (msgid) => (typeof globalThis.gettext === "function" ? globalThis.gettext(msgid) : msgid);

const root = document.querySelector("[data-create-case]");
const form = root.querySelector("[data-form]");
const picker = new FilePicker(root.querySelector("[data-file-picker]"));
const problem = root.querySelector("[data-error]");
const send = root.querySelector("[data-send]");
const receipt = root.querySelector("[data-receipt]");

// One key per distinct request: the same hashes and declarations sent again reuse it.
let key = null;
let keyFor = null;

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function declarations() {
  const boxes = [...form.querySelectorAll("[data-declaration]")];
  const missing = boxes.find((box) => !box.checked);
  return { missing, values: Object.fromEntries(boxes.filter((b) => b.checked).map((b) => [b.name, b.value])) };
}

// A problem named before the person fixed it should not linger.
form.addEventListener("change", () => showProblem(problem, ""));

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (send.disabled) return;
  const { missing, values } = declarations();
  if (missing) {
    showProblem(problem, gettext("Please tick each statement in step 1 first."));
    missing.focus();
    return;
  }
  const notReady = picker.notReady();
  if (notReady) {
    showProblem(problem, notReady);
    return;
  }
  const hashes = picker.hashes();
  const body = { hashes, declarations: values, language: root.dataset.language };
  const signature = JSON.stringify(body);
  if (signature !== keyFor) {
    key = newKey();
    keyFor = signature;
  }
  showProblem(problem, "");
  send.disabled = true;
  send.textContent = gettext("Sending…");
  try {
    const answer = await postJSON(root.dataset.api, { ...body, idempotency_key: key }, root.dataset.language);
    showReceipt(answer);
  } catch (error) {
    // The chosen files and their fingerprints stay on the page, so sending again is one tap.
    showProblem(problem, error instanceof ApiError ? error.message : String(error));
  } finally {
    send.disabled = false;
    send.textContent = gettext("Send the fingerprints");
  }
});

function guardLeaving(on) {
  // Assigned as a property so that "Leave quickly" can clear it (quick-exit.js).
  window.onbeforeunload = on ? (event) => { event.preventDefault(); event.returnValue = ""; } : null;
}

function showReceipt({ case_number: caseNumber, pin }) {
  picker.clear();
  root.querySelector("[data-create-form]").hidden = true;
  receipt.querySelector("[data-case-number]").textContent = caseNumber;
  receipt.querySelector("[data-pin]").textContent = pin;
  receipt.hidden = false;
  receipt.focus();
  window.scrollTo(0, 0);
  guardLeaving(true);

  const announce = receipt.querySelector("[data-copy-announce]");
  for (const button of receipt.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const text = button.dataset.copy === "pin" ? pin : caseNumber;
      try {
        await navigator.clipboard.writeText(text);
        announce.textContent = gettext("Copied.");
      } catch {
        announce.textContent = gettext("Copying is not possible here. Please write it down.");
      }
    });
  }
  receipt.querySelector("[data-download]").addEventListener("click", () => {
    const text = [
      gettext("Stop the sharing of intimate images"),
      `${gettext("Case number")}: ${caseNumber}`,
      `${gettext("PIN")}: ${pin}`,
      gettext("Keep this safe. Nobody can recover these for you."),
      location.origin + root.querySelector("[data-done]").getAttribute("href"),
      "",
    ].join("\r\n");
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "case.txt";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  receipt.querySelector("[data-print]").addEventListener("click", () => window.print());

  const saved = receipt.querySelector("[data-saved]");
  const done = receipt.querySelector("[data-done]");
  const doneProblem = receipt.querySelector("[data-done-problem]");
  saved.addEventListener("change", () => {
    guardLeaving(!saved.checked);
    if (saved.checked) doneProblem.hidden = true;
  });
  done.addEventListener("click", (event) => {
    if (!saved.checked) {
      event.preventDefault();
      doneProblem.hidden = false;
      saved.focus();
    }
  });
}
