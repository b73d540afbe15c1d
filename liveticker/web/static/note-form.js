// The note form's live character count, as the server counts them (code points of the
// trimmed text), so a reader sees the limit before sending. A file of its own: the pages'
// Content-Security-Policy runs no inline script. The words come from the page, in its
// language: each plural form by CLDR category of the language named with them, %(n)s the
// count.
"use strict";
(() => {
  const english = {
    lang: "en",
    left: { one: "%(n)s character left.", other: "%(n)s characters left." },
    over: { one: "%(n)s character too many.", other: "%(n)s characters too many." },
  };
  for (const text of document.querySelectorAll("textarea[data-count-max]")) {
    const count = document.getElementById(text.dataset.countInto);
    const max = Number(text.dataset.countMax);
    if (!count || !max) continue;
    let strings = english;
    let plurals;
    try {
      strings = JSON.parse(text.dataset.countStrings || "null") || english;
      plurals = new Intl.PluralRules(strings.lang || "en");
    } catch {
      strings = english;
      plurals = new Intl.PluralRules("en");
    }
    const say = (key, n) => {
      const forms = strings[key] || english[key];
      const form = forms[plurals.select(n)] || forms.other || english[key].other;
      return form.replace("%(n)s", String(n)); // digits as the server writes counts
    };
    const show = () => {
      const left = max - [...text.value.trim()].length;
      count.textContent = left >= 0 ? say("left", left) : say("over", -left);
    };
    count.hidden = false;
    text.addEventListener("input", show);
    show();
  }
})();
