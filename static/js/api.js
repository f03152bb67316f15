// JSON to the case API. Case numbers and PINs go only in bodies, never in a URL.
const gettext = (msgid) => (typeof globalThis.gettext === "function" ? globalThis.gettext(msgid) : msgid);

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export async function postJSON(url, body, language) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept-Language": language },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError("network", gettext("We could not reach the service. Check your connection and try again. Nothing has been lost."), 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data?.error;
    throw new ApiError(
      error?.code || "error",
      error?.message || gettext("Something went wrong on our side. Please try again."),
      response.status,
    );
  }
  return data;
}

export function showProblem(element, message) {
  element.textContent = message;
  element.hidden = !message;
}
