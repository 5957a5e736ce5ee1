// The real service and the real wallet CLI, for the browser tests: a Corroborate service on a fresh
// SQLite file in a temporary folder, serving the built web front ends (web/dist), and CLI wallets
// for the people whose part is not under test in a given scenario (the administrator, and the
// organisations' desks that set up the neighbours' own residences).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, "target");
export const bins = {
  backend: join(target, "debug", "corroborate-backend"),
  wallet: join(target, "debug", "corroborate-wallet"),
  cli: join(target, "debug", "corroborate"),
};
/** The built front ends the service serves: WEB_DIST (as scripts/build-web takes it) or web/dist. */
export const webDist = process.env.WEB_DIST ? resolve(process.env.WEB_DIST) : join(root, "web", "dist");
export const PASSPHRASE = "e2e passphrase, not for real use";

export async function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

/**
 * A service on its own port and data folder; `restart()` keeps the data. `webDir` is the folder
 * of built front ends it serves (default `webDist`); set it and restart to deploy another release.
 */
export class Service {
  static async start({ webDir = webDist } = {}) {
    const service = new Service();
    service.webDir = webDir;
    service.dir = mkdtempSync(join(tmpdir(), "corroborate-e2e-"));
    service.port = await freePort();
    service.url = `http://127.0.0.1:${service.port}`;
    service.admins = [];
    mkdirSync(join(service.dir, "data"));
    return service;
  }

  config() {
    const admins = this.admins
      .map((a) => `[[admins]]\nname = ${JSON.stringify(a.name)}\ndid = ${JSON.stringify(a.did)}\n`)
      .join("\n");
    return `listen = "127.0.0.1:${this.port}"
data_dir = ${JSON.stringify(join(this.dir, "data"))}
database_url = ${JSON.stringify("sqlite://" + join(this.dir, "data", "corroborate.sqlite"))}
log_format = "json"
[rate_limit]
per_second = 1000
burst = 1000
[anchoring]
batch_size = 1
poll_interval_ms = 200
[web]
dir = ${JSON.stringify(this.webDir)}
${admins}`;
  }

  async run() {
    const configFile = join(this.dir, "service.toml");
    writeFileSync(configFile, this.config());
    const log = join(this.dir, "service.log");
    this.child = spawn(bins.backend, ["--config", configFile, "serve"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.stderr = "";
    this.child.stderr.on("data", (chunk) => {
      this.stderr += chunk;
    });
    for (let i = 0; i < 150; i++) {
      try {
        const answer = await fetch(`${this.url}/health/ready`);
        if (answer.ok) return;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the service did not start (log ${log}):\n${this.stderr}`);
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once("exit", r));
    this.child.kill("SIGTERM");
    await exited;
  }

  async restart() {
    await this.stop();
    await this.run();
  }

  async dispose() {
    await this.stop();
    if (process.env.KEEP !== "1") rmSync(this.dir, { recursive: true, force: true });
  }

  /** The service's JSON API. */
  async api(method, path, token, body, headers = {}) {
    const answer = await fetch(this.url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await answer.text();
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }
}

/** A wallet of the `corroborate-wallet` CLI, in the service's folder. */
export class CliWallet {
  constructor(service, name) {
    this.service = service;
    this.name = name;
    this.file = join(service.dir, `${name}.sqlite`);
  }

  run(...args) {
    return execFileSync(bins.wallet, ["--wallet", this.file, ...args], {
      env: {
        ...process.env,
        CORROBORATE_SERVICE: this.service.url,
        CORROBORATE_WALLET_PASSPHRASE: PASSPHRASE,
        CORROBORATE_WALLET_NEW_PASSPHRASE: PASSPHRASE,
      },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  json(...args) {
    return JSON.parse(this.run(...args, "--json"));
  }

  static create(service, name) {
    const wallet = new CliWallet(service, name);
    wallet.run("init", "--label", name, "--service-url", service.url, "--insecure-fast-kdf", "--json");
    wallet.did = wallet.json("identity", "list")[0].did;
    return wallet;
  }

  token() {
    return this.run("token").trim();
  }

  /** An encrypted backup file, for moving this wallet into a browser. */
  backup() {
    const file = join(this.service.dir, `${this.name}.backup`);
    this.run("backup", file);
    return file;
  }

  read(file) {
    return readFileSync(file);
  }
}
