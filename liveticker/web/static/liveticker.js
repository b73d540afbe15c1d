/* Liveticker reader page, progressive enhancement only (the page is complete without it):
   "5 min ago" and local times, "Show more posts" in place, Page Up/Down and J/K, share menu.
   Its words come from the page (#lt-strings), in the blog's language. */
(() => {
  "use strict";
  const feed = document.querySelector('[role="feed"]');
  const announcer = document.getElementById("live-announcer");
  const strings = JSON.parse(document.getElementById("lt-strings")?.textContent || "{}");
  const t = (key) => strings[key] || key;
  const rules = new Intl.PluralRules(strings.lang);
  const plural = (key, n) => {
    const forms = (strings.plurals || {})[key] || {};
    return (forms[rules.select(n)] || forms.other || "%(n)s").replace("%(n)s", n.toLocaleString(strings.lang));
  };
  const format = new Intl.DateTimeFormat(strings.lang, { dateStyle: "medium", timeStyle: "short" });
  const relative = Intl.RelativeTimeFormat && new Intl.RelativeTimeFormat(strings.lang, { numeric: "auto", style: "short" });

  const announce = (text) => {
    if (!announcer) return;
    announcer.textContent = "";
    setTimeout(() => { announcer.textContent = text; }, 50);
  };

  // "5 min ago" for 12 h; the exact time in the title and, for screen readers, in a hidden
  // copy that holds still (aria-label on a <time> is not read everywhere).
  const localTimes = (root) => {
    for (const el of root.querySelectorAll("time[data-local]")) {
      const when = new Date(el.dateTime);
      const m = Math.max(0, Date.now() - when) / 6e4;
      if (Number.isNaN(m)) continue;
      const exact = (el.title = format.format(when));
      const ago = relative && m < 720 ? relative.format(-Math.floor(m < 60 ? m : m / 60), m < 1 ? "second" : m < 60 ? "minute" : "hour") : "";
      if (el.textContent === ago + exact) continue;
      el.textContent = exact;
      if (!ago) continue;
      el.innerHTML = '<span aria-hidden="true"></span><span class="visually-hidden"></span>';
      el.firstChild.textContent = ago;
      el.lastChild.textContent = exact;
    }
  };
  const tick = () => document.hidden || localTimes(document); // no work in a hidden tab

  const articles = () => (feed ? [...feed.querySelectorAll(":scope > article")] : []);

  // Each post's "Skip to next post" link points at the post after it, or past the feed.
  const relinkSkips = () => {
    const list = articles();
    list.forEach((article, i) => {
      const skip = article.querySelector(":scope > .skip-post");
      if (skip) skip.setAttribute("href", list[i + 1] ? "#" + list[i + 1].id : "#feed-end");
    });
  };

  // One share menu for the page, opened under whichever "Share" asked: the permalink, the
  // short link, the embed code, and the phone's own share sheet where there is one.
  let menu = null;
  const closeMenu = (refocus) => {
    if (!menu || menu.hidden) return;
    menu.hidden = true;
    menu.owner.setAttribute("aria-expanded", "false");
    if (refocus) menu.owner.focus();
  };
  const openMenu = (button, link) => {
    if (!menu) {
      menu = document.createElement("div");
      menu.className = "share-menu";
      menu.id = "share-menu";
      menu.hidden = true; // until placed: an open menu has an owner
      menu.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenu(true); });
      document.addEventListener("click", (event) => {
        if (menu && !menu.contains(event.target) && event.target !== menu.owner) closeMenu(false);
      });
    }
    if (menu.owner === button && !menu.hidden) return closeMenu(true);
    closeMenu(false);
    const article = button.closest("article");
    const page = new URL(article ? article.querySelector(".permalink").href : location.pathname, location.href).href;
    const items = [["copyLink", page], ["copyShort", link.href]];
    items.push(["copyEmbed", '<div data-liveticker="' + page + '"></div><script src="' + location.origin + '/static/embed.js" async></script>']);
    menu.replaceChildren();
    for (const [key, text] of items) {
      const item = document.createElement("button");
      item.type = "button";
      item.textContent = t(key);
      item.addEventListener("click", () => {
        navigator.clipboard.writeText(text).then(() => announce(t("copied")), () => {});
        closeMenu(true);
      });
      menu.append(item);
    }
    if (navigator.share) {
      const item = document.createElement("button");
      item.type = "button";
      item.textContent = t("shareVia");
      item.addEventListener("click", () => { navigator.share({ url: page }).catch(() => {}); closeMenu(true); });
      menu.append(item);
    }
    menu.owner = button;
    button.setAttribute("aria-expanded", "true");
    button.after(menu);
    menu.hidden = false;
    menu.firstElementChild.focus();
  };
  const addCopyButtons = (root) => {
    if (!navigator.clipboard) return;
    for (const link of root.querySelectorAll("a[data-share]")) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "share";
      button.textContent = t("share");
      button.setAttribute("aria-expanded", "false");
      button.setAttribute("aria-controls", "share-menu");
      button.addEventListener("click", () => openMenu(button, link));
      if (link.closest("footer")) link.replaceWith(button);
      else link.after(button);
    }
  };

  const showMore = async (link) => {
    feed.setAttribute("aria-busy", "true");
    link.setAttribute("aria-disabled", "true");
    link.textContent = t("loading");
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
        link.textContent = t("more");
        link.removeAttribute("aria-disabled");
      } else {
        const end = document.createElement("p");
        end.textContent = t("first");
        end.setAttribute("data-ended", "");
        link.replaceWith(end);
      }
      const first = fresh[0] && document.getElementById(fresh[0].id);
      if (first) first.focus();
      announce(plural("older", fresh.length));
    } catch (error) {
      window.location.assign(link.href); // the link works without us: let the browser follow it
    } finally {
      feed.setAttribute("aria-busy", "false");
    }
  };

  tick();
  setInterval(tick, 30000);
  document.addEventListener("visibilitychange", tick);
  addCopyButtons(document);
  if (!feed) return;

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-more]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    if (feed.getAttribute("aria-busy") !== "true") showMore(link);
  });

  // ---- Live updates: Server-Sent Events, polling every 10 s where they fail. ----
  const blog = feed.dataset.blog;
  let last = Number(feed.dataset.version) || 0;
  const firstPage = !new URLSearchParams(location.search).has("before");
  const baseTitle = document.title;
  const waiting = []; // new posts held back while the reader is further down the page
  let button = null;
  let source = null;
  let failures = 0;
  let pollTimer = 0;

  const make = (html) => {
    const box = document.createElement("template");
    box.innerHTML = html.trim();
    return box.content.firstElementChild;
  };
  // Newest first by published time, then id: the server's order (times may share a second).
  const orderKey = (article) =>
    (article.querySelector(".post-meta time")?.dateTime || "") +
    String(article.dataset.postId).padStart(12, "0");
  const atTop = () => {
    const top = articles()[0] || feed;
    return top.getBoundingClientRect().top > -40;
  };

  const renumber = (delta) => {
    const list = articles();
    const known = list.map((a) => Number(a.getAttribute("aria-setsize"))).find((n) => n > 0);
    const size = Math.max((known || list.length - delta) + delta, list.length);
    const first = list.find((a) => a.hasAttribute("aria-posinset"));
    const offset = firstPage || !first ? 1 : Number(first.getAttribute("aria-posinset"));
    list.forEach((article, i) => {
      article.setAttribute("aria-posinset", String(offset + i));
      article.setAttribute("aria-setsize", String(size));
    });
    relinkSkips();
    // "No updates yet" goes when the first post arrives live, and comes back in place of
    // "You have reached the first update" when the last one goes.
    const empty = document.querySelector("[data-empty]");
    if (empty) empty.hidden = list.length > 0;
    const ended = document.querySelector("[data-ended]");
    if (ended) ended.hidden = list.length === 0;
  };

  // Pinned first, then newest first: the order the server renders.
  const place = (node) => {
    const list = articles().filter((article) => article !== node);
    if (node.classList.contains("pinned")) {
      feed.prepend(node);
      return;
    }
    const key = orderKey(node);
    const before = list.find(
      (article) => !article.classList.contains("pinned") && orderKey(article) < key
    );
    if (before) before.before(node);
    else if (firstPage || list.length === 0) feed.append(node);
    else node.remove(); // older than this page shows: it belongs to a later page
  };

  const prepare = (node) => {
    localTimes(node);
    addCopyButtons(node);
    return node;
  };

  const reveal = (focusFirst) => {
    const shown = waiting.splice(0);
    for (const node of shown) place(node);
    if (shown.length) renumber(shown.length);
    if (button) button.hidden = true;
    document.title = baseTitle;
    if (focusFirst && shown[0]) {
      shown[0].scrollIntoView({ block: "start" });
      shown[0].focus();
    }
  };

  const showWaiting = () => {
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "new-posts";
      button.addEventListener("click", () => reveal(true));
      document.body.append(button);
    }
    const n = waiting.length;
    button.textContent = plural("new", n);
    button.hidden = false;
    document.title = "(" + n + ") " + baseTitle;
  };

  let pendingAnnouncement = 0;
  let announceTimer = 0;
  const announceNew = (n) => {
    // One polite message per burst: "3 new posts", never the posts themselves.
    pendingAnnouncement += n;
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      const count = pendingAnnouncement;
      pendingAnnouncement = 0;
      announce(plural("new", count));
    }, 400);
  };

  const upsertPost = (data) => {
    const node = prepare(make(data.html));
    const existing = document.getElementById(node.id);
    const held = waiting.findIndex((item) => item.id === node.id);
    const notes = (waiting[held] || existing)?.querySelector(".notes"); // "post" has none
    if (notes) node.lastElementChild.before(notes);
    if (held >= 0) {
      waiting[held] = node;
      return;
    }
    if (existing) {
      for (const name of ["aria-posinset", "aria-setsize"]) {
        node.setAttribute(name, existing.getAttribute(name) || "");
      }
      const moved = existing.classList.contains("pinned") !== node.classList.contains("pinned");
      const hadFocus = existing.contains(document.activeElement);
      existing.replaceWith(node);
      if (moved) place(node);
      renumber(0);
      if (hadFocus) node.focus();
      return;
    }
    if (!firstPage && !node.classList.contains("pinned")) return;
    if (atTop() && !waiting.length) {
      place(node);
      renumber(1);
    } else {
      waiting.unshift(node);
      showWaiting();
    }
    announceNew(1);
  };

  const removePost = (id) => {
    const held = waiting.findIndex((item) => item.id === "post-" + id);
    if (held >= 0) {
      waiting.splice(held, 1);
      if (waiting.length) showWaiting();
      else reveal(false);
      return;
    }
    const existing = document.getElementById("post-" + id);
    if (!existing) return;
    const next = existing.nextElementSibling;
    const hadFocus = existing.contains(document.activeElement);
    existing.remove();
    renumber(-1);
    if (hadFocus) (next || document.getElementById("feed-end")).focus();
  };

  // A post's "Readers added context" box: replaced, added, or (empty fragment) removed.
  const setNotes = (data) => {
    const id = "post-" + data.post_id;
    const article = waiting.find((item) => item.id === id) || document.getElementById(id);
    if (!article) return;
    article.querySelector(".notes")?.remove();
    if (!data.html) return;
    article.lastElementChild.before(make(data.html)); // above the post's <footer>
    if (article.isConnected) announce(t("context"));
  };

  const setKeyPoints = (items) => {
    let box = document.querySelector(".key-points");
    if (!items.length) {
      if (box) box.remove();
      return;
    }
    if (!box) {
      box = make(
        '<section class="key-points" aria-labelledby="key-points-heading">' +
          '<h2 id="key-points-heading"></h2><ul></ul></section>'
      );
      box.querySelector("h2").textContent = t("keyPoints");
      document.getElementById("feed-hint").before(box);
    }
    box.querySelector("ul").innerHTML = items.map((item) => "<li>" + item + "</li>").join("");
  };

  const setBlog = (data) => {
    const h1 = document.querySelector("h1");
    if (h1 && data.title) h1.textContent = data.title;
    const standfirst = document.querySelector(".standfirst");
    if (standfirst && typeof data.standfirst === "string") standfirst.textContent = data.standfirst;
    let notice = document.querySelector(".closed-notice");
    const badge = document.querySelector(".badge.live");
    if (data.status === "closed") {
      if (!notice) {
        notice = make(
          '<section class="closed-notice" role="status" aria-labelledby="closed-heading">' +
            '<h2 id="closed-heading"></h2><p></p></section>'
        );
        notice.querySelector("h2").textContent = t("ended");
        (document.querySelector(".key-points") || document.getElementById("feed-hint")).before(notice);
      }
      notice.querySelector("p").textContent = data.closing_message || "";
      if (badge) badge.remove();
      stop();
    } else if (notice) {
      notice.remove();
    }
  };

  const touch = () => {
    const updated = document.getElementById("blog-updated");
    if (!updated) return;
    updated.dateTime = new Date().toISOString();
    localTimes(updated.parentNode);
  };

  const apply = (kind, id, data) => {
    if (!(id > last)) return; // already applied (replay overlap, or polling after a stream)
    last = id;
    if (kind === "post") upsertPost(data);
    else if (kind === "remove") removePost(data.id);
    else if (kind === "key-points") setKeyPoints(data.items || []);
    else if (kind === "blog") setBlog(data);
    else if (kind === "notes") setNotes(data);
    touch();
  };

  const stop = () => {
    if (source) source.close();
    source = null;
    clearTimeout(pollTimer);
    pollTimer = -1;
  };

  const poll = async () => {
    if (pollTimer === -1) return;
    try {
      const response = await fetch(
        "/api/v1/blogs/" + blog + "/changes?after=" + last, { headers: { Accept: "application/json" } }
      );
      if (response.ok) {
        const body = await response.json();
        if (body.reload) return location.reload();
        for (const event of body.events) apply(event.event, event.id, event.data);
      }
    } catch (error) {
      /* offline for now: try again at the next tick */
    }
    if (pollTimer !== -1) pollTimer = setTimeout(poll, 10000);
  };

  const listen = () => {
    if (!window.EventSource) return poll();
    source = new EventSource("/blogs/" + blog + "/events?after=" + last);
    for (const kind of ["post", "remove", "key-points", "blog", "notes"]) {
      source.addEventListener(kind, (event) => {
        failures = 0;
        apply(kind, Number(event.lastEventId), JSON.parse(event.data));
      });
    }
    source.addEventListener("reload", () => location.reload());
    source.onopen = () => { failures = 0; };
    source.onerror = () => {
      // The browser retries by itself; after repeated failures (or a refusal) poll instead.
      failures += 1;
      if (source.readyState === EventSource.CLOSED || failures >= 3) {
        source.close();
        source = null;
        if (pollTimer !== -1) pollTimer = setTimeout(poll, 1000);
      }
    };
  };

  if (blog && !document.querySelector(".closed-notice")) {
    window.addEventListener("scroll", () => { if (waiting.length && atTop()) reveal(false); }, { passive: true });
    listen();
  }

  // The WAI-ARIA feed pattern: Page Down/Up (and J/K, as feed readers do) move between
  // posts, Ctrl+End/Home leave the feed. J/K only on the post itself, never while typing.
  feed.addEventListener("keydown", (event) => {
    const current = event.target.closest("article");
    if (!current || current.parentElement !== feed) return;
    const plain = event.target === current && !event.ctrlKey && !event.metaKey && !event.altKey;
    let target = null;
    if (event.key === "PageDown" || (plain && event.key === "j")) target = current.nextElementSibling;
    else if (event.key === "PageUp" || (plain && event.key === "k")) target = current.previousElementSibling;
    else if (event.ctrlKey && event.key === "End") target = document.getElementById("feed-end");
    else if (event.ctrlKey && event.key === "Home") target = document.getElementById("content");
    if (!target) return;
    event.preventDefault();
    const more = target.id === "feed-end" && target.querySelector("a[data-more]");
    (more || target).focus();
  });
})();
