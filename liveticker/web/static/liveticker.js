/* Liveticker reader page, progressive enhancement only (the page is complete without it):
   local times, "Show more posts" in place, Page Up/Down between posts, copy buttons. */
(() => {
  "use strict";
  const feed = document.querySelector('[role="feed"]');
  const announcer = document.getElementById("live-announcer");
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  const announce = (text) => {
    if (!announcer) return;
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = text; }, 50);
  };

  const localTimes = (root) => {
    for (const el of root.querySelectorAll("time[data-local]")) {
      const when = new Date(el.dateTime);
      if (Number.isNaN(when.getTime())) continue;
      if (!el.title) el.title = el.textContent;
      el.textContent = format.format(when);
    }
  };

  const articles = () => (feed ? [...feed.querySelectorAll(":scope > article")] : []);

  // Each post's "Skip to next post" link points at the post after it, or past the feed.
  const relinkSkips = () => {
    const list = articles();
    list.forEach((article, i) => {
      const skip = article.querySelector(":scope > .skip-post");
      if (skip) skip.setAttribute("href", list[i + 1] ? "#" + list[i + 1].id : "#feed-end");
    });
  };

  const addCopyButtons = (root) => {
    if (!navigator.clipboard) return;
    for (const link of root.querySelectorAll("a[data-copy]")) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy short link");
      button.addEventListener("click", () => {
        navigator.clipboard.writeText(link.href).then(() => announce("Link copied"));
      });
      link.after(button);
    }
  };

  const showMore = async (link) => {
    feed.setAttribute("aria-busy", "true");
    link.setAttribute("aria-disabled", "true");
    link.textContent = "Loading…";
    try {
      const response = await fetch(link.href, { headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const older = doc.querySelector('[role="feed"]');
      const fresh = [...older.querySelectorAll(":scope > article")].filter(
        (article) => !document.getElementById(article.id)
      );
      for (const article of fresh) {
        const node = document.importNode(article, true);
        feed.append(node);
        localTimes(node);
        addCopyButtons(node);
      }
      const setsize = fresh[0] && fresh[0].getAttribute("aria-setsize");
      if (setsize) for (const article of articles()) article.setAttribute("aria-setsize", setsize);
      relinkSkips();
      const next = doc.querySelector("a[data-more]");
      if (next) {
        link.setAttribute("href", next.getAttribute("href"));
        link.textContent = "Show more posts";
        link.removeAttribute("aria-disabled");
      } else {
        const end = document.createElement("p");
        end.textContent = "You have reached the first update.";
        link.replaceWith(end);
      }
      const first = fresh[0] && document.getElementById(fresh[0].id);
      if (first) first.focus();
      announce(fresh.length + (fresh.length === 1 ? " older post" : " older posts") + " loaded");
    } catch (error) {
      window.location.assign(link.href); // the link works without us: let the browser follow it
    } finally {
      feed.setAttribute("aria-busy", "false");
    }
  };

  localTimes(document);
  addCopyButtons(document);
  if (!feed) return;

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-more]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (feed.getAttribute("aria-busy") !== "true") showMore(link);
  });

  // The WAI-ARIA feed pattern: Page Down/Up move between posts, Ctrl+End/Home leave the feed.
  feed.addEventListener("keydown", (event) => {
    const current = event.target.closest("article");
    if (!current || current.parentElement !== feed) return;
    let target = null;
    if (event.key === "PageDown") target = current.nextElementSibling;
    else if (event.key === "PageUp") target = current.previousElementSibling;
    else if (event.ctrlKey && event.key === "End") target = document.getElementById("feed-end");
    else if (event.ctrlKey && event.key === "Home") target = document.getElementById("content");
    if (!target) return;
    event.preventDefault();
    const more = target.id === "feed-end" && target.querySelector("a[data-more]");
    (more || target).focus();
  });
})();
