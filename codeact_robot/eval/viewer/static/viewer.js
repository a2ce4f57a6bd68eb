// The episode viewer's page: the run list, the episode list and one episode, from the JSON API.
//
// Everything from the results store is untrusted: it reaches the page only as text nodes
// (textContent), never as markup. The one exception is highlighted code, which is the
// highlighter's own output for code it escapes itself. The page's state lives in the URL's
// hash (#/episodes?agent=...&task=..., #/episode/42, #/runs), so links from a report and a
// reload land on the same view, freshly read from the store.

import hljs from "./highlight/core.min.js";
import python from "./highlight/python.min.js";

hljs.registerLanguage("python", python);

const main = document.getElementById("main");
const FILTERS = [
  ["suite", "suite"],
  ["agent", "agent"],
  ["task", "task"],
  ["split", "split"],
  ["kind", "failure kind"],
  ["outcome", "outcome"],
  ["model", "model"],
  ["mode", "mode"],
];
const COLUMNS = [
  ["id", "#", true],
  ["agent", "agent", true],
  ["task", "task", true],
  ["seed", "seed", true],
  ["split", "split", true],
  ["outcome", "outcome", true],
  ["failure_kind", "failure kind", true],
  ["turns", "turns", true],
  ["wall_s", "wall s", true],
  ["instruction", "instruction", false],
  ["finished_at", "finished", true],
];
const PAGE_SIZE = 50;
let overview = null;
let lastList = "#/";

// --- building the page from text --------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : text(child));
  }
  return node;
}

function text(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
}

function number(value, digits = 2) {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function show(...children) {
  main.replaceChildren(...children.flat().filter(Boolean));
}

async function api(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(text(body.error) || response.statusText);
  return body;
}

function failure(error) {
  show(el("div", { class: "warning", role: "alert" }, "Could not load: ", text(error.message || error)));
}

// --- routing ----------------------------------------------------------------------------------

async function route() {
  const hash = location.hash.slice(1) || "/";
  const [path, query = ""] = hash.split("?", 2);
  try {
    if (!overview) {
      overview = await api("/api/overview");
      document.getElementById("store").textContent = `${text(overview.folder)} · ${overview.episodes} episodes`;
    }
    const episode = path.match(/^\/episode\/(\d{1,12})$/);
    if (episode) await showEpisode(Number(episode[1]));
    else if (path === "/runs") showRuns();
    else if (path === "/" || path === "/episodes") await showList(new URLSearchParams(query));
    else show(el("p", {}, "Nothing here. ", el("a", { href: "#/" }, "See the episodes.")));
  } catch (error) {
    failure(error);
  }
}

window.addEventListener("hashchange", route);
route();

// --- the run list -----------------------------------------------------------------------------

function showRuns() {
  const suites = (overview.suites || []).map((suite) =>
    el(
      "tr",
      {},
      el("td", {}, el("a", { href: listLink({ suite: suite.suite_hash }) }, text(suite.name))),
      el("td", {}, el("code", {}, text(suite.suite_hash).slice(0, 12))),
      el("td", {}, suite.heldout ? "held out" : ""),
      el("td", { class: "num" }, text(suite.episodes)),
      el("td", {}, text(suite.created_at)),
    ),
  );
  const runs = (overview.runs || []).map((run) =>
    el(
      "tr",
      {},
      el("td", { class: "num" }, text(run.id)),
      el("td", {}, el("code", {}, text(run.suite_hash).slice(0, 12))),
      el("td", { class: "time" }, text(run.started_at)),
      el("td", { class: "time" }, text(run.finished_at)),
      el("td", {}, text(run.status)),
      el("td", { class: "settings" }, settingsText(run.settings)),
    ),
  );
  show(
    el("h1", {}, "Suites"),
    el("table", {}, el("thead", {}, row("th", ["suite", "hash", "", "episodes", "created"])), el("tbody", {}, suites)),
    el("h1", {}, "Runs"),
    el(
      "table",
      {},
      el("thead", {}, row("th", ["run", "suite", "started", "finished", "status", "settings"])),
      el("tbody", {}, runs),
    ),
  );
}

function row(tag, cells) {
  return el("tr", {}, cells.map((cell) => el(tag, {}, cell)));
}

// --- the episode list -------------------------------------------------------------------------

function listLink(params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== "" && value !== null) query.set(name, value);
  const encoded = query.toString();
  return encoded ? `#/episodes?${encoded}` : "#/";
}

function currentParams(params) {
  return Object.fromEntries([...params.entries()]);
}

async function showList(params) {
  lastList = location.hash || "#/";
  const sort = params.get("sort") || "id";
  const order = params.get("order") || "desc";
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const query = new URLSearchParams(params);
  query.set("limit", PAGE_SIZE);
  const page = await api(`/api/episodes?${query}`);
  const state = currentParams(params);
  const go = (changes) => {
    location.hash = listLink({ ...state, offset: "", ...changes });
  };

  const filters = el("form", { class: "filters", onsubmit: (event) => event.preventDefault() });
  for (const [name, label] of FILTERS) {
    const values = (overview.facets && overview.facets[name]) || [];
    if (values.length < 2 && !params.get(name)) continue;
    const select = el("select", { name, "aria-label": label, onchange: () => go({ [name]: select.value }) });
    select.append(el("option", { value: "" }, "any"));
    for (const [value, count] of values) {
      if (value === null) continue;
      const shown = name === "suite" ? suiteName(value) : value;
      select.append(el("option", { value, selected: value === params.get(name) }, `${shown} (${count})`));
    }
    filters.append(el("label", {}, label, select));
  }
  const search = el("input", {
    type: "search",
    name: "q",
    value: params.get("q") || "",
    placeholder: "text in code, output, errors, instruction",
    "aria-label": "search",
  });
  const submit = () => go({ q: search.value });
  search.addEventListener("keydown", (event) => event.key === "Enter" && submit());
  filters.append(el("label", {}, "search", search), el("button", { type: "button", onclick: submit }, "Search"));
  if (Object.keys(state).length) filters.append(el("a", { href: "#/" }, "clear filters"));

  const head = el(
    "tr",
    {},
    COLUMNS.map(([column, label, sortable]) => {
      if (!sortable) return el("th", {}, label);
      const sorted = sort === column;
      const next = sorted && order === "desc" ? "asc" : "desc";
      return el(
        "th",
        {
          class: `sortable${sorted ? ` sorted ${order}` : ""}`,
          title: `sort by ${label}`,
          onclick: () => go({ sort: column, order: next }),
        },
        label,
      );
    }),
  );
  const rows = page.episodes.map((episode) => {
    const link = `#/episode/${episode.id}`;
    return el(
      "tr",
      { "data-id": episode.id },
      el("td", { class: "num" }, el("a", { href: link }, text(episode.id))),
      el("td", {}, text(episode.agent)),
      el("td", {}, el("a", { href: link }, text(episode.task))),
      el("td", { class: "num" }, text(episode.seed)),
      el("td", {}, text(episode.split)),
      el("td", {}, verdict(episode.success, episode.outcome)),
      el("td", {}, text(episode.failure_kind)),
      el("td", { class: "num" }, text(episode.turns)),
      el("td", { class: "num" }, number(episode.wall_s, 1)),
      el("td", {}, text(episode.instruction).slice(0, 120)),
      el("td", { class: "time" }, text(episode.finished_at)),
    );
  });
  const last = Math.min(page.total, offset + page.episodes.length);
  const pager = el(
    "div",
    { class: "pager" },
    el("button", { type: "button", disabled: offset <= 0, onclick: () => go({ offset: Math.max(0, offset - PAGE_SIZE) || "" }) }, "← previous"),
    el("span", { id: "count" }, page.total ? `${offset + 1}–${last} of ${page.total} episodes` : "no episodes match"),
    el("button", { type: "button", disabled: last >= page.total, onclick: () => go({ offset: offset + PAGE_SIZE }) }, "next →"),
  );
  const problems = page.unreadable.length
    ? el("div", { class: "warning" }, `${page.unreadable.length} row(s) on this page could not be read:\n`, page.unreadable.join("\n"))
    : null;
  show(
    el("h1", {}, "Episodes"),
    filters,
    problems,
    el("table", { id: "episodes" }, el("thead", {}, head), el("tbody", {}, rows)),
    pager,
  );
}

function suiteName(hash) {
  const suite = (overview.suites || []).find((s) => s.suite_hash === hash);
  return suite ? `${text(suite.name)} ${text(hash).slice(0, 8)}` : text(hash).slice(0, 12);
}

// A run's settings as "name: value" pairs that wrap with the page (one long JSON line would widen it).
function settingsText(settings) {
  if (!settings || typeof settings !== "object") return text(settings);
  return Object.entries(settings)
    .map(([name, value]) => `${name}: ${text(value)}`)
    .join(", ");
}

// Solved or not, and how a failed episode ended beside it ("not solved" turn limit).
function verdict(success, outcome) {
  if (success) return el("span", { class: "badge ok" }, "success");
  const label = outcome === "error" ? "could not run" : "not solved";
  const how = text(outcome).replaceAll("_", " ");
  return el("span", { class: "verdict" }, el("span", { class: "badge bad" }, label), how ? ` ${how}` : "");
}

// --- one episode ------------------------------------------------------------------------------

async function showEpisode(id) {
  const episode = await api(`/api/episodes/${id}`);
  const summary = episode.summary || {};
  const record = episode.record && typeof episode.record === "object" ? episode.record : {};
  const messages = Array.isArray(record.messages) ? record.messages : [];
  const turns = Array.isArray(record.turns) ? record.turns : [];
  const images = Array.isArray(episode.images) ? episode.images : [];
  const system = messages.find((m) => m && m.role === "system");

  const parts = [
    el("p", {}, el("a", { href: lastList }, "← episodes")),
    el("h1", {}, `${text(summary.task || record.task)} · seed ${text(summary.seed ?? record.seed)} · ${text(summary.agent)}`),
    episode.problem ? el("div", { class: "warning" }, "This row could not be read: ", text(episode.problem)) : null,
    episode.record_problem ? el("div", { class: "warning" }, text(episode.record_problem)) : null,
    facts([
      ["verdict", verdict(summary.success ?? record.success, summary.outcome ?? record.outcome)],
      ["failure kind", text(summary.failure_kind)],
      ["agent", `${text(summary.agent)} (${text(summary.mode || record.mode)}, ${text(summary.model)})`],
      ["split", text(summary.split)],
      ["turns", text(summary.turns ?? turns.length)],
      ["tokens", `${text(summary.prompt_tokens ?? "–")} prompt, ${text(summary.completion_tokens ?? "–")} completion`],
      ["time", `model ${number(summary.llm_s)} s, code ${number(summary.exec_s)} s, simulated ${number(summary.sim_s)} s, wall ${number(summary.wall_s)} s`],
      ["error", summary.error ? text(summary.error) : null],
      ["video", summary.video && !episode.video ? `no video (${text(summary.video)} is missing)` : null],
    ]),
    el("div", { class: "label" }, "instruction"),
    el("div", { class: "text", id: "instruction" }, text(summary.instruction || record.instruction)),
    system ? el("details", {}, el("summary", {}, "System prompt"), el("pre", {}, messageText(system))) : null,
    episode.video ? el("h2", {}, "Video") : null,
    episode.video ? el("video", { id: "video", src: episode.video, controls: true, preload: "metadata" }) : null,
  ];
  turns.forEach((turn, index) => parts.push(turnView(turn, index, images)));
  parts.push(finalView(record));
  show(parts);
  window.scrollTo(0, 0);
}

function facts(entries) {
  const list = el("dl", { class: "facts" });
  for (const [name, value] of entries) if (value !== null && value !== "") list.append(el("dt", {}, name), el("dd", {}, value));
  return list;
}

function messageText(message) {
  if (typeof message.content === "string") return message.content;
  if (Array.isArray(message.content)) return message.content.map((part) => (part && part.type === "text" ? text(part.text) : "[image]")).join("\n");
  return text(message.content);
}

function turnView(turn, index, images) {
  turn = turn && typeof turn === "object" ? turn : {};
  const turnNumber = Number.isInteger(turn.turn) ? turn.turn : index + 1;
  const report = turn.report && typeof turn.report === "object" ? turn.report : {};
  const assistant = text(turn.assistant);
  const code = typeof turn.code === "string" ? turn.code : null;
  const reasoning = code !== null && assistant.includes("<execute>") ? assistant.split("<execute>")[0].trim() : assistant.trim();
  const scene = text(turn.observation).split("\n").find((line) => line.startsWith("Scene:"));
  const said = Array.isArray(report.said) ? report.said : [];
  const section = el(
    "section",
    { class: "turn", id: `turn-${turnNumber}` },
    el("h2", {}, `Turn ${turnNumber}`, " ", el("span", { class: "badge" }, text(turn.kind || "turn"))),
  );
  if (reasoning) section.append(el("div", { class: "label" }, code !== null ? "reasoning" : "reply"), el("div", { class: "text reasoning" }, reasoning));
  if (code !== null) section.append(el("div", { class: "label" }, "code"), codeView(code));
  if (report.stdout) {
    const cut = Number(report.stdout_cut) > 0 ? `\n[${report.stdout_cut} more characters were printed but are not shown]` : "";
    section.append(el("div", { class: "label" }, "printed output"), el("pre", { class: "output" }, text(report.stdout).replace(/\n$/, "") + cut));
  }
  if (report.error) section.append(el("div", { class: "label" }, `error (${text(report.origin || report.error_type)})`), el("pre", { class: "error" }, text(report.error)));
  if (said.length) section.append(el("div", { class: "label" }, "said to the user"), el("pre", {}, said.map(text).join("\n")));
  if (turn.note) section.append(el("div", { class: "label" }, "note"), el("div", { class: "text" }, text(turn.note)));
  if (scene) section.append(el("div", { class: "label" }, "scene after the turn"), el("div", { class: "text scene" }, scene.slice(7)));
  const shots = images.filter((image) => image.turn === turnNumber);
  if (shots.length) {
    section.append(
      el("div", { class: "label" }, "cameras after the turn"),
      el(
        "div",
        { class: "images" },
        shots.map((image) =>
          el("figure", {}, el("img", { src: image.url, loading: "lazy", alt: `${text(image.camera)} camera after turn ${turnNumber}` }), el("figcaption", {}, text(image.camera))),
        ),
      ),
    );
  }
  if (turn.observation) section.append(el("details", {}, el("summary", {}, "Observation as the model saw it"), el("pre", {}, text(turn.observation))));
  return section;
}

function codeView(code) {
  const lines = code.replace(/\n$/, "").split("\n");
  const numbers = el("pre", { class: "lines", "aria-hidden": "true" }, lines.map((_, i) => String(i + 1)).join("\n"));
  const block = el("code", { class: "hljs language-python" });
  // highlight() escapes the code it is given; its HTML holds only its own <span class> tags.
  block.innerHTML = hljs.highlight(lines.join("\n"), { language: "python", ignoreIllegals: true }).value;
  return el("div", { class: "code" }, numbers, el("pre", {}, block));
}

function finalView(record) {
  const objects = record.final_objects && typeof record.final_objects === "object" ? Object.entries(record.final_objects) : [];
  const rows = objects.map(([name, state]) => {
    const position = state && Array.isArray(state.position) ? state.position : [];
    return el("tr", {}, el("td", {}, text(name)), ...[0, 1, 2].map((i) => el("td", { class: "num" }, number(position[i], 3))));
  });
  return el(
    "section",
    { id: "final" },
    el("h2", {}, "Final check"),
    facts([
      ["verdict", verdict(record.success, record.outcome)],
      ["check", text(record.check)],
      ["outcome", text(record.outcome)],
      ["error", record.error ? text(record.error) : null],
    ]),
    rows.length
      ? el("table", {}, el("thead", {}, row("th", ["object", "x", "y", "z"])), el("tbody", {}, rows))
      : el("p", { class: "muted" }, "No object positions recorded."),
  );
}
