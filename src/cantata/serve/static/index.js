// The catalog table: search, filter by tags (the facet), sort by column, page through.
"use strict";

const PAGE = 100;
const state = { search: "", sort: "path", desc: false, offset: 0, total: 0,
                tags: new URLSearchParams(location.search).getAll("tag") };

function filters() {
  // The search and the chosen tags, as query parameters of /v1/tracks and /v1/tags.
  const query = new URLSearchParams();
  if (state.search) query.set("search", state.search);
  for (const tag of state.tags) query.append("tag", tag);
  return query;
}

async function load() {
  const query = filters();
  for (const [key, value] of Object.entries({ sort: state.sort, desc: state.desc,
                                               limit: PAGE, offset: state.offset })) {
    query.set(key, value);
  }
  const tbody = document.querySelector("#tracks tbody");
  loadFacet();
  let data;
  try {
    data = await getJSON(`/v1/tracks?${query}`);
  } catch (err) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 8, text: String(err) })));
    return;
  }
  state.total = data.total;
  tbody.replaceChildren(...data.tracks.map(row));
  const last = Math.min(state.offset + PAGE, state.total);
  document.getElementById("page").textContent =
    state.total ? `${state.offset + 1}–${last} of ${state.total}` : "no tracks";
  document.getElementById("prev").disabled = state.offset === 0;
  document.getElementById("next").disabled = last >= state.total;
  for (const th of document.querySelectorAll("th.sortable")) {
    const arrow = th.dataset.sort === state.sort ? (state.desc ? " ↓" : " ↑") : "";
    th.textContent = th.textContent.replace(/ [↑↓]$/, "") + arrow;
  }
}

async function loadFacet() {
  // The tags present among the listed tracks, with counts; a click adds or drops a tag.
  let facet;
  try {
    facet = (await getJSON(`/v1/tags?${filters()}`)).tags;
  } catch (err) {
    return;
  }
  const counts = new Map(facet.map((t) => [t.tag, t.tracks]));
  for (const tag of state.tags) if (!counts.has(tag)) counts.set(tag, 0);
  const buttons = [...counts].map(([tag, n]) => {
    const chosen = state.tags.includes(tag);
    const button = el("button", { type: "button", "data-tag": tag,
                                  "aria-pressed": String(chosen),
                                  title: `${n} track${n === 1 ? "" : "s"} tagged ${tag}` },
                      tag, " ", el("span", { class: "count", text: n }));
    button.addEventListener("click", () => toggleTag(tag));
    return button;
  });
  document.getElementById("tag-buttons").replaceChildren(...buttons);
  document.getElementById("tag-facet").hidden = buttons.length === 0;
}

function toggleTag(tag) {
  state.tags = state.tags.includes(tag) ? state.tags.filter((t) => t !== tag)
    : [...state.tags, tag];
  state.offset = 0;
  const query = new URLSearchParams(state.tags.map((t) => ["tag", t]));
  history.replaceState(null, "", query.toString() ? `/?${query}` : "/");
  load();
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
      if (!state.tags.includes(t.tag)) toggleTag(t.tag);
    });
    span.append(chip);
  }
  return span;
}

function row(track) {
  const detect = track.results.detect;
  const separate = track.results.separate;
  const link = el("a", { href: `/tracks/${track.id}`, title: track.path,
                         text: fileName(track.path) });
  const tr = el("tr", { class: track.status === "failed" ? "failed" : "" },
    el("td", { class: "num", text: track.id }),
    el("td", {}, link),
    el("td", { class: "num", text: clock(track.duration_s) }),
    el("td", { class: "num", text: track.loudness_lufs === null ? "" :
                                  track.loudness_lufs.toFixed(1) }),
    el("td", { class: "num", text: detect ? clock(detect.summary.vocal_s) : "" }),
    el("td", { text: separate ? separate.stems.join(", ") : "" }),
    el("td", {}, tagChips(track.results.tag)),
    el("td", { text: track.status === "failed" ? `failed: ${track.error}` : "ok" }));
  return tr;
}

document.getElementById("search").addEventListener("input", (event) => {
  state.search = event.target.value.trim();
  state.offset = 0;
  clearTimeout(state.timer);
  state.timer = setTimeout(load, 150);
});
for (const th of document.querySelectorAll("th.sortable")) {
  th.addEventListener("click", () => {
    state.desc = state.sort === th.dataset.sort ? !state.desc : false;
    state.sort = th.dataset.sort;
    state.offset = 0;
    load();
  });
}
document.getElementById("prev").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - PAGE); load();
});
document.getElementById("next").addEventListener("click", () => {
  state.offset += PAGE; load();
});
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
getJSON("/healthz").then((h) => {
  document.getElementById("summary").textContent = `version ${h.version}`;
}).catch(() => {});
load();
