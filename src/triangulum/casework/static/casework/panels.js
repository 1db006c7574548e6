// Panels beside a matrix (a framework cell, a query cell's segments): when htmx fills
// one, move focus to its heading so keyboard and screen-reader users land on what opened.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (!target || !["cell-panel", "cell-segments"].includes(target.id)) return;
    const panel = document.getElementById(target.id) || target;
    const heading = panel.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
})();
