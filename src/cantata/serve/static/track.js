// One track: waveform or spectrogram on a time axis, label lanes (singing, defects, lyrics), a
// player of the mix and its stems (solo, mute, crossfade, keys), time-stamped lyrics as karaoke,
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
  drawAxis();
  showPlayer(track);
  showStems(track);
  if (startAt > 0) audio.addEventListener("loadedmetadata", () => seek(startAt), { once: true });
  showSimilar();
  document.getElementById("raw").textContent = JSON.stringify(track, null, 2);
  showUnavailable(track.audio_unavailable);
  if (track.status === "ok" && !track.audio_unavailable) {
    drawPeaks(document.getElementById("wave"),
              await getJSON(`/v1/tracks/${trackId}/peaks?bins=1200`));
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
  const lyrics = showLyrics(track.results.lyrics);
  if (lyrics) lanes.push(lyrics);
  const tagged = track.results.tag ? track.results.tag.regions : [];  // time-stamped tags
  if (tagged.length) {
    lanes.push(el("div", { class: "lane-group", text: "tags" }));
    for (const tag of [...new Set(tagged.map((r) => r.label))].sort()) {
      lanes.push(lane(tag, tagged.filter((r) => r.label === tag), "tagged", "tags"));
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

// Lyrics: the lyrics analyzer's lines (regions labelled with their text) and words (its
// summary's [start, end, text]) as a lane of blocks and a karaoke view under the player: the
// current line large, its sung words darker and the current one highlighted, the next line
// dimmer. The state is on window.player.lyrics (line, word: indices, -1 before the first).
const karaoke = { lines: [], line: null, word: null };

function showLyrics(result) {
  // The lyrics lane (null without stored lines); fills karaoke.lines.
  karaoke.lines = result && result.regions.length ? lyricLines(result) : [];
  document.getElementById("karaoke").hidden = !karaoke.lines.length;
  if (!karaoke.lines.length) return null;
  const box = el("div", { class: "lane lyrics", "data-label": "lyrics", "data-group": "lyrics" },
                 el("span", { class: "lane-name", text: "lyrics" }));
  karaoke.lines.forEach((line, i) => {
    const left = (100 * line.start) / duration;
    const width = (100 * (line.end - line.start)) / duration;
    line.block = el("div", { class: "region lyric", "data-line": i, text: line.text,
                             style: `left:${left}%;width:${width}%`,
                             title: `${clock(line.start)}–${clock(line.end)} ${line.text}` });
    line.block.addEventListener("click", () => seek(line.start));
    box.append(line.block);
  });
  return box;
}

function lyricLines(result) {
  // The lines in time order, each with its words: a word belongs to the line whose text holds
  // it next (words are cut from their line's text, in order); a line without stored words is
  // one word of its own, so that the whole line lights up.
  const lines = [...result.regions].sort((a, b) => a.start_s - b.start_s)
    .map((r) => ({ text: r.label, start: r.start_s, end: r.end_s, words: [] }));
  let i = 0;
  let cursor = 0;
  for (const [start, end, text] of result.summary.words || []) {
    let at = lines[i].text.indexOf(text, cursor);
    if (at < 0 && i + 1 < lines.length) {
      i += 1;
      at = lines[i].text.indexOf(text);
    }
    lines[i].words.push({ text, start, end });
    cursor = at < 0 ? 0 : at + text.length;
  }
  for (const line of lines) {
    if (!line.words.length) line.words.push({ text: line.text, start: line.start, end: line.end });
  }
  return lines;
}

function showLyricAt(t) {
  // The karaoke view and the lane's current line at time t (redrawn only when they change).
  const lines = karaoke.lines;
  if (!lines.length) return;
  let line = -1;
  while (line + 1 < lines.length && lines[line + 1].start <= t) line += 1;
  const shown = Math.max(line, 0);
  let word = -1;
  if (line >= 0 && t < lines[line].end) {
    while (word + 1 < lines[line].words.length && lines[line].words[word + 1].start <= t) word += 1;
  }
  if (line === karaoke.line && word === karaoke.word) return;
  const now = document.getElementById("lyric-now");
  if (line !== karaoke.line) {
    now.replaceChildren(...lines[shown].words.flatMap((w, j) => {
      const span = el("span", { class: "word", "data-word": j, text: w.text });
      span.addEventListener("click", (event) => {
        event.stopPropagation();
        seek(w.start);
      });
      return j ? [" ", span] : [span];
    }));
    now.dataset.line = String(shown);
    now.dataset.state = line < 0 ? "upcoming" : "current";
    const next = lines[shown + 1];
    const after = document.getElementById("lyric-next");
    after.textContent = next ? next.text : "";
    after.dataset.line = next ? String(shown + 1) : "";
    lines.forEach((l, i) => l.block.classList.toggle("current", i === line));
  }
  now.querySelectorAll(".word").forEach((span, j) => {
    span.classList.toggle("sung", line >= 0 && (j < word || (word < 0 && t >= lines[line].end)));
    span.classList.toggle("current", j === word);
  });
  karaoke.line = line;
  karaoke.word = word;
}

for (const id of ["lyric-now", "lyric-next"]) {
  document.getElementById(id).addEventListener("click", (event) => {
    const line = karaoke.lines[Number(event.currentTarget.dataset.line)];
    if (line && event.currentTarget.dataset.line !== "") seek(line.start);
  });
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

// The player: the mix's <audio> element is the clock; each stem plays in its own element,
// kept within DRIFT_S of it, and only while audible. Gains: the mix gets 1 - crossfade, a
// stem crossfade when audible (soloed, or none soloed and not muted), else 0. The state is
// on window.player and on each stem row (data-gain, data-audible).
const DRIFT_S = 0.08;
const player = { volume: 1, crossfade: 0, solo: null, muted: new Set(), stems: new Map() };
window.player = player;
player.lyrics = karaoke;

function showPlayer(track) {
  const play = document.getElementById("play");
  if (track.status === "ok" && !track.audio_unavailable) {
    audio.src = track.audio_url;
    play.disabled = false;
  }
  play.addEventListener("click", togglePlay);
  audio.addEventListener("play", () => syncStems(true));
  audio.addEventListener("playing", () => syncStems(true));
  audio.addEventListener("pause", () => syncStems());
  audio.addEventListener("waiting", () => pauseStems());
  audio.addEventListener("seeked", () => syncStems(true));
  audio.addEventListener("loadedmetadata", () => {
    if (!duration && Number.isFinite(audio.duration)) {
      duration = audio.duration;
      drawAxis();
    }
  });
  document.getElementById("volume").addEventListener("input", (event) => {
    player.volume = Number(event.target.value);
    applyGains();
  });
  document.getElementById("crossfade").addEventListener("input", (event) => {
    player.crossfade = Number(event.target.value);
    applyGains();
  });
  applyGains();
}

function togglePlay() {
  if (audio.paused) audio.play().catch(() => {});
  else audio.pause();
}

function showStems(track) {
  // A row per stem: name, solo, mute, download, its waveform (or why it is missing).
  const rows = Object.entries(track.stem_urls).map(([name, url]) => stemRow(name, url));
  document.getElementById("stems").replaceChildren(...rows);
  document.getElementById("stems").hidden = rows.length === 0;
  document.getElementById("crossfade-box").hidden = rows.length === 0;
  const ab = document.getElementById("ab");
  ab.hidden = !(RESTORED in track.stem_urls);
  ab.addEventListener("click", toggleRestored);
  applyGains();
}

// A/B of a restored copy (the restore analyzer's "restored" stem): pressed, it alone is
// heard (soloed, the slider on the stems); released, the original mix.
const RESTORED = "restored";

function restoredHeard() {
  return player.solo === RESTORED && player.crossfade === 1;
}

function toggleRestored() {
  const stem = player.stems.get(RESTORED);
  if (!stem || stem.missing) return;
  const on = !restoredHeard();
  player.solo = on ? RESTORED : null;
  player.crossfade = on ? 1 : 0;
  document.getElementById("crossfade").value = String(player.crossfade);
  applyGains();
}

function stemRow(name, url) {
  const solo = el("button", { type: "button", class: "solo", "aria-pressed": "false",
                              title: `solo ${name}: hear only this stem`, text: "S" });
  const mute = el("button", { type: "button", class: "mute", "aria-pressed": "false",
                              title: `mute ${name}`, text: "M" });
  const canvas = el("canvas", { class: "stem-wave" });
  const element = el("audio", { preload: "metadata", src: url, "data-stem": name });
  const row = el("div", { class: "stem", "data-stem": name },
    el("div", { class: "stem-controls" }, el("span", { class: "stem-name", text: name }), solo,
       mute, el("a", { class: "download", href: url, download: "", title: `download ${name}`,
                       "aria-label": `download ${name}`, text: "↓" })),
    canvas, element);
  const stem = { name, url, row, solo, mute, canvas, audio: element, missing: null };
  player.stems.set(name, stem);
  solo.addEventListener("click", () => setSolo(player.solo === name ? null : name));
  mute.addEventListener("click", () => setMuted(name, !player.muted.has(name)));
  canvas.addEventListener("click", seekFromClick);
  getJSON(`/v1/tracks/${trackId}/peaks?bins=1200&stem=${encodeURIComponent(name)}`)
    .then((peaks) => drawPeaks(canvas, peaks, "#7a6bb0"))
    .catch((err) => stemMissing(stem, err));
  return row;
}

function stemMissing(stem, err) {
  // The stem's file cannot be had: the row says why, and it stays silent.
  stem.missing = String(err.message || err).replace(/^\d+: /, "");
  stem.row.dataset.missing = "true";
  stem.canvas.replaceWith(el("p", { class: "stem-missing", text: `unavailable: ${stem.missing}` }));
  stem.audio.removeAttribute("src");
  for (const b of [stem.solo, stem.mute]) b.disabled = true;
  stem.row.querySelector(".download").removeAttribute("href");
  applyGains();
}

function setSolo(name) {
  player.solo = name;
  audibleStems();
}

function setMuted(name, muted) {
  if (muted) player.muted.add(name);
  else player.muted.delete(name);
  audibleStems();
}

function audibleStems() {
  // Solo and mute act on the stems: with the slider all on the mix, move it to the stems.
  if (player.crossfade === 0) {
    player.crossfade = 1;
    document.getElementById("crossfade").value = "1";
  }
  applyGains();
}

function audible(name) {
  return player.solo ? player.solo === name : !player.muted.has(name);
}

function gains() {
  // Each source's gain, before the volume: {mix, <stem>: ...}.
  const out = { mix: 1 - player.crossfade };
  for (const [name, stem] of player.stems) {
    out[name] = stem.missing || !audible(name) ? 0 : player.crossfade;
  }
  return out;
}
player.gains = gains;

function applyGains() {
  const g = gains();
  audio.volume = player.volume * g.mix;
  for (const [name, stem] of player.stems) {
    stem.audio.volume = player.volume * g[name];
    stem.row.dataset.gain = g[name].toFixed(2);
    stem.row.dataset.audible = String(g[name] > 0);
    stem.solo.setAttribute("aria-pressed", String(player.solo === name));
    stem.mute.setAttribute("aria-pressed", String(player.muted.has(name)));
  }
  document.getElementById("ab").setAttribute("aria-pressed", String(restoredHeard()));
  syncStems(true);
}

function syncStems(force = false) {
  // Audible stems play at the mix's position; the others rest.
  for (const stem of player.stems.values()) {
    const media = stem.audio;
    if (stem.missing || audio.paused || media.volume === 0) {
      if (!media.paused) media.pause();
      continue;
    }
    if (!media.seeking
        && (force || Math.abs(media.currentTime - audio.currentTime) > DRIFT_S)) {
      media.currentTime = audio.currentTime;
    }
    if (media.paused) media.play().catch(() => {});
  }
}

function pauseStems() {
  for (const stem of player.stems.values()) if (!stem.audio.paused) stem.audio.pause();
}

function showUnavailable(reason) {
  // Say why the mix cannot be played (file missing since the scan, moved, unreadable).
  const note = document.getElementById("unavailable");
  note.textContent = reason ? `Audio unavailable: ${reason}` : "";
  note.hidden = !reason;
}

function drawPeaks(canvas, peaks, colour = "#5b6b80") {
  // A min/max envelope, one bar per bin.
  const scale = window.devicePixelRatio || 1;
  canvas.width = canvas.clientWidth * scale;
  canvas.height = canvas.clientHeight * scale;
  const g = canvas.getContext("2d");
  const mid = canvas.height / 2;
  const step = canvas.width / peaks.bins;
  g.fillStyle = canvas.colour = colour;
  for (let i = 0; i < peaks.bins; i++) {
    const top = mid - peaks.max[i] * mid;
    const bottom = mid - peaks.min[i] * mid;
    g.fillRect(i * step, top, Math.max(step, 1), Math.max(bottom - top, 1));
  }
  canvas.peaks = peaks;
  canvas.dataset.drawn = String(peaks.bins);
}

window.addEventListener("resize", () => {
  drawAxis();
  for (const canvas of document.querySelectorAll("#timeline canvas")) {
    if (canvas.peaks) drawPeaks(canvas, canvas.peaks, canvas.colour);
  }
});

const TICK_STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
  7200];
const TICK_MIN_PX = 64;

function drawAxis() {
  // Ticks under the waveform at the first step at least TICK_MIN_PX apart, in m:ss (m:ss.s
  // below a second, h:mm:ss past an hour); the lanes and stems share the axis.
  const axis = document.getElementById("axis");
  const width = axis.clientWidth;
  if (!duration || !width) return axis.replaceChildren();
  const step = TICK_STEPS.find((s) => (s / duration) * width >= TICK_MIN_PX) || 7200;
  const ticks = [];
  for (let i = 0; i * step <= duration + 1e-9; i++) {
    const t = i * step;
    ticks.push(el("span", { class: "tick", style: `left:${(100 * t) / duration}%`,
                            text: tickLabel(t, step) }));
  }
  axis.replaceChildren(...ticks);
  axis.dataset.step = String(step);
}

function tickLabel(t, step) {
  const decimals = step < 1 ? 1 : 0;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t - 3600 * h) / 60);
  const s = (t - 3600 * h - 60 * m).toFixed(decimals).padStart(decimals ? 4 : 2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

for (const button of document.querySelectorAll("[data-view]")) {
  button.addEventListener("click", () => showView(button.dataset.view));
}

function showView(view) {
  // Waveform or spectrogram (fetched the first time, as wide as the box in pixels).
  const wave = document.getElementById("wave");
  const image = document.getElementById("spectrogram");
  const note = document.getElementById("view-note");
  for (const b of document.querySelectorAll("[data-view]")) {
    b.setAttribute("aria-pressed", String(b.dataset.view === view));
  }
  wave.hidden = view !== "wave";
  image.hidden = view !== "spectrogram";
  note.hidden = true;
  if (view !== "spectrogram" || image.getAttribute("src")) return;
  const scale = window.devicePixelRatio || 1;
  const width = Math.max(16, Math.min(4000, Math.round(wave.clientWidth * scale)));
  const height = Math.max(16, Math.min(1000, Math.round(160 * scale)));
  note.textContent = "computing the spectrogram…";
  note.hidden = false;
  image.addEventListener("load", () => { note.hidden = true; }, { once: true });
  image.addEventListener("error", () => { note.textContent = "no spectrogram: audio unavailable"; },
                         { once: true });
  image.src = `/v1/tracks/${trackId}/spectrogram?width=${width}&height=${height}`;
}

function seek(seconds) {
  const end = duration || audio.duration || 0;
  audio.currentTime = Math.max(0, end ? Math.min(seconds, end) : seconds);
}

function seekFromClick(event) {
  const box = event.currentTarget.getBoundingClientRect();
  if (duration) seek(((event.clientX - box.left) / box.width) * duration);
}

document.getElementById("wave-box").addEventListener("click", seekFromClick);

const NOT_TYPING = ["range", "checkbox", "radio", "button", "submit"];

document.addEventListener("keydown", (event) => {
  // Space, arrows (shift: farther), Home, End; not while typing (a slider keeps its arrows).
  const target = event.target;
  const slider = target.tagName === "INPUT" && target.type === "range";
  if (event.ctrlKey || event.metaKey || event.altKey || target.isContentEditable
      || ["TEXTAREA", "SELECT"].includes(target.tagName)
      || (target.tagName === "INPUT" && !NOT_TYPING.includes(target.type))
      || (slider && event.key !== " ")) return;
  const jump = event.shiftKey ? 30 : 5;
  const actions = { " ": togglePlay, ArrowLeft: () => seek(audio.currentTime - jump),
    ArrowRight: () => seek(audio.currentTime + jump), Home: () => seek(0),
    End: () => seek(duration || audio.duration), r: toggleRestored, R: toggleRestored };
  const action = actions[event.key];
  if (!action || document.getElementById("play").disabled) return;
  event.preventDefault();  // no scrolling, no pressing the focused button
  action();
});
document.addEventListener("keyup", (event) => {
  // A focused button would take the space's keyup as a click.
  if (event.key === " " && event.target.tagName === "BUTTON") event.preventDefault();
});

function follow() {
  const head = document.getElementById("playhead");
  if (duration) head.style.left = `${(100 * audio.currentTime) / duration}%`;
  const time = `${clock(audio.currentTime)} / ${clock(duration)}`;
  const play = document.getElementById("play");
  if (document.getElementById("time").textContent !== time) {
    document.getElementById("time").textContent = time;
  }
  if (play.getAttribute("aria-pressed") !== String(!audio.paused)) {
    play.setAttribute("aria-pressed", String(!audio.paused));
    play.textContent = audio.paused ? "play" : "pause";
  }
  if (!audio.paused) syncStems();
  showLyricAt(audio.currentTime);
  requestAnimationFrame(follow);
}
requestAnimationFrame(follow);
main();
