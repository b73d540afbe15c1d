/* Liveticker's embed, inside another site's page: tells the page how tall it is whenever that
   changes (static/embed.js sizes the iframe to it), and opens links to the site in a new tab
   rather than inside the frame. Only a height and the blog's title cross to the host page. */
(() => {
  "use strict";
  if (window.parent === window) return; // opened on its own: nothing to tell, links as usual

  let last = 0;
  const report = () => {
    // The document's own height, not the frame's: the frame may be taller than its content.
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    const heading = document.querySelector("h1");
    const title = heading ? heading.textContent.trim() : document.title;
    window.parent.postMessage({ type: "liveticker:height", height, title }, "*");
  };
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  else window.addEventListener("load", report); // one size, better than none
  report();

  // Delegated, so posts that arrive live are covered too; links within the page stay here.
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest && event.target.closest("a[href]");
      if (!link || link.target) return;
      const url = new URL(link.href, location.href);
      const here = url.origin === location.origin && url.pathname === location.pathname;
      if (here && url.search === location.search && url.hash) return;
      link.target = "_blank";
      link.relList.add("noopener");
    },
    true
  );
})();
