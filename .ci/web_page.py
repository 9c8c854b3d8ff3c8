#!/usr/bin/env python3
"""Loads a page in headless Chromium through ChromeDriver (WebDriver over HTTP, no
packages needed), waits for the page to set `window.meshPacking` (a report) or
`window.meshPackingError`, prints the report as JSON, saves a screenshot, and exits
non-zero when the page failed or a check on the report failed.

usage: web_page.py URL SCREENSHOT.png [--check]
"""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CHROME_ARGS = [
    "--headless=new", "--no-sandbox", "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--window-size=1000,700",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())["value"]


def main():
    url, shot = sys.argv[1], sys.argv[2]
    check = "--check" in sys.argv[3:]
    port = free_port()
    driver = subprocess.Popen([os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"),
                               f"--port={port}"], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                call(base, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        profile = tempfile.mkdtemp(prefix="chromium-profile-")
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            "args": CHROME_ARGS + os.environ.get("EXTRA_CHROME_ARGS", "").split()
                    + [f"--user-data-dir={profile}"]}}}}
        session = call(base, "POST", "/session", caps)["sessionId"]
        s = f"/session/{session}"
        try:
            call(base, "POST", s + "/url", {"url": url})
            result = None
            for _ in range(600):
                result = call(base, "POST", s + "/execute/sync", {
                    "script": "return window.meshPackingError ? {error: String(window.meshPackingError)}"
                              " : (window.meshPacking || null);", "args": []})
                if result is not None:
                    break
                time.sleep(0.5)
            png = base64.b64decode(call(base, "GET", s + "/screenshot"))
            os.makedirs(os.path.dirname(os.path.abspath(shot)), exist_ok=True)
            with open(shot, "wb") as f:
                f.write(png)
            logs = []
            print(json.dumps(result, indent=1))
            print(f"screenshot: {shot} ({len(png)} bytes)")
            if result is None:
                sys.exit("the page never reported (no window.meshPacking after 300 s)")
            if "error" in result:
                sys.exit(f"the page failed: {result['error']}")
            if check:
                failures = []
                if result["canvas_mismatch"] != 0:
                    failures.append(f"{result['canvas_mismatch']} canvas pixels differ from the GPU's picture")
                if result["drawn_pixels"] < result["width"] * result["height"] // 10:
                    failures.append(f"only {result['drawn_pixels']} pixels drawn")
                if not 0 < result["visible"] < result["objects"]:
                    failures.append(f"{result['visible']} of {result['objects']} objects visible: culling did nothing")
                if failures:
                    sys.exit("page check failed: " + "; ".join(failures))
                print("page check passed")
        finally:
            call(base, "DELETE", s)
    finally:
        driver.terminate()


if __name__ == "__main__":
    main()
