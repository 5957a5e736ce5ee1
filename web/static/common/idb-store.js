// The wallet core's Storage over IndexedDB: one object store of rows keyed by [table, key],
// whose values are the core's sealed bytes (nothing readable: every record is encrypted before
// it gets here). Each commit is ONE readwrite transaction, so it applies all or nothing.
//
// The wasm module calls get/list/commit (see web/wallet-wasm/src/browser.rs); pages call
// destroy() only through WebWallet.erase().
//
// When another tab deletes the database (it erased the wallet), this store is dead: it never
// reopens (that would silently create an empty database under a page that still shows the old
// wallet); every later call fails with a failure of code "reload".

const ROWS = "rows";
/** How long destroy() waits for other tabs to close the database before it gives up. */
const DESTROY_TIMEOUT_MS = 10_000;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function failure(code, message) {
  return Object.assign(new Error(message), { name: "WalletFailure", code });
}

export class IdbStore {
  constructor(dbName) {
    this.dbName = dbName;
    this.opening = null; // Promise<IDBDatabase>, memoised
    this.dead = false;
  }

  open() {
    if (this.dead) {
      return Promise.reject(failure("reload", "the wallet was erased or changed in another tab: reload the page"));
    }
    if (!this.opening) {
      const req = indexedDB.open(this.dbName, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore(ROWS);
      };
      this.opening = request(req).then((db) => {
        // Another tab deleting the database (erase) must not be blocked by this connection,
        // and this page must not carry on with a wallet that is gone.
        db.onversionchange = () => {
          db.close();
          this.dead = true;
        };
        return db;
      });
      this.opening.catch(() => {
        this.opening = null; // a failed open may be tried again
      });
    }
    return this.opening;
  }

  async get(table, key) {
    const db = await this.open();
    const value = await request(db.transaction(ROWS, "readonly").objectStore(ROWS).get([table, key]));
    return value === undefined ? undefined : new Uint8Array(value);
  }

  // [[key, Uint8Array], ...] ordered by key: [table, key] array keys sort by table, then key.
  async list(table) {
    const db = await this.open();
    const range = IDBKeyRange.bound([table, ""], [table, []]);
    const store = db.transaction(ROWS, "readonly").objectStore(ROWS);
    const [keys, values] = await Promise.all([
      request(store.getAllKeys(range)),
      request(store.getAll(range)),
    ]);
    return keys.map((k, i) => [k[1], new Uint8Array(values[i])]);
  }

  // writes: [{op: "put", table, key, value: Uint8Array} | {op: "delete", table, key}]
  async commit(writes) {
    const db = await this.open();
    const tx = db.transaction(ROWS, "readwrite", { durability: "strict" });
    const store = tx.objectStore(ROWS);
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("the transaction was aborted"));
    });
    try {
      for (const w of writes) {
        if (w.op === "put") {
          // A copy: the Uint8Array may view wasm memory, which can move.
          store.put(w.value.slice().buffer, [w.table, w.key]);
        } else if (w.op === "delete") {
          store.delete([w.table, w.key]);
        } else {
          throw new Error(`unknown write ${w.op}`);
        }
      }
    } catch (e) {
      tx.abort();
      await done.catch(() => {});
      throw e;
    }
    return done;
  }

  /** Deletes the database; resolves only once it is gone (other tabs closed theirs). */
  async destroy() {
    const opening = this.opening;
    this.opening = null;
    this.dead = true;
    if (opening) {
      try {
        (await opening).close();
      } catch {
        // it never opened: nothing to close
      }
    }
    const req = indexedDB.deleteDatabase(this.dbName);
    await new Promise((resolve, reject) => {
      let timer = null;
      req.onsuccess = () => {
        clearTimeout(timer);
        resolve();
      };
      req.onerror = () => {
        clearTimeout(timer);
        reject(req.error);
      };
      // Blocked: another tab still holds the database open. Deletion goes on once it closes
      // it; this waits for that, within limits, and never reports success before.
      req.onblocked = () => {
        timer = timer ||
          setTimeout(
            () => reject(failure("storage", "the wallet is still open in another tab: close it, then erase again")),
            DESTROY_TIMEOUT_MS,
          );
      };
    });
  }
}
