/* Liveticker's embed loader, for other sites' pages (docs/embedding.md). Each
   <div data-liveticker="https://host/blogs/slug"> (a blog's or a post's URL) becomes an
   iframe of that URL's /embed, as tall as its content: the frame reports its height
   (static/embed-frame.js) and only a message from that frame, at its origin, is believed.
   Optional: data-title (the iframe's name until the frame says it), data-max-width,
   data-max-height (pixels). No inline code: a strict CSP may load it. */
(() => {
  "use strict";
  const frames = new Map(); // iframe → the origin its messages must come from
  const FIRST_HEIGHT = 400; // until the frame has said how tall it is
  const pixels = (value) => {
    const number = Number(value);
    return Number.isFinite(number) && number > 0 ? Math.ceil(number) : 0;
  };

  const build = (box) => {
    if (box.hasAttribute("data-liveticker-ready")) return; // the loader may be pasted twice
    let url;
    try {
      url = new URL(box.getAttribute("data-liveticker"), document.baseURI);
    } catch (error) {
      return;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return;
    url.search = "";
    url.hash = "";
    url.pathname = url.pathname.replace(/\/+$/, "").replace(/\/embed$/, "") + "/embed";
    const frame = document.createElement("iframe");
    frame.src = url.href;
    const named = box.getAttribute("data-title") || box.textContent.trim() || "Live blog";
    frame.title = named.slice(0, 200);
    frame.loading = "lazy";
    frame.setAttribute("allow", "clipboard-write");
    // Scripts and its own origin (for the live stream); links may open tabs; nothing more,
    // so it can never navigate the host page.
    frame.setAttribute(
      "sandbox",
      "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    );
    // Styles set through the CSSOM, which a host page's CSP allows (inline style it may not).
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.border = "0";
    const maxWidth = pixels(box.getAttribute("data-max-width"));
    const maxHeight = pixels(box.getAttribute("data-max-height"));
    if (maxWidth) frame.style.maxWidth = maxWidth + "px";
    frame.style.height = Math.min(FIRST_HEIGHT, maxHeight || FIRST_HEIGHT) + "px";
    frame.dataset.maxHeight = String(maxHeight);
    box.setAttribute("data-liveticker-ready", "");
    box.replaceChildren(frame);
    frames.set(frame, url.origin);
  };

  window.addEventListener("message", (event) => {
    const data = event.data;
    if (!data || typeof data !== "object" || data.type !== "liveticker:height") return;
    for (const [frame, origin] of frames) {
      if (event.source !== frame.contentWindow || event.origin !== origin) continue;
      const height = pixels(data.height);
      if (!height) return;
      const max = Number(frame.dataset.maxHeight) || 100000;
      frame.style.height = Math.min(height, max) + "px";
      if (typeof data.title === "string" && data.title.trim()) {
        frame.title = data.title.trim().slice(0, 200);
      }
      return;
    }
  });

  const scan = () => document.querySelectorAll("div[data-liveticker]").forEach(build);
  scan();
  // Loaded async: it may run before the page's snippets are parsed.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
})();
