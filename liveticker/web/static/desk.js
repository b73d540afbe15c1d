// The desk's small helpers; every form works without them.
// - A live preview of the composer's Markdown, rendered by the server's own sanitizer.
// - Ctrl+Enter (Cmd+Enter) submits the composer with its default action; Alt+N focuses it.
// - Image upload from a file picker or by drag and drop; the answer fills the image fields
//   (without JavaScript the image goes in by address).
(() => {
  "use strict";
  // Other people's changes: a staff-only stream (signed in, never the public one) says when
  // the blog's desk changed; the desk then fetches its own page again and redraws the
  // stream, the drafts and the queue. The composer and anything being typed are left alone.
  const live = document.querySelector("[data-live-sections]");
  if (live && window.EventSource) {
    const announcer = document.getElementById("desk-announcer");
    const readers = document.querySelector("[data-readers]");
    let redrawing = false;
    let wanted = null; // a state the desk has not shown yet
    const redraw = async () => {
      if (redrawing || wanted === null || wanted === live.dataset.state) return;
      const typing = live.contains(document.activeElement) && document.activeElement.matches("input, textarea");
      if (typing) return; // again when the field is left
      redrawing = true;
      const asked = wanted;
      let drawn = false;
      try {
        const page = await fetch(location.pathname, {
          credentials: "same-origin", cache: "no-store", redirect: "manual",
        });
        if (!page.ok) return;
        const fresh = new DOMParser().parseFromString(await page.text(), "text/html");
        const sections = fresh.querySelector("[data-live-sections]");
        if (!sections) return;
        live.innerHTML = sections.innerHTML;
        live.dataset.state = sections.dataset.state;
        if (announcer) announcer.textContent = "The stream was updated.";
        drawn = true;
      } catch (error) {
        /* offline for now: the next signal tries again */
      } finally {
        redrawing = false;
        if (drawn && wanted !== asked) redraw(); // it changed again meanwhile
      }
    };
    live.addEventListener("focusout", () => setTimeout(redraw, 0));
    const stream = new EventSource(live.dataset.stream);
    stream.addEventListener("changed", (event) => {
      wanted = JSON.parse(event.data).state;
      redraw();
    });
    stream.addEventListener("readers", (event) => {
      if (readers) readers.textContent = JSON.parse(event.data).readers.toLocaleString("en");
    });
  }

  const composer = document.querySelector("form[data-composer]");
  if (!composer) return;

  // What is typed in the new-post composer survives a reload or an expired sign-in.
  const fresh = !composer.elements.based_on;
  const key = "liveticker:composer:" + composer.getAttribute("action");
  const fields = () => Array.from(composer.elements).filter(
    (el) => el.name && !["csrf", "based_on", "action"].includes(el.name) && el.type !== "file"
  );
  if (fresh && window.localStorage) {
    if (/[?&]done=/.test(location.search)) {
      localStorage.removeItem(key); // it was sent and taken
    } else {
      const saved = JSON.parse(localStorage.getItem(key) || "null");
      const empty = fields().every((el) => (el.type === "checkbox" ? !el.checked : !el.value));
      if (saved && empty) {
        for (const el of fields()) {
          if (!(el.name in saved)) continue;
          if (el.type === "checkbox") el.checked = saved[el.name];
          else el.value = saved[el.name];
        }
        const note = document.createElement("p");
        note.className = "notice ok";
        note.setAttribute("role", "status");
        note.textContent = "Your unsent post was restored.";
        composer.prepend(note);
      }
    }
    composer.addEventListener("input", () => {
      const values = {};
      for (const el of fields()) values[el.name] = el.type === "checkbox" ? el.checked : el.value;
      localStorage.setItem(key, JSON.stringify(values));
    });
  }
  const body = composer.querySelector("textarea[name=body]");
  const csrf = composer.querySelector("input[name=csrf]");
  const box = composer.querySelector("[data-preview-for]");
  const target = box && box.querySelector(".preview-body");
  let timer = 0;
  let asked = 0;

  const preview = async () => {
    const ticket = ++asked;
    const form = new FormData();
    form.append("body", body.value);
    try {
      const response = await fetch("/desk/preview", {
        method: "POST",
        body: form,
        headers: { "X-CSRF-Token": csrf.value },
        credentials: "same-origin",
        redirect: "manual", // a sign-in that ended answers with a redirect: no preview
      });
      if (!response.ok || ticket !== asked) return;
      target.innerHTML = await response.text(); // sanitized by the server (nh3)
      box.hidden = body.value.trim() === "";
    } catch (error) {
      /* offline: the preview waits for the next keystroke */
    }
  };

  if (body && box && target && csrf) {
    body.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(preview, 300);
    });
    if (body.value.trim()) preview();
  }

  const upload = composer.querySelector("[data-upload]");
  if (upload && csrf) {
    const picker = upload.querySelector("input[type=file]");
    const status = upload.querySelector("[data-upload-status]");
    const set = (name, value) => { composer.elements[name].value = value; };
    const send = async (file) => {
      status.textContent = "Uploading " + file.name + "…";
      const form = new FormData();
      form.append("file", file);
      try {
        const response = await fetch("/desk/media", {
          method: "POST",
          body: form,
          headers: { "X-CSRF-Token": csrf.value },
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (!response.ok) {
          status.textContent = answer.error ? answer.error.message : "The upload failed.";
          return;
        }
        set("image_url", answer.url);
        set("image_width", answer.width);
        set("image_height", answer.height);
        set("image_srcset", JSON.stringify(answer.srcset));
        status.textContent = "Uploaded (" + answer.width + "×" + answer.height + "). Now describe it in the alt text.";
        composer.elements.image_alt.focus();
      } catch (error) {
        status.textContent = "The upload failed; check the connection and try again.";
      }
    };
    upload.hidden = false;
    picker.addEventListener("change", () => { if (picker.files.length) send(picker.files[0]); });
    upload.addEventListener("dragover", (event) => { event.preventDefault(); upload.classList.add("dropping"); });
    upload.addEventListener("dragleave", () => upload.classList.remove("dropping"));
    upload.addEventListener("drop", (event) => {
      event.preventDefault();
      upload.classList.remove("dropping");
      if (event.dataTransfer.files.length) send(event.dataTransfer.files[0]);
    });
    // An address typed by hand is not the uploaded image: forget the upload's sizes.
    composer.elements.image_url.addEventListener("input", () => {
      set("image_width", ""); set("image_height", ""); set("image_srcset", "");
    });
  }

  composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      const button = composer.querySelector("button[data-default]");
      if (button) composer.requestSubmit(button);
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey && (event.key === "n" || event.key === "N" || event.code === "KeyN")) {
      event.preventDefault();
      (composer.querySelector("input[name=headline]") || body).focus();
    }
  });
})();
