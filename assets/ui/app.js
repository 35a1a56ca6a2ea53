// The analysis page: POST /parse fills the token table and the JSON, POST /render draws
// the pictures. Served as a file of its own so that the page's Content-Security-Policy
// needs no 'unsafe-inline'. User text only ever reaches the page as text (textContent) or
// inside the server's escaped pictures, asked for without their style sheet
// ("standalone": false; the page links the same sheet) and parsed with DOMParser, whose
// documents are inert: nothing in them runs.
"use strict";

(() => {
  const byId = (id) => document.getElementById(id);
  const form = byId("analyse");
  const input = byId("text");
  const status = byId("status");
  const error = byId("error");
  const results = byId("results");
  let busy = false;

  // A failed request as an Error carrying the status and the API's error code.
  async function apiError(response) {
    let code = "";
    let message = response.statusText || "no message";
    try {
      const body = await response.json();
      code = body.error.code;
      message = body.error.message;
    } catch (_) {
      // Not the API's JSON (a proxy's page, say): the status line says enough.
    }
    const err = new Error(message);
    err.status = response.status;
    err.code = code;
    return err;
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      throw await apiError(response);
    }
    return response;
  }

  function showError(err) {
    error.textContent = err.status
      ? `The server answered ${err.status}${err.code ? ` (${err.code})` : ""}: ${err.message}`
      : `The request failed: ${err.message}`;
    error.hidden = false;
  }

  // The element of a /render answer ("standalone": false), ready to insert.
  async function picture(text, style) {
    const response = await post("/render", { text, style, standalone: false });
    const markup = await response.text();
    const svg = style === "dep";
    const doc = new DOMParser().parseFromString(markup, svg ? "image/svg+xml" : "text/html");
    const node = svg ? doc.documentElement : doc.body.firstElementChild;
    if (!node || doc.querySelector("parsererror")) {
      throw new Error("the server sent a picture this page cannot read");
    }
    return document.importNode(node, true);
  }

  function fillTable(doc) {
    const labels = new Map();
    for (const ent of doc.ents || []) {
      for (let i = ent.start_token; i < ent.end_token; i += 1) {
        labels.set(i, ent.label);
      }
    }
    const body = byId("tokens").tBodies[0];
    body.replaceChildren();
    for (const token of doc.tokens) {
      const row = body.insertRow();
      const head = doc.tokens[token.head];
      const iob = token.ent_iob || "";
      const cells = [
        token.id,
        token.text,
        token.lemma ?? "",
        token.pos ?? "",
        token.tag ?? "",
        token.morph ?? "",
        head === undefined ? "" : `${token.head} ${head.text}`,
        token.dep ?? "",
        iob === "B" || iob === "I" ? `${iob}-${labels.get(token.id) ?? ""}` : iob,
      ];
      for (const value of cells) {
        row.insertCell().textContent = value;
      }
    }
  }

  async function analyse(event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    form.setAttribute("aria-busy", "true");
    error.hidden = true;
    status.textContent = "Analysing…";
    const text = input.value;
    try {
      const [doc, dep, ent] = await Promise.all([
        post("/parse", { text }).then((response) => response.json()),
        picture(text, "dep"),
        picture(text, "ent"),
      ]);
      byId("dep").replaceChildren(dep);
      byId("ent").replaceChildren(ent);
      fillTable(doc);
      byId("json").textContent = JSON.stringify(doc, null, 2);
      results.hidden = false;
      const count = (items, one, many) => `${items.length} ${items.length === 1 ? one : many}`;
      status.textContent = `${count(doc.tokens, "token", "tokens")}, ` +
        `${count(doc.sents || [], "sentence", "sentences")}, ` +
        `${count(doc.ents || [], "entity", "entities")}.`;
    } catch (err) {
      results.hidden = true;
      status.textContent = "";
      showError(err);
    } finally {
      busy = false;
      form.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", analyse);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
