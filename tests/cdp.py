"""A tiny Chrome DevTools Protocol client over `--remote-debugging-pipe` (stdlib only).

Chromium reads commands from file descriptor 3 and writes replies and events to descriptor 4,
each message a JSON object terminated by a NUL byte. That needs no websocket client, no
chromedriver and no network, so the browser test runs offline with nothing beyond the Debian
`chromium` package.

    with Browser.launch() as browser:
        page = browser.open(Path("report.html"))
        page.wait_for("document.readyState === 'complete'")
        page.errors        # console errors and uncaught exceptions seen so far
        page.screenshot(Path("shot.png"))
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The path of a Chromium-like browser, or None."""
    env = os.environ.get("PEAKSIM_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class CDPError(RuntimeError):
    pass


class Browser:
    """A headless Chromium process spoken to over the DevTools pipe."""

    def __init__(self, proc: subprocess.Popen, to_browser, from_browser, profile: str):
        self.proc = proc
        self._out = to_browser
        self._in = from_browser
        self._profile = profile
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    @classmethod
    def launch(cls, executable: str | None = None, width: int = 1280, height: int = 900) -> "Browser":
        executable = executable or find_chromium()
        if executable is None:
            raise CDPError("no chromium found; run .ci/install-browser")
        profile = tempfile.mkdtemp(prefix="peaksim-chromium-")
        cmd_r, cmd_w = os.pipe()   # we write commands → browser reads fd 3
        ev_r, ev_w = os.pipe()     # browser writes fd 4 → we read replies and events

        def child_fds():  # runs in the child before exec; 3 and 4 are then kept open
            read_end, write_end = os.dup(cmd_r), os.dup(ev_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        args = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-default-apps", "--no-first-run", "--mute-audio",
            "--hide-scrollbars", f"--window-size={width},{height}", f"--user-data-dir={profile}",
            "--remote-debugging-pipe", "about:blank",
        ]
        proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child_fds,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(ev_w)
        return cls(proc, os.fdopen(cmd_w, "wb", buffering=0), os.fdopen(ev_r, "rb", buffering=0), profile)

    # --- protocol -----------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        """Send a command and wait for its reply; events that arrive meanwhile are kept."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CDPError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)
                if reply["method"] == "Page.javascriptDialogOpening":  # never let a dialog block the page
                    self._write({"id": 10**9 + self._next_id, "method": "Page.handleJavaScriptDialog",
                                 "params": {"accept": False}, "sessionId": reply.get("sessionId")})

    def _write(self, message: dict) -> None:
        self._out.write(json.dumps(message).encode() + b"\0")

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CDPError("timed out waiting for the browser")
            if self.proc.poll() is not None:
                raise CDPError(f"the browser exited with status {self.proc.returncode}")
            ready, _, _ = select.select([self._in], [], [], min(remaining, 0.5))
            if not ready:
                continue
            chunk = os.read(self._in.fileno(), 1 << 20)
            if not chunk:
                raise CDPError("the browser closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def open(self, path: Path, width: int = 1280, height: int = 900) -> "Page":
        """A new tab with console capture on, navigated to a local file."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        page.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (CDPError, OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fh in (self._out, self._in):
            try:
                fh.close()
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    """One tab: evaluate JavaScript, collect console errors and dialogs, take screenshots."""

    def __init__(self, browser: Browser, session: str, target: str):
        self.browser = browser
        self.session = session
        self.target = target

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def send(self, method: str, params: dict | None = None, timeout: float = 30.0) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def _events(self) -> list[dict]:
        return [e for e in self.browser.events if e.get("sessionId") == self.session]

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries, as text."""
        found = []
        for event in self._events():
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description", "")))
                                                    for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append("exception: " + str(details.get("exception", {}).get("description")
                                                 or details.get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log: {entry.get('text')} {entry.get('url', '')}".strip())
        return found

    @property
    def dialogs(self) -> list[str]:
        """Messages of any alert/confirm/prompt the page opened (none should)."""
        return [e["params"].get("message", "") for e in self._events()
                if e["method"] == "Page.javascriptDialogOpening"]

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CDPError(f"evaluate failed: {result['exceptionDetails'].get('text')}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20.0, poll: float = 0.1):
        """Poll `expression` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f"timed out waiting for: {expression}")
            time.sleep(poll)

    def screenshot(self, path: Path, max_height: int = 4000) -> Path:
        """A PNG of the page from the top, as tall as its content (up to `max_height` px)."""
        size = self.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        width, height = int(size[0]), int(min(size[1], max_height))
        data = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        }, timeout=60)["data"]
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
