// The wallet core's Storage over IndexedDB: one object store of rows keyed by [table, key],
// whose values are the core's sealed bytes (nothing readable: every record is encrypted before
// it gets here). Each commit is ONE readwrite transaction, so it applies all or nothing.
//
// The wasm module calls get/list/commit (see web/wallet-wasm/src/browser.rs); pages call
// destroy() only through WebWallet.erase().

const ROWS = "rows";

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class IdbStore {
  constructor(dbName) {
    this.dbName = dbName;
    this.db = null;
  }

  async open() {
    if (this.db) return this.db;
    const req = indexedDB.open(this.dbName, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore(ROWS);
    };
    this.db = await request(req);
    // Another tab deleting the database (erase) must not be blocked by this connection.
    this.db.onversionchange = () => {
      this.db.close();
      this.db = null;
    };
    return this.db;
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

  async destroy() {
    if (this.db) {
      this.db.close();
      this.db = null;
    }
    const req = indexedDB.deleteDatabase(this.dbName);
    await new Promise((resolve, reject) => {
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
      req.onblocked = () => resolve(); // deleted once the other tabs close their connections
    });
  }
}
