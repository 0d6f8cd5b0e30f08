/**
 * Headless Chromium for the web UI test, driven by playwright-core.
 *
 * playwright-core reads system facts at import time (home directory, OS release, files under
 * /proc), which Deno only allows with `--allow-sys` and `--allow-all`, permissions that
 * `deno task test` does not grant. So the test process does not import it: it starts this file
 * as a small driver subprocess with `--allow-all` (which `--allow-run` permits anyway) and sends
 * it commands as JSON lines (goto, evaluate, click, hover, waitFor, screenshot).
 *
 * {@linkcode ensureChromium} finds Debian's `/usr/bin/chromium`, or installs it with apt-get.
 * @module
 */

/** Where Debian's package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, offline, sandbox-less headless browser (tests run as root). */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
];

const PREFIX = "@@browser ";

/** The browser's path, or why there is none. */
export type ChromiumLookup = { ok: true; path: string } | { ok: false; reason: string };

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function run(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { DEBIAN_FRONTEND: "noninteractive" },
      signal: AbortSignal.timeout(timeoutMs),
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    return { ok: out.success, out: text.trim().split("\n").slice(-3).join(" | ") };
  } catch (err) {
    return { ok: false, out: (err as Error).message };
  }
}

/**
 * Finds Chromium, installing Debian's package when it is missing (`apt-get install -y
 * chromium`, after `apt-get update` if the first try fails). Never throws.
 */
export async function ensureChromium(): Promise<ChromiumLookup> {
  if (await exists(CHROMIUM_PATH)) return { ok: true, path: CHROMIUM_PATH };
  const install = ["install", "-y", "-q", "--no-install-recommends", "chromium"];
  let result = await run("apt-get", install, 600_000);
  if (!result.ok) {
    const update = await run("apt-get", ["update", "-q"], 300_000);
    if (!update.ok) return { ok: false, reason: `apt-get update failed: ${update.out}` };
    result = await run("apt-get", install, 600_000);
  }
  if (!result.ok) return { ok: false, reason: `apt-get install chromium failed: ${result.out}` };
  if (!(await exists(CHROMIUM_PATH))) {
    return { ok: false, reason: `${CHROMIUM_PATH} missing after install` };
  }
  return { ok: true, path: CHROMIUM_PATH };
}

type Reply = { id: number; ok: boolean; value?: unknown; error?: string };
type Notice = { event: "console" | "pageerror"; text: string } | { ready: true };

/**
 * One headless browser with one page, in a driver subprocess.
 *
 * @example
 * ```ts
 * const browser = await BrowserSession.open("/usr/bin/chromium");
 * try {
 *   await browser.goto("http://127.0.0.1:8080/");
 *   await browser.waitFor(`document.title === "Relay.Mesos"`);
 * } finally {
 *   await browser.close();
 * }
 * ```
 */
export class BrowserSession {
  /** Console errors and warnings, and uncaught page errors, in order. */
  readonly problems: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  readonly #reading: Promise<void>;
  readonly #stderr: Promise<string>;
  #ready!: () => void;
  readonly #readyP: Promise<void>;
  #next = 1;
  #closed = false;

  private constructor(executablePath: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        "--allow-all",
        new URL(import.meta.url).pathname,
        executablePath,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#readyP = new Promise((resolve) => (this.#ready = resolve));
    this.#reading = this.#read();
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Starts the driver and its browser (at most `timeoutMs`). */
  static async open(executablePath: string, timeoutMs = 20_000): Promise<BrowserSession> {
    const session = new BrowserSession(executablePath);
    const exited = session.#child.status.then(async (s) => {
      throw new Error(`browser driver exited (${s.code}): ${(await session.#stderr).trim()}`);
    });
    try {
      await withTimeout(Promise.race([session.#readyP, exited]), timeoutMs, "browser start");
    } catch (err) {
      await session.close();
      throw err;
    }
    exited.catch(() => {});
    return session;
  }

  async #read(): Promise<void> {
    const lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new LineSplitter(),
    );
    for await (const line of lines) {
      if (!line.startsWith(PREFIX)) {
        if (line.trim()) console.error(`[browser driver] ${line}`);
        continue;
      }
      const msg = JSON.parse(line.slice(PREFIX.length)) as Reply | Notice;
      if ("ready" in msg) this.#ready();
      else if ("event" in msg) this.problems.push(`${msg.event}: ${msg.text}`);
      else this.#pending.get(msg.id)?.(msg);
    }
    for (const resolve of this.#pending.values()) {
      resolve({ id: 0, ok: false, error: "browser driver exited" });
    }
  }

  async #call(op: string, args: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    if (this.#closed) throw new Error("browser session closed");
    const id = this.#next++;
    const reply = new Promise<Reply>((resolve) => this.#pending.set(id, resolve));
    await this.#writer.write(
      new TextEncoder().encode(JSON.stringify({ id, op, timeoutMs, ...args }) + "\n"),
    );
    try {
      const r = await withTimeout(reply, timeoutMs + 2_000, op);
      if (!r.ok) throw new Error(`${op}: ${r.error}`);
      return r.value;
    } finally {
      this.#pending.delete(id);
    }
  }

  /** Loads `url` and waits for its `load` event. */
  async goto(url: string): Promise<void> {
    await this.#call("goto", { url });
  }

  /** Evaluates a JavaScript expression in the page; the result must be JSON-serialisable. */
  evaluate<T>(expression: string): Promise<T> {
    return this.#call("evaluate", { expression }) as Promise<T>;
  }

  /** Clicks the element matching `selector`. */
  async click(selector: string): Promise<void> {
    await this.#call("click", { selector });
  }

  /** Moves the mouse over the element matching `selector`, at (x, y) from its top left. */
  async hover(selector: string, x: number, y: number): Promise<void> {
    await this.#call("hover", { selector, x, y });
  }

  /** Waits until `expression` is truthy in the page. */
  async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
    await this.#call("waitFor", { expression }, timeoutMs);
  }

  /** Saves a PNG of the viewport. */
  async screenshot(path: string): Promise<void> {
    await this.#call("screenshot", { path });
  }

  /** Closes the browser and ends the driver (killed if it does not end within 5 s). */
  async close(): Promise<void> {
    if (!this.#closed) {
      try {
        await withTimeout(this.#call("close", {}, 5_000), 5_000, "close");
      } catch {
        // Killed below.
      }
      this.#closed = true;
    }
    try {
      await this.#writer.close();
    } catch {
      // Already closed.
    }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 5_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#reading.catch(() => {});
    await this.#stderr.catch(() => "");
  }
}

class LineSplitter extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop()!;
        for (const p of parts) controller.enqueue(p);
      },
      flush(controller) {
        if (rest) controller.enqueue(rest);
      },
    });
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the driver subprocess ------------------------------------------------------------------

async function driver(executablePath: string): Promise<void> {
  const send = (msg: Reply | Notice) => console.log(PREFIX + JSON.stringify(msg));
  const { chromium } = await import("playwright-core");
  // playwright gives every launch a fresh temporary profile (user-data-dir) and removes it on
  // close; passing --user-data-dir ourselves is refused by launch().
  const browser = await chromium.launch({
    executablePath,
    args: [...CHROMIUM_ARGS],
    timeout: 20_000,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") {
        send({ event: "console", text: `${m.type()}: ${m.text()}` });
      }
    });
    page.on("pageerror", (err) => send({ event: "pageerror", text: err.message }));
    send({ ready: true });
    const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
      new LineSplitter(),
    );
    for await (const line of lines) {
      if (!line.trim()) continue;
      const req = JSON.parse(line) as
        & { id: number; op: string; timeoutMs: number }
        & Record<
          string,
          string
        >;
      try {
        let value: unknown = null;
        switch (req.op) {
          case "goto":
            await page.goto(req.url, { waitUntil: "load", timeout: req.timeoutMs });
            break;
          case "evaluate":
            value = await page.evaluate(req.expression);
            break;
          case "click":
            await page.click(req.selector, { timeout: req.timeoutMs });
            break;
          case "hover":
            await page.hover(req.selector, {
              position: { x: Number(req.x), y: Number(req.y) },
              timeout: req.timeoutMs,
            });
            break;
          case "waitFor": {
            // Polls with evaluate (CDP), not waitForFunction: the page's Content-Security-Policy
            // forbids the eval that waitForFunction needs for a string, and we keep it enforced.
            const until = Date.now() + req.timeoutMs;
            while (!(await page.evaluate(req.expression))) {
              if (Date.now() > until) {
                throw new Error(`timed out after ${req.timeoutMs} ms: ${req.expression}`);
              }
              await new Promise((r) => setTimeout(r, 50));
            }
            break;
          }
          case "screenshot":
            await page.screenshot({ path: req.path });
            break;
          case "close":
            send({ id: req.id, ok: true, value: null });
            return;
          default:
            throw new Error(`unknown op ${req.op}`);
        }
        send({ id: req.id, ok: true, value });
      } catch (err) {
        send({ id: req.id, ok: false, error: (err as Error).message.split("\n")[0] });
      }
    }
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  await driver(Deno.args[0] ?? CHROMIUM_PATH);
  Deno.exit(0);
}
