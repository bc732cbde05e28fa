// One track: waveform, label lanes (singing, then defects), playback of the mix and its stems,
// tag chips, everything known.
"use strict";

const LANES = ["vocal", "accompaniment", "silence"];
const DEFECT_TYPES = ["click", "dropout", "clipping", "codec", "noise_burst", "discontinuity",
  "dc_offset"];
const trackId = Number(location.pathname.split("/").pop());
const startAt = Number(new URLSearchParams(location.search).get("t")) || 0;
const audio = document.getElementById("audio");
let duration = 0;

async function main() {
  let track;
  try {
    track = await getJSON(`/v1/tracks/${trackId}`);
  } catch (err) {
    document.getElementById("title").textContent = String(err);
    return;
  }
  duration = track.duration_s || 0;
  document.title = `${fileName(track.path)} · Cantata`;
  document.getElementById("title").textContent = track.path;
  showFacts(track);
  showTags(track.results.tag);
  showQuality(track.quality);
  showLanes(track);
  showSources(track);
  if (startAt > 0) audio.addEventListener("loadedmetadata", () => seek(startAt), { once: true });
  showSimilar();
  document.getElementById("raw").textContent = JSON.stringify(track, null, 2);
  showUnavailable(track.audio_unavailable);
  if (track.status === "ok" && !track.audio_unavailable) {
    drawWave(await getJSON(`/v1/tracks/${trackId}/peaks?bins=1200`));
  }
}

const PASSAGE_S = 10;

async function showSimilar(passage = null) {
  // The nearest other tracks by their embeddings, or by those of a passage [start, end]
  // (hidden when the catalog has none).
  const what = document.getElementById("similar-what");
  const query = new URLSearchParams({ k: 10 });
  if (passage) {
    query.set("start", passage[0]);
    query.set("end", passage[1]);
  }
  let found;
  try {
    found = await getJSON(`/v1/tracks/${trackId}/similar?${query}`);
  } catch (err) {
    if (passage) what.textContent = String(err);
    return;
  }
  what.textContent = passage ? `like ${clock(passage[0])}–${clock(passage[1])}` : "";
  document.getElementById("like-track").hidden = !passage;
  document.getElementById("similar-list").replaceChildren(...matchList(found.results));
  document.getElementById("similar").hidden = found.results.length === 0;
}

document.getElementById("like-passage").addEventListener("click", () => {
  // The 10 s from the playhead (to the track's end).
  const start = Math.min(audio.currentTime, Math.max(0, duration - 0.1));
  const end = Math.min(start + PASSAGE_S, duration) || start + PASSAGE_S;
  showSimilar([Number(start.toFixed(2)), Number(end.toFixed(2))]);
});
document.getElementById("like-track").addEventListener("click", () => showSimilar());

function showFacts(track) {
  const rows = [["path", track.path], ["status", track.status + (track.error ? `: ${track.error}` : "")],
    ["duration", clock(track.duration_s)], ["format", `${track.container || ""} ${track.codec || ""}`],
    ["sample rate", track.sample_rate ? `${track.sample_rate} Hz` : ""],
    ["channels", track.channels ?? ""],
    ["loudness", track.loudness_lufs === null ? "" : `${track.loudness_lufs} LUFS`],
    ["peak", track.peak_dbfs === null ? "" : `${track.peak_dbfs} dBFS`],
    ["content hash", track.content_hash], ["updated", track.updated_at]];
  for (const [name, result] of Object.entries(track.results)) {
    rows.push([name, `${result.model} (${result.model_version})`]);
  }
  document.querySelector("#facts tbody").replaceChildren(
    ...rows.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: String(v) }))));
}

function showTags(result) {
  // The tag analyzer's present tags as chips (score on hover; a click lists the catalog's
  // tracks with that tag), or the highest scores when none is present.
  const section = document.getElementById("tags");
  section.hidden = !result;
  if (!result) return;
  const ranked = result.summary.tags || [];
  const present = ranked.filter((t) => t.present);
  const chips = present.map((t) => el("a", {
    class: "chip", href: `/?tag=${encodeURIComponent(t.tag)}`, "data-tag": t.tag,
    "data-score": t.score, title: `${t.tag}: score ${t.score.toFixed(2)}`, text: t.tag }));
  const none = el("span", { class: "muted", text: `no tag present (highest: ${ranked.slice(0, 3)
    .map((t) => `${t.tag} ${t.score.toFixed(2)}`).join(", ")})` });
  document.getElementById("tag-chips").replaceChildren(...(chips.length ? chips : [none]));
}

function showQuality(q) {
  // The assess report: grade, reasons in words, and the facts behind them.
  const panel = document.getElementById("quality");
  panel.hidden = !q;
  if (!q) return;
  const grade = document.getElementById("grade");
  grade.textContent = q.grade;
  grade.dataset.grade = q.grade;
  const reasons = q.reasons.length ? q.reasons : ["nothing wrong found"];
  document.getElementById("reasons").replaceChildren(...reasons.map((r) => el("li", { text: r })));
  const loud = q.loudness;
  const num = (x, unit) => (x === null || x === undefined ? "" : `${x} ${unit}`);
  const lossy = q.lossy.transcoded
    ? `transcoded from ${q.lossy.codec} ${q.lossy.bitrate_class || ""} (confidence ${q.lossy.confidence})`
    : q.upsampled ? `upsampled from ${q.upsampled_from_hz} Hz` : "no lossy history found";
  const targets = Object.entries(loud.targets).map(([name, t]) =>
    `${name}: ${t.ok ? "ok" : "not met"}${t.gain_db === null ? "" : `, gain ${t.gain_db} dB`}`);
  const rows = [["bandwidth", num(q.bandwidth_hz, "Hz")], ["lossy history", lossy],
    ["loudness", num(loud.integrated_lufs, "LUFS")], ["loudness range", num(loud.range_lu, "LU")],
    ["true peak", num(loud.true_peak_dbtp, "dBTP")], ["PLR", num(loud.plr_db, "dB")],
    ["targets", targets.join("; ")],
    ["clipping", `${q.clipping.runs} runs, ${q.clipping.seconds} s`],
    ["DC offset", String(q.dc_offset)],
    ["stereo", q.stereo.correlation === null ? "mono"
      : `correlation ${q.stereo.correlation}, mono fold-down ${q.stereo.mono_loss_db} dB`],
    ["silence", `${q.silence.head_s} s at the start, ${q.silence.tail_s} s at the end`],
    ["truncated", q.truncated ? "yes" : "no"],
    ["duplicates", q.duplicates.map((d) => `${d.file} (${d.kind})`).join(", ") || "none"]];
  document.querySelector("#quality-facts tbody").replaceChildren(
    ...rows.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { text: v }))));
}

function showLanes(track) {
  const detect = track.results.detect;
  const regions = detect ? detect.regions : [];
  const present = LANES.filter((label) => regions.some((r) => r.label === label));
  const lanes = (present.length ? present : ["vocal"]).map((label) =>
    lane(label, regions.filter((r) => r.label === label), label));
  const defects = track.results.defects ? track.results.defects.regions : [];
  const types = defectTypes(defects);
  if (types.length) {
    lanes.push(el("div", { class: "lane-group", text: "defects" }));
    for (const type of types) {
      lanes.push(lane(type, defects.filter((r) => r.label === type), `defect ${type}`,
                      "defects"));
    }
  }
  document.getElementById("lanes").replaceChildren(...lanes);
  const rows = [...regions.map((r) => regionRow(r, "singing", clock)),
    ...defects.map((r) => regionRow(r, "defect", preciseClock))];
  document.querySelector("#regions tbody").replaceChildren(...rows);
}

function lane(label, regions, classes, group = "detect") {
  // One lane of regions; a region is at least a few pixels wide (a click lasts 2 ms).
  const box = el("div", { class: `lane ${group}`, "data-label": label, "data-group": group },
                 el("span", { class: "lane-name", text: label }));
  for (const r of regions) {
    const left = (100 * r.start_s) / duration;
    const width = (100 * (r.end_s - r.start_s)) / duration;
    const region = el("div", { class: `region ${classes}`, style: `left:${left}%;width:${width}%`,
                               title: `${label} ${clock(r.start_s)}–${clock(r.end_s)}` });
    region.addEventListener("click", () => seek(r.start_s));
    box.append(region);
  }
  return box;
}

function defectTypes(defects) {
  // The types found, in the detector's order, then any other type by name.
  const found = new Set(defects.map((r) => r.label));
  const others = [...found].filter((t) => !DEFECT_TYPES.includes(t)).sort();
  return [...DEFECT_TYPES.filter((t) => found.has(t)), ...others];
}

function regionRow(r, kind, format) {
  const row = el("tr", { class: kind, "data-kind": kind },
                 el("td", { text: r.label }), el("td", { text: kind }),
                 el("td", { class: "num", text: format(r.start_s) }),
                 el("td", { class: "num", text: format(r.end_s) }),
                 el("td", { class: "num", text: r.confidence.toFixed(2) }));
  row.addEventListener("click", () => seek(r.start_s));
  return row;
}

function preciseClock(seconds) {
  // m:ss.sss: defects can be a few milliseconds long.
  const m = Math.floor(seconds / 60);
  return `${m}:${(seconds - 60 * m).toFixed(3).padStart(6, "0")}`;
}

function showSources(track) {
  const sources = [["mix", track.audio_url], ...Object.entries(track.stem_urls)];
  const buttons = sources.map(([name, url]) => {
    const button = el("button", { type: "button", "data-source": name, text: name,
                                  "aria-pressed": "false" });
    button.addEventListener("click", () => switchTo(url, button));
    return button;
  });
  document.getElementById("sources").replaceChildren(...buttons);
  if (track.audio_unavailable) buttons[0].disabled = true;
  else if (track.status === "ok") switchTo(track.audio_url, buttons[0]);
}

function showUnavailable(reason) {
  // Say why the mix cannot be played (file missing since the scan, moved, unreadable).
  const note = document.getElementById("unavailable");
  note.textContent = reason ? `Audio unavailable: ${reason}` : "";
  note.hidden = !reason;
}

function switchTo(url, button) {
  // Keep the position and the playing state when switching between mix and stems.
  const at = audio.currentTime;
  const playing = !audio.paused;
  audio.src = url;
  audio.addEventListener("loadedmetadata", () => {
    audio.currentTime = Math.min(at, audio.duration || at);
    if (playing) audio.play().catch(() => {});
  }, { once: true });
  for (const b of document.querySelectorAll("#sources button")) {
    b.setAttribute("aria-pressed", String(b === button));
  }
}

function drawWave(peaks) {
  const canvas = document.getElementById("wave");
  const scale = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * scale;
  canvas.height = canvas.clientHeight * scale;
  const g = canvas.getContext("2d");
  const mid = canvas.height / 2;
  const step = canvas.width / peaks.bins;
  g.fillStyle = "#5b6b80";
  for (let i = 0; i < peaks.bins; i++) {
    const top = mid - peaks.max[i] * mid;
    const bottom = mid - peaks.min[i] * mid;
    g.fillRect(i * step, top, Math.max(step, 1), Math.max(bottom - top, 1));
  }
  canvas.dataset.drawn = String(peaks.bins);
}

function seek(seconds) {
  audio.currentTime = seconds;
}

document.getElementById("wave-box").addEventListener("click", (event) => {
  const box = event.currentTarget.getBoundingClientRect();
  if (duration) seek(((event.clientX - box.left) / box.width) * duration);
});

function follow() {
  const head = document.getElementById("playhead");
  if (duration) head.style.left = `${(100 * audio.currentTime) / duration}%`;
  requestAnimationFrame(follow);
}
requestAnimationFrame(follow);
main();
