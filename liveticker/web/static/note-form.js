// The note form's live character count, as the server counts them (code points of the
// trimmed text), so a reader sees the limit before sending. A file of its own: the pages'
// Content-Security-Policy runs no inline script.
"use strict";
(() => {
  for (const text of document.querySelectorAll("textarea[data-count-max]")) {
    const count = document.getElementById(text.dataset.countInto);
    const max = Number(text.dataset.countMax);
    if (!count || !max) continue;
    const show = () => {
      const left = max - [...text.value.trim()].length;
      count.textContent = left >= 0 ? `${left} characters left.` : `${-left} characters too many.`;
    };
    count.hidden = false;
    text.addEventListener("input", show);
    show();
  }
})();
