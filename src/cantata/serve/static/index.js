// The catalog table: search, filter by facets (counted by the server), sort by any column,
// page through; the view lives in the URL's query string, so it can be shared, reloaded and
// walked back and forth.
"use strict";

const PAGE = 50;
// Query parameters of the view that are not filters of /v1/tracks and /v1/facets.
const VIEW_KEYS = ["sort", "desc", "page"];
// The facets of /v1/facets: the filter parameter each sets, how its values read.
const FACETS = {
  status: { param: "status", single: true },
  grade: { param: "grade" },
  quality: { param: "quality", label: (v) => v.replace("_", " ") },
  defect_types: { param: "defect_type", label: (v) => v.replace("_", " ") },
  tags: { param: "tag" },
  loudness: { range: "lufs", label: (b) => span(b, (x) => `${x}`) },
  vocal_share: { range: "vocal", label: (b) => span(b, (x) => `${Math.round(100 * x)}%`) },
  duration: { range: "duration", label: (b) => span(b, (x) => `${x / 60} min`) },
};
let view = new URLSearchParams();  // the URL's query: filters, sort, desc, page
let loading = 0;
let typing = 0;  // the timer of the search box
let facetsShown = null;  // the filters the facets shown were counted for

function span(bucket, show) {
  if (bucket.min === null) return `< ${show(bucket.max)}`;
  if (bucket.max === null) return `≥ ${show(bucket.min)}`;
  return `${show(bucket.min)} – ${show(bucket.max)}`;
}

function readURL() {
  view = new URLSearchParams(location.search);
  document.getElementById("search").value = view.get("search") || "";
}

function filters() {
  // The view's filters, as query parameters of /v1/tracks and /v1/facets.
  const query = new URLSearchParams(view);
  for (const key of VIEW_KEYS) query.delete(key);
  return query;
}

function change(edit, { keepPage = false, push = true } = {}) {
  // Edit the view, put it in the URL (a history entry unless ``push`` is false), reload.
  edit(view);
  if (!keepPage) view.delete("page");
  const url = view.toString() ? `/?${view}` : "/";
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
  load();
}

async function load() {
  const ticket = ++loading;  // answers to older requests are dropped
  const sort = view.get("sort") || "path";
  const desc = view.get("desc") === "true";
  const page = Math.max(0, parseInt(view.get("page") || "1", 10) - 1) || 0;
  const query = filters();
  for (const [key, value] of Object.entries({ sort, desc, limit: PAGE, offset: page * PAGE })) {
    query.set(key, value);
  }
  const tbody = document.querySelector("#tracks tbody");
  if (filters().toString() !== facetsShown) loadFacets(filters().toString());
  let data;
  try {
    data = await getJSON(`/v1/tracks?${query}`);
  } catch (err) {
    if (ticket === loading) {
      tbody.replaceChildren(el("tr", {}, el("td", { colspan: 9, text: String(err) })));
    }
    return;
  }
  if (ticket !== loading) return;
  tbody.replaceChildren(...data.tracks.map(row));
  const first = page * PAGE;
  const last = Math.min(first + PAGE, data.total);
  document.getElementById("page").textContent =
    data.total ? `${first + 1}–${last} of ${data.total}` : "no tracks";
  document.getElementById("prev").disabled = page === 0;
  document.getElementById("next").disabled = last >= data.total;
  for (const th of document.querySelectorAll("th.sortable")) {
    const chosen = th.dataset.sort === sort;
    th.setAttribute("aria-sort", chosen ? (desc ? "descending" : "ascending") : "none");
    th.textContent = th.textContent.replace(/ [↑↓]$/, "") + (chosen ? (desc ? " ↓" : " ↑") : "");
  }
}

async function loadFacets(query) {
  // Every facet's values with their counts; a click adds or drops the value's filter.
  // (Counted again only when the filters change: not for a page turned or a sort.)
  let found;
  try {
    found = await getJSON(`/v1/facets?${query}`);
  } catch (err) {
    document.getElementById("filters-summary").textContent = String(err);
    return;
  }
  if (query !== filters().toString()) return;  // the filters changed meanwhile
  facetsShown = query;
  for (const [name, values] of Object.entries(found.facets)) {
    const box = document.querySelector(`.facet[data-facet="${name}"]`);
    if (!box) continue;
    const facet = FACETS[name];
    const buttons = facet.range ? values.map((b) => rangeButton(facet, b))
      : valueButtons(facet, values);
    box.querySelector(".facet-values").replaceChildren(...buttons);
    box.hidden = buttons.length === 0;
  }
  const chosen = [...filters().keys()].length > 0;
  document.getElementById("clear-filters").hidden = !chosen;
  document.getElementById("filters-summary").textContent =
    `${found.total} track${found.total === 1 ? "" : "s"}${chosen ? " match" : ""}`;
}

function facetButton(text, n, chosen, title, onClick) {
  const button = el("button", { type: "button", "aria-pressed": String(chosen), title },
                    text, " ", el("span", { class: "count", text: n }));
  button.disabled = n === 0 && !chosen;
  button.addEventListener("click", onClick);
  return button;
}

function valueButtons(facet, values) {
  // One button per value with tracks, and per chosen value (even at 0).
  const counts = new Map(values.map((v) => [v.value, v.tracks]));
  for (const v of view.getAll(facet.param)) if (!counts.has(v)) counts.set(v, 0);
  return [...counts].filter(([v, n]) => n > 0 || view.getAll(facet.param).includes(v))
    .map(([value, n]) => {
      const chosen = view.getAll(facet.param).includes(value);
      const button = facetButton((facet.label || String)(value), n, chosen,
                                 `${n} track${n === 1 ? "" : "s"}: ${value}`,
                                 () => toggle(facet, value));
      button.dataset.value = value;
      if (facet.param === "tag") button.dataset.tag = value;
      return button;
    });
}

function rangeButton(facet, bucket) {
  const [lo, hi] = [`${facet.range}_min`, `${facet.range}_max`];
  const same = (param, bound) => (view.get(param) === null ? bound === null
    : bound !== null && parseFloat(view.get(param)) === bound);
  const chosen = view.has(lo) || view.has(hi) ? same(lo, bucket.min) && same(hi, bucket.max)
    : false;
  const button = facetButton(facet.label(bucket), bucket.tracks, chosen,
                             `${bucket.tracks} track${bucket.tracks === 1 ? "" : "s"}`, () =>
    change((v) => {
      v.delete(lo); v.delete(hi);
      if (!chosen) {
        if (bucket.min !== null) v.set(lo, bucket.min);
        if (bucket.max !== null) v.set(hi, bucket.max);
      }
    }));
  button.dataset.min = bucket.min === null ? "" : bucket.min;
  button.dataset.max = bucket.max === null ? "" : bucket.max;
  return button;
}

function toggle(facet, value) {
  change((v) => {
    const chosen = v.getAll(facet.param);
    v.delete(facet.param);
    if (facet.single) {
      if (!chosen.includes(value)) v.set(facet.param, value);
      return;
    }
    const next = chosen.includes(value) ? chosen.filter((x) => x !== value) : [...chosen, value];
    for (const x of next) v.append(facet.param, x);
  });
}

function tagChips(result) {
  // The present tags of a track's tag result; a click adds the tag to the filter.
  if (!result) return "";
  const span = el("span", { class: "chips" });
  for (const t of (result.summary.tags || []).filter((t) => t.present)) {
    const chip = el("a", { class: "chip", href: `/?tag=${encodeURIComponent(t.tag)}`,
                           title: `${t.tag}: score ${t.score.toFixed(2)}`, text: t.tag });
    chip.addEventListener("click", (event) => {
      event.preventDefault();
      if (!view.getAll("tag").includes(t.tag)) toggle(FACETS.tags, t.tag);
    });
    span.append(chip);
  }
  return span;
}

function row(track) {
  const detect = track.results.detect;
  const separate = track.results.separate;
  const assess = track.results.assess;
  const link = el("a", { href: `/tracks/${track.id}`, title: track.path,
                         text: fileName(track.path) });
  const grade = assess && assess.summary.grade ? el("span", {
    class: "grade", "data-grade": assess.summary.grade, text: assess.summary.grade,
    title: (assess.summary.reasons || []).join("; ") }) : "";
  const status = track.missing ? "missing" : track.status === "failed"
    ? `failed: ${track.error}` : "ok";
  return el("tr", { class: track.status === "failed" ? "failed" : "" },
    el("td", { class: "num", text: track.id }),
    el("td", {}, link),
    el("td", { class: "num", text: clock(track.duration_s) }),
    el("td", { class: "num", text: track.loudness_lufs === null ? "" :
                                  track.loudness_lufs.toFixed(1) }),
    el("td", { class: "num", text: detect ? clock(detect.summary.vocal_s) : "" }),
    el("td", { text: separate ? separate.stems.join(", ") : "" }),
    el("td", {}, grade),
    el("td", {}, tagChips(track.results.tag)),
    el("td", { text: status }));
}

document.getElementById("search").addEventListener("input", (event) => {
  clearTimeout(typing);
  const text = event.target.value.trim();
  typing = setTimeout(() => change((v) => {
    if (text) v.set("search", text); else v.delete("search");
  }, { push: false }), 150);
});
for (const th of document.querySelectorAll("th.sortable")) {
  th.addEventListener("click", () => change((v) => {
    const desc = v.get("sort") === th.dataset.sort || (!v.has("sort") && th.dataset.sort === "path")
      ? v.get("desc") !== "true" : false;
    if (th.dataset.sort === "path") v.delete("sort"); else v.set("sort", th.dataset.sort);
    if (desc) v.set("desc", "true"); else v.delete("desc");
  }));
}
document.getElementById("clear-filters").addEventListener("click", () => change((v) => {
  for (const key of [...filters().keys()]) v.delete(key);
  document.getElementById("search").value = "";
}));
function turn(step) {
  change((v) => {
    const page = Math.max(1, parseInt(v.get("page") || "1", 10) + step);
    if (page > 1) v.set("page", page); else v.delete("page");
  }, { keepPage: true });
}
document.getElementById("prev").addEventListener("click", () => turn(-1));
document.getElementById("next").addEventListener("click", () => turn(1));
async function searchBySound(file) {
  // POST the clip to /v1/search; list the nearest songs, each opening at its matching passage.
  const status = document.getElementById("sound-status");
  const list = document.getElementById("sound-results");
  status.textContent = `searching for ${file.name}…`;
  list.replaceChildren();
  try {
    const found = await postFile("/v1/search?k=10", file);
    status.textContent = `${found.results.length} nearest to ${found.query.file} ` +
      `(${clock(found.query.duration_s)})`;
    list.replaceChildren(...matchList(found.results));
  } catch (err) {
    status.textContent = String(err);
  }
}

document.getElementById("sound-file").addEventListener("change", (event) => {
  if (event.target.files.length) searchBySound(event.target.files[0]);
});
const dropZone = document.getElementById("by-sound");
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("dragging");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("dragging"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  if (event.dataTransfer.files.length) searchBySound(event.dataTransfer.files[0]);
});

// Recording from the microphone: up to RECORD_S seconds, then searched like a picked file.
const RECORD_S = 10;
const RECORD_TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm",
                      "audio/mp4"];
const NO_MIC = "recording needs https or localhost, and microphone permission";
let recorder = null;

async function record() {
  const status = document.getElementById("sound-status");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
    status.textContent = `${NO_MIC} (this page is ${location.protocol}//${location.host})`;
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    status.textContent = err.name === "NotFoundError" ? "no microphone found to record from"
      : `${NO_MIC}: ${err.name === "NotAllowedError" ? "the microphone was refused"
        : err.message || err.name}`;
    return;
  }
  const mimeType = RECORD_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || "";
  const chunks = [];
  const started = performance.now();
  const time = document.getElementById("record-time");
  const showTime = () => {
    const s = Math.min(RECORD_S, (performance.now() - started) / 1000);
    time.textContent = `${clock(s)} / ${clock(RECORD_S)}`;
  };
  const rec = new MediaRecorder(stream, mimeType ? { mimeType } : {});
  recorder = rec;
  const ticking = setInterval(showTime, 100);
  const limit = setTimeout(stopRecording, RECORD_S * 1000);
  rec.addEventListener("dataavailable", (event) => {
    if (event.data.size) chunks.push(event.data);
  });
  rec.addEventListener("stop", () => {
    clearInterval(ticking);
    clearTimeout(limit);
    for (const track of stream.getTracks()) track.stop();
    showTime();
    recording(false);
    const type = (rec.mimeType || mimeType || "audio/webm").split(";")[0];
    recorder = null;
    const blob = new Blob(chunks, { type });
    if (!blob.size) { status.textContent = "the recording is empty"; return; }
    const suffix = { "audio/ogg": "ogg", "audio/mp4": "m4a" }[type] || "webm";
    searchBySound(new File([blob], `recording.${suffix}`, { type }));
  });
  rec.start(250);
  recording(true);
  showTime();
  status.textContent = `recording (up to ${RECORD_S} s)…`;
}

function stopRecording() {
  if (recorder && recorder.state !== "inactive") recorder.stop();
}

function recording(on) {
  document.getElementById("record").hidden = on;
  document.getElementById("record-stop").hidden = !on;
  document.getElementById("record-time").hidden = false;
  document.getElementById("by-sound").classList.toggle("recording", on);
}

document.getElementById("record").addEventListener("click", record);
document.getElementById("record-stop").addEventListener("click", stopRecording);
getJSON("/healthz").then((h) => {
  document.getElementById("summary").textContent = `version ${h.version}`;
}).catch(() => {});
window.addEventListener("popstate", () => { readURL(); load(); });
readURL();
load();
