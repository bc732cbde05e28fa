// Shared helpers of the Cantata pages: fetching JSON, formatting, building elements.
"use strict";

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.json();
}

async function postFile(url, file) {
  // POST a file as a multipart form's ``file`` field; the JSON answer, or an Error saying why.
  const form = new FormData();
  form.append("file", file, file.name);
  const response = await fetch(url, { method: "POST", body: form, credentials: "same-origin" });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (e) { /* not JSON */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.json();
}

function matchList(results) {
  // Ranked matches as list items: a link opening the track at the matching passage.
  return results.map((m) => el("li", { "data-track": m.track_id },
    el("a", { href: `/tracks/${m.track_id}?t=${m.offset_s}`, title: m.path,
              text: fileName(m.path) }),
    el("span", { class: "muted",
                 text: ` at ${clock(m.offset_s)} · distance ${m.distance.toFixed(3)}` })));
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const m = Math.floor(seconds / 60);
  const s = (seconds - 60 * m).toFixed(1).padStart(4, "0");
  return `${m}:${s}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function fileName(path) { return path.split("/").pop(); }
