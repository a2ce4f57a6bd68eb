// The studio's page. Everything that comes from the session (programs, output, errors, the
// model's words, object names) is set as text (textContent), never as markup. The one
// exception is highlighted code, which is the highlighter's own output for code it escapes
// itself. Every request goes to this server by a relative path, which carries the token.

import hljs from "./highlight/core.min.js";
import python from "./highlight/python.min.js";

hljs.registerLanguage("python", python);

const $ = (id) => document.getElementById(id);
let state = null;
let viewGeneration = 0;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function highlighted(code) {
  const block = el("code", { class: "hljs language-python" });
  // highlight() escapes the code it is given; its HTML holds only its own <span class> tags.
  block.innerHTML = hljs.highlight(code, { language: "python", ignoreIllegals: true }).value;
  return block;
}

async function call(path, body = undefined) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `${response.status}`);
  return answer;
}

function say(text) {
  $("status").textContent = text;
}

// --- work: one at a time; the state is polled while it runs -------------------------------

async function work(label, path, body = {}) {
  say(`${label}…`);
  const polling = setInterval(refresh, 500);
  try {
    show(await call(path, body));
    say(`${label}: done`);
  } catch (error) {
    say(`${label}: ${error.message}`);
    await refresh();
  } finally {
    clearInterval(polling);
  }
}

async function refresh() {
  try {
    show(await call("api/state"));
  } catch (error) {
    say(`the studio did not answer: ${error.message}`);
  }
}

// --- showing the state -------------------------------------------------------------------

function show(next) {
  const viewChanged = !state || state.cameras !== next.cameras;
  state = next;
  $("episode").textContent = `${next.task} · seed ${next.seed}` + (next.instruction ? ` · ${next.instruction}` : "");
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.checked = radio.value === next.mode;
    radio.disabled = radio.value === "model" && !next.has_model;
  }
  $("code-panel").hidden = next.mode !== "code";
  $("model-panel").hidden = next.mode !== "model";
  $("run").hidden = next.mode !== "code";
  $("camera-choice").value = next.cameras;
  $("live").checked = next.live;
  showTurns(next.turns);
  showScene(next.scene);
  $("turns-left").textContent = `${next.turns_left} turns left.`;
  if (next.verdict) {
    const v = next.verdict;
    $("verdict").textContent = `${v.skill || "not stored"}: ${v.status}. ${v.reason}`;
  }
  if (viewChanged) startView();
}

function showTurns(turns) {
  const box = $("turns");
  if (box.childElementCount === turns.length && turns.length && box.lastElementChild.dataset.turn === String(turns.at(-1).turn)) return;
  box.replaceChildren(...turns.map(turnView).reverse());
}

function turnView(turn) {
  const who = turn.by === "you" ? "you wrote" : "the model";
  const node = el("article", { class: "turn", "data-turn": String(turn.turn) }, el("h3", {}, `Turn ${turn.turn} · ${who}`));
  if (turn.reasoning) node.append(el("div", { class: "label" }, "Reasoning"), el("p", { class: "reasoning" }, turn.reasoning));
  if (turn.reply) node.append(el("div", { class: "label" }, "Reply"), el("p", { class: "reply" }, turn.reply));
  if (turn.code !== null) {
    const again = el("button", { type: "button" }, "Edit");
    again.addEventListener("click", () => editCode(turn.code));
    node.append(el("div", { class: "label" }, "Code"), el("pre", { class: "code" }, highlighted(turn.code)), again);
    const output = turn.stdout || "(nothing was printed)";
    node.append(el("div", { class: "label" }, "Output"), el("pre", { class: "output" }, output));
    if (turn.stdout_cut) node.append(el("p", { class: "muted" }, `${turn.stdout_cut} more characters were printed`));
  }
  for (const line of turn.said) node.append(el("p", { class: "said" }, `says: ${line}`));
  if (turn.error) node.append(el("div", { class: "label" }, "Error"), el("pre", { class: "error" }, turn.error));
  if (turn.note) node.append(el("p", { class: "muted" }, turn.note));
  if (turn.scene) node.append(el("div", { class: "label" }, "Scene"), el("p", { class: "scene" }, turn.scene.text));
  node.append(el("p", { class: "muted" }, turn.turns_left));
  return node;
}

function editCode(code) {
  if (state && state.mode !== "code") call("api/mode", { mode: "code" }).then(show);
  $("code").value = code;
  shadowCode();
  $("code").focus();
}

function showScene(scene) {
  if (!scene) return;
  $("scene-text").textContent = scene.text;
  const rows = scene.objects.map((o) => el("tr", {}, el("td", {}, o.name), el("td", {}, o.position.join(", ")), el("td", {}, o.where)));
  $("objects").tBodies[0].replaceChildren(...rows);
}

// --- the camera: each shown camera waits for its next image -------------------------------

function startView() {
  const generation = ++viewGeneration;
  const image = el("img", { id: "view", alt: `the ${state.cameras} camera view` });
  const halves = state.shown.length > 1 ? [" (left half)", " (right half)"] : [""];
  const parts = state.shown.map((s, i) => `the ${s.camera} camera${halves[i]}: ${s.left}`);
  const caption = el("figcaption", {}, `Showing ${parts.join("; ")}.`);
  $("images").replaceChildren(el("figure", {}, image, caption));
  follow(image, generation);
}

async function follow(image, generation) {
  let seen = 0;
  while (generation === viewGeneration) {
    try {
      const response = await fetch(`api/live?after=${seen}`);
      if (!response.ok) throw new Error(`${response.status}`);
      if (response.status === 204) continue; // nothing new yet: ask again
      seen = Number(response.headers.get("X-Frame-Number"));
      const url = URL.createObjectURL(await response.blob());
      const old = image.src;
      image.src = url;
      image.dataset.frame = String(seen);
      if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// --- the editor: a textarea over its highlighted copy -------------------------------------

function shadowCode() {
  const code = $("code").value;
  $("code-shadow").innerHTML = hljs.highlight(code + "\n", { language: "python", ignoreIllegals: true }).value;
  $("code-shadow").parentElement.scrollTop = $("code").scrollTop;
  $("code-shadow").parentElement.scrollLeft = $("code").scrollLeft;
}

// --- the API reference ----------------------------------------------------------------------

async function loadReference() {
  const entries = await call("api/reference");
  const box = $("api");
  const articles = entries.map((entry) => {
    const node = el("article", {}, el("code", {}, entry.header), el("span", { class: "muted" }, ` · ${entry.group}`), el("pre", {}, entry.doc));
    node.dataset.search = `${entry.name} ${entry.group} ${entry.doc}`.toLowerCase();
    return node;
  });
  box.replaceChildren(...articles);
  $("api-search").addEventListener("input", () => {
    const words = $("api-search").value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const node of articles) node.hidden = !words.every((w) => node.dataset.search.includes(w));
  });
}

// --- wiring ---------------------------------------------------------------------------------

$("code").addEventListener("input", shadowCode);
$("code").addEventListener("scroll", shadowCode);
$("code").addEventListener("keydown", (event) => {
  if (event.key === "Tab") {
    event.preventDefault();
    $("code").setRangeText("    ", $("code").selectionStart, $("code").selectionEnd, "end");
    shadowCode();
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    $("run").click();
  }
});
$("run").addEventListener("click", () => work("Running", "api/run", { code: $("code").value }));
$("send").addEventListener("click", () => {
  const text = $("instruction").value;
  $("instruction").value = "";
  work("Acting", "api/instruct", { text });
});
$("instruction").addEventListener("keydown", (event) => {
  if (event.key === "Enter") $("send").click();
});
$("stop").addEventListener("click", async () => {
  const answer = await call("api/stop", {});
  say(answer.stopped ? "Stopping…" : "nothing is running");
});
$("undo").addEventListener("click", () => work("Undoing", "api/undo"));
$("reset").addEventListener("click", () => work("Resetting", "api/reset", { new_seed: $("new-seed").checked }));
$("save-skill").addEventListener("click", () => work("Saving the skill", "api/skill", {
  name: $("skill-name").value, call: $("skill-call").value, task: $("skill-task").value,
}));
$("download").addEventListener("click", () => {
  const link = el("a", { href: "api/trajectory", download: "" });
  document.body.append(link);
  link.click();
  link.remove();
});
$("viewer").addEventListener("click", async () => {
  try {
    const answer = await call("api/viewer", {});
    say(`the episode is in the viewer at ${answer.url}`);
    window.open(answer.url, "_blank", "noopener");
  } catch (error) {
    say(error.message);
  }
});
for (const radio of document.querySelectorAll("input[name=mode]")) {
  radio.addEventListener("change", () => call("api/mode", { mode: radio.value }).then(show, (e) => say(e.message)));
}
const chooseView = () => call("api/view", { cameras: $("camera-choice").value, live: $("live").checked }).then(show, (e) => say(e.message));
$("camera-choice").addEventListener("change", chooseView);
$("live").addEventListener("change", chooseView);

shadowCode();
refresh();
loadReference();
