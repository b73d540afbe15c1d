// The note form's live character count, as the server counts them (code points of the
// trimmed text), so a reader sees the limit before sending. A file of its own: the pages'
// Content-Security-Policy runs no inline script. The words come from the page, in its
// language: each plural form by CLDR category, %(n)s the count.
"use strict";
(() => {
  const lang = document.documentElement.lang || "en";
  const english = {
    left: { one: "%(n)s character left.", other: "%(n)s characters left." },
    over: { one: "%(n)s character too many.", other: "%(n)s characters too many." },
  };
  let plurals;
  try {
    plurals = new Intl.PluralRules(lang);
  } catch {
    plurals = new Intl.PluralRules("en");
  }
  for (const text of document.querySelectorAll("textarea[data-count-max]")) {
    const count = document.getElementById(text.dataset.countInto);
    const max = Number(text.dataset.countMax);
    if (!count || !max) continue;
    let strings = english;
    try {
      strings = JSON.parse(text.dataset.countStrings || "null") || english;
    } catch {}
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
