// "Check or withdraw a case": the case number and PIN stay in this page's memory only and are sent
// in the body of each request (status, add files, withdraw), never in a URL or in storage.
import { postJSON, showProblem } from "./api.js";
import { FilePicker } from "./files.js";

const gettext = (msgid) => (typeof globalThis.gettext === "function" ? globalThis.gettext(msgid) : msgid);
const interpolate = (format, values) =>
  typeof globalThis.interpolate === "function"
    ? globalThis.interpolate(format, values, true)
    : format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));

const root = document.querySelector("[data-check-case]");
const language = root.dataset.language;
const signIn = root.querySelector("[data-sign-in]");
const signInForm = root.querySelector("[data-sign-in-form]");
const caseView = root.querySelector("[data-case]");
const picker = new FilePicker(root.querySelector("[data-file-picker]"));
const dates = new Intl.DateTimeFormat(language === "zh-hant" ? "zh-Hant-HK" : language, { dateStyle: "medium", timeStyle: "short" });
let credentials = null;

signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = root.querySelector("[data-sign-in-error]");
  const data = new FormData(signInForm);
  const attempt = { case_number: String(data.get("case_number")).trim(), pin: String(data.get("pin")).trim() };
  if (!attempt.case_number || !attempt.pin) {
    showProblem(problem, gettext("Please enter both your case number and your PIN."));
    return;
  }
  try {
    const status = await postJSON(root.dataset.apiStatus, attempt, language);
    credentials = attempt;
    showProblem(problem, "");
    signIn.hidden = true;
    render(status);
    caseView.hidden = false;
    caseView.focus();
  } catch (error) {
    showProblem(problem, error.message);
  }
});

function render(status) {
  caseView.querySelector("[data-case-number-shown]").textContent = status.case_number;
  caseView.querySelector("[data-status-words]").textContent = status.status_words;
  const list = caseView.querySelector("[data-hash-list]");
  list.replaceChildren(...status.hashes.map((hash) => {
    const item = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = hash.type;
    const value = document.createElement("code");
    value.textContent = hash.short_value + "…";
    const added = document.createElement("span");
    added.className = "added";
    added.textContent = interpolate(gettext("Added %(date)s"), { date: dates.format(new Date(hash.added_at)) });
    const summary = document.createElement("p");
    summary.textContent = hash.summary;
    item.append(title, " ", value, document.createElement("br"), added, summary);
    if (hash.platforms.length) {
      const platforms = document.createElement("ul");
      for (const report of hash.platforms) {
        const line = document.createElement("li");
        line.textContent = `${report.platform}: ${report.words}`;
        line.dataset.verdict = report.verdict;
        platforms.append(line);
      }
      item.append(platforms);
    }
    return item;
  }));
  caseView.querySelector("[data-active-only]").hidden = status.status !== "active";
}

const addForm = root.querySelector("[data-add-form]");
const addSend = root.querySelector("[data-add-send]");
addForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const problem = root.querySelector("[data-add-error]");
  const notReady = picker.notReady();
  if (notReady) {
    showProblem(problem, notReady);
    return;
  }
  const hashes = picker.hashes();
  addSend.disabled = true;
  try {
    // Adding a hash the case already has changes nothing, so a retry here is harmless.
    const status = await postJSON(root.dataset.apiHashes, { ...credentials, hashes }, language);
    showProblem(problem, "");
    picker.clear();
    render(status);
    root.querySelector("[data-add-done]").textContent = gettext("The fingerprints were added to your case.");
  } catch (error) {
    showProblem(problem, error.message);
  } finally {
    addSend.disabled = false;
  }
});

const ask = root.querySelector("[data-withdraw-ask]");
const confirmBox = root.querySelector("[data-withdraw-confirm]");
ask.addEventListener("click", () => {
  confirmBox.hidden = false;
  ask.hidden = true;
  confirmBox.focus();
});
root.querySelector("[data-withdraw-no]").addEventListener("click", () => {
  confirmBox.hidden = true;
  ask.hidden = false;
  ask.focus();
});
root.querySelector("[data-withdraw-yes]").addEventListener("click", async () => {
  const problem = root.querySelector("[data-withdraw-error]");
  try {
    const status = await postJSON(root.dataset.apiWithdraw, credentials, language);
    showProblem(problem, "");
    render(status);
    caseView.focus();
  } catch (error) {
    showProblem(problem, error.message);
  }
});
