// "Leave quickly": the button and the Escape key swap this page for an everyday site with
// location.replace, so Back does not lead to the portal. Links between the portal's own pages also
// replace the current entry, so the history never holds more than one portal page to go back to.
const exit = document.getElementById("quick-exit");

function leave(event) {
  event?.preventDefault();
  // A page that asks "are you sure you want to leave?" must not hold up a quick exit.
  window.onbeforeunload = null;
  document.body.hidden = true;
  location.replace(exit.href);
}

if (exit) {
  exit.addEventListener("click", leave);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) leave(event);
  });
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.("a[href]");
    if (!link || link === exit || link.hasAttribute("download") || link.target) return;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin) return;
    if (url.pathname === location.pathname && url.hash) return; // in-page links (skip link) stay as they are
    event.preventDefault();
    location.replace(url.href);
  });
}
