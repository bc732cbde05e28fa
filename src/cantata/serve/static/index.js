// The catalog table: search, sort by column, page through.
"use strict";

const PAGE = 100;
const state = { search: "", sort: "path", desc: false, offset: 0, total: 0 };

async function load() {
  const query = new URLSearchParams({ sort: state.sort, desc: state.desc, limit: PAGE,
                                      offset: state.offset });
  if (state.search) query.set("search", state.search);
  const tbody = document.querySelector("#tracks tbody");
  let data;
  try {
    data = await getJSON(`/v1/tracks?${query}`);
  } catch (err) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: 7, text: String(err) })));
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
getJSON("/healthz").then((h) => {
  document.getElementById("summary").textContent = `version ${h.version}`;
}).catch(() => {});
load();
