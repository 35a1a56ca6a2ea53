#!/usr/bin/env bash
# The analysis page at / in a real browser: headless Chromium (Debian's `chromium`, driven
# over WebDriver by Debian's `chromium-driver`) opens the page of a real `nlpd serve`, a
# text is typed and submitted with the keyboard alone, and the test checks what is drawn
# against the JSON of /parse: one arc per token that is not a root, with the same heads,
# dependents and labels; the entity marks with their labels; that the XSS strings in the
# text stay text (no alert, no injected element, nothing ran); that the page broke no rule
# of its Content-Security-Policy; that entity marks and arc labels keep a WCAG contrast of
# 4.5 in the light and the dark colour scheme; and that errors (413, 422) are shown. A
# screenshot of the page is written to target/ui/screenshot.png (the path is printed).
#
# WebDriver is HTTP and JSON, so the driver below is Python's standard library alone:
# nothing comes from PyPI (Selenium would add a package and a driver manager that tries the
# network), and the only installs are Debian packages: chromium, chromium-driver, a font.
#
# Usage: scripts/browser-test.sh [NLPD_BINARY]     (default: target/release/nlpd)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/deploy/lib.sh
source "$ROOT/scripts/deploy/lib.sh"

BIN="${1:-$ROOT/target/release/nlpd}"
OUT="$ROOT/target/ui"
[[ -x $BIN ]] || die "not an executable: $BIN"
ensure_commands chromium:chromium chromedriver:chromium-driver
# A font for the text (Debian's chromium recommends fonts but does not depend on one).
[[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]] || apt_install fonts-dejavu-core
mkdir -p "$OUT"

# A small body limit, so that the page can be shown a 413 with a text of a few kilobytes.
NLPD_LIMITS__MAX_BODY_BYTES=4096 start_server "$BIN" "$OUT/server.log"
driver_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chromedriver --port="$driver_port" --log-path="$OUT/chromedriver.log" >/dev/null 2>&1 &
DRIVER_PID=$!
trap 'kill "$SERVER_PID" "$DRIVER_PID" 2>/dev/null || true' EXIT

python3 - "$SERVER_URL" "http://127.0.0.1:$driver_port" "$OUT" <<'EOF'
import base64
import json
import os
import shutil
import sys
import time
import urllib.error
import urllib.request

SERVER, DRIVER, OUT = sys.argv[1:4]
XSS = ['<script>window.__xss = 1</script>', '"><svg onload=window.__xss=2>',
       '<img src=x onerror="window.__xss=3">']
TEXT = ("Barack Obama visited Berlin and Paris in 2008. "
        + "Then he wrote " + " and ".join(XSS) + " in London.")
# WebDriver key codes.
TAB, ENTER, CONTROL, BACKSPACE = "\ue004", "\ue007", "\ue009", "\ue003"


# [what, contrast] for each entity mark (its text on its fill) and for the arc labels (on
# the page), by the WCAG formula.
CONTRASTS = """
const rgb = (colour) => colour.match(/[\\d.]+/g).slice(0, 3).map(Number);
const luminance = (colour) => {
  const [r, g, b] = rgb(colour).map((c) => c / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const marks = [...document.querySelectorAll('#ent mark.nlpd-ent')].map((m) => {
  const style = getComputedStyle(m);
  return [m.dataset.label, contrast(style.color, style.backgroundColor)];
});
const label = document.querySelector('#dep .arc-label');
const page = getComputedStyle(document.querySelector('#dep svg')).backgroundColor;
return [...marks, ['arc label', contrast(getComputedStyle(label).fill, page)]];
"""


# Pairs of overlapping text boxes in the diagram (words or tags of neighbouring tokens, any
# two arc labels), and whether its container scrolls.
OVERLAPS = """
const box = (e) => e.getBoundingClientRect();
const apart = (a, b) => a.right <= b.left + 0.5 || b.right <= a.left + 0.5
  || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5;
const overlaps = [];
for (const sentence of document.querySelectorAll('#dep g.sentence')) {
  for (const part of ['.word', '.tag']) {
    const texts = [...sentence.querySelectorAll('text.token ' + part)];
    for (let i = 1; i < texts.length; i += 1) {
      if (!apart(box(texts[i - 1]), box(texts[i]))) {
        overlaps.push([texts[i - 1].textContent, texts[i].textContent]);
      }
    }
  }
  const labels = [...sentence.querySelectorAll('text.arc-label')];
  labels.forEach((a, i) => labels.slice(i + 1).forEach((b) => {
    if (!apart(box(a), box(b))) overlaps.push([a.textContent, b.textContent]);
  }));
}
const scroller = document.getElementById('dep');
return {overlaps, scrolls: scroller.scrollWidth > scroller.clientWidth};
"""


class Fail(Exception):
    pass


def http(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        raise Fail(f"{method} {url}: {err.code} {err.read().decode()[:500]}") from None


def deadline_loop(what, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        yield
        time.sleep(0.05)
    raise Fail(f"gave up waiting for {what}")


class Browser:
    def __init__(self):
        for _ in deadline_loop("chromedriver to start", 10):
            try:
                http("GET", f"{DRIVER}/status")
                break
            except (OSError, Fail):
                pass
        options = {"binary": shutil.which("chromium"),
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                            "--disable-dev-shm-usage", "--window-size=1280,900",
                            "--force-prefers-reduced-motion", "--hide-scrollbars"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options,
                        "goog:loggingPrefs": {"browser": "ALL"}, "unhandledPromptBehavior": "ignore"}
        answer = http("POST", f"{DRIVER}/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.url = f"{DRIVER}/session/{answer['value']['sessionId']}"

    def cmd(self, method, path, body=None):
        if method == "POST" and body is None:
            body = {}
        return http(method, self.url + path, body)["value"]

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        found = self.cmd("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def keys(self, *strokes):
        """Presses keys on the focused element; a tuple is a chord (held together)."""
        actions = []
        for stroke in strokes:
            chord = stroke if isinstance(stroke, tuple) else (stroke,)
            actions += [{"type": "keyDown", "value": key} for key in chord]
            actions += [{"type": "keyUp", "value": key} for key in reversed(chord)]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard",
                                                    "actions": actions}]})

    def alert_text(self):
        try:
            return self.cmd("GET", "/alert/text")
        except Fail:
            return None

    def screenshot(self, path):
        """The top of the page, 1280 by 1100 pixels: the form, the pictures, the table's start."""
        self.cmd("POST", "/window/rect", {"width": 1280, "height": 1100})
        self.js("window.scrollTo(0, 0);")
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        with open(path, "wb") as out:
            out.write(png)

    def quit(self):
        http("DELETE", self.url)


def check(condition, message):
    if not condition:
        raise Fail(message)


def analyse_by_keyboard(browser):
    """Submits the form the way a keyboard user does: Tab from the text box, then Enter."""
    browser.keys(TAB)
    active = browser.cmd("GET", "/element/active")
    check(next(iter(active.values())) == browser.find("#submit"),
          "Tab from the text box does not reach the Analyse button")
    browser.keys(ENTER)


def wait_for_status(browser):
    """Waits for the page to settle on a result or an error; returns (status, error) texts."""
    for _ in deadline_loop("the page to show a result or an error"):
        state = browser.js("""
            const busy = document.getElementById('analyse').hasAttribute('aria-busy');
            const error = document.getElementById('error');
            return [busy, document.getElementById('status').textContent,
                    error.hidden ? '' : error.textContent];""")
        if not state[0] and (state[1].endswith(".") or state[2]):
            return state[1], state[2]


def main():
    started = time.monotonic()
    browser = Browser()
    try:
        browser.cmd("POST", "/url", {"url": SERVER + "/"})
        check(browser.js("return document.title;").startswith("nlpd"), "the page did not load")
        # Counts policy violations from here on (the browser log below covers the load).
        browser.js("""window.__violations = [];
            document.addEventListener('securitypolicyviolation',
                (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));""")

        # Type the text into the text box and submit, by keyboard only.
        textbox = browser.find("#text")
        browser.cmd("POST", f"/element/{textbox}/click")
        browser.cmd("POST", f"/element/{textbox}/value", {"text": TEXT})
        check(browser.js("return document.getElementById('text').value;") == TEXT,
              "the typed text is not in the text box")
        analyse_by_keyboard(browser)
        status, error = wait_for_status(browser)
        check(browser.alert_text() is None, "an alert fired")
        check(not error, f"the page shows an error for a valid text: {error}")

        doc = http("POST", SERVER + "/parse", {"text": TEXT})
        tokens = doc["tokens"]
        want_arcs = sorted((t["head"], t["id"], t["dep"]) for t in tokens if t["head"] != t["id"])
        drawn = browser.js("""return [...document.querySelectorAll('#dep svg.nlpd-dep g.arc')]
            .map((g) => [+g.dataset.head, +g.dataset.dependent, g.dataset.label,
                         g.querySelector('text.arc-label').textContent]);""")
        check(all(label == text for _, _, label, text in drawn), "an arc's label is not its text")
        got_arcs = sorted((h, d, label) for h, d, label, _ in drawn)
        check(len(got_arcs) == len(tokens) - sum(t["head"] == t["id"] for t in tokens),
              f"{len(got_arcs)} arcs drawn for {len(tokens)} tokens")
        check(got_arcs == want_arcs, f"arcs differ from /parse:\n{got_arcs}\n{want_arcs}")
        words = browser.js("""return [...document.querySelectorAll('#dep text.token')]
            .map((t) => t.querySelector('.word').textContent);""")
        check(len(words) == len(tokens), f"{len(words)} words drawn for {len(tokens)} tokens")
        # Laid out with the browser's real fonts: words, tags and arc labels never overlap, and
        # the long sentence makes the diagram scroll sideways rather than squeeze.
        layout = browser.js(OVERLAPS)
        check(not layout["overlaps"], f"drawn text overlaps: {layout['overlaps'][:5]}")
        check(layout["scrolls"], "the wide diagram does not scroll sideways")
        marks = browser.js("""return [...document.querySelectorAll('#ent mark.nlpd-ent')]
            .map((m) => [m.firstChild.textContent, m.dataset.label,
                         m.querySelector('.nlpd-ent-label').textContent]);""")
        want_marks = [[e["text"], e["label"], e["label"]] for e in doc["ents"]]
        check(marks == want_marks, f"entity marks {marks} differ from /parse {want_marks}")
        check(any(label == "PER" for _, label, _ in marks) and any(l == "LOC" for _, l, _ in marks),
              f"expected a PER and a LOC mark in {marks}")
        rows = browser.js("return document.querySelectorAll('#tokens tbody tr').length;")
        check(rows == len(tokens), f"{rows} table rows for {len(tokens)} tokens")
        shown_json = json.loads(browser.js("return document.getElementById('json').textContent;"))
        check(shown_json == doc, "the JSON shown is not the JSON of /parse")

        # The XSS strings stayed text: nothing ran, nothing was injected, all of it reads back.
        inert = browser.js("""return {
            ran: window.__xss === undefined ? null : window.__xss,
            scripts: document.scripts.length,
            handlers: document.querySelectorAll('[onload],[onerror]').length,
            images: document.images.length,
            entText: document.getElementById('ent').textContent};""")
        check(inert["ran"] is None, f"injected code ran: window.__xss = {inert['ran']}")
        check(inert["scripts"] == 1, f"{inert['scripts']} script elements (only app.js expected)")
        check(inert["handlers"] == 0 and inert["images"] == 0, f"markup was injected: {inert}")
        for xss in XSS:
            check(xss in inert["entText"], f"{xss!r} is not shown as text")
        check(browser.alert_text() is None, "an alert fired")

        shot = os.path.join(OUT, "screenshot.png")
        browser.screenshot(shot)

        # Entity marks and arc labels are legible in both colour schemes: WCAG contrast of
        # at least 4.5 between each mark's text and its fill, and the labels and the page.
        for scheme in ["light", "dark"]:
            browser.cmd("POST", "/goog/cdp/execute", {"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]}})
            contrasts = browser.js(CONTRASTS)
            low = [c for c in contrasts if c[1] < 4.5]
            check(len(contrasts) == len(marks) + 1 and not low,
                  f"{scheme} scheme: contrast too low for {low}")
        browser.screenshot(os.path.join(OUT, "screenshot-dark.png"))
        browser.cmd("POST", "/goog/cdp/execute", {"cmd": "Emulation.setEmulatedMedia",
                                                  "params": {"features": []}})

        # Errors: an empty text (422), then one over the 4 KiB body limit (413).
        browser.cmd("POST", f"/element/{textbox}/click")
        browser.keys((CONTROL, "a"), BACKSPACE, (CONTROL, ENTER))
        status, error = wait_for_status(browser)
        check("422" in error and "empty_text" in error, f"no 422 shown for an empty text: {error!r}")
        browser.js("document.getElementById('text').value = arguments[0];", "word " * 1000)
        browser.cmd("POST", f"/element/{textbox}/click")
        browser.keys((CONTROL, ENTER))
        status, error = wait_for_status(browser)
        check("413" in error and "payload_too_large" in error,
              f"no 413 shown for a text over the body limit: {error!r}")
        browser.screenshot(os.path.join(OUT, "error.png"))

        violations = browser.js("return window.__violations;")
        check(not violations, f"Content-Security-Policy violations: {violations}")
        log = browser.cmd("POST", "/se/log", {"type": "browser"})
        # The two failed requests are logged by the browser as such; anything else (a CSP
        # report, a script error) fails the test.
        problems = [entry["message"] for entry in log if entry["level"] == "SEVERE"
                    and "the server responded with a status of 4" not in entry["message"]]
        check(not problems, f"the browser console has errors: {problems}")
    finally:
        browser.quit()
    print(f"browser-test: PASS | {len(tokens)} tokens, {len(got_arcs)} arcs and "
          f"{len(marks)} entity marks as /parse says, legible in light and dark, XSS inert, 422 "
          f"and 413 shown, no CSP violation | {time.monotonic() - started:.1f}s")
    print(f"browser-test: screenshot: {shot} (dark scheme: {shot[:-4]}-dark.png, "
          f"the 413: {os.path.join(OUT, 'error.png')})")


try:
    main()
except Fail as err:
    print(f"browser-test: FAIL: {err}", file=sys.stderr)
    sys.exit(1)
EOF
